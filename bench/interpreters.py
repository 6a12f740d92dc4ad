"""The Python interpreter that serves our simulator in the benchmarks.

By default the one running the bench (the project's virtual environment). ``--python
PATH`` names another, for example a distribution's CPython, built with profile-guided and
link-time optimisation, where the project's venv comes from a build without them: the bench
makes it a virtual environment under ``.tools/`` with this tree's simulator installed
(editable, so it is the tree as it is) and serves ours from it, the ``ours@REF`` peers
included. Measured in BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from bench.tools import REPO, TOOLS, ToolMissing, log, run_checked

_VERSION = "import sys; print('%d.%d.%d' % sys.version_info[:3])"
_python = sys.executable
_chosen: str | None = None  # `python3.11 3.11.2` when --python chose it
_folder = ""  # its venv's folder in .tools/


def python() -> str:
    """The interpreter that serves ours (a venv's, with marksign-mock installed)."""
    return _python


def chosen() -> str | None:
    """`python3.11 3.11.2` if ``--python`` chose the interpreter, else None."""
    return _chosen


def suffix() -> str:
    """For the name of a folder made with the interpreter: "" for the default one."""
    return f"-{_folder}" if _folder else ""


def use(interpreter: str) -> None:
    """Serve ours from `interpreter`: its own venv under ``.tools/``, made on first use
    (and again when the simulator's dependencies change). ToolMissing, in one line, if it
    is no Python 3.11 or newer, or the install fails."""
    global _python, _chosen, _folder
    version = _version(interpreter)
    base = Path(interpreter).resolve()
    inputs = [str(base).encode(), *(p.read_bytes() for p in _install_inputs())]
    digest = hashlib.sha256(b"\0".join(inputs)).hexdigest()[:12]
    folder = TOOLS / f"python-{version}-{digest}"
    venv_python = folder / "bin" / "python"
    if not (folder / "bin" / "marksign-mock").exists():
        log(f"making .tools/{folder.name}/: {Path(interpreter).name} {version} with this tree")
        run_checked([interpreter, "-m", "venv", "--clear", str(folder)])
        pip = [str(venv_python), "-m", "pip", "install", "--quiet"]
        run_checked([*pip, "-c", str(REPO / "constraints.txt"), "-e", f"{REPO / 'mock'}[redis]"])
    _python = str(venv_python)
    _chosen = f"{Path(interpreter).name} {version}"
    _folder = folder.name


def _install_inputs() -> list[Path]:
    return [REPO / "constraints.txt", REPO / "mock" / "pyproject.toml"]


def _version(interpreter: str) -> str:
    try:
        done = subprocess.run(
            [interpreter, "-c", _VERSION], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as error:
        raise ToolMissing(f"--python {interpreter}: cannot run it ({error.strerror})") from None
    version = done.stdout.strip()
    parts = version.split(".")
    if done.returncode != 0 or len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ToolMissing(f"--python {interpreter}: not a Python interpreter")
    if (int(parts[0]), int(parts[1])) < (3, 11):
        raise ToolMissing(f"--python {interpreter}: Python {version}; the simulator needs 3.11+")
    return version
