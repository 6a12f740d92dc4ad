"""The peers our simulator is measured against, and how each is asked the measured calls.

- Prism (Stoplight) mocks openapi.yaml: it validates each request against the spec and
  answers the spec's example (the 404 when asked with ``Prefer: code=404``).
- WireMock runs stubs (``bench/wiremock/mappings/``) that answer our simulator's exact
  bytes, status and Content-Type; its request journal is off. Its JVM is warmed up until its
  rate stops rising (``bench.throughput.until_flat``).
- Mockoon CLI imports openapi.yaml itself; each imported route answers its first response
  (200, generated from the schema) to every request, so it has no 404 to measure.

Each comes from npm at a pinned version into ``.tools/`` on first use. A peer that cannot be
had is reported in one line and its figures are shown as missing.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import interpreters, wiremock
from bench.ours import DOCS_TOKEN, mock_options, status_path
from bench.tools import (
    MOCKOON,
    PRISM,
    REPO,
    SPEC,
    TOOLS,
    WIREMOCK,
    ToolMissing,
    ensure_npm,
    log,
    results_dir,
    run_checked,
)
from bench.wiremock import SIGNED, UNKNOWN, Call


@dataclass(frozen=True)
class Peer:
    name: str
    version: str  # the pinned version (or git ref) measured
    command: Callable[[int], list[str]]  # the port -> the command line that serves on it
    # Per scenario: the call it is asked, or why it cannot answer that scenario's call.
    calls: Mapping[str, Call | str]
    answers: str  # how it answers, for the notes
    warmup: float = 0.0  # seconds of load before measuring, at the least (over its calls)

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"


def shown(command: Sequence[str]) -> str:
    """A command line without machine paths: repository files relative, programs by name."""
    parts = []
    for part in command:
        path = Path(part)
        if path.is_absolute():
            part = str(path.relative_to(REPO)) if path.is_relative_to(REPO) else path.name
        parts.append(part)
    return " ".join(parts)


def prism(java: str | None, jvm_warmup: float) -> Peer:
    ensure_npm(PRISM)
    binary = PRISM.bin("prism")

    def command(port: int) -> list[str]:
        # -v warn: Prism logs several lines per request at its default level; ours logs none.
        return [str(binary), "mock", str(SPEC), "-p", str(port), "-h", "127.0.0.1", "-v", "warn"]

    path = status_path(DOCS_TOKEN)
    return Peer(
        "prism",
        PRISM.version,
        command,
        {UNKNOWN: Call(path, 404, {"Prefer": "code=404"}), SIGNED: Call(path, 200)},
        "validates each request against openapi.yaml and answers its examples",
    )


def wiremock_peer(java: str | None, jvm_warmup: float) -> Peer:
    if java is None:
        raise ToolMissing("java is not installed (sudo apt-get install default-jre-headless)")
    jars = sorted((ensure_npm(WIREMOCK) / "build").glob("wiremock-standalone-*.jar"))
    if len(jars) != 1:
        raise ToolMissing(f"{WIREMOCK.spec} carries {len(jars)} standalone jars, not one")
    # WireMock writes into its root folder (__files/): a copy of the stubs, not the repo.
    root = results_dir() / "wiremock"
    shutil.rmtree(root, ignore_errors=True)
    shutil.copytree(wiremock.MAPPINGS, root / "mappings")

    def command(port: int) -> list[str]:
        # java itself, not the package's node wrapper: the process measured is the JVM.
        return [
            java,
            "-jar",
            str(jars[0]),
            "--port",
            str(port),
            "--bind-address",
            "127.0.0.1",
            "--root-dir",
            str(root),
            "--no-request-journal",
            "--disable-gzip",
            "--use-chunked-encoding",
            "never",
            "--disable-banner",
        ]

    return Peer(
        "wiremock",
        WIREMOCK.version,
        command,
        dict(wiremock.CALLS),
        "stubs matching method, URL, Content-Type and JSON body, answering ours' exact bytes",
        warmup=jvm_warmup,
    )


def mockoon(java: str | None, jvm_warmup: float) -> Peer:
    ensure_npm(MOCKOON)
    binary = MOCKOON.bin("mockoon-cli")

    def command(port: int) -> list[str]:
        # It logs a line per request whatever it is told (its stdout goes to /dev/null).
        command = [str(binary), "start", "--data", str(SPEC), "--port", str(port)]
        return [*command, "--hostname", "127.0.0.1", "--disable-log-to-file", "--disable-admin-api"]

    return Peer(
        "mockoon",
        MOCKOON.version,
        command,
        {
            UNKNOWN: "its import of openapi.yaml answers 200 (the first response) to every call",
            SIGNED: Call(status_path(DOCS_TOKEN), 200),
        },
        "routes imported from openapi.yaml answering a body generated from the schema, "
        "no request validation",
    )


BUILDERS: dict[str, Callable[[str | None, float], Peer]] = {
    "prism": prism,
    "wiremock": wiremock_peer,
    "mockoon": mockoon,
}


BASELINE_PREFIX = "ours@"  # a peer named ours@REF: our simulator as it was at a git ref


def baseline(ref: str) -> Peer:
    """Our simulator at git `ref`, in its own folder and virtual environment under `.tools/`
    (its runtime dependencies pinned by that ref's constraints.txt, on the interpreter that
    serves ours): before and after a change, in one run."""
    if not re.fullmatch(r"[0-9A-Za-z._/~^-]{1,80}", ref):
        raise ToolMissing(f"{ref!r} is not a git ref")
    try:
        commit = _git("rev-parse", "--short=12", f"{ref}^{{commit}}").strip()
    except ToolMissing:
        raise ToolMissing(f"{ref!r} is not a commit of this repository") from None
    folder = TOOLS / f"baseline-{commit}{interpreters.suffix()}"
    script = folder / ".venv" / "bin" / "marksign-mock"
    if not script.exists():
        log(f"building ours at {commit} into .tools/{folder.name}/")
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        archive = subprocess.run(
            ["git", "-C", str(REPO), "archive", commit], capture_output=True, check=False
        )
        if archive.returncode != 0:
            raise ToolMissing(f"git archive {commit} failed")
        subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)
        run_checked([interpreters.python(), "-m", "venv", str(folder / ".venv")])
        pip = [str(folder / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        # The layout of that ref: the simulator's own distribution, else the root project
        # (the contract runner needs the generated client, which is not on PyPI).
        sources = [str(folder / "mock")] if (folder / "mock" / "pyproject.toml").is_file() else []
        run_checked([*pip, "-c", str(folder / "constraints.txt"), *(sources or [str(folder)])])
        if not script.exists():
            raise ToolMissing(f"ours at {commit} has no marksign-mock command")

    def command(port: int) -> list[str]:
        return [str(script), *("--host", "127.0.0.1", "--port", str(port)), *mock_options(0)]

    return Peer(
        f"ours@{ref}",
        commit,
        command,
        {
            UNKNOWN: wiremock.CALLS[UNKNOWN],
            SIGNED: "a signed session's token is per server: measured on ours only",
        },
        f"our simulator as it was at {commit}",
    )


def _git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise ToolMissing(f"git {args[0]} failed: {done.stderr.strip()[:200]}")
    return done.stdout


def prepare(
    names: Sequence[str], java: str | None, jvm_warmup: float
) -> tuple[list[Peer], dict[str, str]]:
    """The peers that can run, installed if need be, and why each of the others cannot."""
    ready: list[Peer] = []
    missing: dict[str, str] = {}
    for name in names:
        try:
            if name.startswith(BASELINE_PREFIX):
                ready.append(baseline(name.removeprefix(BASELINE_PREFIX)))
                continue
            ready.append(BUILDERS[name](java, jvm_warmup))
        except ToolMissing as error:
            missing[name] = str(error)
            log(f"peer {name} is missing: {error}")
    return ready, missing
