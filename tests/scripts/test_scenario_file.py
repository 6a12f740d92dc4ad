"""`marksign-mock --scenario FILE`: scripts for teams that do not write Python, loaded at
start; a bad file is a one-line error and exit code 2. And scripts under concurrency."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from marksign_client import Client
from marksign_client.errors import UnexpectedResponse
from marksign_client.models import Error
from marksign_mock import BackgroundServer, MockController, SimulatorProcess

from .conftest import EN, SIGNS, request, status_body

pytest_plugins = ["tests.store_fixtures"]

SCENARIO_FILE = """\
# The next session of the demo identity that signs is refused; initialize fails once with
# a technical error; the first status call gets a proxy's 502.
scenarios:
  - personal_code: "30303039914"
    outcome: USER_REFUSED
    answer_after: 0
errors:
  - operation: initialize
    error_code: 50001
    times: 1
faults:
  - fault: html_502
    operation: status
"""


@pytest.mark.socket
def test_a_scenario_file_is_armed_at_start(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIO_FILE)
    with SimulatorProcess(("--scenario", str(path))) as simulator:
        with Client(base_url=simulator.base_url, timeout=httpx.Timeout(10)) as client:
            failed = EN.initialize.sync(client=client, body=request())
            assert isinstance(failed, Error)
            assert failed.error_code == 50001
            token = EN.initialize.sync(client=client, body=request()).token
            with pytest.raises(UnexpectedResponse) as proxy:
                EN.status.sync(token, client=client, body=status_body())
            assert proxy.value.status_code == 502
            refused = EN.status.sync(token, client=client, body=status_body())
            assert isinstance(refused, Error)
            assert refused.error_code == 40020
        with MockController.at(simulator.base_url) as control:
            assert control.scripts() == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "faults: [{fault: explode}]",
            "faults[0]: Invalid parameter [fault]: This value is not valid.",
        ),
        (
            "errors: [{operation: status, error_code: 40401}]",
            "errors[0]: Invalid parameter [error_code]",
        ),
        ("scenarios: {personal_code: 1}", "scenarios: expected a list"),
        ("stubs: []", "expected a mapping with the sections scenarios, errors, faults"),
        ("faults: [", "not valid YAML"),
        (
            "scenarios: [{personal_code: '30303039914', answer_after: 2026-01-01}]",
            "scenarios[0]: not JSON data (Unsupported type: 'date'); quote dates",
        ),
        ("scenarios: [{personal_code: '\xff'}]", "not UTF-8 text (byte 29)"),
        ("faults: [{fault: delay, seconds: .nan}]", "faults[0]: not JSON data (.nan and .inf"),
        (
            "faults: [{fault: reset, tiems: 3}]",
            "faults[0]: Invalid parameter [tiems]: This field was not expected.",
        ),
        (
            "scenarios: [{personal_code: '30303039914', answer_after: [-.inf]}]",
            "scenarios[0]: not JSON data (.nan and .inf",
        ),
    ],
)
def test_a_bad_scenario_file_is_a_one_line_error(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_bytes(text.encode("latin-1"))  # one byte per character: \xff is not UTF-8
    result = subprocess.run(
        [sys.executable, "-m", "marksign_mock", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()  # one line, no usage before it
    assert line.startswith(f"marksign-mock: error: --scenario: {path}: "), result.stderr
    assert problem in line


@pytest.mark.socket
def test_concurrent_requests_see_an_n_shot_script_exactly_n_times(
    marksign_mock_server: BackgroundServer,
) -> None:
    marksign_mock_server.control.fail("initialize", 50002, times=7)
    client = Client(base_url=marksign_mock_server.base_url, timeout=httpx.Timeout(30))

    def initialize(_: int) -> object:
        return EN.initialize.sync(client=client, body=request(SIGNS))

    with client, ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(initialize, range(30)))
    failed = [a for a in answers if isinstance(a, Error)]
    assert len(failed) == 7
    assert {a.error_code for a in failed} == {50002}
    assert marksign_mock_server.control.scripts() == []
