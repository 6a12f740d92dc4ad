"""The committed generated_client/ is exactly what the generator makes, and type-checks.

Tiers: the compare logic on small trees (unit), a fresh generation against the committed
folder (snapshot, like openapi-python-client's golden record), the stamp against the current
inputs, and `mypy --strict` over the committed package.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import pytest

from generator import generate
from generator.changes import cli as changes_cli
from generator.generate import OUTPUT, REPO_ROOT, first_difference

FIX = "run make generate"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fresh generation for the whole module (it takes a second or two)."""
    destination = tmp_path_factory.mktemp("fresh") / OUTPUT.name
    generate.generate(destination)
    return destination


def _tree(root: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


BASE = {"pyproject.toml": "[project]\n", "pkg/__init__.py": "", "pkg/api.py": "x = 1\n"}


@pytest.mark.parametrize(
    ("committed", "expected"),
    [
        pytest.param(BASE, None, id="same"),
        pytest.param(
            {**BASE, "pkg/api.py": "x = 2\n"}, "generated_client/pkg/api.py differs", id="changed"
        ),
        pytest.param(
            {k: v for k, v in BASE.items() if k != "pkg/api.py"},
            "generated_client/pkg/api.py is missing",
            id="missing",
        ),
        pytest.param(
            {**BASE, "pkg/old.py": ""},
            "generated_client/pkg/old.py is not generated any more",
            id="extra",
        ),
        pytest.param(
            {
                **BASE,
                "pkg/__pycache__/api.cpython-311.pyc": "?",
                ".mypy_cache/x": "?",
                ".ruff_cache/x": "?",
                ".pdm-build/x.pth": "?",
                "marksign_client.egg-info/PKG-INFO": "?",
            },
            None,
            id="caches-ignored",
        ),
    ],
)
def test_first_difference_names_the_first_file(
    tmp_path: Path, committed: dict[str, str], expected: str | None
) -> None:
    fresh_tree = _tree(tmp_path / "fresh" / "generated_client", BASE)
    committed_tree = _tree(tmp_path / "committed" / "generated_client", committed)

    assert first_difference(fresh_tree, committed_tree) == expected


def test_committed_client_matches_a_fresh_generation(fresh: Path) -> None:
    difference = first_difference(fresh, OUTPUT)

    assert difference is None, f"generated_client/ is out of date ({difference}): {FIX}"


def test_a_hand_edit_is_caught(fresh: Path, tmp_path: Path) -> None:
    edited = shutil.copytree(OUTPUT, tmp_path / OUTPUT.name)
    errors_py = edited / "marksign_client" / "errors.py"
    errors_py.write_text(errors_py.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")

    assert first_difference(fresh, edited) == "generated_client/marksign_client/errors.py differs"


def test_check_fails_with_the_file_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(generate, "check", lambda: "generated_client/stamp.json differs")
    monkeypatch.setattr(changes_cli, "check_version", lambda: (True, "version: fits"))

    assert generate.main(["--check"]) == 1

    assert capsys.readouterr().err == (
        "generated_client/ is out of date (generated_client/stamp.json differs):"
        " run make generate\n"
    )


def test_generation_is_reproducible_and_has_no_machine_paths(fresh: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        again = Path(tmp) / OUTPUT.name
        generate.generate(again)
        assert first_difference(fresh, again) is None
    machine_paths = {str(REPO_ROOT), str(fresh.parent), tempfile.gettempdir()}
    for path in generate.tree_files(fresh).values():
        text = path.read_text(encoding="utf-8")
        found = [machine_path for machine_path in machine_paths if machine_path in text]
        assert not found, f"{path.relative_to(fresh)} embeds {found}"


def test_stamp_records_the_current_inputs_and_tools() -> None:
    stamp = json.loads((OUTPUT / generate.STAMP_NAME).read_text(encoding="utf-8"))
    generator_dir = REPO_ROOT / "generator"
    inputs = sorted(
        path.relative_to(REPO_ROOT).as_posix()
        for path in [generator_dir / "config.yaml", *(generator_dir / "templates").rglob("*")]
        if path.is_file()
    )
    digest = hashlib.sha256()
    for relative in inputs:
        content_sha = hashlib.sha256((REPO_ROOT / relative).read_bytes()).hexdigest()
        digest.update(f"{relative}\0{content_sha}\n".encode())

    assert (
        stamp["openapi_sha256"]
        == hashlib.sha256((REPO_ROOT / "openapi.yaml").read_bytes()).hexdigest()
    ), f"openapi.yaml changed since generation: {FIX}"
    assert stamp["generator_inputs"] == inputs, f"generator/ files changed: {FIX}"
    assert stamp["generator_sha256"] == digest.hexdigest(), f"generator/ changed: {FIX}"
    assert stamp["tools"] == {
        "openapi-python-client": metadata.version("openapi-python-client"),
        "ruff": metadata.version("ruff"),
    }, "the installed generator or ruff differs from the one that generated: make install"


@pytest.mark.slow
def test_generated_package_passes_mypy_strict() -> None:
    result = subprocess.run(  # the same command as make typecheck
        [sys.executable, "-m", "mypy", "--strict", "marksign_client"],
        cwd=OUTPUT,
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_the_bounded_error_responses_make_no_model_of_their_own(fresh: Path) -> None:
    """openapi.yaml's listed error statuses are `allOf: [Error]` plus error_code bounds; the
    generator must still make the one `Error` model of them (no Response404 and the like)."""
    models = sorted(path.name for path in (fresh / "marksign_client" / "models").glob("*.py"))

    assert models == [
        "__init__.py",
        "certificate_level.py",
        "country.py",
        "error.py",
        "hash_algorithm.py",
        "hash_signing_status_ok.py",
        "hash_signing_status_request.py",
        "initialize_hash_signing_ok.py",
        "initialize_hash_signing_request.py",
    ]


def test_check_names_a_missing_bump_even_when_the_client_is_stale(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(generate, "check", lambda: "generated_client/stamp.json differs")
    message = "openapi.yaml changed since 1.1.0 (...): set info.version to 2.0.0"
    monkeypatch.setattr(changes_cli, "check_version", lambda: (False, message))

    assert generate.main(["--check"]) == 1

    assert capsys.readouterr().err.splitlines()[-1] == message
