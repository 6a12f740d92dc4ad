"""The benchmark harness runs end to end in its quickest mode (ours only, no peers, no wrk),
and each section added since in miniature: the Redis store (memory, 1 process, --workers 2),
long polls split across two processes over Redis, and a soak of a few seconds.

Benchmarks are not tests: nothing here looks at a timing. It checks that `python -m bench`
starts the simulators, drives them, and prints the table with a figure in every row, and
that the counts add up (answers correct, none wrong or lost, no load errors).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from bench import cli, servers

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.socket
def test_quickest_bench_prints_a_full_table(tmp_path: Path) -> None:
    command = [
        sys.executable,
        "-m",
        "bench",
        "--sections",
        "throughput",
        "--peers",
        "none",
        "--load-generator",
        "python",
        "--connections",
        "1",
        "--duration",
        "0.3",
        "--warmup",
        "0.2",
        "--rounds",
        "1",
        "--quiet-wait",
        "0",
        "--results-dir",
        str(tmp_path),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "404 unknown token, 1 conn: requests/s" in done.stdout
    assert "200 signed, 1 conn: requests/s" in done.stdout

    (result,) = tmp_path.glob("bench-*.json")
    data = json.loads(result.read_text())
    rows = data["rows"]
    assert len(rows) == 10
    for row in rows:
        assert row["ours"] is not None, row["metric"]
    errors = [row for row in rows if "errors" in row["metric"]]
    assert [row["ours"]["value"] for row in errors] == [0, 0]
    # Rounds alternate the servers: every figure but the error counts has a ratio per round.
    assert [row["metric"] for row in rows if not row["paired"]] == [r["metric"] for r in errors]
    # The machine's speed was probed during every run: ours and ours-journal-off, each call.
    (speed,) = [note for note in data["notes"] if "the machine's speed" in note]
    assert "median per run" in speed, speed


def _bench(tmp_path: Path, *args: str, timeout: float = 240) -> dict[str, Any]:
    """Run `python -m bench` with ``args`` (no quiet wait); its JSON results."""
    command = [sys.executable, "-m", "bench", *args, "--quiet-wait", "0"]
    command += ["--results-dir", str(tmp_path)]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    (result,) = tmp_path.glob("bench-*.json")
    data: dict[str, Any] = json.loads(result.read_text())
    return data


def _value(figure: Any) -> Any:
    """A figure of the JSON results: a measure's value, or the cell's text."""
    return figure["value"] if isinstance(figure, dict) else figure


@pytest.mark.socket
@pytest.mark.slow
def test_the_redis_section_measures_memory_redis_and_workers_or_says_missing(
    tmp_path: Path,
) -> None:
    data = _bench(
        tmp_path,
        *("--sections", "redis", "--load-generator", "python", "--connections", "1"),
        *("--duration", "0.3", "--warmup", "0.2", "--rounds", "1"),
    )
    rows = data["rows"]
    one = [row for row in rows if "1 process" in row["section"]]
    workers = [row for row in rows if "2 workers" in row["section"]]
    assert len(one) + len(workers) == len(rows)
    # Six rows per call: req/s, p99, simulator CPU, redis-server CPU, both, errors.
    assert len(one) == 12
    for row in one:
        assert isinstance(row["ours"], dict), row["metric"]  # a measure, not a missing cell
        assert set(row["peers"]) == {"in memory"}
    errors = [row for row in one if "errors" in row["metric"]]
    assert [(_value(r["ours"]), _value(r["peers"]["in memory"])) for r in errors] == [(0, 0)] * 2
    redis_cpu = [row for row in one if row["metric"].endswith(": redis-server CPU per request")]
    # Read from /proc in clock ticks: a 0.3 s run may show none. Ours in memory has no Redis.
    assert all(_value(r["ours"]) >= 0 for r in redis_cpu)
    assert [r["peers"]["in memory"] for r in redis_cpu] == [None, None]
    # Rounds alternate the configurations: the figures set against memory have a ratio per round.
    compared = [r["metric"] for r in one if r["paired"]]
    assert compared == [r["metric"] for r in one if r not in errors and r not in redis_cpu]
    missing = [note for note in data["notes"] if "missing" in note]
    if _value(workers[0]["ours"]) == "missing":  # a simulator without --workers (yet)
        assert len(workers) == 2  # one row per call says so
        assert all(_value(r["ours"]) == "missing" for r in workers)
        (line,) = missing
        assert "--workers 2" in line
        assert "\n" not in line
    else:
        assert len(workers) == 12
        assert missing == []
        errors = [row for row in workers if "errors" in row["metric"]]
        assert [_value(r["ours"]) for r in errors] == [0, 0]


@pytest.mark.socket
@pytest.mark.slow
def test_long_polls_in_one_process_and_across_two_over_redis_are_all_answered(
    tmp_path: Path,
) -> None:
    polls = 30
    data = _bench(
        tmp_path, "--sections", "longpoll", "--longpoll-n", str(polls), "--answer-delay", "3"
    )
    rows = data["rows"]
    sections = list(dict.fromkeys(row["section"] for row in rows))
    assert len(sections) == 3
    assert "two simulator processes over one Redis" in sections[2]
    counts = [row for row in rows if row["metric"] == "answers: correct / wrong / lost"]
    assert [row["ours"] for row in counts] == [f"{polls} / 0 / 0"] * 3
    shared = [row for row in rows if row["section"] == sections[2]]
    metrics = {row["metric"]: row["ours"] for row in shared}
    for name in "AB":
        assert _value(metrics[f"peak RSS of process {name} (VmHWM)"]) > 0
        assert " / " in metrics[f"RSS of process {name}: idle / sessions made / polls held"]
    assert metrics["polls in place before their answer"] == f"{polls}/{polls}"


@pytest.mark.socket
@pytest.mark.slow
def test_a_miniature_soak_checks_every_answer_of_every_identity(tmp_path: Path) -> None:
    data = _bench(tmp_path, "--soak", "0.2", "--sections", "soak")  # 12 s
    metrics = {row["metric"]: row for row in data["rows"]}
    mix = metrics["sessions by expected status answer"]["ours"]
    counts = dict(part.split(": ") for part in mix.split(", "))
    assert set(counts) == {"200 signed", "40020 refused", "40021 expired"}
    sessions = sum(int(n) for n in counts.values())
    # 11 identities in turn: 4 sign, 6 refuse (one by the wrong code), 1 never answers.
    assert int(counts["200 signed"]) >= 4 * (sessions // 11)
    assert int(counts["40021 expired"]) >= sessions // 11 > 0
    correct, wrong, lost = metrics["requests: correct / wrong / lost"]["ours"].split(" / ")
    assert (int(correct), int(wrong), int(lost)) == (2 * sessions, 0, 0)
    assert metrics["failed requests by kind"]["ours"] == "none"
    rss = [row for metric, row in metrics.items() if metric.startswith("RSS at")]
    assert len(rss) == 3
    assert all(row["ours"] not in (None, "n/a") for row in rss)


def test_soak_minutes_from_the_command_line() -> None:
    def soak(*args: str) -> tuple[float, bool]:
        settings = cli.settings_from(cli._parser().parse_args(list(args)))
        return settings.soak_minutes, "soak" in settings.sections

    assert soak() == (10.0, False)  # off by default
    assert soak("--soak") == (10.0, True)
    assert soak("--quick", "--soak") == (1.0, True)
    assert soak("--soak", "2.5") == (2.5, True)
    assert soak("--sections", "soak") == (10.0, True)
    assert "redis" in cli.settings_from(cli._parser().parse_args([])).sections
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["--soak", "0"])


def test_a_server_of_ours_counts_the_processes_it_started() -> None:
    # What `--workers N` looks like from outside: a parent whose children serve.
    parent = subprocess.Popen(["sh", "-c", "sleep 30 & sleep 30 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(servers.descendants(parent.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = servers.descendants(parent.pid)
        assert len(children) == 2
        ours = servers.Server("ours", 1, parent.pid, tree=True)
        assert ours.pids() == [parent.pid, *children]
        assert servers.Server("peer", 1, parent.pid).pids() == [parent.pid]
    finally:
        os.killpg(parent.pid, signal.SIGKILL)  # its own group: the sleeps too
        parent.wait()
