"""Over real sockets: the `marksign-mock` command, and the plugin's server fixture."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import httpx
import pytest
from marksign_mock.launcher import READY_PREFIX, BackgroundServer, SimulatorProcess

pytestmark = pytest.mark.socket

INITIALIZE = {
    "hash": "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf",
    "hash_algorithm": "SHA256",
    "country": "LT",
    "code": "30303039914",
}


def _lines(stream: IO[str], into: queue.Queue[str]) -> None:
    for line in stream:
        into.put(line)


def _wait_for_url(lines: queue.Queue[str], process: subprocess.Popen[str]) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=0.1)
        except queue.Empty:
            assert process.poll() is None, "marksign-mock exited before serving"
            continue
        if line.startswith(READY_PREFIX):
            return line[len(READY_PREFIX) :].strip()
    raise AssertionError("marksign-mock did not print its URL")


def _sign(base_url: str, access_token: str) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        started = client.post(
            "/en/smartid/sign/hash.json", json={"access_token": access_token, **INITIALIZE}
        )
        assert started.status_code == 200, started.text
        token = started.json()["token"]
        done = client.post(
            f"/smartid/sign/hash/status/{token}.json", json={"access_token": access_token}
        )
        assert done.status_code == 200, done.text
        assert done.headers["content-type"] == "application/json"
        assert done.json()["signature_value"]


def test_the_command_serves_on_a_free_port(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("marksign-mock")
    secret = "socket-test-access-token"
    log = (tmp_path / "stderr.log").open("w+", encoding="utf-8")
    process = subprocess.Popen(
        [str(command), "--port", "0", "--answer-delay", "0", "--access-token", secret],
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
        base_url = _wait_for_url(lines, process)
        assert base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{base_url}/_mock/certificate.pem").status_code == 200
        _sign(base_url, secret)
    finally:
        process.send_signal(signal.SIGINT)  # what Ctrl+C does
        try:
            process.wait(timeout=15)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()
    assert process.returncode == 0
    log.seek(0)
    logged = log.read()
    log.close()
    assert "POST /en/smartid/sign/hash.json 200" in logged
    assert secret not in logged


def test_the_plugin_serves_a_simulator_per_test(marksign_mock_server: BackgroundServer) -> None:
    assert marksign_mock_server.base_url.startswith("http://127.0.0.1:")
    _sign(marksign_mock_server.base_url, next(iter(marksign_mock_server.app.config.access_tokens)))
    control = marksign_mock_server.control
    assert len(control.sessions()) == 1
    control.fail("initialize", 50001, times=3)
    assert len(control.journal()) == 2
    assert marksign_mock_server.reset() == {
        "sessions_cleared": 1,
        "scripts_cleared": 1,
        "journal_cleared": 2,
    }
    assert control.sessions() == []
    assert control.scripts() == []
    assert control.journal() == []


@pytest.mark.parametrize(
    "raw",
    [
        b"GARBAGE\r\n\r\n",
        b"POST /en/smartid/sign/hash.json HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    ],
    ids=["request-line", "content-length"],
)
def test_a_request_that_is_not_http_gets_the_error_shape(
    marksign_mock_server: BackgroundServer, raw: bytes
) -> None:
    host, port = marksign_mock_server.base_url.removeprefix("http://").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(raw)
        answer = b""
        while chunk := conn.recv(65536):
            answer += chunk
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ")
    assert b"\r\ncontent-type: application/json\r\n" in head + b"\r\n"
    error = json.loads(body)
    assert error["status"] == "error"
    assert error["error_code"] == 40001
    assert "[request]" in error["message"]


def test_a_long_poll_waiting_when_the_command_stops_gets_an_answer() -> None:
    # SIGTERM (what `SimulatorProcess.stop()`, systemd and docker send): the poll is answered
    # 40402 in the error shape (its session goes with the process), not cut off.
    secret = "socket-test-access-token"
    simulator = SimulatorProcess(("--answer-delay", "60"), access_token=secret)
    with simulator, httpx.Client(base_url=simulator.base_url, timeout=30) as client:
        started = client.post(
            "/en/smartid/sign/hash.json", json={"access_token": secret, **INITIALIZE}
        )
        token = started.json()["token"]
        answers: queue.Queue[httpx.Response | Exception] = queue.Queue()

        def poll() -> None:
            try:
                answers.put(
                    client.post(
                        f"/en/smartid/sign/hash/status/{token}.json", json={"access_token": secret}
                    )
                )
            except Exception as error:
                answers.put(error)

        threading.Thread(target=poll, daemon=True).start()
        deadline = time.monotonic() + 10
        while client.get(f"/_mock/sessions/{token}").json()["session"]["waiting_polls"] < 1:
            assert time.monotonic() < deadline, "the poll never parked"
            time.sleep(0.02)
        simulator.stop()
        answer = answers.get(timeout=10)
    assert isinstance(answer, httpx.Response), answer
    assert (answer.status_code, answer.json()["error_code"]) == (404, 40402)
