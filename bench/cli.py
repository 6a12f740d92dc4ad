"""``python -m bench``: run the benchmarks, print one table, keep the results."""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import shlex
import sys
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from bench import interpreters, machine
from bench.peers import Peer, prepare
from bench.settings import EXTRA_SECTIONS, PEERS, SECTIONS, Settings
from bench.table import Row, render
from bench.tools import (
    ToolMissing,
    cpu_split,
    ensure_commands,
    log,
    results_dir,
    set_results_dir,
)


def _numbers(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of numbers: {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"give positive numbers: {text!r}")
    return values


def _count(text: str) -> int:
    """A whole number of at least 1 (rounds, polls, calls)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"give at least 1: {text!r}")
    return value


def _seconds(strict: bool) -> Callable[[str], float]:
    """Seconds: a finite number above 0 (``strict``) or at least 0."""

    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
        if not math.isfinite(value) or value < 0 or (strict and value == 0):
            above = "above 0" if strict else "0 or more"
            raise argparse.ArgumentTypeError(f"give seconds {above}: {text!r}")
        return value

    return parse


def _names(text: str, known: tuple[str, ...], what: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [name for name in names if name not in known]
    if unknown or not names:
        raise argparse.ArgumentTypeError(f"{what} are {', '.join(known)}; not {unknown}")
    return names


def _sections(text: str) -> tuple[str, ...]:
    return _names(text, SECTIONS + EXTRA_SECTIONS, "sections")


def _minutes(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of minutes: {text!r}") from None
    if not 0 < value < 24 * 60:
        raise argparse.ArgumentTypeError(f"give minutes above 0 (and under a day): {text!r}")
    return value


# --soak without a number of minutes: the settings' own (10; quick 1). Not a string, which
# argparse would pass through the option's type.
SOAK_DEFAULT = 0.0


def _peers(text: str) -> tuple[str, ...]:
    """Peer names, `none`, or `ours@REF` (our simulator at a git ref, e.g. before a change)."""
    if text.strip() == "none":
        return ()
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    _names(",".join(n for n in names if not n.startswith("ours@")) or PEERS[0], PEERS, "peers")
    return names


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=(
            "Benchmarks of the contract kit: simulator vs Prism, WireMock and Mockoon, the "
            "Redis store (1 process and --workers 2) vs memory, long-poll capacity (one "
            "process; two over Redis), generated client vs raw httpx, workflow speed, and on "
            "request a soak. Prints one table."
        ),
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="short runs: 1 s, 1 round, 1,000 long polls (a soak: 1 minute)",
    )
    parser.add_argument(
        "--sections",
        type=_sections,
        help=(
            f"comma-separated, from {','.join(SECTIONS + EXTRA_SECTIONS)} "
            f"(default: {','.join(SECTIONS)})"
        ),
    )
    parser.add_argument(
        "--workflow", action="store_true", help="also time `make test` (slow; off by default)"
    )
    parser.add_argument(
        "--profile", action="store_true", help="add the profile section (py-spy, after the rest)"
    )
    parser.add_argument(
        "--soak",
        nargs="?",
        const=SOAK_DEFAULT,
        type=_minutes,
        metavar="MINUTES",
        help=(
            "add the soak section: one simulator under a steady mixed load of initialize and "
            "status calls over every demo identity, each answer checked, RSS sampled "
            "(10 minutes; quick 1; off by default)"
        ),
    )
    parser.add_argument(
        "--duration", type=_seconds(strict=True), help="seconds per load run (5; quick 1)"
    )
    parser.add_argument(
        "--warmup",
        type=_seconds(strict=False),
        help="seconds of warm-up per server and request (2; quick 1)",
    )
    parser.add_argument("--rounds", type=_count, help="rounds per figure (3; quick 1)")
    parser.add_argument("--connections", type=_numbers, help="e.g. 1,50,200 (the default)")
    parser.add_argument(
        "--quiet-wait",
        type=_seconds(strict=False),
        help="seconds to wait for other work to stop before each run (30; quick 5; 0: never)",
    )
    parser.add_argument(
        "--peers",
        type=_peers,
        help=(
            f"comma-separated, from {','.join(PEERS)} (all) and ours@REF (our simulator at a "
            "git ref, built into .tools/), or none"
        ),
    )
    parser.add_argument(
        "--jvm-warmup",
        type=_seconds(strict=False),
        help=(
            "seconds of load WireMock's JVM gets at least before it is measured (60; quick 15); "
            "more until its rate stops rising, at most 3 times this"
        ),
    )
    parser.add_argument(
        "--python",
        metavar="PATH",
        help=(
            "the Python (3.11+) that serves our simulator, from a venv the bench makes of it "
            "in .tools/ (default: the one running the bench)"
        ),
    )
    parser.add_argument(
        "--load-generator",
        choices=["auto", "wrk", "python"],
        default="auto",
        help="wrk if installed (auto), or the asyncio fallback",
    )
    parser.add_argument(
        "--longpoll-n", type=_count, help="concurrent long polls (10000; quick 1000)"
    )
    parser.add_argument(
        "--answer-delay", type=_seconds(strict=False), help="long-poll answer delay (30; quick 8)"
    )
    parser.add_argument("--client-calls", type=_count, help="calls per client round (500)")
    parser.add_argument("--client-rounds", type=_count, help="client rounds (7; quick 3)")
    parser.add_argument(
        "--results-dir", type=Path, help="where results and server logs go (bench/results/)"
    )
    return parser


def settings_from(args: argparse.Namespace) -> Settings:
    settings = Settings.quick() if args.quick else Settings()
    overrides = {
        "sections": args.sections,
        "duration": args.duration,
        "warmup": args.warmup,
        "jvm_warmup": args.jvm_warmup,
        "peers": args.peers,
        "quiet_wait": args.quiet_wait,
        "rounds": args.rounds,
        "connections": args.connections,
        "longpoll_sessions": args.longpoll_n,
        "longpoll_answer_delay": args.answer_delay,
        "client_calls": args.client_calls,
        "client_rounds": args.client_rounds,
    }
    settings = replace(settings, **{k: v for k, v in overrides.items() if v is not None})
    if args.profile and "profile" not in settings.sections:
        settings = replace(settings, sections=(*settings.sections, "profile"))
    if args.soak is not None:
        if args.soak != SOAK_DEFAULT:
            settings = replace(settings, soak_minutes=args.soak)
        if "soak" not in settings.sections:
            settings = replace(settings, sections=(*settings.sections, "soak"))
    return replace(
        settings,
        load_generator=args.load_generator,
        python=args.python,
        make_test=args.workflow,
    )


def run(settings: Settings) -> tuple[list[Row], list[str], list[str], bool]:
    """Run the chosen sections; returns rows, notes, profile lines and whether all ran."""
    if settings.python is not None:
        try:
            interpreters.use(settings.python)
        except ToolMissing as error:
            raise SystemExit(f"bench: {error}") from None
    server_cpus, load_cpus = cpu_split()
    os.sched_setaffinity(0, load_cpus)  # the load generator and its children
    throughput_peers = settings.peers if "throughput" in settings.sections else ()
    commands = ["java"] if "wiremock" in throughput_peers else []
    wants_wrk = {"throughput", "redis", "profile"} & set(settings.sections)
    if wants_wrk and settings.load_generator != "python":
        commands.insert(0, "wrk")
    found = ensure_commands(commands)  # as root, installs what is missing
    wrk = found.get("wrk")
    if wrk is None and settings.load_generator == "wrk":
        raise SystemExit("wrk is not installed and could not be installed")
    peers: list[Peer] = []
    missing: dict[str, str] = {}
    if throughput_peers:
        peers, missing = prepare(throughput_peers, found.get("java"), settings.jvm_warmup)

    rows: list[Row] = []
    notes: list[str] = []
    profile_lines: list[str] = []
    complete = True
    for section in settings.sections:
        log(f"section {section}")
        try:
            if section == "throughput":
                from bench import throughput

                new_rows, new_notes = throughput.measure(settings, wrk, peers, missing, server_cpus)
            elif section == "redis":
                from bench import redis_store

                new_rows, new_notes = redis_store.measure(settings, wrk, server_cpus)
            elif section == "longpoll":
                from bench import longpoll

                new_rows, new_notes = longpoll.measure(settings, server_cpus)
            elif section == "client":
                from bench import client_overhead

                new_rows, new_notes = client_overhead.measure(settings, server_cpus)
            elif section == "soak":
                from bench import soak

                new_rows, new_notes = soak.measure(settings, server_cpus)
            elif section == "profile":
                from bench import profile

                profile_lines += profile.measure(settings, wrk, server_cpus)
                new_rows, new_notes = [], []
            elif section == "workflow":
                from bench import workflow

                new_rows, new_notes = workflow.measure(settings)
            else:
                raise ValueError(f"unknown section {section!r}")
        except Exception as error:  # report the rest; the exit code says it failed
            traceback.print_exc()
            complete = False
            new_rows = [Row(section, "FAILED", "", f"{type(error).__name__}: {error}"[:120])]
            new_notes = []
        rows += new_rows
        notes += new_notes
    return rows, notes, profile_lines, complete


def report(
    rows: Sequence[Row], notes: Sequence[str], profile_lines: Sequence[str], command: str
) -> str:
    facts = machine.describe()
    out = [
        f"$ {command}",
        "machine: " + "; ".join(f"{key} {value}" for key, value in facts.items()),
        "",
        render(rows),
        "",
        *(f"- {note}" for note in notes),
    ]
    if profile_lines:
        out += ["", *profile_lines]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.results_dir is not None:
        set_results_dir(args.results_dir.resolve())
    settings = settings_from(args)
    command = shlex.join(["python", "-m", "bench", *(sys.argv[1:] if argv is None else argv)])
    started = time.monotonic()
    rows, notes, profile_lines, complete = run(settings)
    notes = [*notes, f"total wall time {time.monotonic() - started:.0f} s"]
    text = report(rows, notes, profile_lines, command)
    print(text, flush=True)
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    (results_dir() / f"bench-{stamp}.txt").write_text(text + "\n")
    (results_dir() / "latest.txt").write_text(text + "\n")
    data = {
        "command": command,
        "machine": machine.describe(),
        "settings": {k: getattr(settings, k) for k in settings.__dataclass_fields__},
        "rows": [row.as_json() for row in rows],
        "notes": notes,
        "profile": profile_lines,
    }
    (results_dir() / f"bench-{stamp}.json").write_text(
        json.dumps(data, indent=2, default=str) + "\n"
    )
    log(f"results in {results_dir() / f'bench-{stamp}'}.txt and .json")
    return 0 if complete else 1
