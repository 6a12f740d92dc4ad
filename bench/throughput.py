"""Throughput and latency of the status operation: our simulator vs its peers.

Every server (ours, then the peers of ``bench.peers``: Prism, WireMock, Mockoon) runs as one
process pinned to the same single CPU, all at once, on 127.0.0.1; the same load generator
(wrk, one thread, on the other CPUs) hits them in turn with the same connections and
duration. Before anything is measured, each server is asked each call once (its answer's
status, Content-Type and size go to the notes) and warmed up under load, a JVM until its
rate stops rising.

- status 404: ours answers an unknown token from its session store; each peer its own way
  (``bench.peers``).
- status 200: ours answers a finished session with its signature (a fresh one per run).

Within each round every server is measured once, the order rotating from round to round,
and each figure is the median of the rounds.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TypeVar

import httpx

from bench import quiet
from bench.load import LoadResult, Target, run_load
from bench.ours import (
    STATUS_BODY,
    UNKNOWN_TOKEN,
    describe,
    finished_session,
    mock_options,
    status_path,
)
from bench.peers import Peer, shown
from bench.servers import Server, free_port, run_ours, run_server
from bench.settings import PEERS, Settings
from bench.table import Figure, Measure, Row
from bench.tools import log
from bench.wiremock import CALLS as WIREMOCK_CALLS
from bench.wiremock import SCENARIOS, SIGNED, SIGNED_HASH_INDEX, UNKNOWN, Call

SECTION = "throughput & latency of the status call (ours vs peers)"
# Goals of the issue, at 50 and 200 connections: requests/s at least WireMock's (aim: 1.5x)
# with a p99 no higher than WireMock's, and at least 5x Prism's and Mockoon's requests/s.
GOAL_CONNECTIONS = (50, 200)
RPS_GOAL = ">= 1x wiremock (aim 1.5x), >= 5x prism, mockoon"
P99_GOAL = "<= 1x wiremock"
OURS = "ours"
JOURNAL_OFF = "ours-journal-off"  # ours with --journal-size 0, as WireMock runs without one
MISSING = "missing"  # the cell of a peer that could not be installed or started
NOT_SERVED = "not served"  # the cell of a peer that cannot answer that call

T = TypeVar("T")


@dataclass(frozen=True)
class Scenario:
    name: str
    ours: Callable[[], Target]  # called before each run: it may prepare state
    peers: Mapping[str, Target | str]  # by peer name: its target, or the cell saying why none


@dataclass(frozen=True)
class Run:
    load: LoadResult
    # CPU time the server used per answered request (all its threads; ours: its children too)
    cpu_us: float
    others: float  # CPUs that other processes on the machine took meanwhile
    idle_servers: float  # CPUs that the servers not under load took meanwhile
    # CPU time per answered request of the process that serves the server (its Redis), if any.
    helper_cpu_us: float = math.nan
    # The machine's speed meanwhile: the median time of `quiet.speed_probe`'s work.
    probe_us: float = math.nan

    @property
    def disturbed(self) -> bool:
        return self.others + self.idle_servers > quiet.DISTURBED


def measure_run(
    wrk: str | None,
    servers: Sequence[Server],
    server: Server,
    target: Target,
    connections: int,
    settings: Settings,
    probe_cpu: int,
    helper: Server | None = None,
) -> Run:
    """One load run on ``server``: its figures, its CPU (and its ``helper``'s) per request,
    and the machine's speed on ``probe_cpu`` (the server's CPU) meanwhile.

    ``servers`` are all the processes running (``server`` and ``helper`` among them); the
    CPU of the others counts as idle servers' and marks the run disturbed when too high.
    """
    quiet.wait_for_quiet(settings.quiet_wait)
    before = {s.name: s.cpu_seconds() for s in servers}
    with (
        quiet.watch(pid for s in servers for pid in s.pids()) as watch,
        quiet.speed_probe(probe_cpu) as speed,
    ):
        load = run_load(wrk, target, connections, settings.duration)
    used = {s.name: s.cpu_seconds() - before[s.name] for s in servers}
    cpu = used.pop(server.name)
    helper_cpu = used.pop(helper.name) if helper is not None else math.nan
    idle = sum(used.values()) / load.seconds if load.seconds > 0 else 0.0

    def per_request(seconds: float) -> float:
        return seconds / load.requests * 1e6 if load.requests else math.nan

    return Run(load, per_request(cpu), watch.others, idle, per_request(helper_cpu), speed.median_us)


def speed_note(section: str, runs: Sequence[Run]) -> str:
    """What the speed probes saw over a section's runs, for the notes."""
    probes = [run.probe_us for run in runs if not math.isnan(run.probe_us)]
    seen = f"median per run {min(probes):.0f} to {max(probes):.0f} µs" if probes else "no probe"
    return (
        f"{section}: the machine's speed: a fixed piece of work timed on the servers' CPU every "
        f"{quiet.PROBE_INTERVAL:g} s during each run, in CPU time: {seen} (each run's in the "
        "log). Read it, do not sort by it: it shows the host slowing the CPU down most of the "
        "times it does, not every time (BENCHMARKS.md), so no figure is marked by it"
    )


@dataclass
class Lineup:
    """The servers that run, and a cell for each peer that does not (name -> why)."""

    ours: Server
    peers: dict[str, tuple[Peer, Server]]
    missing: dict[str, str]


def _rank(name: str) -> int:
    """A peer's place among the table's columns: that of ``PEERS``, whether it runs or not."""
    if name == JOURNAL_OFF:  # first: ours again, like for like
        return -1
    return PEERS.index(name) if name in PEERS else len(PEERS)


@contextlib.contextmanager
def _servers(
    peers: list[Peer], missing: Mapping[str, str], server_cpus: set[int], notes: list[str]
) -> Iterator[Lineup]:
    with contextlib.ExitStack() as stack:
        options = mock_options(0)
        notes.append(f"{OURS}: {describe(options)}")
        ours = stack.enter_context(run_ours(OURS, options, server_cpus))
        lineup = Lineup(ours, {}, {})
        # Ours again with its journal off, as WireMock's is: like for like. Its signed
        # session is made once (kept for the whole run), before it is asked anything.
        silent = mock_options(0, "--journal-size", "0", "--retention", "86400")
        server = stack.enter_context(run_ours(JOURNAL_OFF, silent, server_cpus))
        token = finished_session(server.base_url, SIGNED_HASH_INDEX)
        lineup.peers[JOURNAL_OFF] = (
            Peer(
                JOURNAL_OFF,
                "this tree",
                lambda port: [],
                {**WIREMOCK_CALLS, SIGNED: Call(status_path(token), 200)},
                "our simulator with its request journal off, as WireMock's is",
            ),
            server,
        )
        notes.append(f"{JOURNAL_OFF}: {describe(silent)}")
        for name, why in missing.items():
            lineup.missing[name] = MISSING
            notes.append(f"{name}: {MISSING}: {why}")
        for peer in peers:
            peer_port = free_port()
            command = peer.command(peer_port)
            try:
                server = stack.enter_context(run_server(peer.name, command, peer_port, server_cpus))
            except RuntimeError as error:  # one line: its log is in the results folder
                reason = str(error).splitlines()[0].rstrip(":")
                log(f"peer {peer.name} is missing: {reason} (see {peer.name}.log)")
                lineup.missing[peer.name] = MISSING
                notes.append(f"{peer.name}: {MISSING}: {reason}")
                continue
            lineup.peers[peer.name] = (peer, server)
            notes.append(f"{peer.label}: {shown(command)}; {peer.answers}")
        yield lineup


def status_targets(ours: Server) -> dict[str, Callable[[], Target]]:
    """Each scenario's call to our simulator, made before each run (it may prepare state)."""

    def unknown() -> Target:
        return Target(ours.port, status_path(UNKNOWN_TOKEN), STATUS_BODY, 404)

    def finished() -> Target:
        # A fresh session per run: a finished one stays fetchable for a limited time only.
        token = finished_session(ours.base_url, SIGNED_HASH_INDEX)
        return Target(ours.port, status_path(token), STATUS_BODY, 200)

    return {UNKNOWN: unknown, SIGNED: finished}


def _scenarios(lineup: Lineup) -> list[Scenario]:
    makers = status_targets(lineup.ours)
    scenarios = []
    for name in SCENARIOS:
        peers: dict[str, Target | str] = dict(lineup.missing)
        for peer_name, (peer, server) in lineup.peers.items():
            call = peer.calls[name]
            peers[peer_name] = NOT_SERVED if isinstance(call, str) else call.target(server.port)
        in_order = {n: peers[n] for n in sorted(peers, key=_rank)}
        scenarios.append(Scenario(name, makers[name], in_order))
    return scenarios


def probe(target: Target) -> httpx.Response | str:
    headers = {"Content-Type": "application/json", **target.headers}
    try:
        return httpx.post(target.url, content=target.body, headers=headers, timeout=30)
    except httpx.HTTPError as error:
        return f"no answer ({type(error).__name__})"


def _check_answers(scenario: Scenario, lineup: Lineup, notes: list[str]) -> Scenario:
    """Ask every server the scenario's call once; a peer that answers wrongly is left out."""
    ours_target = scenario.ours()
    ours = probe(ours_target)
    if isinstance(ours, str) or ours.status_code != ours_target.expected:
        raise RuntimeError(f"ours answered {scenario.name} wrongly: {ours}")
    parts = [f"{OURS} {shown_answer(ours)}"]
    peers = dict(scenario.peers)
    for name, target in scenario.peers.items():
        if isinstance(target, str):
            if target == NOT_SERVED:
                peer = lineup.peers[name][0]
                parts.append(f"{name} {NOT_SERVED}: {peer.calls[scenario.name]}")
            continue
        answer = probe(target)
        if isinstance(answer, str) or answer.status_code != target.expected:
            got = answer if isinstance(answer, str) else f"answers {answer.status_code}"
            log(f"peer {name} left out of {scenario.name}: {got}")
            peers[name] = got
            parts.append(f"{name} {got}, not {target.expected}")
            continue
        same = " (ours' bytes)" if answer.content == ours.content else ""
        parts.append(f"{name} {shown_answer(answer)}{same}")
    notes.append(f"answers to {scenario.name}: " + "; ".join(parts))
    return Scenario(scenario.name, scenario.ours, peers)


def shown_answer(response: httpx.Response) -> str:
    content_type = response.headers.get("content-type", "no Content-Type")
    return f"{response.status_code} {content_type} {len(response.content)} B"


def _warm_up(
    wrk: str | None,
    scenarios: list[Scenario],
    lineup: Lineup,
    settings: Settings,
    notes: list[str],
) -> None:
    """Load every server with each of its calls before measuring; a JVM until its rate
    stops rising (`until_flat`), so that no round measures a JIT still compiling."""
    for scenario in scenarios:
        run_load(wrk, scenario.ours(), 50, settings.warmup)
    for name, (peer, server) in lineup.peers.items():
        targets = [s.peers[name] for s in scenarios if isinstance(s.peers[name], Target)]
        seconds = max(settings.warmup, peer.warmup / max(1, len(targets)))
        for target in targets:
            assert isinstance(target, Target)
            if not peer.warmup:
                run_load(wrk, target, 50, seconds)
                continue

            def load(
                slice_seconds: float, target: Target = target, server: Server = server
            ) -> float:
                rate = run_load(wrk, target, 50, slice_seconds).rps
                settle(server.cpu_seconds)
                return rate

            rates = until_flat(load, seconds)
            shown_rates = ", ".join(f"{rate:,.0f}" for rate in rates)
            log(f"warmed {peer.name} up on {target.path}: {shown_rates} req/s")
            notes.append(
                f"{peer.name} warmed up on {target.path} for {len(rates) * WARM_SLICE:g} s, "
                f"{WARM_SLICE:g} s at a time at 50 connections: {shown_rates} req/s"
            )


# A JVM compiles its hot code while it serves, on the CPU it serves on: it is loaded in
# slices until its rate is flat, at least for its warm-up and at most WARM_LIMIT times it.
WARM_SLICE = 3.0  # seconds of load per slice (wrk takes whole seconds)
WARM_GAIN = 0.03  # a slice less than 3 % above the best one before it is flat
WARM_FLAT = 3  # flat slices in a row: warm
WARM_LIMIT = 3.0
# After each slice the JVM is left alone until it idles (below this share of a CPU over
# half a second, at most WARM_SETTLE seconds): its JIT compiles much of what the load
# queued only once the load stops, as it would between the measured rounds.
WARM_IDLE_CPU = 0.05
WARM_SETTLE = 3.0


def settle(cpu_seconds: Callable[[], float], interval: float = 0.5) -> bool:
    """Wait until a process idles (`cpu_seconds`: its CPU time so far); False if it did
    not within WARM_SETTLE seconds."""
    deadline = time.monotonic() + WARM_SETTLE
    while time.monotonic() < deadline:
        before = cpu_seconds()
        time.sleep(interval)
        if cpu_seconds() - before < interval * WARM_IDLE_CPU:
            return True
    return False


def until_flat(load: Callable[[float], float], minimum: float) -> list[float]:
    """The rates of slices of `load(seconds)`, run until WARM_FLAT in a row were flat once
    `minimum` seconds have been loaded, or WARM_LIMIT times `minimum` have."""
    rates: list[float] = []
    flat = 0
    while True:
        rate = load(WARM_SLICE)
        flat = flat + 1 if rates and rate < max(rates) * (1 + WARM_GAIN) else 0
        rates.append(rate)
        loaded = len(rates) * WARM_SLICE
        if loaded >= minimum * WARM_LIMIT or (loaded >= minimum and flat >= WARM_FLAT):
            return rates


def measure(
    settings: Settings,
    wrk: str | None,
    peers: list[Peer],
    missing: Mapping[str, str],
    server_cpus: set[int],
) -> tuple[list[Row], list[str]]:
    notes: list[str] = [
        "load generator: "
        + ("wrk -t1 with bench/post.lua" if wrk else "asyncio streams (bench/load.py)")
        + f", every server pinned to CPU {sorted(server_cpus)}, load generator to the others"
    ]
    rows: list[Row] = []
    all_runs: list[Run] = []
    with _servers(peers, missing, server_cpus, notes) as lineup:
        servers = [lineup.ours] + [server for _, server in lineup.peers.values()]
        scenarios = [_check_answers(s, lineup, notes) for s in _scenarios(lineup)]
        _warm_up(wrk, scenarios, lineup, settings, notes)
        for connections in settings.connections:
            for scenario in scenarios:
                runs: dict[str, list[Run]] = {OURS: []}
                runs.update(
                    {name: [] for name, t in scenario.peers.items() if not isinstance(t, str)}
                )
                for round_index in range(settings.rounds):
                    sides: list[tuple[Server, Callable[[], Target], list[Run]]] = [
                        (lineup.ours, scenario.ours, runs[OURS])
                    ]
                    for name, target in scenario.peers.items():
                        if isinstance(target, Target):
                            sides.append((lineup.peers[name][1], _const(target), runs[name]))
                    for server, make_target, server_runs in rotated(sides, round_index):
                        run = measure_run(
                            wrk,
                            servers,
                            server,
                            make_target(),
                            connections,
                            settings,
                            min(server_cpus),
                        )
                        server_runs.append(run)
                log(
                    f"{scenario.name} c={connections}: "
                    + "; ".join(f"{name} {brief(r)}" for name, r in runs.items())
                )
                rows += _rows(scenario, connections, runs)
                all_runs += [run for server_runs in runs.values() for run in server_runs]
    disturbed = sum(1 for run in all_runs if run.disturbed)
    most = max((run.others for run in all_runs), default=0.0)
    idle = max((run.idle_servers for run in all_runs), default=0.0)
    notes.append(
        f"throughput: {disturbed} of {len(all_runs)} runs shared the machine with other work "
        f"(over {quiet.DISTURBED} CPU; at most {most:.2f} CPU of other processes, "
        f"{idle:.2f} CPU of the idle servers): their figures are marked noisy"
    )
    notes.append(speed_note("throughput", all_runs))
    return rows, notes


def rotated(items: Sequence[T], round_index: int) -> list[T]:
    """The order of the servers in a round: each round starts one server later."""
    first = round_index % len(items) if items else 0
    return [*items[first:], *items[:first]]


def _const(target: Target) -> Callable[[], Target]:
    return lambda: target


def brief(runs: list[Run]) -> str:
    return (
        ", ".join(
            f"{r.load.rps:.0f} rps p99 {r.load.p99_ms:.1f} ms probe "
            + ("-" if math.isnan(r.probe_us) else f"{r.probe_us:.0f} µs")
            + (f" (others {r.others + r.idle_servers:.2f} CPU)" if r.disturbed else "")
            for r in runs
        )
        or "-"
    )


def _rows(scenario: Scenario, connections: int, runs: Mapping[str, list[Run]]) -> list[Row]:
    ours = runs[OURS]
    absent = {name: t for name, t in scenario.peers.items() if isinstance(t, str)}

    def per_peer(figure: Callable[[list[Run]], Figure]) -> dict[str, Figure]:
        return {
            name: absent[name] if name in absent else figure(runs[name]) for name in scenario.peers
        }

    def load(value: Callable[[LoadResult], float]) -> Callable[[list[Run]], Figure]:
        return lambda rs: Measure.of([value(r.load) for r in rs]) if rs else None

    def cpu(rs: list[Run]) -> Figure:
        return Measure.of([r.cpu_us for r in rs]) if rs else None

    def errors(rs: list[Run]) -> Figure:
        return Measure.once(sum(r.load.errors for r in rs)) if rs else None

    goal = connections in GOAL_CONNECTIONS
    label = f"{scenario.name}, {connections} conn"
    disturbed = any(run.disturbed for server_runs in runs.values() for run in server_runs)
    # Tail latency of a single connection is a handful of slow requests: always noisy.
    single = connections == 1
    rps, p50, p99 = load(lambda r: r.rps), load(lambda r: r.p50_ms), load(lambda r: r.p99_ms)
    return [
        Row(
            SECTION,
            f"{label}: requests/s",
            "req/s",
            rps(ours),
            per_peer(rps),
            RPS_GOAL if goal else "",
            noisy=disturbed,
            paired=True,
        ),
        Row(SECTION, f"{label}: p50", "ms", p50(ours), per_peer(p50), noisy=disturbed, paired=True),
        Row(
            SECTION,
            f"{label}: p99",
            "ms",
            p99(ours),
            per_peer(p99),
            P99_GOAL if goal else "",
            noisy=single or disturbed,
            paired=True,
        ),
        Row(
            SECTION,
            f"{label}: server CPU per request",
            "µs",
            cpu(ours),
            per_peer(cpu),
            noisy=disturbed,
            paired=True,
        ),
        Row(
            SECTION,
            f"{label}: errors (sum of rounds)",
            "count",
            errors(ours),
            per_peer(errors),
            compare=False,
        ),
    ]
