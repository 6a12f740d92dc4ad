"""Other processes on the machine, and the machine's own speed, while figures are measured.

A small machine shared with other work (a test suite, an editor's language server) skews
every figure. Before each measured run we wait, for a bounded time, until the machine is
nearly idle; during the run we measure the CPU time that neither the servers under test nor
this process and its children (the load generator) used. A run where others took more than
``DISTURBED`` of a CPU is counted as disturbed, and its figures are marked noisy.

A virtual machine also slows down with nothing of its own busy: its host runs other guests,
and the same work then takes more CPU time (on the machine of BENCHMARKS.md about 1.5 times
as much, switching between its two speeds about every second). `speed_probe` times a small
fixed piece of work on the servers' CPU every ``PROBE_INTERVAL`` seconds during a run, in
CPU time, for the log and the notes. It marks no figure: checked against the server's own
CPU per request, it saw most slowed runs, not all, and sometimes a slow probe in a run at
full speed.
"""

from __future__ import annotations

import math
import os
import statistics
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bench.tools import log

QUIET = 0.10  # CPUs busy with other work that still count as an idle machine
DISTURBED = 0.15  # CPUs taken by other work during a run that mark it as disturbed
MAX_WAIT = 30.0  # seconds to wait for quiet before measuring anyway
PROBE_INTERVAL = 0.1  # seconds between two probes of the machine's speed during a run


def _machine_busy_seconds() -> float:
    """CPU time all processes have used since boot (every CPU, idle and iowait excluded)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def process_cpu_seconds(pid: int) -> float:
    """CPU time (user + system, all threads) a live process has used so far (0 when gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # After the command name: state is field 3, utime and stime are fields 14 and 15.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def wait_for_quiet(max_wait: float = MAX_WAIT) -> float:
    """Wait (at most ``max_wait`` s) until other work uses under QUIET CPUs; return its use.

    Call it while the servers under test are idle: their own background work is tiny.
    With ``max_wait`` 0 it does not look at all.
    """
    if max_wait <= 0:
        return 0.0
    deadline = time.monotonic() + max_wait
    while True:
        started, busy = time.monotonic(), _machine_busy_seconds()
        time.sleep(0.5)
        load = (_machine_busy_seconds() - busy) / (time.monotonic() - started)
        if load < QUIET or time.monotonic() >= deadline:
            if load >= QUIET:
                log(f"the machine stays busy ({load:.2f} CPUs of other work): measuring anyway")
            return load


@dataclass
class Watch:
    """CPU used by other processes while a block runs, in CPUs (seconds per second)."""

    pids: tuple[int, ...]
    others: float = 0.0

    def __enter__(self) -> Watch:
        self._wall = time.monotonic()
        self._start = self._sample()
        return self

    def _sample(self) -> float:
        ours = _own_seconds() + sum(process_cpu_seconds(pid) for pid in self.pids)
        return _machine_busy_seconds() - ours

    def __exit__(self, *_: object) -> None:
        wall = time.monotonic() - self._wall
        self.others = max(0.0, (self._sample() - self._start) / wall) if wall > 0 else 0.0

    @property
    def disturbed(self) -> bool:
        return self.others > DISTURBED


def watch(pids: Iterable[int]) -> Watch:
    return Watch(tuple(pids))


def _probe_work() -> int:
    """The probe: a fixed piece of interpreter work (about 0.1 ms; strings, a dict)."""
    table: dict[str, int] = {}
    for i in range(800):
        table[str(i)] = i * 7
    return len(table)


@dataclass
class SpeedProbe:
    """Times `_probe_work` in CPU time on ``cpu`` every PROBE_INTERVAL while the block runs
    (from a thread pinned there: about 0.1 % of that CPU, taken from every server alike)."""

    cpu: int
    samples_us: list[float] = field(default_factory=list)

    def __enter__(self) -> SpeedProbe:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="speed-probe", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            os.sched_setaffinity(0, {self.cpu})  # this thread only
        except OSError:  # not a CPU this process may use: no samples, the note says so
            return
        while not self._stop.wait(PROBE_INTERVAL):
            started = time.thread_time_ns()
            _probe_work()
            self.samples_us.append((time.thread_time_ns() - started) / 1000)

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_us) if self.samples_us else math.nan


def speed_probe(cpu: int) -> SpeedProbe:
    return SpeedProbe(cpu)
