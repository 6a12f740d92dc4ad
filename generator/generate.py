"""Generate generated_client/ from openapi.yaml, or check that it is up to date.

openapi-python-client renders the client from the spec, `config.yaml` and the overriding
`templates/`; its post-hooks format the result with the ruff that is installed next to the
running Python. The output gets a `stamp.json` (hashes of the inputs, tool versions) and is
reproducible byte for byte, so `--check` can regenerate into a temporary folder and compare.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

GENERATOR_DIR = Path(__file__).resolve().parent
REPO_ROOT = GENERATOR_DIR.parent
SPEC = REPO_ROOT / "openapi.yaml"
CONFIG = GENERATOR_DIR / "config.yaml"
TEMPLATES = GENERATOR_DIR / "templates"
OUTPUT = REPO_ROOT / "generated_client"
STAMP_NAME = "stamp.json"
# pdm writes a pyproject.toml (pdm-backend) that `pip install -e generated_client` can use.
META = "pdm"
# The tools whose versions shape the output; both are pinned in constraints.txt.
TOOLS = ("openapi-python-client", "ruff")
# Caches and build leftovers that tools drop into the output (`pip install -e` leaves
# .pdm-build/); they are not generated code.
IGNORED_NAMES = frozenset(
    {"__pycache__", ".mypy_cache", ".ruff_cache", ".pytest_cache", ".pdm-build", "build", "dist"}
)
IGNORED_SUFFIXES = (".egg-info",)
# Kept in the output but not generated: the changelog holds history the spec cannot
# reproduce (written by generator/changes, checked by the version rule).
KEPT_FILES = frozenset({"CHANGELOG.md"})


class GenerationError(Exception):
    """openapi-python-client failed, warned, or could not run."""


def _display(path: Path) -> str:
    """The path relative to the repository, for messages."""
    return path.relative_to(REPO_ROOT).as_posix()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def generator_inputs() -> list[Path]:
    """The generator's own inputs besides the spec: its config and every template file."""
    templates = [path for path in TEMPLATES.rglob("*") if path.is_file()]
    return sorted([CONFIG, *templates], key=_display)


def generator_digest(paths: Sequence[Path]) -> str:
    """One sha256 over the files' repository paths and contents, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(f"{_display(path)}\0{_sha256(path.read_bytes())}\n".encode())
    return digest.hexdigest()


def stamp(spec: Path = SPEC) -> dict[str, object]:
    """What produced the generated code: input hashes and tool versions."""
    inputs = generator_inputs()
    return {
        "comment": "Written by `python -m generator` (make generate). Do not edit this folder.",
        "openapi_sha256": _sha256(spec.read_bytes()),
        "generator_sha256": generator_digest(inputs),
        "generator_inputs": [_display(path) for path in inputs],
        "meta": META,
        "tools": {tool: metadata.version(tool) for tool in TOOLS},
    }


def generate(destination: Path, spec: Path = SPEC) -> None:
    """Render the client into `destination`, which must not exist yet, and stamp it.

    `spec` is openapi.yaml, or a changed copy of it (the change drills in tests/generator).
    """
    bin_dir = Path(sys.executable).parent
    if shutil.which("ruff", path=str(bin_dir)) is None:
        raise GenerationError(f"ruff is not installed in {bin_dir.name}/: run make install")
    # The post-hooks in config.yaml call `ruff` by name: put the pinned one first on PATH.
    env = {**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])}
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        _display(spec) if spec == SPEC else str(spec),
        "--config",
        _display(CONFIG),
        "--custom-template-path",
        _display(TEMPLATES),
        "--meta",
        META,
        "--fail-on-warning",
        "--output-path",
        str(destination),
    ]
    result = subprocess.run(  # noqa: S603 (fixed arguments, no shell)
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise GenerationError(f"openapi-python-client failed:\n{result.stdout}{result.stderr}")
    stamp_text = json.dumps(stamp(spec), indent=2, sort_keys=True) + "\n"
    (destination / STAMP_NAME).write_bytes(stamp_text.encode())  # "\n" on every OS


def _is_ignored(relative: Path) -> bool:
    if relative.as_posix() in KEPT_FILES:
        return True
    return any(part in IGNORED_NAMES or part.endswith(IGNORED_SUFFIXES) for part in relative.parts)


def tree_files(root: Path) -> dict[str, Path]:
    """The files under `root` by relative POSIX path, without caches and build leftovers."""
    files: dict[str, Path] = {}
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if path.is_file() and not _is_ignored(relative):
            files[relative.as_posix()] = path
    return files


def first_difference(expected: Path, actual: Path) -> str | None:
    """Describe the first file that differs between two trees, or None if they match.

    `expected` is a fresh generation and `actual` the committed folder; the description
    names the file relative to `actual`'s folder name (e.g. `generated_client/stamp.json`).
    """
    if not actual.is_dir():
        return f"{actual.name}/ does not exist"
    fresh = tree_files(expected)
    committed = tree_files(actual)
    for relative in sorted(fresh.keys() | committed.keys()):
        name = f"{actual.name}/{relative}"
        if relative not in committed:
            return f"{name} is missing"
        if relative not in fresh:
            return f"{name} is not generated any more"
        if fresh[relative].read_bytes() != committed[relative].read_bytes():
            return f"{name} differs"
    return None


def check(output: Path = OUTPUT) -> str | None:
    """Regenerate into a temporary folder and compare with `output`; None if it matches."""
    with tempfile.TemporaryDirectory(prefix="marksign-generator-") as tmp:
        fresh = Path(tmp) / output.name
        generate(fresh)
        return first_difference(fresh, output)


def write(output: Path = OUTPUT, report: Callable[[Path], list[str]] | None = None) -> list[str]:
    """Regenerate and make `output` match the result (untouched if generation fails).

    Only files whose bytes change are written, so an unchanged client keeps its mtimes
    (make does not reinstall it) and the caches beside it. `report` is called with the
    fresh generation before it is copied; its lines are returned.
    """
    lines: list[str] = []
    with tempfile.TemporaryDirectory(prefix="marksign-generator-") as tmp:
        fresh = Path(tmp) / output.name
        generate(fresh)
        if report is not None:
            lines = report(fresh)
        new = tree_files(fresh)
        old = tree_files(output) if output.is_dir() else {}
        for relative in sorted(old.keys() - new.keys()):
            old[relative].unlink()
        for relative, source in sorted(new.items()):
            if relative not in old or old[relative].read_bytes() != source.read_bytes():
                target = output / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, target)
    for directory in sorted(output.rglob("*"), reverse=True):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    parser.add_argument(
        "--check",
        action="store_true",
        help="only verify that generated_client/ matches a fresh generation (exit 1 if not)",
    )
    args = parser.parse_args(argv)
    # The change report and the version rule (generator/changes) need this module.
    from generator.changes import cli as changes

    try:
        if args.check:
            difference = check()
            if difference is not None:
                print(
                    f"{_display(OUTPUT)}/ is out of date ({difference}): run make generate",
                    file=sys.stderr,
                )
            else:
                print(f"{_display(OUTPUT)}/ is up to date with openapi.yaml and generator/")
            # Also when the client is stale: a spec change without its bump is named at once.
            passed, line = changes.check_version()
            print(line, file=sys.stdout if passed else sys.stderr)
            if difference is not None or not passed:
                return 1
        else:
            lines = write(report=changes.after_generate)
            print(f"Generated {_display(OUTPUT)}/ from openapi.yaml")
            for line in lines:
                print(line)
    except GenerationError as error:
        print(error, file=sys.stderr)
        return 1
    return 0
