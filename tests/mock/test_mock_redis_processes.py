"""Two simulator processes on different ports, sharing one real Redis (`--store redis://`).

What a team running replicas behind a load balancer relies on: a session started on one
process is known to the other, a long poll held by one is released by an answer recorded
through the other, scripts armed through one apply in both, the journal read from either
shows the requests of both, and a Redis restart gives answers in the error shape, never a
crash.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from marksign_mock import MockController, SimulatorProcess

from tests.spec_facts import DOCS_ACCESS_TOKEN
from tools.redis_server import RedisServer

pytestmark = [pytest.mark.socket, pytest.mark.slow]

INITIALIZE = "/en/smartid/sign/hash.json"
STATUS = "/en/smartid/sign/hash/status/{}.json"
BODY = {
    "access_token": DOCS_ACCESS_TOKEN,
    "hash": "ab" * 32,
    "hash_algorithm": "SHA256",
    "country": "LT",
    "code": "30303039914",
}


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis").running() as server:
        yield server


def simulator(redis: RedisServer, log: Path, *options: str) -> SimulatorProcess:
    return SimulatorProcess(
        ["--store", redis.url, "--session-timeout", "60", *options], log_path=log
    )


def start(base_url: str) -> str:
    answer = httpx.post(base_url + INITIALIZE, json=BODY, timeout=10)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["token"]
    return token


def poll(base_url: str, token: str) -> httpx.Response:
    body = {"access_token": DOCS_ACCESS_TOKEN}
    return httpx.post(base_url + STATUS.format(token), json=body, timeout=30)


@pytest.fixture
def pair(redis: RedisServer, tmp_path: Path) -> Iterator[tuple[SimulatorProcess, SimulatorProcess]]:
    # The person of each takes 30 s: only an answer recorded through the control plane (or
    # a reset) releases a poll within the test.
    with (
        simulator(redis, tmp_path / "a.log", "--answer-delay", "30") as a,
        simulator(redis, tmp_path / "b.log", "--answer-delay", "30") as b,
    ):
        assert a.base_url != b.base_url
        yield a, b


def test_a_session_started_on_one_process_is_answered_by_the_other(
    pair: tuple[SimulatorProcess, SimulatorProcess],
) -> None:
    a, b = pair
    token = start(b.base_url)
    with MockController.at(a.base_url) as control_a:
        (seen,) = control_a.sessions()
        assert (seen.token, seen.state) == (token, "RUNNING")
        control_a.answer_now(token)
    answer = poll(a.base_url, token)
    assert answer.status_code == 200, answer.text
    same = poll(b.base_url, token)  # signed once: both give the same signature
    assert same.json()["signature_value"] == answer.json()["signature_value"]


def test_a_long_poll_on_one_is_released_by_an_answer_recorded_through_the_other(
    pair: tuple[SimulatorProcess, SimulatorProcess],
) -> None:
    a, b = pair
    token = start(a.base_url)
    with (
        concurrent.futures.ThreadPoolExecutor(1) as pool,
        MockController.at(a.base_url) as control_a,
        MockController.at(b.base_url) as control_b,
    ):
        waiting = pool.submit(poll, a.base_url, token)
        # Parked on A, seen from B: the count lives in the shared store.
        while control_b.session(token).waiting_polls < 1:
            assert not waiting.done(), waiting.result().text
        control_b.answer_now(token, outcome="USER_REFUSED")
        released = waiting.result(timeout=10)
        assert (released.status_code, released.json()["error_code"]) == (400, 40020)
        assert control_a.session(token).result == "USER_REFUSED"


def test_scripts_and_the_journal_are_shared(
    pair: tuple[SimulatorProcess, SimulatorProcess],
) -> None:
    a, b = pair
    with MockController.at(a.base_url) as control_a, MockController.at(b.base_url) as control_b:
        control_a.fail("initialize", 50001, times=2)  # armed through A...
        for base_url in (b.base_url, a.base_url):  # ...used once in B, once in A
            refused = httpx.post(base_url + INITIALIZE, json=BODY, timeout=10)
            assert (refused.status_code, refused.json()["error_code"]) == (500, 50001)
        assert control_b.scripts() == []  # both uses taken: disarmed everywhere
        start(b.base_url)
        journal = control_b.journal(operation="initialize")
        assert [e.status for e in journal] == [500, 500, 200]
        assert [e.seq for e in journal] == sorted(e.seq for e in journal)
        assert control_a.journal() == control_b.journal()
        control_a.reset()
        assert control_b.journal() == []
        assert control_b.sessions() == []


def test_a_redis_restart_answers_in_the_error_shape_then_recovers(
    pair: tuple[SimulatorProcess, SimulatorProcess], redis: RedisServer, tmp_path: Path
) -> None:
    a, b = pair
    with MockController.at(a.base_url) as control_a:  # scripts counted before the restart
        for _ in range(3):
            control_a.fault("html_502", operation="initialize", locale="lt")
    token = start(a.base_url)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        waiting = pool.submit(poll, b.base_url, token)
        with MockController.at(a.base_url) as control_a:
            while control_a.session(token).waiting_polls < 1:
                assert not waiting.done(), waiting.result().text
        redis.stop()
        held = waiting.result(timeout=10)  # the poll held in B when Redis went away
        assert (held.status_code, held.json()["error_code"]) == (500, 50002)
        for base_url in (a.base_url, b.base_url):
            down = httpx.post(base_url + INITIALIZE, json=BODY, timeout=10)
            assert down.status_code == 500
            assert down.json() == {
                "status": "error",
                "message": "Cannot establish a connection",
                "error_code": 50002,
            }
    redis.start()  # a new, empty server on the same port: both work again
    token = start(b.base_url)
    with MockController.at(a.base_url) as control_a:
        control_a.answer_now(token)
        answered = poll(a.base_url, token)
        assert answered.status_code == 200, answered.text
        # The new Redis counts scripts from scratch: armed through A, B still sees them.
        control_a.fail("status", 50003)
    refused = poll(b.base_url, token)
    assert (refused.status_code, refused.json()["error_code"]) == (500, 50003)
    for log in ("a.log", "b.log"):
        text = (tmp_path / log).read_text()
        assert "Redis store redis://127.0.0.1:" in text
        assert " unreachable (" in text
        assert " reachable again" in text
        assert "Traceback" not in text


def test_workers_arm_a_scenario_file_once(redis: RedisServer, tmp_path: Path) -> None:
    scenario = tmp_path / "scenario.yaml"
    scenario.write_text("errors:\n  - operation: initialize\n    error_code: 50001\n    times: 2\n")
    options = ["--workers", "2", "--scenario", str(scenario), "--log-level", "warning"]
    with simulator(redis, tmp_path / "w.log", *options) as workers:
        with MockController.at(workers.base_url) as control:
            (armed,) = control.scripts()  # once, not once per worker
            assert (armed.details["error_code"], armed.remaining) == (50001, 2)
        codes = [
            httpx.post(workers.base_url + INITIALIZE, json=BODY, timeout=10).status_code
            for _ in range(4)  # a new connection each: both workers take part
        ]
        assert codes == [500, 500, 200, 200]
