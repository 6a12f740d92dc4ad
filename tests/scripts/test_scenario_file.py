"""`marksign-mock --scenario FILE`: scripts for teams that do not write Python, loaded at
start; a bad file is a one-line error and exit code 2. The same file from Python
(`MockController.arm_file`), all or nothing. And scripts under concurrency."""

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
from marksign_mock import BackgroundServer, MockControlError, MockController, SimulatorProcess

from .conftest import EN, SIGNS, request, start, status_body

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


def assert_the_scenario_file_acts(client: Client) -> None:
    """SCENARIO_FILE's scripts, each once: initialize fails, the status call gets a proxy's
    502, then the refusal."""
    failed = EN.initialize.sync(client=client, body=request())
    assert isinstance(failed, Error)
    assert failed.error_code == 50001
    token = start(client, EN)
    with pytest.raises(UnexpectedResponse) as proxy:
        EN.status.sync(token, client=client, body=status_body())
    assert proxy.value.status_code == 502
    refused = EN.status.sync(token, client=client, body=status_body())
    assert isinstance(refused, Error)
    assert refused.error_code == 40020


@pytest.mark.socket
def test_a_scenario_file_is_armed_at_start(tmp_path: Path) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIO_FILE)
    with SimulatorProcess(("--scenario", str(path))) as simulator:
        with Client(base_url=simulator.base_url, timeout=httpx.Timeout(10)) as client:
            assert_the_scenario_file_acts(client)
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


def test_a_scenario_file_is_armed_from_python_in_its_order(
    tmp_path: Path, client: Client, marksign_mock_control: MockController
) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIO_FILE)
    armed = marksign_mock_control.arm_file(path)
    assert [(script.kind, script.remaining) for script in armed] == [
        ("scenario", 1),
        ("error", 1),
        ("fault", 1),
    ]
    assert marksign_mock_control.scripts() == armed
    assert_the_scenario_file_acts(client)
    assert marksign_mock_control.scripts() == []


def test_a_bad_scenario_file_from_python_arms_nothing(
    tmp_path: Path, marksign_mock_control: MockController
) -> None:
    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIO_FILE + "  - fault: explode\n")  # the last item is bad
    with pytest.raises(ValueError, match=r"faults\[1\]: Invalid parameter \[fault\]") as bad:
        marksign_mock_control.arm_file(path)
    assert str(bad.value).startswith(f"{path}: ")
    assert "\n" not in str(bad.value)
    with pytest.raises(ValueError, match="No such file"):
        marksign_mock_control.arm_file(tmp_path / "missing.yaml")
    assert marksign_mock_control.scripts() == []


def test_a_scenario_file_the_simulator_refuses_midway_is_taken_back(
    tmp_path: Path, marksign_mock_transport: httpx.BaseTransport
) -> None:
    """The file passed the check here, but the simulator refused its third item (as a
    simulator serving another openapi.yaml could): the two armed before it are removed."""

    def refusing_faults(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/_mock/faults":
            refusal = {"status": "error", "error_code": 40001, "message": "refused here"}
            return httpx.Response(400, json=refusal)
        return marksign_mock_transport.handle_request(request)

    path = tmp_path / "scenarios.yaml"
    path.write_text(SCENARIO_FILE)
    http = httpx.Client(base_url="http://simulator", transport=httpx.MockTransport(refusing_faults))
    with MockController(http) as control:
        with pytest.raises(MockControlError) as refused:
            control.arm_file(path)
        assert refused.value.error_code == 40001
        assert refused.value.message == f"{path}: faults[0]: refused here"
        assert control.scripts() == []


def test_the_controller_alone_loads_none_of_the_simulator() -> None:
    """A test of a server over a socket imports the controller, an HTTP client: not
    Starlette, not the crypto (arm_file loads the checks when it is called)."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, marksign_mock.controller; "
            "print(sorted(m for m in ('starlette', 'cryptography') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_a_number_json_cannot_carry_is_refused_before_sending(
    marksign_mock_control: MockController, value: float
) -> None:
    with pytest.raises(ValueError, match=r"^answer_after must be a finite number, not"):
        marksign_mock_control.scenario(SIGNS, answer_after=value)
    with pytest.raises(ValueError, match=r"^seconds must be a finite number, not"):
        marksign_mock_control.fault("delay", seconds=value)
    assert marksign_mock_control.scripts() == []


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
