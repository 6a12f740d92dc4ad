"""`make contract` with no base URL: the embedded simulator, every phase, reports written."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from marksign_contract import cli
from marksign_contract._process import console_script

from .suite import CaseTally

pytest_plugins = ["tests.contract.plugins.tally"]


@pytest.mark.slow
@pytest.mark.socket
def test_embedded_run_passes_and_writes_reports(tmp_path: Path, case_tally: CaseTally) -> None:
    report_dir = tmp_path / "reports"
    result = subprocess.run(
        [
            str(console_script("marksign-contract")),
            "--max-examples",
            "5",
            "--report-dir",
            str(report_dir),
        ],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != cli.ACCESS_TOKEN_ENV},
        cwd=tmp_path,
        timeout=600,
        check=False,
    )
    assert result.returncode == cli.EXIT_PASS, result.stdout + result.stderr
    assert "PASSED: no contract failures" in result.stdout
    for name in (*cli.REPORT_FILES.values(), cli.SIMULATOR_LOG):
        assert (report_dir / name).is_file(), name
    report = json.loads((report_dir / cli.REPORT_FILES["json"]).read_text(encoding="utf-8"))
    assert report["operations"]["tested"] == 4
    assert {name: phase["status"] for name, phase in report["phases"].items()} == {
        "examples": "success",
        "coverage": "success",
        "fuzzing": "success",
        "stateful": "success",
    }
    case_tally.add("make contract (embedded)", "cases", report["test_cases"]["generated"])
