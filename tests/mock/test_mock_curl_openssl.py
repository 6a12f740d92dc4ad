"""The docs' own curl command, and a whole signing session with curl and openssl alone.

Real tools against a real socket: what an integrator without Python would do.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from marksign_mock.launcher import BackgroundServer

ACCESS_TOKEN = "52900c96-3f60-5307-3719-5948f0191da6"
pytestmark = pytest.mark.socket


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("curl")
    assert binary is not None, "curl is not installed"
    return subprocess.run(
        [binary, "--silent", "--show-error", *args], capture_output=True, check=True
    )


def post_json(url: str, body: dict[str, str]) -> dict[str, object]:
    answer = curl(
        "--request",
        "POST",
        url,
        "--header",
        "Content-Type: application/json",
        "--data-raw",
        json.dumps(body),
    )
    loaded = json.loads(answer.stdout)
    assert isinstance(loaded, dict)
    return loaded


def test_the_docs_curl_command_gets_an_error_shaped_answer(
    marksign_mock_server: BackgroundServer,
) -> None:
    # The docs' command, with the host changed to the simulator.
    answer = curl(
        "--include",
        "--location",
        "--request",
        "POST",
        f"{marksign_mock_server.base_url}/en/smartid/sign/hash/status/"
        "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d.json",
        "--header",
        "Content-Type: application/json",
        "--data-raw",
        '{\n  "access_token": "52900c96-3f60-5307-3719-5948f0191da6"\n}',
    )
    head, _, body = answer.stdout.decode().partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 404")
    assert "content-type: application/json\r\n" in head.lower() + "\r\n"
    assert json.loads(body) == {
        "status": "error",
        "message": "Session for given token was not found",
        "error_code": 40402,
    }


def test_curl_alone_signs_and_openssl_verifies(
    marksign_mock_server: BackgroundServer, tmp_path: Path
) -> None:
    openssl = shutil.which("openssl")
    assert openssl is not None, "openssl is not installed"
    document = tmp_path / "contract.txt"
    document.write_bytes(b"A contract signed with curl and verified with openssl.\n")
    base = marksign_mock_server.base_url

    started = post_json(
        f"{base}/smartid/sign/hash.json",
        {
            "access_token": ACCESS_TOKEN,
            "hash": hashlib.sha256(document.read_bytes()).hexdigest(),
            "hash_algorithm": "SHA256",
            "country": "LT",
            "code": "30303039914",
        },
    )
    assert started["status"] == "ok", started
    finished = post_json(
        f"{base}/smartid/sign/hash/status/{started['token']}.json",
        {"access_token": ACCESS_TOKEN},
    )
    assert finished["status"] == "ok", finished

    signature = tmp_path / "signature.b64"
    signature.write_text(str(finished["signature_value"]))
    certificate = tmp_path / "certificate.pem"
    certificate.write_bytes(curl(f"{base}/_mock/certificate.pem").stdout)

    def run(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([openssl, *args], capture_output=True, check=False, cwd=tmp_path)

    assert (
        run("base64", "-d", "-A", "-in", "signature.b64", "-out", "signature.bin").returncode == 0
    )
    assert (
        run("x509", "-in", "certificate.pem", "-pubkey", "-noout", "-out", "key.pem").returncode
        == 0
    )
    verified = run(
        "dgst", "-sha256", "-verify", "key.pem", "-signature", "signature.bin", "contract.txt"
    )
    assert verified.stdout.strip() == b"Verified OK", verified.stderr
    # The same signature does not verify another document.
    (tmp_path / "other.txt").write_bytes(b"another document\n")
    refused = run(
        "dgst", "-sha256", "-verify", "key.pem", "-signature", "signature.bin", "other.txt"
    )
    assert refused.returncode != 0
