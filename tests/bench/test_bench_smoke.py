"""The benchmark harness runs end to end in its quickest mode (ours only, no peers, no wrk).

Benchmarks are not tests: nothing here looks at a timing. It checks that `python -m bench`
starts the simulator, drives it, and prints the table with a figure in every row.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    rows = json.loads(result.read_text())["rows"]
    assert len(rows) == 10
    for row in rows:
        assert row["ours"] is not None, row["metric"]
    errors = [row for row in rows if "errors" in row["metric"]]
    assert [row["ours"]["value"] for row in errors] == [0, 0]
