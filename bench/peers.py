"""The peers our simulator is measured against, and how each is asked the measured calls.

- Prism (Stoplight) mocks openapi.yaml: it validates each request against the spec and
  answers the spec's example (the 404 when asked with ``Prefer: code=404``).
- WireMock runs stubs (``bench/wiremock/mappings/``) that answer our simulator's exact
  bytes, status and Content-Type; its request journal is off. Its JVM gets a longer warm-up.
- Mockoon CLI imports openapi.yaml itself; each imported route answers its first response
  (200, generated from the schema) to every request, so it has no 404 to measure.

Each comes from npm at a pinned version into ``.tools/`` on first use. A peer that cannot be
had is reported in one line and its figures are shown as missing.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import wiremock
from bench.ours import DOCS_TOKEN, status_path
from bench.tools import (
    MOCKOON,
    PRISM,
    REPO,
    SPEC,
    WIREMOCK,
    NpmTool,
    ToolMissing,
    ensure_npm,
    log,
    results_dir,
)
from bench.wiremock import SIGNED, UNKNOWN, Call


@dataclass(frozen=True)
class Peer:
    name: str
    tool: NpmTool
    command: Callable[[int], list[str]]  # the port -> the command line that serves on it
    # Per scenario: the call it is asked, or why it cannot answer that scenario's call.
    calls: Mapping[str, Call | str]
    answers: str  # how it answers, for the notes
    warmup: float = 0.0  # seconds of load before measuring, at the least (over its calls)

    @property
    def label(self) -> str:
        return f"{self.name} {self.tool.version}"


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
        PRISM,
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
        WIREMOCK,
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
        MOCKOON,
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


def prepare(
    names: Sequence[str], java: str | None, jvm_warmup: float
) -> tuple[list[Peer], dict[str, str]]:
    """The peers that can run, installed if need be, and why each of the others cannot."""
    ready: list[Peer] = []
    missing: dict[str, str] = {}
    for name in names:
        try:
            ready.append(BUILDERS[name](java, jvm_warmup))
        except ToolMissing as error:
            missing[name] = str(error)
            log(f"peer {name} is missing: {error}")
    return ready, missing
