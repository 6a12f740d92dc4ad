"""Our simulator as a user runs it (its CLI, through the launcher: ``python -m marksign_mock``),
and its requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import httpx
from marksign_spec import load_spec

from bench import interpreters

SPEC = load_spec()
# The access token and a demo identity that signs, both from the docs' samples.
ACCESS_TOKEN = SPEC.sample_access_token
SIGNING_CODE = "30303039914"
# A token that has the right shape but no session.
UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"
DOCS_TOKEN = str(SPEC.component_schemas()["SessionToken"]["examples"][0])

STATUS_BODY = json.dumps({"access_token": ACCESS_TOKEN}).encode()
INITIALIZE_PATH = "/en/smartid/sign/hash.json"


def status_path(token: str) -> str:
    return f"/en/smartid/sign/hash/status/{token}.json"


def hash_of(index: int) -> str:
    """A distinct SHA-256 hash (hex) per index, so each answer can be checked against its own."""
    return hashlib.sha256(f"bench document {index}".encode()).hexdigest()


def initialize_body(hash_hex: str) -> bytes:
    return json.dumps(
        {
            "access_token": ACCESS_TOKEN,
            "hash": hash_hex,
            "hash_algorithm": "SHA256",
            "country": "LT",
            "code": SIGNING_CODE,
        }
    ).encode()


def mock_options(answer_delay: float, *extra: str) -> list[str]:
    """`marksign-mock` options of a benchmark run (the launcher adds host and port)."""
    return ["--answer-delay", f"{answer_delay:g}", "--seed", "1", "--log-level", "warning", *extra]


def finished_session(base_url: str, index: int = 0) -> str:
    """Start a session (with the server's answer delay 0) and poll it once: a signed result."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return finish_session(client, index)


def finish_session(client: httpx.Client, index: int = 0) -> str:
    """``finished_session`` on a client of one's own (e.g. on an in-process transport)."""
    response = client.post(
        INITIALIZE_PATH,
        content=initialize_body(hash_of(index)),
        headers={"Content-Type": "application/json"},
    )
    response.raise_for_status()
    token: str = response.json()["token"]
    status = client.post(
        status_path(token), content=STATUS_BODY, headers={"Content-Type": "application/json"}
    )
    if status.status_code != 200 or "signature_value" not in status.json():
        raise RuntimeError(f"the session did not finish with a signature: {status.text}")
    return token


def describe(options: Sequence[str]) -> str:
    """How ours was started, for the reports (no machine paths)."""
    command = " ".join(["marksign-mock", *options])
    chosen = interpreters.chosen()
    return command if chosen is None else f"{command} (on {chosen}, --python)"
