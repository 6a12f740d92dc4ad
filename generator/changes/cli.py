"""`python -m generator.changes [--base REF]`: the change report (make api-diff).

Also what `python -m generator` runs after generating (a summary and the changelog entry)
and with `--check` (the version rule).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from generator import generate
from generator.changes import changelog, history, report
from generator.changes.versioning import VersionError
from tools.npm import ToolError

Failure = (history.HistoryError, ToolError, VersionError, generate.GenerationError)


def _version_report(head_client: Path | None, spec: Path) -> report.Report | None:
    """The report against the base of the version check, or None if there is none."""
    current = history.load(spec.read_bytes())
    base = history.version_base(current)
    if base is None:
        return None
    return report.build(base, head_spec=spec, head_client=head_client)


def after_generate(head_client: Path) -> list[str]:
    """Lines for `make generate`: the report's summary; writes the changelog entry."""
    try:
        found = _version_report(head_client, generate.SPEC)
    except Failure as error:
        return [f"change report skipped: {error}"]
    if found is None:
        return ["change report: no earlier openapi.yaml in the git history"]
    if found.bump is None:
        return [f"change report: openapi.yaml unchanged since {found.base_name}"]
    lines = [
        f"change report against {found.old_version} ({found.base_name}): {found.summary()};"
        " details: make api-diff BASE=" + found.base_name
    ]
    problem = found.version_problem()
    if problem is not None:
        return [*lines, f"version: {problem}", "CHANGELOG.md: no entry until the version fits"]
    assert found.bump is not None
    entry = changelog.entry(
        found.new_version, found.old_version, found.bump.reason, found.body_lines()
    )
    written = changelog.write(found.new_version, entry)
    state = "written" if written else "up to date"
    return [*lines, f"{found.version_line()}; CHANGELOG.md entry {found.new_version} {state}"]


def check_version(spec: Path = generate.SPEC) -> tuple[bool, str]:
    """The version rule for `--check`: (passed, the line to print)."""
    try:
        if history.is_shallow():
            return False, "version check: a shallow git clone has no history: git fetch --unshallow"
        found = _version_report(None, spec)
    except Failure as error:
        if isinstance(error, history.HistoryError) and "not a git repository" in str(error):
            return True, f"version check skipped: {error}"
        return False, f"version check failed: {error}"
    if found is None:
        return True, "version check: no earlier openapi.yaml in the git history"
    problem = found.version_problem()
    if problem is not None:
        return False, problem
    if found.bump is not None and not changelog.has_entry(found.new_version):
        return False, (
            f"{changelog.PATH.relative_to(generate.REPO_ROOT).as_posix()} has no entry for"
            f" {found.new_version}: run make generate"
        )
    return True, found.version_line()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m generator.changes",
        description="Compare openapi.yaml (and the client generated from it) with a git ref.",
    )
    parser.add_argument("--base", default="HEAD", help="the git ref to compare with (HEAD)")
    args = parser.parse_args(argv)
    try:
        found = report.build(history.spec_at(args.base))
    except Failure as error:
        print(f"api-diff: {error}", file=sys.stderr)
        return 2
    print(found.text(), end="")
    return 0
