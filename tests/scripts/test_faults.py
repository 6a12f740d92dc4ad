"""Every fault, over a real socket (our HTTP server on 127.0.0.1) and in process, against the
generated client: each ends in the outcome the client documents, `Error`,
`UnexpectedResponse` or an httpx exception, never anything bare."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
from marksign_client import Client
from marksign_client.errors import UnexpectedResponse
from marksign_client.models import Error, HashSigningStatusOk, InitializeHashSigningOk
from marksign_mock import BackgroundServer, MockController

from .conftest import EN, LT, request, start, status_body

pytest_plugins = ["tests.store_fixtures"]

# fault -> what the generated client gets: an exception class, or the HTTP status that
# UnexpectedResponse carries.
RAISES: dict[str, type[Exception]] = {
    "close": httpx.RemoteProtocolError,
    "reset": httpx.ReadError,
    "truncated": httpx.RemoteProtocolError,
}
UNEXPECTED: dict[str, int] = {"html_502": 502, "empty_520": 520, "not_json": 200, "off_schema": 200}


@pytest.fixture(params=["socket", "in-process"])
def target(
    request: pytest.FixtureRequest, marksign_mock_client: httpx.Client
) -> Iterator[tuple[Client, MockController]]:
    if request.param == "in-process":
        yield (
            Client(base_url=str(marksign_mock_client.base_url)).set_httpx_client(
                marksign_mock_client
            ),
            MockController(marksign_mock_client),
        )
        return
    server: BackgroundServer = request.getfixturevalue("marksign_mock_server")
    with Client(base_url=server.base_url, timeout=httpx.Timeout(10, read=30)) as client:
        yield client, server.control


@pytest.mark.parametrize("fault", [*RAISES, *UNEXPECTED])
@pytest.mark.parametrize("operation", ["initialize", "status"])
def test_every_fault_reaches_the_client_as_documented(
    target: tuple[Client, MockController], fault: str, operation: str
) -> None:
    client, control = target
    token = start(client, EN)
    control.answer_now(token)  # the status call, unfaulted, would sign at once
    control.fault(fault, operation=operation)  # type: ignore[arg-type]

    def call() -> object:
        if operation == "initialize":
            return EN.initialize.sync(client=client, body=request())
        return EN.status.sync(token, client=client, body=status_body())

    if fault in RAISES:
        with pytest.raises(RAISES[fault]):
            call()
    else:
        with pytest.raises(UnexpectedResponse) as unexpected:
            call()
        assert unexpected.value.status_code == UNEXPECTED[fault]
    # Disarmed after one: the next call gets the real answer.
    assert isinstance(call(), InitializeHashSigningOk | HashSigningStatusOk)
    (entry,) = [e for e in control.journal(operation=operation) if e.fault == fault]
    assert entry.status == (None if fault in ("close", "reset") else UNEXPECTED.get(fault, 200))


def test_a_delay_holds_the_answer_then_answers(
    target: tuple[Client, MockController],
) -> None:
    client, control = target
    control.fault("delay", operation="initializeHashSigningEn", seconds=0.3)
    started = time.monotonic()
    answer = EN.initialize.sync(client=client, body=request())
    assert isinstance(answer, InitializeHashSigningOk)
    assert time.monotonic() - started >= 0.3


def test_a_delay_past_the_clients_timeout_is_an_httpx_timeout(
    marksign_mock_server: BackgroundServer,
) -> None:
    marksign_mock_server.control.fault("delay", operation="initialize", seconds=5)
    client = Client(base_url=marksign_mock_server.base_url, timeout=httpx.Timeout(0.2))
    with client, pytest.raises(httpx.ReadTimeout):
        EN.initialize.sync(client=client, body=request())


def test_a_fault_for_one_token_leaves_other_sessions_alone(
    target: tuple[Client, MockController],
) -> None:
    client, control = target
    broken, fine = start(client, EN), start(client, EN)
    for token in (broken, fine):
        control.answer_now(token)
    control.fault("html_502", token=broken, times=5)
    assert isinstance(EN.status.sync(fine, client=client, body=status_body()), HashSigningStatusOk)
    with pytest.raises(UnexpectedResponse):
        EN.status.sync(broken, client=client, body=status_body())
    (script,) = control.scripts()
    assert script.remaining == 4


def test_an_error_script_and_a_fault_each_count_their_own_uses(
    target: tuple[Client, MockController],
) -> None:
    client, control = target
    control.fault("off_schema", operation="initialize", locale="lt")
    control.fail("initialize", 50003, locale="en")
    refused = EN.initialize.sync(client=client, body=request())
    assert isinstance(refused, Error)
    assert refused.error_code == 50003
    with pytest.raises(UnexpectedResponse):
        LT.initialize.sync(client=client, body=request())
    assert control.scripts() == []
