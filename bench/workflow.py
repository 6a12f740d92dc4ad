"""Wall time of the developer workflow: ``make generate`` and (when asked) ``make test``.

A Make target first installs the virtual environment when its stamp is out of date; that
one-time step is not what is measured, so it is skipped then (``make -o <stamp>``) and the
report says so.

``make generate`` runs in a temporary copy of its inputs (Makefile, spec, generator,
generated client, and a link to the project's virtual environment), so that timing it never
rewrites the working tree; its output must equal ``generated_client/`` byte for byte, as the
drift check compares them (`generator.generate.first_difference`), and the report says
whether it did.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from bench.settings import Settings
from bench.table import Measure, Row
from bench.tools import ALL_CPUS, REPO, child_setup, log, results_dir
from generator.generate import first_difference

SECTION = "developer workflow (wall time)"
STAMP = ".venv/.installed-stamp"
GENERATED = REPO / "generated_client"


GENERATE_INPUTS = (
    "Makefile",
    "pyproject.toml",
    "constraints.txt",
    "openapi.yaml",
    "generator",
    "generated_client",
    "tools",  # the generator's change report runs Optic through tools/
)


def _make(target: str, timeout: float, notes: list[str], where: Path = REPO) -> tuple[float, int]:
    make = shutil.which("make")
    if make is None:
        raise RuntimeError("make is not installed")
    command = [make, "--no-print-directory"]
    stale = subprocess.run([make, "-q", STAMP], cwd=where, capture_output=True).returncode
    if stale:
        command += ["-o", STAMP]
        notes.append(f"make {target}: install stamp out of date, install step skipped (-o)")
    command.append(target)
    log(f"timing make {target}")
    with (results_dir() / f"make-{target}.log").open("wb") as output:
        started = time.perf_counter()
        done = subprocess.run(
            command,
            cwd=where,
            stdout=output,
            stderr=subprocess.STDOUT,
            timeout=timeout,
            preexec_fn=child_setup(set(ALL_CPUS), raise_fds=False),  # every CPU, as a developer
        )
        elapsed = time.perf_counter() - started
    return elapsed, done.returncode


def measure(settings: Settings) -> tuple[list[Row], list[str]]:
    notes: list[str] = []
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="bench-generate-") as folder:
        copy = Path(folder)
        ignore = shutil.ignore_patterns("__pycache__", ".mypy_cache", ".ruff_cache")
        for name in GENERATE_INPUTS:
            source = REPO / name
            if source.is_dir():
                shutil.copytree(source, copy / name, ignore=ignore)
            elif source.exists():
                shutil.copy2(source, copy / name)
        (copy / ".venv").symlink_to(REPO / ".venv")  # the project's environment, as it is
        seconds, code = _make("generate", 600, notes, where=copy)
        # Compared as the drift check compares (caches, build leftovers, the changelog aside).
        difference = first_difference(copy / "generated_client", GENERATED)
        if difference is not None:
            notes.append(f"make generate: {difference}")
        same = difference is None
    result = Measure.once(seconds) if code == 0 else f"exit {code}"
    rows.append(Row(SECTION, "make generate (in a copy of its inputs)", "s", result))
    equal = ("yes" if same else "NO") if code == 0 else "n/a (make generate failed)"
    rows.append(Row(SECTION, "its output equals generated_client/", "", equal))
    if settings.make_test:
        seconds, code = _make("test", 3600, notes)
        result = Measure.once(seconds) if code == 0 else f"exit {code} after {seconds:.0f} s"
        rows.append(Row(SECTION, "make test", "s", result, noisy=True))
    else:
        rows.append(Row(SECTION, "make test", "s", "not run (--workflow)"))
    return rows, notes
