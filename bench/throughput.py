"""Throughput and latency of the status operation: our simulator vs Stoplight Prism.

Both serve the same openapi.yaml on 127.0.0.1, each as one process pinned to the same single
CPU, and the same load generator (wrk, one thread, on the other CPUs) hits them in turn with
the same connections and duration. Requests are valid, so both validate them in full.

- status 404: ours answers an unknown token from its session store; Prism answers its
  404 example (asked for with ``Prefer: code=404``).
- status 200: ours answers a finished session with its signature; Prism answers the 200
  example.

The two servers alternate, the order flipping each round, and each figure is the median of
the rounds.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from bench import quiet
from bench.load import LoadResult, Target, run_load
from bench.ours import (
    DOCS_TOKEN,
    STATUS_BODY,
    UNKNOWN_TOKEN,
    describe,
    finished_session,
    mock_command,
    status_path,
)
from bench.servers import Server, free_port, run_server
from bench.settings import Settings
from bench.table import Measure, Row
from bench.tools import SPEC, log

SECTION = "throughput & latency of the status call (ours vs Prism)"
# Goals of the issue: at 50 and 200 connections, 3x Prism's requests/s and a third of its p99.
GOAL_CONNECTIONS = (50, 200)


@dataclass(frozen=True)
class Scenario:
    name: str
    ours: Callable[[], Target]  # called before each run: it may prepare state
    peer: Target | None


@dataclass(frozen=True)
class Run:
    load: LoadResult
    cpu_us: float  # CPU time the server used per answered request (all its threads)
    others: float  # CPUs that other processes on the machine took meanwhile

    @property
    def disturbed(self) -> bool:
        return self.others > quiet.DISTURBED


def _run(
    wrk: str | None,
    servers: list[Server],
    server: Server,
    target: Target,
    connections: int,
    settings: Settings,
) -> Run:
    quiet.wait_for_quiet(settings.quiet_wait)
    cpu_before = server.cpu_seconds()
    with quiet.watch(s.pid for s in servers) as watch:
        load = run_load(wrk, target, connections, settings.duration)
    cpu = server.cpu_seconds() - cpu_before
    return Run(load, cpu / load.requests * 1e6 if load.requests else math.nan, watch.others)


def prism_command(prism: str, port: int) -> list[str]:
    # -v warn: Prism logs several lines per request at its default level; ours logs none.
    return [prism, "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1", "-v", "warn"]


@contextlib.contextmanager
def _servers(
    settings: Settings, prism: str | None, server_cpus: set[int], notes: list[str]
) -> Iterator[tuple[Server, Server | None]]:
    with contextlib.ExitStack() as stack:
        port = free_port()
        command = mock_command(port, 0, "--log-level", "warning")
        notes.append(f"ours: {describe(command)}")
        ours = stack.enter_context(run_server("ours", command, port, server_cpus))
        peer = None
        if prism is not None and settings.prism:
            prism_port = free_port()
            command = prism_command(prism, prism_port)
            notes.append(f"peer: prism {' '.join(command[1:]).replace(str(SPEC), 'openapi.yaml')}")
            peer = stack.enter_context(run_server("prism", command, prism_port, server_cpus))
        yield ours, peer


def _scenarios(ours: Server, peer: Server | None) -> list[Scenario]:
    def unknown() -> Target:
        return Target(ours.port, status_path(UNKNOWN_TOKEN), STATUS_BODY, 404)

    def finished() -> Target:
        # A fresh session per run: a finished one stays fetchable for a limited time only.
        token = finished_session(ours.base_url)
        return Target(ours.port, status_path(token), STATUS_BODY, 200)

    peer_404 = peer_200 = None
    if peer is not None:
        path = status_path(DOCS_TOKEN)
        peer_404 = Target(peer.port, path, STATUS_BODY, 404, {"Prefer": "code=404"})
        peer_200 = Target(peer.port, path, STATUS_BODY, 200)
    return [
        Scenario("404 unknown token", unknown, peer_404),
        Scenario("200 signed", finished, peer_200),
    ]


def measure(
    settings: Settings, wrk: str | None, prism: str | None, server_cpus: set[int]
) -> tuple[list[Row], list[str]]:
    notes: list[str] = [
        "load generator: "
        + ("wrk -t1 with bench/post.lua" if wrk else "asyncio streams (bench/load.py)")
        + f", server pinned to CPU {sorted(server_cpus)}, load generator to the others"
    ]
    rows: list[Row] = []
    all_runs: list[Run] = []
    with _servers(settings, prism, server_cpus, notes) as (ours, peer):
        servers = [ours] if peer is None else [ours, peer]
        scenarios = _scenarios(ours, peer)
        for scenario in scenarios:  # warm both up (Prism's JIT, our caches) before measuring
            run_load(wrk, scenario.ours(), 50, settings.warmup)
            if scenario.peer is not None:
                run_load(wrk, scenario.peer, 50, settings.warmup)
        for connections in settings.connections:
            for scenario in scenarios:
                ours_runs: list[Run] = []
                peer_runs: list[Run] = []
                for round_index in range(settings.rounds):
                    sides: list[tuple[Server | None, Target | None, list[Run]]] = [
                        (ours, scenario.ours(), ours_runs),
                        (peer, scenario.peer, peer_runs),
                    ]
                    if round_index % 2:
                        sides.reverse()
                    for server, target, runs in sides:
                        if server is not None and target is not None:
                            run = _run(wrk, servers, server, target, connections, settings)
                            runs.append(run)
                log(
                    f"{scenario.name} c={connections}: ours "
                    f"{_brief(ours_runs)}; prism {_brief(peer_runs)}"
                )
                rows += _rows(scenario.name, connections, ours_runs, peer_runs)
                all_runs += ours_runs + peer_runs
    disturbed = sum(1 for run in all_runs if run.disturbed)
    most = max((run.others for run in all_runs), default=0.0)
    notes.append(
        f"throughput: {disturbed} of {len(all_runs)} runs shared the machine with other work "
        f"(over {quiet.DISTURBED} CPU; at most {most:.2f} CPU): their figures are marked noisy"
    )
    return rows, notes


def _brief(runs: list[Run]) -> str:
    return (
        ", ".join(
            f"{r.load.rps:.0f} rps p99 {r.load.p99_ms:.1f} ms"
            + (f" (others {r.others:.2f} CPU)" if r.disturbed else "")
            for r in runs
        )
        or "-"
    )


def _rows(name: str, connections: int, ours_runs: list[Run], peer_runs: list[Run]) -> list[Row]:
    ours = [run.load for run in ours_runs]
    peer = [run.load for run in peer_runs]

    def of(runs: list[LoadResult], figure: Callable[[LoadResult], float]) -> Measure | None:
        return Measure.of([figure(r) for r in runs]) if runs else None

    def cpu(runs: list[Run]) -> Measure | None:
        return Measure.of([run.cpu_us for run in runs]) if runs else None

    goal = connections in GOAL_CONNECTIONS
    label = f"{name}, {connections} conn"
    disturbed = any(run.disturbed for run in ours_runs + peer_runs)
    # Tail latency of a single connection is a handful of slow requests: always noisy.
    single = connections == 1
    return [
        Row(
            SECTION,
            f"{label}: requests/s",
            "req/s",
            of(ours, lambda r: r.rps),
            of(peer, lambda r: r.rps),
            ">= 3x" if goal else "",
            noisy=disturbed,
        ),
        Row(
            SECTION,
            f"{label}: p50",
            "ms",
            of(ours, lambda r: r.p50_ms),
            of(peer, lambda r: r.p50_ms),
            noisy=disturbed,
        ),
        Row(
            SECTION,
            f"{label}: p99",
            "ms",
            of(ours, lambda r: r.p99_ms),
            of(peer, lambda r: r.p99_ms),
            "<= 0.33x" if goal else "",
            noisy=single or disturbed,
        ),
        Row(
            SECTION,
            f"{label}: server CPU per request",
            "µs",
            cpu(ours_runs),
            cpu(peer_runs),
            noisy=disturbed,
        ),
        Row(
            SECTION,
            f"{label}: errors (sum of rounds)",
            "count",
            Measure.once(sum(r.errors for r in ours)) if ours else None,
            Measure.once(sum(r.errors for r in peer)) if peer else None,
            compare=False,
        ),
    ]
