"""The `marksign-mock` command's options, without starting a server."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import httpx
import pytest
from marksign_mock import cli
from marksign_mock.config import ENV_ACCESS_TOKENS
from marksign_mock.launcher import SimulatorProcess
from marksign_mock.redis_store import check_url

from tests.spec_facts import DOCS_ACCESS_TOKEN, SPEC


def test_help_lists_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for option in (
        "--host",
        "--port",
        "--access-token",
        "--answer-delay",
        "--session-timeout",
        "--retention",
        "--seed",
        "--allow-any-code",
        "--max-sessions",
        "--log-level",
        "--workers",
    ):
        assert option in out


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--port", "http"], "--port"),
        (["--host", ""], "give an address (0.0.0.0 listens on every interface)"),
        (["--port", "70000"], "--port"),
        (["--answer-delay", "-1"], "--answer-delay"),
        (["--answer-delay", "nan"], "--answer-delay"),
        (["--session-timeout", "0"], "--session-timeout"),
        (["--retention", "soon"], "--retention"),
        (["--max-sessions", "0"], "--max-sessions"),
        (["--max-sessions", "2.5"], "not a whole number"),
        (["--seed", "1.5"], "--seed"),
        (["--log-level", "loud"], "--log-level"),
        (["--workers", "0"], "--workers"),
        (["--workers", "two"], "--workers"),
        (["--workers", "100000"], "must be at most 256"),
        (["--journal-size", "99999999999999999999"], "must be at most 1,000,000,000"),
        (["--store", "redis://127.0.0.1:abc"], "--store redis://127.0.0.1:abc: Port could not"),
        (["--store", "redis://127.0.0.1:99999"], "Port out of range"),
        (["--store", "redis://127.0.0.1:6379/0?socket_timeout=soon"], "'socket_timeout'"),
        (["--store", "redis://u:secret@127.0.0.1:6379/0?foo=bar"], "does not take here: 'foo'"),
        (["--store", "redis://127.0.0.1:6379/0?retry=x"], "an option redis-py cannot use"),
        (["--store", "redis://127.0.0.1:6379/abc"], "the database after the address is a"),
        (["--access-token", ""], "access token"),
        (["--unknown"], "unrecognized"),
    ],
)
def test_a_bad_option_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(args)
    assert exited.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith("marksign-mock: error:")
    assert complaint in last_line


def test_a_password_in_a_bad_store_url_is_hidden(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--store", "redis://u:secret@127.0.0.1:6379/0?foo=bar"])
    err = capsys.readouterr().err
    assert "secret" not in err
    assert "redis://u:***@127.0.0.1:6379/0?foo=bar" in err


@pytest.mark.parametrize("url", ["redis://h/%31", "redis://h/x?db=3", "redis://h", "redis://h/"])
def test_a_database_redis_py_reads_is_taken(url: str) -> None:
    check_url(url)  # nothing raised: databases 1, 3, 0, 0


def test_an_access_token_variable_that_names_none_is_an_option_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Not the docs' public sample token instead: that would accept what was meant to be refused.
    monkeypatch.setenv(ENV_ACCESS_TOKENS, " , ,")
    with pytest.raises(SystemExit) as exited:
        cli.main(["--store", "redis://127.0.0.1:6379/abc"])  # a later error, if this one went
    assert exited.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert (
        last_line == f"marksign-mock: error: ${ENV_ACCESS_TOKENS} is set but names no access token"
    )


def test_a_missing_spec_file_is_an_option_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--spec", str(tmp_path / "missing.yaml")])
    assert exited.value.code == 2
    assert "cannot load the spec" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        pytest.param("openapi: 3.1.0\npaths: {/x.json: [\n", "not valid YAML", id="broken-yaml"),
        pytest.param(
            "openapi: 3.1.0\npaths:\n  /x.json:\n    post: {responses: {}}\n",
            "POST /x.json: no operationId",
            id="no-operation-id",
        ),
        pytest.param(  # the personal code's pattern, broken: a schema that cannot compile
            SPEC.text.decode("utf-8").replace("pattern: ^[0-9]{11}$", 'pattern: "^[0-9{11"'),
            'invalid schema: "^[0-9{11" is not a "regex"',
            id="bad-regex",
        ),
    ],
)
def test_a_spec_that_cannot_be_used_is_a_one_line_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, problem: str
) -> None:
    spec = tmp_path / "openapi.yaml"
    spec.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        cli.main(["--spec", str(spec)])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    (line,) = err.strip().splitlines()  # one line: no traceback, no usage
    assert line.startswith(f"marksign-mock: error: cannot load the spec: {spec}: ")
    assert problem in line


def test_access_tokens_come_from_options_else_environment_else_the_docs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV_ACCESS_TOKENS, raising=False)
    assert cli._access_tokens(None) == {DOCS_ACCESS_TOKEN}
    monkeypatch.setenv(ENV_ACCESS_TOKENS, " first, second ,")
    assert cli._access_tokens(None) == {"first", "second"}
    assert cli._access_tokens(["given"]) == {"given"}


def test_several_workers_without_a_shared_store_are_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--workers", "2"])
    assert exited.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "marksign-mock: error: --workers 2 needs --store redis://...: in memory each worker "
        "keeps sessions of its own, and a status call could reach one that never saw its "
        "session"
    )


def test_a_simulator_process_runs_on_the_interpreter_it_is_given(tmp_path: Path) -> None:
    # A stand-in interpreter that leaves a mark, then is this one: the simulator must have
    # been started through it, and serve.
    mark = tmp_path / "started-by-wrapper"
    wrapper = tmp_path / "python-wrapper"
    script = f'echo "$@" > {shlex.quote(str(mark))}\nexec {shlex.quote(sys.executable)} "$@"\n'
    wrapper.write_text("#!/bin/sh\n" + script)
    wrapper.chmod(0o755)

    with SimulatorProcess(python=str(wrapper)) as simulator:
        answer = httpx.post(
            simulator.base_url + "/en/smartid/sign/hash/status/x.json",
            json={"access_token": DOCS_ACCESS_TOKEN},
        )

    assert answer.status_code == 400  # "x" is no token of the spec: 40001
    assert mark.read_text().startswith("-m marksign_mock ")
