"""openapi.yaml and generated_client/ as git has them at a ref.

Every failure is a `HistoryError` with a one-line message (not a git repository, unknown
ref, the file did not exist there).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from generator.generate import OUTPUT, REPO_ROOT, SPEC

SPEC_NAME = SPEC.relative_to(REPO_ROOT).as_posix()
CLIENT_NAME = OUTPUT.relative_to(REPO_ROOT).as_posix()


class HistoryError(Exception):
    """git cannot give what was asked; the message is one line for a person."""


def _git(*args: str, binary: bool = False) -> Any:
    git = shutil.which("git")
    if git is None:
        raise HistoryError("git is not on PATH: the change report needs the spec's history")
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [git, *args], cwd=REPO_ROOT, capture_output=True, check=False, text=not binary
    )
    if result.returncode != 0:
        stderr = result.stderr if isinstance(result.stderr, str) else result.stderr.decode()
        if "not a git repository" in stderr:
            raise HistoryError(f"{REPO_ROOT.name}/ is not a git repository: no history to compare")
        lines = stderr.strip().splitlines() or ["no output"]
        raise HistoryError(f"git {args[0]} failed: {lines[0].removeprefix('fatal: ')}")
    return result.stdout


def load(text: str | bytes, where: str = "in the working tree") -> dict[str, Any]:
    """The document of openapi.yaml's `text` (`where` it comes from, for the message)."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise HistoryError(f"{SPEC_NAME} {where} is not valid YAML: {at}{problem}") from None
    if not isinstance(document, dict):
        raise HistoryError(f"{SPEC_NAME} {where} is not a YAML mapping")
    return document


def version_of(document: dict[str, Any]) -> str:
    version = document.get("info", {}).get("version")
    if not isinstance(version, str):
        raise HistoryError(f"{SPEC_NAME} has no info.version")
    return version


@dataclass(frozen=True)
class Revision:
    """openapi.yaml at a commit: the commit, how the user named it, the bytes."""

    commit: str
    name: str
    text: bytes

    @property
    def document(self) -> dict[str, Any]:
        return load(self.text, f"at {self.name}")

    @property
    def version(self) -> str:
        return version_of(self.document)


def resolve(ref: str) -> str:
    """The commit `ref` names (`HEAD~1`, a tag, a branch)."""
    if ref.startswith("-"):
        raise HistoryError(f"{ref!r} is not a git ref")
    try:
        commit: str = _git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}").strip()
    except HistoryError:
        commit = ""
    if not commit:
        _git("rev-parse", "--git-dir")  # says so if this is not a repository at all
        raise HistoryError(f"unknown git ref {ref!r}")
    return commit


def spec_at(ref: str) -> Revision:
    """openapi.yaml as committed at `ref`."""
    commit = resolve(ref)
    try:
        text: bytes = _git("show", f"{commit}:{SPEC_NAME}", binary=True)
    except HistoryError:
        raise HistoryError(f"{SPEC_NAME} does not exist at {ref}") from None
    return Revision(commit=commit, name=ref, text=text)


def client_at(commit: str, destination: Path) -> Path | None:
    """Extract generated_client/ of `commit` below `destination`; None if it had none."""
    try:
        archive: bytes = _git("archive", "--format=tar", commit, CLIENT_NAME, binary=True)
    except HistoryError:
        return None
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(destination, filter="data")
    return destination / CLIENT_NAME


def version_base(current: dict[str, Any]) -> Revision | None:
    """The base of the version check: the newest commit whose openapi.yaml differs.

    "Differs" is as parsed YAML, so a commit that only reflows comments needs no bump.
    Comparing with HEAD alone would let a change committed without a bump pass: this looks
    past every commit whose spec equals the working tree's. None when no commit differs
    (a new repository), or only the working tree's own spec is in the history.
    """
    log: str = _git("log", "--format=%H", "--", SPEC_NAME)
    for commit in log.split():
        try:
            text: bytes = _git("show", f"{commit}:{SPEC_NAME}", binary=True)
        except HistoryError:
            continue  # the commit deleted the file
        if load(text, f"at {commit[:12]}") != current:
            return Revision(commit=commit, name=commit[:12], text=text)
    return None


def is_shallow() -> bool:
    return str(_git("rev-parse", "--is-shallow-repository")).strip() == "true"
