"""MockConfig refuses a setting of the wrong type or a number that is not finite with one
line, as the command's options do: a test that overrides `marksign_mock_config` gets the
mistake at once, not a simulator that hangs or accepts what it should refuse."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from marksign_mock import MockConfig


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"access_tokens": "team-secret-0123456789"}, TypeError, "not a str"),
        ({"access_tokens": b"team-secret"}, TypeError, "not a bytes"),
        ({"access_tokens": {"a-token", 7}}, TypeError, "must be a str"),
        ({"answer_delay": float("nan")}, ValueError, "answer_delay must be a finite number"),
        ({"session_timeout": float("inf")}, ValueError, "session_timeout must be a finite"),
        ({"retention": "300"}, TypeError, "retention: a number of seconds, not str"),
        ({"answer_delay": True}, TypeError, "not bool"),
        ({"journal_size": 2.5}, TypeError, "journal_size: a whole number, not float"),
        ({"max_sessions": 10**12}, ValueError, "max_sessions must be at most 1,000,000,000"),
        ({"seed": "abc"}, TypeError, "seed: a whole number, not str"),
        ({"port": "8000"}, TypeError, "port: a whole number"),
        ({"spec_path": 3}, TypeError, "spec_path: a path, not int"),
        ({"store_url": b"redis://127.0.0.1"}, TypeError, "store_url: a str"),
    ],
)
def test_a_setting_of_the_wrong_kind_is_refused(
    changes: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as refused:
        MockConfig(**changes)
    assert "\n" not in str(refused.value)


def test_a_collection_of_tokens_and_a_path_as_text_are_taken() -> None:
    config = MockConfig(access_tokens=["one-token", "another"], spec_path="openapi.yaml")  # type: ignore[arg-type]
    assert config.access_tokens == frozenset({"one-token", "another"})
    assert config.spec_path == Path("openapi.yaml")
    assert "one-token" not in repr(config)


def test_an_override_of_the_config_fixture_that_is_no_config_is_named(tmp_path: Path) -> None:
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n"
        "@pytest.fixture\n"
        "def marksign_mock_config():\n"
        "    return {'answer_delay': 0}\n"
    )
    (tmp_path / "test_it.py").write_text("def test_it(marksign_mock_app):\n    pass\n")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 1, result.stdout
    assert "TypeError: marksign_mock_config must return a MockConfig, not dict" in result.stdout
