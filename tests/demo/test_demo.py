"""`make demo`, the project's main job: a whole signing in both locales, verified."""

from __future__ import annotations

import http.server
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"
pytestmark = pytest.mark.socket


def run_demo(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_demo_signs_and_verifies_in_both_locales() -> None:
    done = run_demo()
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "Demo OK: 2 of 2 signatures verified."
    for locale in ("EN", "LT"):
        assert any(line.startswith(f"[{locale}] initialize: session ") for line in lines)
        assert any(
            line.startswith(f"[{locale}] status: ") and "verified against" in line for line in lines
        )


def test_the_failures_demo_shows_a_refusal_and_gateway_faults_handled() -> None:
    done = run_demo("--failures")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[scenario] the person refuses: status answered 40020 ")
    assert lines[1].startswith("[fault] a proxy's HTML 502: the client raised UnexpectedResponse")
    assert lines[2].startswith("[fault] a connection reset: httpx raised ReadError")
    assert lines[3].startswith("[retry] the next attempt starts session ")
    assert lines[-1].startswith("Failures demo OK")


@pytest.fixture
def not_the_api() -> Iterator[str]:
    """A plain web server on 127.0.0.1 that knows nothing of the API (answers 501 to POST)."""
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_the_demo_fails_with_one_line_against_another_server(not_the_api: str) -> None:
    done = run_demo("--base-url", not_the_api)
    assert done.returncode == 1
    assert done.stderr.startswith("demo failed: ")
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
