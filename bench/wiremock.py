"""WireMock's stubs of the measured calls: our simulator's exact answers, one file each.

The stubs live in ``bench/wiremock/mappings/`` and answer the status, Content-Type and body
bytes that our simulator answers to the same call. The tests check that they still do;
``python -m bench.wiremock`` rewrites them from the simulator's answers (in process) after
the simulator's answers change.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.load import Target
from bench.ours import (
    ACCESS_TOKEN,
    DOCS_TOKEN,
    STATUS_BODY,
    UNKNOWN_TOKEN,
    finish_session,
    status_path,
)

MAPPINGS = Path(__file__).resolve().parent / "wiremock" / "mappings"

# The scenarios of the throughput section, by name.
UNKNOWN = "404 unknown token"
SIGNED = "200 signed"
SCENARIOS = (UNKNOWN, SIGNED)
# The one hash whose signature the signed stub answers (``bench.ours.hash_of``).
SIGNED_HASH_INDEX = 0


@dataclass(frozen=True)
class Call:
    """The status call as one server is asked it in a scenario (always ``STATUS_BODY``)."""

    path: str
    expected: int
    headers: Mapping[str, str] = field(default_factory=dict)

    def target(self, port: int) -> Target:
        return Target(port, self.path, STATUS_BODY, self.expected, self.headers)


# What WireMock is asked: the unknown token as ours is, the signed result under a fixed
# token (ours gets a fresh session per run, whose token is random).
CALLS = {
    UNKNOWN: Call(status_path(UNKNOWN_TOKEN), 404),
    SIGNED: Call(status_path(DOCS_TOKEN), 200),
}


def mapping_file(scenario: str) -> Path:
    return MAPPINGS / f"status-{scenario.replace(' ', '-')}.json"


def ours_answers() -> dict[str, httpx.Response]:
    """Our simulator's answer to each scenario's call, in process (no socket, no server)."""
    from marksign_mock import InProcessTransport, MockConfig, create_app

    transport = InProcessTransport(create_app(MockConfig(answer_delay=0, seed=1)))
    headers = {"Content-Type": "application/json"}
    with httpx.Client(transport=transport, base_url="http://ours.test") as client:
        try:
            unknown = client.post(CALLS[UNKNOWN].path, content=STATUS_BODY, headers=headers)
            token = finish_session(client, SIGNED_HASH_INDEX)
            signed = client.post(status_path(token), content=STATUS_BODY, headers=headers)
        finally:
            transport.close()
    return {UNKNOWN: unknown, SIGNED: signed}


def mapping(scenario: str, answer: httpx.Response) -> dict[str, Any]:
    """The stub of one scenario: WireMock's call to it, answered with ``answer``.

    Nameless: WireMock sends a stub's name in a header of every answer.
    """
    return {
        "request": {
            "method": "POST",
            "url": CALLS[scenario].path,
            "headers": {"Content-Type": {"equalTo": "application/json"}},
            "bodyPatterns": [{"equalToJson": {"access_token": ACCESS_TOKEN}}],
        },
        "response": {
            "status": answer.status_code,
            "headers": {"Content-Type": answer.headers["content-type"]},
            "body": answer.content.decode(),
        },
    }


def write_mappings() -> list[Path]:
    written = []
    for scenario, answer in ours_answers().items():
        path = mapping_file(scenario)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(mapping(scenario, answer), indent=2) + "\n")
        written.append(path)
    return written


if __name__ == "__main__":
    for written in write_mappings():
        print(f"wrote bench/wiremock/mappings/{written.name}")
