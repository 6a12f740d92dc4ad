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
import sys
from collections.abc import Sequence
from pathlib import Path

from ._plan import (
    ACCESS_TOKEN_ENV,
    ACCESS_TOKEN_MIN_LENGTH,
    EMBEDDED_BOUNDS,
    PROBE_REQUESTS,
    SERVER_BOUNDS,
    Plan,
    _positive_int,
    make_plan,
)
from ._process import CONFIG_FILE, SIMULATOR_LOG, execute, prepare_report_dir, schemathesis_command
from ._redaction import scrub_files, secret_forms
from ._summary import (
    EXIT_FAILURES,
    EXIT_INTERRUPTED,
    EXIT_PASS,
    EXIT_USAGE,
    REPORT_FILES,
    summarise,
)
from .target import ALLOW_REMOTE_ENV, UsageError

__all__ = [
    "ACCESS_TOKEN_ENV",
    "ACCESS_TOKEN_MIN_LENGTH",
    "CONFIG_FILE",
    "EXIT_FAILURES",
    "EXIT_INTERRUPTED",
    "EXIT_PASS",
    "EXIT_USAGE",
    "PROBE_REQUESTS",
    "REPORT_FILES",
    "SIMULATOR_LOG",
    "Plan",
    "main",
    "make_plan",
    "run",
    "schemathesis_command",
]

DEFAULT_REPORT_DIR = Path("reports", "contract")


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
        help="where junit.xml, requests.har, report.json and simulator.log go (%(default)s)",
    )
    return parser


def run(plan: Plan) -> int:
    """Run the plan; raises UsageError (the report directory) and RuntimeError (the simulator)."""
    prepare_report_dir(plan.report_dir)
    forms = secret_forms(plan.access_token)
    try:
        finished = execute(plan)
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        # Whatever happened, the reports written so far hold no token once this returns.
        run_files = (*REPORT_FILES.values(), SIMULATOR_LOG)
        leaked = scrub_files((plan.report_dir / name for name in run_files), forms)
        if leaked:
            names = ", ".join(str(path) for path in leaked)
            print(f"The access token reached {names}; it was redacted there.", file=sys.stderr)

    report_path = plan.report_dir / REPORT_FILES["json"]
    report = json.loads(report_path.read_text()) if report_path.is_file() else None
    outcome = summarise(plan, finished.base_url, finished.returncode, report, finished.sent)
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
