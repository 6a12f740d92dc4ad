"""The rails of `marksign-contract` (make contract): each one, tried.

- A non-loopback target is refused unless the person opts in, before any DNS lookup or
  connection (tried in process with the network patched shut, and as a subprocess in a
  network namespace of its own).
- Against a non-loopback target only the status operations run, unless --enable-initialize.
- The request count and rate are bounded, with production-friendly defaults.
- The access token comes from $ACCESS_TOKEN only, is long enough to be told apart from
  ordinary text, and reaches neither the output nor the reports (Ctrl+C included).
- A run passes only if it tested something without failures or errors: the request limit
  does not turn an unreachable server into a pass.

No test sends anything anywhere but 127.0.0.1: "remote" targets are either refused or a local
simulator that the test makes the runner take for a remote one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any, NoReturn

import pytest
import requests
from marksign_contract import _plan, _process, cli, environment, hooks
from marksign_contract._process import SIMULATOR_OPTIONS, console_script
from marksign_contract._redaction import scrub_files, secret_forms
from marksign_contract._summary import summarise
from marksign_contract.cli import _parser
from marksign_contract.target import ALLOW_REMOTE_ENV, Target, UsageError, is_loopback_host
from marksign_mock import SimulatorProcess
from schemathesis import HookContext

from tests.spec_facts import DOCS_ACCESS_TOKEN, STATUS_OPERATION_IDS

pytest_plugins = [
    "tests.contract.plugins.tally",
    "tests.contract.plugins.targets",
]

PRODUCTION = "https://api.marksign.eu"
STATUS_PATH_PART = "/smartid/sign/hash/status/"


class NetworkUsed(AssertionError):
    pass


@pytest.fixture
def network_shut(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every way in process to resolve a name or open a connection fails the test."""
    attempts: list[str] = []

    def refuse(name: str) -> Any:
        def attempt(*args: Any, **kwargs: Any) -> NoReturn:
            attempts.append(f"{name}{args!r}")
            raise NetworkUsed(f"{name} called with {args!r}")

        return attempt

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "create_connection"):
        monkeypatch.setattr(socket, name, refuse(f"socket.{name}"))
    monkeypatch.setattr(socket.socket, "connect", refuse("socket.connect"))
    monkeypatch.setattr(socket.socket, "connect_ex", refuse("socket.connect_ex"))
    monkeypatch.setattr(subprocess, "Popen", refuse("subprocess.Popen"))
    return attempts


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (cli.ACCESS_TOKEN_ENV, ALLOW_REMOTE_ENV):
        monkeypatch.delenv(name, raising=False)


# -- refusal -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["localhost", "LOCALHOST", "127.0.0.1", "127.8.9.10", "::1"], ids=str
)
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)


@pytest.mark.parametrize(
    "host",
    [
        "api.marksign.eu",
        "localhost.example.com",  # a name is never resolved, whatever it looks like
        "127.0.0.1.nip.io",
        "10.0.0.1",
        "0.0.0.0",
        "::ffff:127.0.0.1",
    ],
    ids=str,
)
def test_other_hosts_are_remote(host: str) -> None:
    assert not is_loopback_host(host)


@pytest.mark.usefixtures("clean_environment")
def test_production_is_refused_before_any_traffic(
    network_shut: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--base-url", PRODUCTION]) == cli.EXIT_USAGE
    assert network_shut == []
    err = capsys.readouterr().err
    assert "Refusing to test https://api.marksign.eu" in err
    assert "--allow-remote" in err
    assert ALLOW_REMOTE_ENV in err


@pytest.mark.usefixtures("clean_environment")
def test_opting_in_without_a_token_is_still_refused(
    network_shut: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(ALLOW_REMOTE_ENV, "1")
    assert cli.main(["--base-url", PRODUCTION, "--enable-initialize"]) == cli.EXIT_USAGE
    assert network_shut == []
    assert "Set ACCESS_TOKEN" in capsys.readouterr().err


@pytest.mark.parametrize(
    "url",
    [
        "ftp://127.0.0.1",
        "127.0.0.1:8000",
        "http://",
        "http://127.0.0.1:port",
        "http://u:p@localhost",
    ],
)
@pytest.mark.usefixtures("clean_environment")
def test_malformed_urls_are_usage_errors(url: str, network_shut: list[str]) -> None:
    assert cli.main(["--base-url", url]) == cli.EXIT_USAGE
    assert network_shut == []


def test_there_is_no_token_option(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--access-token", "secret"])
    assert exited.value.code == cli.EXIT_USAGE
    assert "secret" not in capsys.readouterr().out


@pytest.mark.skipif(shutil.which("unshare") is None, reason="needs unshare(1)")
def test_refusal_in_a_network_namespace_without_network(tmp_path: Path) -> None:
    """The console script itself, where no packet could leave even if it tried."""
    if subprocess.run(["unshare", "--net", "true"], check=False).returncode != 0:
        pytest.skip("cannot create a network namespace here (needs root or user namespaces)")
    env = {k: v for k, v in os.environ.items() if k not in (cli.ACCESS_TOKEN_ENV, ALLOW_REMOTE_ENV)}
    result = subprocess.run(
        ["unshare", "--net", str(console_script("marksign-contract")), "--base-url", PRODUCTION],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert result.returncode == cli.EXIT_USAGE, result
    assert "Refusing to test https://api.marksign.eu" in result.stderr
    assert "--allow-remote" in result.stderr
    assert not (tmp_path / "reports").exists()  # refused before it started anything


# -- plans: which operations, which bounds -------------------------------------------------


def plan(*argv: str, environ: dict[str, str] | None = None) -> cli.Plan:
    return cli.make_plan(_parser().parse_args(list(argv)), environ or {})


def test_remote_targets_run_status_operations_only_unless_asked() -> None:
    remote = {cli.ACCESS_TOKEN_ENV: "a-remote-token", ALLOW_REMOTE_ENV: "1"}
    status_only = plan("--base-url", PRODUCTION, environ=remote)
    assert status_only.operation_ids == STATUS_OPERATION_IDS
    command = cli.schemathesis_command(status_only, PRODUCTION)
    included = [command[i + 1] for i, arg in enumerate(command) if arg == "--include-operation-id"]
    assert included == ["getHashSigningStatus", "getHashSigningStatusEn"]
    everything = plan("--base-url", PRODUCTION, "--enable-initialize", environ=remote)
    assert everything.operation_ids is None
    assert "--include-operation-id" not in cli.schemathesis_command(everything, PRODUCTION)


def test_loopback_targets_run_every_operation() -> None:
    assert plan("--base-url", "http://127.0.0.1:8000").operation_ids is None


def test_servers_get_bounded_by_default() -> None:
    remote = {cli.ACCESS_TOKEN_ENV: "a-remote-token", ALLOW_REMOTE_ENV: "1"}
    bounds = plan("--base-url", PRODUCTION, environ=remote).bounds
    assert (bounds.max_requests, bounds.rate_limit, bounds.workers) == (200, "5/s", 1)
    command = cli.schemathesis_command(plan("--base-url", PRODUCTION, environ=remote), PRODUCTION)
    assert command[command.index("--rate-limit") + 1] == "5/s"
    local = plan("--base-url", "http://localhost:8000").bounds
    assert (local.max_requests, local.rate_limit) == (200, "5/s")
    embedded = plan().bounds
    assert (embedded.max_requests, embedded.rate_limit) == (None, None)


@pytest.mark.parametrize(
    "argv",
    [
        ["--max-requests", "2"],
        ["--max-requests", "0"],
        ["--rate-limit", "5/x"],
        ["--rate-limit", "0/s"],
        ["--request-timeout", "0"],
        ["--request-timeout", "nan"],
        ["--request-timeout", "inf"],
        ["--request-timeout", "1e308"],
        ["--workers", "65"],
    ],
)
def test_bounds_are_checked(argv: list[str]) -> None:
    with pytest.raises((UsageError, SystemExit)):
        plan("--base-url", "http://127.0.0.1:8000", *argv)


def test_the_largest_bounds_are_taken() -> None:
    at_most = plan("--request-timeout", "3600", "--workers", "64")
    assert (at_most.request_timeout, at_most.bounds.workers) == (3600.0, 64)


def test_the_token_comes_from_the_environment_only() -> None:
    token = "abcd1234"
    local = plan("--base-url", "http://127.0.0.1:8000", environ={cli.ACCESS_TOKEN_ENV: token})
    assert local.access_token == token
    assert token not in " ".join(cli.schemathesis_command(local, "http://127.0.0.1:8000"))
    assert plan("--base-url", "http://127.0.0.1:8000").access_token == DOCS_ACCESS_TOKEN
    with pytest.raises(UsageError):
        plan("--base-url", "http://127.0.0.1:8000", environ={cli.ACCESS_TOKEN_ENV: "x" * 257})


# -- runs against a local simulator --------------------------------------------------------


def har_entries(report_dir: Path) -> list[dict[str, Any]]:
    har = json.loads((report_dir / cli.REPORT_FILES["har"]).read_text(encoding="utf-8"))
    entries: list[dict[str, Any]] = har["log"]["entries"]
    return entries


@pytest.fixture
def taken_for_remote(monkeypatch: pytest.MonkeyPatch) -> None:
    """The runner takes the (local) target for a remote one: its rails for servers apply."""

    def parse_target(base_url: str) -> Target:
        return Target(base_url=base_url.rstrip("/"), host="remote.invalid", is_loopback=False)

    monkeypatch.setattr(_plan, "parse_target", parse_target)
    monkeypatch.setenv(cli.ACCESS_TOKEN_ENV, DOCS_ACCESS_TOKEN)
    monkeypatch.delenv(ALLOW_REMOTE_ENV, raising=False)


@pytest.mark.slow
@pytest.mark.socket
@pytest.mark.usefixtures("taken_for_remote")
def test_initialize_is_not_sent_to_a_remote_target(
    simulator_process: SimulatorProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base_url = simulator_process.base_url
    argv = ["--base-url", base_url, "--max-examples", "3", "--report-dir", str(tmp_path)]
    assert cli.main(argv) == cli.EXIT_USAGE  # refused without the opt-in
    argv += ["--allow-remote", "--rate-limit", "1000/s"]
    assert cli.main(argv) == cli.EXIT_PASS, capsys.readouterr().out
    urls = [entry["request"]["url"] for entry in har_entries(tmp_path)]
    assert urls
    assert all(STATUS_PATH_PART in url for url in urls), urls


@pytest.mark.slow
@pytest.mark.socket
def test_requests_are_bounded_in_number_and_rate(
    simulator_process: SimulatorProcess, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    max_requests, per_second = 12, 4
    argv = ["--base-url", simulator_process.base_url, "--report-dir", str(tmp_path)]
    argv += ["--max-requests", str(max_requests), "--rate-limit", f"{per_second}/s"]
    assert cli.main(argv) == cli.EXIT_PASS
    out = capsys.readouterr().out
    assert f"stopped at the request limit ({max_requests})" in out
    assert "PASSED, partly: no contract failures in the 4 of 4 operations tested" in out
    entries = har_entries(tmp_path)
    assert len(entries) + cli.PROBE_REQUESTS == max_requests  # the probes bypass the HAR
    # The HAR stamps an entry when it is recorded, after the answer: its start is `time` earlier.
    started = sorted(
        datetime.fromisoformat(e["startedDateTime"]).timestamp() - e["time"] / 1000 for e in entries
    )
    # At most `per_second` in any one-second window (give or take the clock's jitter).
    spans = [later - first for first, later in zip(started, started[per_second:], strict=False)]
    assert spans, started
    assert min(spans) > 0.9, started


@pytest.fixture
def secret_token() -> str:
    return "secret-" + secrets.token_hex(16)


@pytest.fixture
def simulator_with_secret(secret_token: str, tmp_path: Path) -> Iterator[SimulatorProcess]:
    with SimulatorProcess(SIMULATOR_OPTIONS, access_token=secret_token) as process:
        yield process


@pytest.mark.slow
@pytest.mark.socket
def test_the_token_reaches_neither_output_nor_reports(
    simulator_with_secret: SimulatorProcess, secret_token: str, tmp_path: Path
) -> None:
    """A real run: the simulator accepts only the secret, so every valid request carried it."""
    report_dir = tmp_path / "reports"
    result = subprocess.run(
        [
            str(console_script("marksign-contract")),
            *("--base-url", simulator_with_secret.base_url),
            *("--max-examples", "3", "--rate-limit", "1000/s", "--max-requests", "400"),
            *("--report-dir", str(report_dir)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, cli.ACCESS_TOKEN_ENV: secret_token},
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    # Passing means the simulator accepted the schema-valid requests: the token was sent.
    assert result.returncode == cli.EXIT_PASS, result.stdout + result.stderr
    for output in (result.stdout, result.stderr):
        assert secret_token not in output
    reports = sorted(p for p in report_dir.rglob("*") if p.is_file())
    assert {p.name for p in reports} >= set(cli.REPORT_FILES.values())
    for path in reports:
        assert secret_token not in path.read_text(encoding="utf-8", errors="replace"), path
    # The HAR records request bodies, so the check above could have failed: it shows the
    # stand-in where the token went.
    assert "access-token-added-when-sent" in (report_dir / cli.REPORT_FILES["har"]).read_text()


def test_a_leaked_token_is_scrubbed_from_reports(tmp_path: Path) -> None:
    """The last line of defence, should a server echo the token back."""
    (tmp_path / "report.json").write_text(json.dumps({"body": 'say "s3\\cr3t"'}))
    (tmp_path / "junit.xml").write_text("<ok/>")
    run_files = (*cli.REPORT_FILES.values(), cli.SIMULATOR_LOG)
    leaked = scrub_files((tmp_path / name for name in run_files), secret_forms('s3\\cr3t"'))
    assert leaked == [tmp_path / "report.json"]
    assert "s3" not in (tmp_path / "report.json").read_text()


def test_a_request_that_got_no_answer_gives_the_token_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without an answer no response hook runs; `after_network_error` puts the stand-in back."""
    monkeypatch.setenv(environment.ACCESS_TOKEN_ENV, "s3cret")
    case: Any = SimpleNamespace(body={"access_token": "anything valid", "hash": "ab"})
    kwargs: dict[str, Any] = {}
    hooks.before_call(HookContext(), case, kwargs)
    assert case.body["access_token"] == hooks.TOKEN_STAND_IN
    request = requests.Request("POST", "http://127.0.0.1:9/", json=case.body).prepare()
    kwargs["auth"](request)  # what `requests` does just before sending
    assert isinstance(request.body, bytes)
    assert b'"s3cret"' in request.body
    hooks.after_network_error(HookContext(), case, request)
    assert isinstance(request.body, bytes)
    assert b"s3cret" not in request.body
    assert request.headers["Content-Length"] == str(len(request.body))


def test_invalid_access_tokens_stay_as_generated() -> None:
    for invalid in ("", "x" * 257, 42, None):
        case: Any = SimpleNamespace(body={"access_token": invalid})
        kwargs: dict[str, Any] = {}
        hooks.before_call(HookContext(), case, kwargs)
        assert case.body == {"access_token": invalid}
        assert "auth" not in kwargs


# -- usage errors found before anything runs -----------------------------------------------


@pytest.mark.parametrize("token", ["x", "e", "1234567"])
def test_short_tokens_are_refused(
    token: str,
    network_shut: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The output is redacted by searching for the token: "x" would garble `examples`."""
    monkeypatch.setenv(cli.ACCESS_TOKEN_ENV, token)
    assert cli.main(["--base-url", "http://127.0.0.1:8000"]) == cli.EXIT_USAGE
    assert network_shut == []
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{cli.ACCESS_TOKEN_ENV} must have {cli.ACCESS_TOKEN_MIN_LENGTH} to 256" in err
    assert plan("--base-url", "http://127.0.0.1:8000", environ={cli.ACCESS_TOKEN_ENV: "x" * 8})


@pytest.mark.parametrize("where", ["file", "under_a_file"])
@pytest.mark.usefixtures("clean_environment")
def test_a_report_dir_that_cannot_be_one_is_a_usage_error(
    where: str, tmp_path: Path, network_shut: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "hostname"
    file.write_text("not a directory\n")
    report_dir = file if where == "file" else file / "reports"
    argv = ["--base-url", "http://127.0.0.1:8000", "--report-dir", str(report_dir)]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert network_shut == []  # nothing started, nothing sent
    err = capsys.readouterr().err
    assert err == f"marksign-contract: --report-dir {report_dir}: not a directory\n"
    assert file.read_text() == "not a directory\n"


# -- what counts as a pass -----------------------------------------------------------------


def summary_report(*, tested: int, errors: list[dict[str, Any]]) -> dict[str, Any]:
    """report.json, as far as the summary reads it: a run the request budget stopped."""
    return {
        "seed": 1,
        "stop_reason": "interrupted",
        "operations": {"selected": 4, "tested": tested},
        "phases": {"examples": {"status": "interrupted"}, "coverage": {"status": "skip"}},
        "test_cases": {"generated": 4, "with_failures": 0},
        "failures": [],
        "errors": errors,
    }


NETWORK_ERROR = {"title": "Network Error", "count": 3}


@pytest.mark.parametrize(
    ("tested", "errors", "verdict"),
    [
        (0, [NETWORK_ERROR], "FAILED: the run proves nothing: 3 errors (Network Error); no "),
        (2, [NETWORK_ERROR], "FAILED: the run proves nothing: 3 errors (Network Error) (details"),
        (0, [], "FAILED: the run proves nothing: no operation was tested"),
        (2, [], "PASSED, partly: no contract failures in the 2 of 4 operations tested before"),
    ],
)
def test_the_request_limit_passes_only_a_run_that_tested_something_cleanly(
    tested: int, errors: list[dict[str, Any]], verdict: str
) -> None:
    budgeted = plan("--base-url", "http://127.0.0.1:8000", "--max-requests", "5")
    report = summary_report(tested=tested, errors=errors)
    outcome = summarise(budgeted, "http://127.0.0.1:8000", 130, report, sent=3)
    assert outcome.lines[-1].startswith(verdict), outcome.lines
    assert "  stopped at the request limit (5); raise --max-requests for a fuller run" in (
        outcome.lines
    )
    passed = verdict.startswith("PASSED")
    assert outcome.exit_code == (cli.EXIT_PASS if passed else cli.EXIT_FAILURES)


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections: bound (nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


@pytest.mark.slow
@pytest.mark.usefixtures("clean_environment")
def test_an_unreachable_server_fails_the_run(
    closed_port: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The review's case: the budget is spent on network errors and nothing is tested."""
    argv = ["--base-url", f"http://127.0.0.1:{closed_port}", "--report-dir", str(tmp_path)]
    assert cli.main([*argv, "--max-requests", "5", "--rate-limit", "1000/s"]) == cli.EXIT_FAILURES
    out = capsys.readouterr().out
    assert "PASSED" not in out
    assert "  operations: 0 tested of 4 selected" in out
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith(
            "FAILED: the run proves nothing: 1 error (Network Error); no operation was tested"
        )
    ), out


# -- Ctrl+C --------------------------------------------------------------------------------

# Stands in for `schemathesis run`: once running, it presses Ctrl+C on the runner only (as a
# terminal does now that Schemathesis has a process group of its own), and writes its report
# when the runner passes the interrupt on: with the token in it, as a server that echoes
# the token could make it.
FAKE_SCHEMATHESIS = """
import os, pathlib, signal, sys, time
report = pathlib.Path(sys.argv[1], "report.json")
print("fake schemathesis: running", flush=True)
try:
    os.kill(os.getppid(), signal.SIGINT)
    time.sleep(20)
except KeyboardInterrupt:
    token = os.environ["MARKSIGN_CONTRACT_ACCESS_TOKEN"]
    report.write_text('{"echo": "%s"}' % token)
    print("fake schemathesis: interrupted, report written", flush=True)
    sys.exit(130)
"""


def test_ctrl_c_lets_schemathesis_finish_its_reports_then_scrubs_them(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    secret_token: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    def fake_command(plan: cli.Plan, base_url: str) -> list[str]:
        return [sys.executable, "-c", FAKE_SCHEMATHESIS, str(plan.report_dir)]

    monkeypatch.setattr(_process, "schemathesis_command", fake_command)
    monkeypatch.setenv(cli.ACCESS_TOKEN_ENV, secret_token)
    # Ctrl+C as a terminal delivers it: Python's handler, which a test run started with
    # SIGINT ignored (a background job of a shell without job control, nohup) lacks.
    ignored = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        argv = ["--base-url", "http://127.0.0.1:9", "--report-dir", str(tmp_path)]
        assert cli.main(argv) == cli.EXIT_INTERRUPTED
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
    finally:
        signal.signal(signal.SIGINT, ignored)
    report = (tmp_path / cli.REPORT_FILES["json"]).read_text()
    assert report == '{"echo": "[access token]"}'
    out, err = capsys.readouterr()
    assert "fake schemathesis: interrupted, report written" in out  # its output, to the end
    assert "Interrupted." in err
    assert f"The access token reached {tmp_path / 'report.json'}; it was redacted there." in err
    assert secret_token not in out + err


# -- the README tells what the output shows -------------------------------------------------


def test_the_readme_names_what_curl_lines_show_instead_of_the_token() -> None:
    from .suite import contract_config

    readme = Path(__file__).parents[2].joinpath("README.md").read_text(encoding="utf-8")
    section = readme.split("## Contract-testing a server", 1)[1].split("\n## ", 1)[0]
    replacement = contract_config().output.sanitization.replacement
    assert f"`{replacement}`" in section
