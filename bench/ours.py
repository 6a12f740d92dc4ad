"""Our simulator as a user runs it (the ``marksign-mock`` console script), and its requests."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence

import httpx

from bench.tools import venv_script

# The access token and a demo identity that signs, both from the docs' samples.
ACCESS_TOKEN = "52900c96-3f60-5307-3719-5948f0191da6"
SIGNING_CODE = "30303039914"
# A token that has the right shape but no session.
UNKNOWN_TOKEN = "00000000-0000-4000-8000-000000000000"
DOCS_TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"

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


def mock_command(port: int, answer_delay: float, *extra: str) -> list[str]:
    script = venv_script("marksign-mock")
    if script is None:
        raise RuntimeError("the marksign-mock console script is not installed (make install)")
    command = [script, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--answer-delay", f"{answer_delay:g}", "--seed", "1", *extra]
    return command


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


def describe(command: Sequence[str]) -> str:
    """The command line with the script's own folder left out (no machine paths in reports)."""
    return " ".join([command[0].rsplit("/", 1)[-1], *command[1:]])
