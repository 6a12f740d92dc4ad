"""`marksign-contract` (`make contract`): Schemathesis against the simulator or a server.

Without --base-url it starts the simulator (`marksign-mock` on a free loopback port), runs
every phase and check of schemathesis.toml against it, and stops it. With --base-url it
tests that server, with rails: a non-loopback target is refused unless the person opts in,
and then only the status operations run unless --enable-initialize; the request count and
rate are bounded. The access token comes from $ACCESS_TOKEN only and never reaches the
output or the reports (see hooks.py).

Exit codes: 0 no contract failures, 1 contract failures or a run that proves nothing (it
did not complete, Schemathesis reported errors such as an unreachable server, or no operation
was tested), 2 usage error or refused target, 130 interrupted (Ctrl+C). A run that stops at
the request limit passes if it tested at least one operation without failures or errors, and
says that it stopped there.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from . import environment
from .simulator import SimulatorProcess, console_script
from .target import ALLOW_REMOTE_ENV, Target, UsageError, parse_target, refusal

EXIT_PASS: Final = 0
EXIT_FAILURES: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

ACCESS_TOKEN_ENV: Final = "ACCESS_TOKEN"  # noqa: S105 -- a variable name
CONFIG_FILE: Final = Path(__file__).with_name("schemathesis.toml")
DEFAULT_REPORT_DIR: Final = Path("reports", "contract")
REPORT_FILES: Final = {"junit": "junit.xml", "har": "requests.har", "json": "report.json"}
SIMULATOR_LOG: Final = "simulator.log"
STATUS_OPERATIONS: Final = ("getHashSigningStatus", "getHashSigningStatusEn")
# Schemathesis first sends two capability probes (GETs on the base URL) that no hook sees;
# the budget the hook enforces leaves room for them.
PROBE_REQUESTS: Final = 2
RATE_LIMIT: Final = re.compile(r"[1-9][0-9]*/[smhd]")
REDACTED: Final = "[access token]"
# The output and the reports are redacted by searching for the token: a short one would
# match ordinary text ("x" in "examples") and garble it.
ACCESS_TOKEN_MIN_LENGTH: Final = 8


@dataclass(frozen=True)
class Bounds:
    max_requests: int | None  # None: no limit
    rate_limit: str | None  # Schemathesis's `<n>/<s|m|h|d>`; None: as fast as it answers
    max_examples: int
    workers: int


# The embedded simulator is ours to hammer; a server given by URL gets production manners.
# One worker: it is also the fastest here, and on CPython 3.11 concurrent workers can trip
# over `ast`'s shared recursion counter inside Hypothesis (gh-106905, "AST constructor
# recursion depth mismatch").
EMBEDDED_BOUNDS: Final = Bounds(max_requests=None, rate_limit=None, max_examples=25, workers=1)
SERVER_BOUNDS: Final = Bounds(max_requests=200, rate_limit="5/s", max_examples=10, workers=1)


@dataclass(frozen=True)
class Plan:
    """What a run does, decided before anything is started or sent."""

    target: Target | None  # None: the embedded simulator
    access_token: str = field(repr=False)  # never printed
    operation_ids: tuple[str, ...] | None  # None: every operation
    bounds: Bounds
    request_timeout: float
    seed: int | None
    report_dir: Path

    @property
    def description(self) -> str:
        if self.target is None:
            return "the embedded simulator"
        return "a loopback server" if self.target.is_loopback else "a remote server"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marksign-contract",
        description=(
            "Contract-test a Mark Sign Smart-ID hash-signing API with Schemathesis: the "
            "embedded simulator by default, or the server at --base-url."
        ),
        epilog=(
            f"Environment: {ACCESS_TOKEN_ENV} (the API access token; required for a non-loopback "
            f"server, else the docs' sample token), {ALLOW_REMOTE_ENV}=1 (same as "
            "--allow-remote). Exit codes: 0 passed, 1 contract failures or a run with errors "
            "(e.g. the server unreachable) or no operation tested, 2 usage error or refused "
            f"target, 130 interrupted. Reports: {DEFAULT_REPORT_DIR}/ unless --report-dir."
        ),
    )
    parser.add_argument(
        "--base-url", metavar="URL", help="server to test (default: start the simulator)"
    )
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="test a server that is not on a loopback address",
    )
    parser.add_argument(
        "--enable-initialize",
        action="store_true",
        help="also run initialize against a non-loopback server (starts real signing sessions)",
    )
    parser.add_argument(
        "--max-requests",
        type=_positive_int,
        metavar="N",
        help=(
            f"send at most N requests (default with --base-url: {SERVER_BOUNDS.max_requests}; "
            "the simulator: no limit)"
        ),
    )
    parser.add_argument(
        "--rate-limit",
        metavar="N/UNIT",
        help=(
            f"at most N requests per s, m, h or d (default with --base-url: "
            f"{SERVER_BOUNDS.rate_limit}; the simulator: none)"
        ),
    )
    parser.add_argument(
        "--max-examples",
        type=_positive_int,
        metavar="N",
        help=(
            f"fuzzed cases per operation (default {EMBEDDED_BOUNDS.max_examples}, "
            f"with --base-url {SERVER_BOUNDS.max_examples})"
        ),
    )
    parser.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help=(
            f"concurrent requests (default {EMBEDDED_BOUNDS.workers}, "
            f"with --base-url {SERVER_BOUNDS.workers})"
        ),
    )
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=250.0,
        metavar="SECONDS",
        help="per request; the status call is a long poll (%(default)s)",
    )
    parser.add_argument("--seed", type=int, help="Schemathesis seed, to repeat a run")
    parser.add_argument(
        "--report-dir",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help="where junit.xml, requests.har and report.json go (%(default)s)",
    )
    return parser


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def make_plan(args: argparse.Namespace, environ: Mapping[str, str]) -> Plan:
    """Check the command line and decide the run; raises UsageError. Sends nothing."""
    target = None if args.base_url is None else parse_target(args.base_url)
    allow_remote = args.allow_remote or environ.get(ALLOW_REMOTE_ENV) == "1"
    if target is not None and not target.is_loopback and not allow_remote:
        raise UsageError(refusal(target))
    if target is None and (args.allow_remote or args.enable_initialize):
        raise UsageError("--allow-remote and --enable-initialize only apply with --base-url")

    if target is None:
        access_token = secrets.token_urlsafe(24)  # the simulator is started with it
    else:
        given = environ.get(ACCESS_TOKEN_ENV)
        if given is None and not target.is_loopback:
            raise UsageError(f"Set {ACCESS_TOKEN_ENV} to the API access token of {target.host}.")
        access_token = environment.DOCS_ACCESS_TOKEN if given is None else given
        if not (
            environment.is_schema_valid_access_token(access_token)
            and len(access_token) >= ACCESS_TOKEN_MIN_LENGTH
        ):
            raise UsageError(
                f"{ACCESS_TOKEN_ENV} must have {ACCESS_TOKEN_MIN_LENGTH} to "
                f"{environment.ACCESS_TOKEN_MAX_LENGTH} characters (it has {len(access_token)}): "
                "the output and reports are redacted by searching for it."
            )

    defaults = EMBEDDED_BOUNDS if target is None else SERVER_BOUNDS
    max_requests = args.max_requests or defaults.max_requests
    if max_requests is not None and max_requests <= PROBE_REQUESTS:
        raise UsageError(
            f"--max-requests must exceed {PROBE_REQUESTS}: Schemathesis's capability probes "
            "count too."
        )
    rate_limit = args.rate_limit or defaults.rate_limit
    if rate_limit is not None and not RATE_LIMIT.fullmatch(rate_limit):
        raise UsageError(f"--rate-limit {rate_limit!r}: write it as N/UNIT, e.g. 5/s or 100/m")
    if not args.request_timeout > 0:
        raise UsageError("--request-timeout must be positive")

    remote = target is not None and not target.is_loopback
    return Plan(
        target=target,
        access_token=access_token,
        operation_ids=STATUS_OPERATIONS if remote and not args.enable_initialize else None,
        bounds=Bounds(
            max_requests=max_requests,
            rate_limit=rate_limit,
            max_examples=args.max_examples or defaults.max_examples,
            workers=args.workers or defaults.workers,
        ),
        request_timeout=args.request_timeout,
        seed=args.seed,
        report_dir=args.report_dir,
    )


def spec_path() -> Path:
    """openapi.yaml, the contract: always the local file, whatever the target serves."""
    from marksign_mock.spec import default_spec_path

    return default_spec_path()


def schemathesis_command(plan: Plan, base_url: str) -> list[str]:
    """The `schemathesis run` command line of a plan (the token is not in it)."""
    reports = {kind: plan.report_dir / name for kind, name in REPORT_FILES.items()}
    command = [
        str(console_script("schemathesis")),
        *("--config-file", str(CONFIG_FILE)),
        "--no-color",
        "run",
        str(spec_path()),
        *("--url", base_url),
        *("--max-examples", str(plan.bounds.max_examples)),
        *("--workers", str(plan.bounds.workers)),
        *("--request-timeout", f"{plan.request_timeout:g}"),
        *("--generation-database", "none"),  # no replay of earlier runs' examples
        *("--report", ",".join(REPORT_FILES)),
        *(arg for kind, path in reports.items() for arg in (f"--report-{kind}-path", str(path))),
    ]
    if plan.bounds.rate_limit is not None:
        command += ["--rate-limit", plan.bounds.rate_limit]
    if plan.seed is not None:
        command += ["--seed", str(plan.seed)]
    if plan.operation_ids is not None:
        for operation_id in plan.operation_ids:
            command += ["--include-operation-id", operation_id]
        # The stateful phase follows links from initialize, which is left out.
        command += ["--phases", "examples,coverage,fuzzing"]
    return command


def _secret_forms(token: str) -> list[str]:
    """The token as it may appear in text: raw, and escaped inside JSON strings."""
    forms = {token, json.dumps(token)[1:-1], json.dumps(token, ensure_ascii=False)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def _redact(text: str, forms: Sequence[str]) -> str:
    for form in forms:
        text = text.replace(form, REDACTED)
    return text


def _scrub_reports(report_dir: Path, forms: Sequence[str]) -> list[Path]:
    """The run's files that contained the token, redacted in place (there should be none)."""
    leaked = []
    for name in (*REPORT_FILES.values(), SIMULATOR_LOG):
        path = report_dir / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if any(form in text for form in forms):
            path.write_text(_redact(text, forms), encoding="utf-8", errors="surrogateescape")
            leaked.append(path)
    return leaked


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    lines: list[str]


def _summarise(
    plan: Plan, base_url: str, returncode: int, report: dict[str, Any] | None, sent: int | None
) -> Outcome:
    limit = plan.bounds.max_requests
    lines = [f"Contract run against {plan.description}: {base_url}"]
    if report is None:
        lines.append(f"FAILED: Schemathesis exited with code {returncode} and wrote no report.")
        return Outcome(EXIT_FAILURES, lines)
    operations = report["operations"]
    phases = "  ".join(
        f"{name} {_PHASE_MARKS.get(phase['status'], phase['status'])}"
        for name, phase in report["phases"].items()
    )
    cases = report["test_cases"]
    budget_spent = (
        limit is not None
        and sent is not None
        and sent >= limit - PROBE_REQUESTS
        and report["stop_reason"] == "interrupted"
    )
    sent_text = "unknown" if sent is None else str(sent + PROBE_REQUESTS)
    limits = f"limit {limit}" if limit is not None else "no limit"
    rate = plan.bounds.rate_limit or "no rate limit"
    lines += [
        f"  operations: {operations['tested']} tested of {operations['selected']} selected"
        + ("" if plan.operation_ids is None else " (status only: pass --enable-initialize)"),
        f"  phases: {phases}",
        f"  test cases: {cases['generated']} generated, {cases['with_failures']} with failures",
        f"  requests sent: {sent_text} ({limits}, {rate}; includes {PROBE_REQUESTS} probes)",
        f"  seed: {report['seed']} (repeat with --seed {report['seed']})",
        "  reports: " + ", ".join(str(plan.report_dir / name) for name in REPORT_FILES.values()),
    ]
    for failure in report["failures"]:
        where = ", ".join(failure["operations"])
        lines.append(f"  {failure['code']} {failure['title']} x{failure['count']}: {where}")
    for error in report["errors"]:
        lines.append(f"  error: {_describe_error(error)}")
    if budget_spent:
        lines.append(
            f"  stopped at the request limit ({limit}); raise --max-requests for a fuller run"
        )
    if cases["with_failures"] or report["failures"]:
        lines.append("FAILED: the server breaks the contract (details above and in the reports)")
        return Outcome(EXIT_FAILURES, lines)
    # Whatever the budget: a run with errors, or that tested nothing, proves nothing.
    unproven = []
    if report["errors"]:
        count = sum(_error_count(error) for error in report["errors"])
        titles = ", ".join(dict.fromkeys(_describe_error(error) for error in report["errors"]))
        unproven.append(f"{count} error{'' if count == 1 else 's'} ({titles})")
    if not operations["tested"]:
        unproven.append("no operation was tested")
    if unproven:
        lines.append(
            f"FAILED: the run proves nothing: {'; '.join(unproven)} (details above and in the "
            "reports)"
        )
        return Outcome(EXIT_FAILURES, lines)
    if returncode == 0:
        lines.append("PASSED: no contract failures")
        return Outcome(EXIT_PASS, lines)
    if budget_spent:
        tested = f"{operations['tested']} of {operations['selected']} operations"
        lines.append(
            f"PASSED, partly: no contract failures in the {tested} tested before the run "
            f"stopped at the request limit ({limit})"
        )
        return Outcome(EXIT_PASS, lines)
    lines.append(f"FAILED: the run did not complete (Schemathesis exit code {returncode})")
    return Outcome(EXIT_FAILURES, lines)


_PHASE_MARKS: Final = {"success": "ok", "failure": "FAILED", "error": "ERROR", "skip": "skipped"}


def _describe_error(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("title") or error.get("message") or error)
    return str(error)


def _error_count(error: object) -> int:
    count = error.get("count") if isinstance(error, dict) else None
    return count if isinstance(count, int) and count > 0 else 1


def _copy_output(process: subprocess.Popen[str], forms: Sequence[str]) -> None:
    """Schemathesis's output, redacted, to ours, until it closes it."""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(_redact(line, forms))
    sys.stdout.flush()


def _run_schemathesis(command: Sequence[str], env: Mapping[str, str], forms: Sequence[str]) -> int:
    """Run it and copy its output; on Ctrl+C, let it stop and write its reports, then re-raise.

    It runs in a process group of its own, so that a Ctrl+C at the terminal reaches it once,
    from here: then it stops the way the request budget stops it, with its reports written. A
    second Ctrl+C kills it.
    """
    with subprocess.Popen(  # noqa: S603 -- our own console script, no shell
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        errors="replace",
        process_group=0,
    ) as process:
        try:
            _copy_output(process, forms)
        except KeyboardInterrupt:
            try:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                _copy_output(process, forms)
                process.wait()
            except KeyboardInterrupt:
                process.kill()
                process.wait()
            raise
        return process.wait()


def _target_url(plan: Plan) -> str:
    assert plan.target is not None
    return plan.target.base_url


def _prepare_report_dir(report_dir: Path) -> None:
    """The report directory, created, without the files of an earlier run; raises UsageError."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        for name in (*REPORT_FILES.values(), SIMULATOR_LOG):
            (report_dir / name).unlink(missing_ok=True)
    except (FileExistsError, NotADirectoryError):  # it, or a parent, is a file
        raise UsageError(f"--report-dir {report_dir}: not a directory") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"--report-dir {report_dir}: {reason}") from None


@dataclass(frozen=True)
class _Finished:
    base_url: str
    returncode: int
    sent: int | None  # requests the hook let through; None: unknown


def _execute(plan: Plan) -> _Finished:
    simulator = None
    if plan.target is None:
        simulator = SimulatorProcess(
            access_token=plan.access_token, log_path=plan.report_dir / SIMULATOR_LOG
        )
    with tempfile.TemporaryDirectory(prefix="marksign-contract-") as scratch:
        count_file = Path(scratch, "requests-sent")
        try:
            base_url = simulator.start() if simulator is not None else _target_url(plan)
            env = {
                **os.environ,
                environment.ACCESS_TOKEN_ENV: plan.access_token,
                environment.REQUEST_COUNT_FILE_ENV: str(count_file),
            }
            env.pop(ACCESS_TOKEN_ENV, None)  # the child needs it under the hook's name only
            env.pop(environment.MAX_REQUESTS_ENV, None)
            if plan.bounds.max_requests is not None:
                env[environment.MAX_REQUESTS_ENV] = str(plan.bounds.max_requests - PROBE_REQUESTS)
            command = schemathesis_command(plan, base_url)
            returncode = _run_schemathesis(command, env, _secret_forms(plan.access_token))
        finally:
            if simulator is not None:
                simulator.stop()
        sent = int(count_file.read_text()) if count_file.is_file() else None
    return _Finished(base_url, returncode, sent)


def run(plan: Plan) -> int:
    """Run the plan; raises UsageError (the report directory) and RuntimeError (the simulator)."""
    _prepare_report_dir(plan.report_dir)
    forms = _secret_forms(plan.access_token)
    try:
        finished = _execute(plan)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # Whatever happened, the reports written so far hold no token once this returns.
        leaked = _scrub_reports(plan.report_dir, forms)
        if leaked:
            names = ", ".join(str(path) for path in leaked)
            print(f"The access token reached {names}; it was redacted there.", file=sys.stderr)

    report_path = plan.report_dir / REPORT_FILES["json"]
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    outcome = _summarise(plan, finished.base_url, finished.returncode, report, finished.sent)
    print()
    for line in outcome.lines:
        print(line)
    return EXIT_FAILURES if leaked else outcome.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        plan = make_plan(args, os.environ)
    except UsageError as error:
        print(f"marksign-contract: {error}", file=sys.stderr)
        return EXIT_USAGE
    try:
        return run(plan)
    except UsageError as error:  # e.g. --report-dir names a file
        print(f"marksign-contract: {error}", file=sys.stderr)
        return EXIT_USAGE
    except RuntimeError as error:  # the simulator did not start
        print(f"marksign-contract: {error}", file=sys.stderr)
        return EXIT_FAILURES


if __name__ == "__main__":
    sys.exit(main())
