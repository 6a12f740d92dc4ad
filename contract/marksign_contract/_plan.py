"""The plan of a run: what it tests, with which bounds, decided before anything is sent."""

from __future__ import annotations

import argparse
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Final

from marksign_spec import Spec, load_spec

from .target import ALLOW_REMOTE_ENV, Target, UsageError, parse_target, refusal

ACCESS_TOKEN_ENV: Final = "ACCESS_TOKEN"  # noqa: S105 -- a variable name
# Schemathesis first sends two capability probes (GETs on the base URL) that no hook sees;
# the budget the hook enforces leaves room for them.
PROBE_REQUESTS: Final = 2
RATE_LIMIT: Final = re.compile(r"[1-9][0-9]*/[smhd]")
# The output and the reports are redacted by searching for the token: a short one would
# match ordinary text ("x" in "examples") and garble it.
ACCESS_TOKEN_MIN_LENGTH: Final = 8


@cache
def spec() -> Spec:
    """openapi.yaml, the contract: always the local file, whatever the target serves."""
    return load_spec()


def status_operations() -> tuple[str, ...]:
    """The operations a remote server is tested with by default: the status call's."""
    return spec().operation_ids("status")


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
MAX_WORKERS: Final = 64  # what `schemathesis run --workers` takes
# Longer than any long poll of the API (sessions time out within minutes), and a value that
# Schemathesis can pass on (`inf` and 1e308 made it fail with a traceback).
MAX_REQUEST_TIMEOUT: Final = 3600.0
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
        limits = spec().limits
        if given is None and not target.is_loopback:
            raise UsageError(f"Set {ACCESS_TOKEN_ENV} to the API access token of {target.host}.")
        access_token = spec().sample_access_token if given is None else given
        if not (ACCESS_TOKEN_MIN_LENGTH <= len(access_token) <= limits.access_token_max_length):
            raise UsageError(
                f"{ACCESS_TOKEN_ENV} must have {ACCESS_TOKEN_MIN_LENGTH} to "
                f"{limits.access_token_max_length} characters (it has {len(access_token)}): "
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
    if not 0 < args.request_timeout <= MAX_REQUEST_TIMEOUT:  # NaN fails too
        raise UsageError(
            f"--request-timeout must be more than 0 and at most {MAX_REQUEST_TIMEOUT:g} seconds"
        )
    if args.workers is not None and args.workers > MAX_WORKERS:
        raise UsageError(f"--workers must be at most {MAX_WORKERS} (Schemathesis's limit)")

    remote = target is not None and not target.is_loopback
    return Plan(
        target=target,
        access_token=access_token,
        operation_ids=status_operations() if remote and not args.enable_initialize else None,
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


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value
