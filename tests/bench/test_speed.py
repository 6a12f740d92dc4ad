"""The machine's speed during a run (`bench.quiet.speed_probe`), and the runs it marks.

Nothing here looks at how long the probe's work takes: only that it is timed during the
block, and how given timings mark runs and figures.
"""

from __future__ import annotations

import math
import os
import time

import pytest

from bench import quiet, throughput
from bench.load import LoadResult, Target
from bench.table import render


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


def test_a_probe_without_samples_has_no_median_and_marks_nothing() -> None:
    assert math.isnan(quiet.SpeedProbe(0).median_us)
    assert not quiet.slowed(math.nan, 100.0)
    assert not quiet.slowed(150.0, math.nan)


def test_a_run_is_slowed_when_its_probe_took_the_threshold_over_its_fastest() -> None:
    assert quiet.slowed(100.0 * quiet.SLOWED + 1, 100.0)
    assert not quiet.slowed(100.0 * quiet.SLOWED - 1, 100.0)


def test_runs_are_compared_with_the_fastest_of_the_same_server_and_connections() -> None:
    ours_50 = [_run(140.0), _run(210.0), _run(150.0)]
    ours_200 = [_run(150.0), _run(160.0)]
    peer_50 = [_run(300.0), _run(310.0)]  # another server: its own fastest (its caches)
    ours_1 = [_run(60.0)]  # one connection loads the CPU less: not the others' yardstick
    batches: list[throughput.Batch] = [
        (50, {"ours": ours_50, "peer": peer_50}),
        (200, {"ours": ours_200}),
        (1, {"ours": ours_1}),
    ]
    throughput.mark_slowed(batches)
    assert [run.slowed for run in ours_50] == [False, True, False]
    assert [run.slowed for run in ours_200] == [False, False]
    assert [run.slowed for run in peer_50] == [False, False]
    assert [run.slowed for run in ours_1] == [False]
    assert ours_50[1].disturbed
    assert not ours_50[1].shared


def test_a_figure_with_a_slowed_round_is_marked_noisy() -> None:
    scenario = throughput.Scenario(
        "404 unknown token", lambda: pytest.fail("unused"), {"wiremock": Target(1, "/", b"", 404)}
    )
    steady = throughput._rows(scenario, 50, {"ours": [_run(100.0)], "wiremock": [_run(100.0)]})
    ours = [_run(100.0), _run(200.0)]
    throughput.mark_slowed([(50, {"ours": ours})])
    slowed = throughput._rows(scenario, 50, {"ours": ours, "wiremock": [_run(100.0)] * 2})
    assert not steady[0].noisy
    assert slowed[0].noisy
    assert "~" in next(line for line in render(slowed).splitlines() if "requests/s" in line)


def test_the_note_counts_the_slowed_runs() -> None:
    runs = [_run(140.0), _run(math.nan)]
    runs.append(throughput.Run(runs[0].load, 100.0, 0.0, 0.0, probe_us=300.0, slowed=True))
    note = throughput.speed_note("throughput", runs)
    assert "median per run 140 to 300 µs" in note
    assert f"1 of 3 runs at least {quiet.SLOWED:g}x" in note
