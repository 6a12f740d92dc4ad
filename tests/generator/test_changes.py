"""The change report's parts: the version rule, the changelog, git history, the commands.

The end-to-end cases change a copy of openapi.yaml and ask the version check what the
committed history says about it (as `make check-generated` does); the catalogue of API
changes is in test_change_drills.py.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import griffe
import pytest
import yaml

from generator import generate
from generator.changes import changelog, cli, clientdiff, history, report, specdiff
from generator.changes.versioning import Bump, Version, VersionError, is_enough, suggest


@pytest.mark.parametrize(
    ("old", "new", "bump", "enough"),
    [
        ("1.1.0", "2.0.0", Bump.MAJOR, True),
        ("1.1.0", "1.2.0", Bump.MAJOR, False),
        ("1.1.0", "1.2.0", Bump.MINOR, True),
        ("1.1.0", "1.1.1", Bump.MINOR, False),
        ("1.1.0", "2.0.0", Bump.MINOR, True),
        ("1.1.0", "1.1.1", Bump.PATCH, True),
        ("1.1.0", "1.1.0", Bump.PATCH, False),
        ("1.1.0", "1.0.9", Bump.PATCH, False),
    ],
)
def test_the_version_rule(old: str, new: str, bump: Bump, enough: bool) -> None:
    assert is_enough(Version.parse(old), Version.parse(new), bump) is enough


def test_suggestions_reset_the_lower_parts() -> None:
    version = Version.parse("1.4.2")
    assert [str(suggest(version, bump)) for bump in Bump] == ["1.4.3", "1.5.0", "2.0.0"]


@pytest.mark.parametrize("text", ["1.0", "v1.0.0", "1.0.0-rc1", "01.0.0"])
def test_a_version_that_is_not_semver_is_refused(text: str) -> None:
    with pytest.raises(VersionError, match=r"is not MAJOR\.MINOR\.PATCH"):
        Version.parse(text)


def test_changelog_entries_are_replaced_not_repeated(tmp_path: Path) -> None:
    path = tmp_path / "CHANGELOG.md"
    first = changelog.entry("1.1.0", "1.0.0", "minor", ["a"])

    assert changelog.write("1.1.0", first, path)
    assert not changelog.write("1.1.0", first, path)  # the same report: nothing appended
    assert changelog.write("1.1.0", changelog.entry("1.1.0", "1.0.0", "minor", ["b"]), path)
    assert changelog.write("2.0.0", changelog.entry("2.0.0", "1.1.0", "major", ["c"]), path)

    text = path.read_text(encoding="utf-8")
    assert changelog.versions(text) == ["2.0.0", "1.1.0"]  # newest first, each once
    assert "\na\n" not in text
    assert "\nb\n" in text
    assert text.startswith(changelog.HEADER)


def test_clients_are_loaded_one_at_a_time_across_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # CPython 3.11's parse-tree conversion, under griffe, is not safe in two threads at once.
    real_load = griffe.load
    lock = threading.Lock()
    inside = most = 0

    def load(*args: Any, **kwargs: Any) -> Any:
        nonlocal inside, most
        with lock:
            inside += 1
            most = max(most, inside)
        time.sleep(0.05)  # long enough for the other thread to come in, were it let
        try:
            return real_load(*args, **kwargs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(griffe, "load", load)  # clientdiff calls griffe.load
    with ThreadPoolExecutor(max_workers=3) as pool:
        names = list(pool.map(clientdiff.public_names, [generate.OUTPUT] * 3))

    assert most == 1
    assert names[0] == names[1] == names[2]
    assert "marksign_client.models.error.Error.error_code" in names[0]


@pytest.mark.slow
def test_info_version_fits_the_changes_since_the_last_version() -> None:
    """What make check-generated checks, so that make test fails on a missing bump too."""
    passed, line = cli.check_version()
    assert passed, line


def test_the_committed_changelog_has_an_entry_for_the_current_version() -> None:
    version = history.version_of(history.load(generate.SPEC.read_bytes()))
    assert changelog.has_entry(version), "run make generate"


def test_documentation_only_ignores_descriptions_examples_and_the_version() -> None:
    old = history.load(generate.SPEC.read_bytes())
    new = history.load(generate.SPEC.read_bytes())
    new["info"]["version"] = "9.9.9"
    new["components"]["schemas"]["Error"]["description"] = "Reworded."
    assert specdiff.is_documentation_only(old, new)
    new["components"]["schemas"]["Country"]["enum"].append("LV")
    assert not specdiff.is_documentation_only(old, new)


def test_optic_gets_the_spec_without_conditional_all_of_members() -> None:
    schema = {"allOf": [{"if": {}, "then": {}}], "properties": {"a": {}}}
    assert specdiff.for_optic({"x": schema}) == {"x": {"properties": {"a": {}}}}


def test_an_unknown_ref_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--base", "no-such-ref-anywhere"]) == 2
    assert capsys.readouterr().err == "api-diff: unknown git ref 'no-such-ref-anywhere'\n"


def test_a_spec_that_is_not_yaml_is_one_line_naming_where_it_is(tmp_path: Path) -> None:
    with pytest.raises(history.HistoryError) as broken:
        history.load(b"openapi: 3.1.0\npaths: [\n")
    assert str(broken.value) == (
        "openapi.yaml in the working tree is not valid YAML: line 3, column 1: "
        "expected the node content, but found '<stream end>'"
    )
    spec = tmp_path / "openapi.yaml"
    spec.write_bytes(b"info: {version: [1.0.0\n")
    base = history.Revision("0" * 40, "HEAD", spec.read_bytes())
    with pytest.raises(history.HistoryError, match=r"^openapi.yaml in the working tree is not "):
        report.build(base, head_spec=spec)
    with pytest.raises(history.HistoryError, match=r"^openapi.yaml at HEAD is not valid YAML: "):
        _ = base.document
    with pytest.raises(history.HistoryError, match=r"^openapi.yaml at HEAD is not a YAML mapping$"):
        _ = history.Revision("0" * 40, "HEAD", b"- a list\n").document


def test_a_commit_whose_spec_is_not_yaml_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = {"log": "0123456789abcdef0123\n", "show": b"paths: [\n"}
    monkeypatch.setattr(history, "_git", lambda *args, **_: answers[args[0]])
    with pytest.raises(history.HistoryError, match=r"^openapi.yaml at 0123456789ab is not valid"):
        history.version_base({})


def test_outside_a_git_repository_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(history, "REPO_ROOT", tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))

    assert cli.main(["--base", "HEAD"]) == 2
    err = capsys.readouterr().err
    assert err == f"api-diff: {tmp_path.name}/ is not a git repository: no history to compare\n"
    passed, line = cli.check_version()
    assert passed, line  # a source tarball still passes make test, and says why
    assert line.startswith("version check skipped:")


def _changed_copy(tmp_path: Path, version: str, change: str) -> Path:
    spec = history.load(generate.SPEC.read_bytes())
    spec["info"]["version"] = version
    ok = spec["components"]["schemas"]["InitializeHashSigningOk"]
    if change == "remove control_code":
        del ok["properties"]["control_code"]
        ok["required"].remove("control_code")
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")
    return path


@pytest.mark.slow
def test_a_breaking_change_without_a_major_bump_fails_naming_change_and_version(
    tmp_path: Path,
) -> None:
    current = Version.parse(history.version_of(history.load(generate.SPEC.read_bytes())))
    spec = _changed_copy(tmp_path, str(current), "remove control_code")

    passed, line = cli.check_version(spec)

    assert not passed
    assert "3 breaking changes" in line  # Optic, in both locales, and griffe
    assert "removed property control_code" in line
    assert f"set info.version to {current.major + 1}.0.0" in line


@pytest.mark.slow
def test_the_same_change_with_a_major_bump_needs_only_its_changelog_entry(
    tmp_path: Path,
) -> None:
    current = Version.parse(history.version_of(history.load(generate.SPEC.read_bytes())))
    bumped = str(suggest(current, Bump.MAJOR))
    spec = _changed_copy(tmp_path, bumped, "remove control_code")

    passed, line = cli.check_version(spec)

    assert not passed
    assert line == f"generated_client/CHANGELOG.md has no entry for {bumped}: run make generate"


@pytest.mark.slow
def test_a_major_bump_does_not_hide_what_breaks(tmp_path: Path) -> None:
    """Optic waives its rules when the major version goes up; the report must not."""
    base = history.Revision(commit="HEAD", name="HEAD", text=generate.SPEC.read_bytes())
    spec = _changed_copy(tmp_path, "99.0.0", "remove control_code")

    found = report.build(base, spec, base_client=generate.OUTPUT)

    breaking = [c.what for c in found.spec_changes if c.breaking]
    assert breaking == ["removed property control_code"] * 2  # both locales
    assert found.version_problem() is None
