"""The machine's speed during a run (`bench.quiet.speed_probe`), as the notes report it.

Nothing here looks at how long the probe's work takes: only that it is timed during the
block, and that its timings are reported, not used to mark figures.
"""

from __future__ import annotations

import math
import os
import time

import pytest

from bench import quiet, throughput
from bench.load import LoadResult, Target


def _run(probe_us: float, rps: float = 1000.0) -> throughput.Run:
    load = LoadResult(int(rps), 1.0, 1.0, 2.0, 0, 0)
    return throughput.Run(load, cpu_us=100.0, others=0.0, idle_servers=0.0, probe_us=probe_us)


def test_the_probe_times_its_work_while_the_block_runs() -> None:
    cpu = min(os.sched_getaffinity(0))
    with quiet.speed_probe(cpu) as probe:
        time.sleep(quiet.PROBE_INTERVAL * 4.5)
    taken = len(probe.samples_us)
    assert taken >= 2  # four intervals passed; a loaded machine may wake the thread late
    assert all(sample > 0 for sample in probe.samples_us)
    assert min(probe.samples_us) <= probe.median_us <= max(probe.samples_us)
    time.sleep(quiet.PROBE_INTERVAL * 2)
    assert len(probe.samples_us) == taken  # stopped with the block


def test_a_probe_without_samples_has_no_median() -> None:
    assert math.isnan(quiet.SpeedProbe(0).median_us)


def test_a_probe_on_a_cpu_it_may_not_use_takes_no_samples(
    capsys: pytest.CaptureFixture[str],
) -> None:
    cpu = max(os.sched_getaffinity(0)) + 1000
    with quiet.speed_probe(cpu) as probe:
        time.sleep(quiet.PROBE_INTERVAL * 2)
    assert probe.samples_us == []
    assert "Traceback" not in capsys.readouterr().err


def test_the_note_gives_the_range_of_the_runs_probes_and_marks_nothing() -> None:
    runs = [_run(140.0), _run(math.nan), _run(300.0)]
    note = throughput.speed_note("throughput", runs)
    assert "median per run 140 to 300 µs" in note
    assert "no figure is marked by it" in note
    assert throughput.speed_note("redis", [_run(math.nan)]).startswith("redis: ")
    assert "no probe" in throughput.speed_note("redis", [_run(math.nan)])


def test_a_slow_probe_does_not_mark_a_figure() -> None:
    scenario = throughput.Scenario(
        "404 unknown token", lambda: pytest.fail("unused"), {"wiremock": Target(1, "/", b"", 404)}
    )
    runs = {"ours": [_run(100.0), _run(200.0)], "wiremock": [_run(100.0), _run(100.0)]}
    (rps, *_) = throughput._rows(scenario, 50, runs)
    assert not rps.noisy
