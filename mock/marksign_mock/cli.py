"""`marksign-mock` / `python -m marksign_mock`: run the simulator (through the launcher)."""

from __future__ import annotations

import argparse
import functools
import math
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from .config import ENV_ACCESS_TOKENS, MAX_COUNT, MockConfig, docs_access_token

if TYPE_CHECKING:
    from .app import MockApp

# The option defaults are MockConfig's: one place for each setting.
DEFAULTS = MockConfig()
MAX_WORKERS = 256  # processes: more would be a typo, not a machine


def _number(
    kind: Callable[[str], float], minimum: float, strict: bool, maximum: float = math.inf
) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            what = "a whole number" if kind is int else "a number"
            raise argparse.ArgumentTypeError(f"not {what}: {text!r}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be a finite number: {text!r}")
        if value < minimum or (strict and value == minimum):
            relation = "greater than" if strict else "at least"
            raise argparse.ArgumentTypeError(f"must be {relation} {minimum:g}: {text!r}")
        if value > maximum:
            raise argparse.ArgumentTypeError(f"must be at most {maximum:,}: {text!r}")
        return value

    return parse


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535: {text!r}")
    return value


def _host(text: str) -> str:
    # An empty host listens on every interface: say so on purpose, with 0.0.0.0.
    if not text.strip():
        raise argparse.ArgumentTypeError("give an address (0.0.0.0 listens on every interface)")
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="marksign-mock",
        description=(
            "Stateful simulator of Mark Sign's Smart-ID hash-signing API "
            "(validates requests against openapi.yaml)."
        ),
        epilog=(
            "Smart-ID demo identities decide each session's outcome, e.g. 30303039914 signs, "
            "30403039917 refuses, 30403039983 never answers. The control plane (scenarios, "
            "errors, faults, sessions, journal) is described at GET /_mock/."
        ),
    )
    parser.add_argument(
        "--host", type=_host, default=DEFAULTS.host, help="address to listen on (%(default)s)"
    )
    parser.add_argument(
        "--port", type=_port, default=DEFAULTS.port, help="port, 0 for any free one (%(default)s)"
    )
    parser.add_argument(
        "--workers",
        type=_number(int, 1, strict=False, maximum=MAX_WORKERS),
        default=1,
        metavar="N",
        help="processes serving the port, sharing the --store (which more than 1 needs) "
        "(%(default)s)",
    )
    parser.add_argument(
        "--access-token",
        dest="access_tokens",
        action="append",
        metavar="TOKEN",
        help=(
            f"an accepted API access token (repeatable; visible to `ps`: prefer "
            f"${ENV_ACCESS_TOKENS}, comma-separated); default: the docs' sample token"
        ),
    )
    parser.add_argument(
        "--answer-delay",
        type=_number(float, 0, strict=False),
        default=DEFAULTS.answer_delay,
        metavar="SECONDS",
        help="how long the simulated person takes to answer (%(default)s)",
    )
    parser.add_argument(
        "--session-timeout",
        type=_number(float, 0, strict=True),
        default=DEFAULTS.session_timeout,
        metavar="SECONDS",
        help="a session nobody answers expires after this (%(default)s)",
    )
    parser.add_argument(
        "--retention",
        type=_number(float, 0, strict=False),
        default=DEFAULTS.retention,
        metavar="SECONDS",
        help="a finished session's result stays fetchable this long (%(default)s)",
    )
    parser.add_argument("--seed", type=int, help="seed for reproducible session tokens")
    parser.add_argument(
        "--allow-any-code",
        action="store_true",
        help="every well-formed personal code signs (default: only Smart-ID demo identities)",
    )
    parser.add_argument(
        "--max-sessions",
        type=_number(int, 1, strict=False, maximum=MAX_COUNT),
        default=DEFAULTS.max_sessions,
        metavar="N",
        help="live sessions at most; one more is refused with 42900 (%(default)s)",
    )
    parser.add_argument(
        "--journal-size",
        type=_number(int, 0, strict=False, maximum=MAX_COUNT),
        default=DEFAULTS.journal_size,
        metavar="N",
        help="requests the journal keeps, 0 to keep none (%(default)s)",
    )
    parser.add_argument("--spec", type=Path, metavar="PATH", help="openapi.yaml to serve")
    parser.add_argument(
        "--store",
        metavar="URL",
        help=(
            "keep sessions, scripts and the journal in Redis (redis://host:port/db), shared by "
            "every simulator that names it; needs marksign-mock[redis] (default: in memory)"
        ),
    )
    parser.add_argument(
        "--scenario",
        type=Path,
        metavar="FILE",
        help=(
            "a YAML file of scripts to arm at start: `scenarios`, `errors`, `faults` (each a "
            "list of what POST /_mock/scenarios, /_mock/errors, /_mock/faults take)"
        ),
    )
    parser.add_argument(
        "--log-level",
        choices=["critical", "error", "warning", "info", "debug"],
        default="info",
        help="info logs one line per request (%(default)s)",
    )
    return parser


def _access_tokens(given: list[str] | None) -> frozenset[str]:
    """The options' tokens, else the environment's, else the docs' sample token. ValueError
    if the environment variable is set but names none: falling back to the public sample
    token there would accept what its owner meant to refuse."""
    if given:
        return frozenset(given)
    variable = os.environ.get(ENV_ACCESS_TOKENS)
    if variable is None:
        return frozenset({docs_access_token()})
    from_env = frozenset(t.strip() for t in variable.split(",")) - {""}
    if not from_env:
        raise ValueError(f"${ENV_ACCESS_TOKENS} is set but names no access token")
    return from_env


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        config = MockConfig(
            host=args.host,
            port=args.port,
            access_tokens=_access_tokens(args.access_tokens),
            answer_delay=args.answer_delay,
            session_timeout=args.session_timeout,
            retention=args.retention,
            seed=args.seed,
            allow_any_code=args.allow_any_code,
            max_sessions=int(args.max_sessions),
            journal_size=int(args.journal_size),
            spec_path=args.spec,
            store_url=args.store,
        )
    except ValueError as error:
        parser.error(str(error))
    from marksign_spec import SpecError, load_spec

    from .app import create_app  # imported late: --help and option errors stay fast
    from .control import read_script_file
    from .launcher import StartupFailed, configure_logging, serve, serve_workers
    from .stores import StoreUnavailable

    if args.workers > 1 and config.store_url is None:
        parser.error(
            f"--workers {args.workers} needs --store redis://...: in memory each worker keeps "
            "sessions of its own, and a status call could reach one that never saw its session"
        )
    try:
        spec = load_spec(config.spec_path)
    except (OSError, ValueError) as error:
        _fail(f"cannot load the spec: {error}")
    scripts = None
    if args.scenario is not None:
        try:
            scripts = read_script_file(spec, args.scenario)
        except ValueError as error:
            _fail(f"--scenario: {error}")
    try:
        # Workers share the store: the scenario file is armed once, by the first app.
        app = create_app(config, scripts_at_start=scripts)
    except StoreUnavailable as error:
        _fail(str(error))
    except SpecError as error:  # a schema of the spec that cannot be compiled
        _fail(f"cannot load the spec: {error}")
    configure_logging(args.log_level)
    try:
        if args.workers == 1:
            serve(app, log_level=args.log_level)
        else:
            if scripts is not None:
                _run_startup(app)
            del app  # each worker builds its own from the config
            serve_workers(
                functools.partial(create_app, config),
                workers=args.workers,
                host=config.host,
                port=config.port,
                log_level=args.log_level,
            )
    except StartupFailed as failure:
        print(f"marksign-mock: {failure}", file=sys.stderr)
        return 1
    return 0


def _fail(message: str) -> NoReturn:
    """Stop with one line (exit 2, as argparse's errors): for what the options named (the
    spec, the scenario file, the store), where argparse's usage would not help."""
    print(f"marksign-mock: error: {message}", file=sys.stderr)
    sys.exit(2)


def _run_startup(app: MockApp) -> None:
    """Start and stop `app` once: what its startup does (arming scripts in a shared store)
    is done before the workers start. StartupFailed (one line) if it cannot."""
    import asyncio

    from .exceptions import ApiError
    from .launcher import StartupFailed

    async def once() -> None:
        await app.startup()
        await app.shutdown()

    try:
        asyncio.run(once())
    except ApiError as error:
        raise StartupFailed(f"cannot arm the scenario file: {error.message('en')}") from None


if __name__ == "__main__":
    sys.exit(main())
