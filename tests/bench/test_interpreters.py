"""`--python`: the bench serves our simulator from another interpreter's venv."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from marksign_mock.launcher import SimulatorProcess

from bench import interpreters
from bench.ours import describe
from bench.tools import ToolMissing

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.socket
@pytest.mark.slow
def test_ours_is_served_from_a_venv_of_the_interpreter_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interpreters, "TOOLS", tmp_path)
    for name in ("_python", "_chosen", "_folder"):  # restored after the test
        monkeypatch.setattr(interpreters, name, getattr(interpreters, name))

    interpreters.use(sys.executable)

    served_by = Path(interpreters.python())
    assert served_by.parent.parent.parent == tmp_path  # .tools/<folder>/bin/python
    assert interpreters.suffix() == f"-{served_by.parent.parent.name}"
    version = ".".join(str(part) for part in sys.version_info[:3])
    assert describe(["--seed", "1"]).endswith(
        f"(on {Path(sys.executable).name} {version}, --python)"
    )
    # This tree's simulator, installed editable: its modules are the repository's.
    where = subprocess.run(
        [str(served_by), "-c", "import marksign_mock; print(marksign_mock.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert Path(where).resolve().is_relative_to(REPO / "mock")
    with SimulatorProcess(python=str(served_by)) as simulator:
        answer = httpx.post(simulator.base_url + "/en/smartid/sign/hash/status/x.json", json={})
    assert answer.status_code == 400


@pytest.mark.parametrize(
    ("interpreter", "says"),
    [
        ("/nonexistent/python3", r"cannot run it \(No such file or directory\)"),
        (str(REPO / "bench"), r"cannot run it \(Permission denied\)"),  # a folder
    ],
)
def test_an_interpreter_that_cannot_run_is_a_one_line_error(interpreter: str, says: str) -> None:
    with pytest.raises(ToolMissing, match=says) as raised:
        interpreters.use(interpreter)
    assert "\n" not in str(raised.value)


def test_a_program_that_is_no_python_is_a_one_line_error(tmp_path: Path) -> None:
    fake = tmp_path / "python3"
    fake.write_text("#!/bin/sh\necho hello\n")
    fake.chmod(0o755)

    with pytest.raises(ToolMissing, match="not a Python interpreter"):
        interpreters.use(str(fake))


def test_the_bench_refuses_a_bad_python_in_one_line(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "bench", "--python", str(tmp_path / "none")]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"bench: --python {tmp_path / 'none'}: cannot run it (No such file or directory)"
    ]
