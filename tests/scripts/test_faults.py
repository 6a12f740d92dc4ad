"""Every fault, over a real socket (our HTTP server on 127.0.0.1) and in process, against the
generated client: each ends in the outcome the client documents, `Error`,
`UnexpectedResponse` or an httpx exception, never anything bare."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from marksign_client import Client
from marksign_client.errors import UnexpectedResponse
from marksign_client.models import Error, HashSigningStatusOk, InitializeHashSigningOk
from marksign_mock import BackgroundServer, InProcessTransport, MockController

from .conftest import EN, LT, request, start, status_body
from .conftest import request as request_body

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


@pytest.mark.parametrize("where", ["socket", "in-process"])
def test_a_delay_past_the_clients_timeout_is_an_httpx_timeout(
    where: str,
    marksign_mock_transport: InProcessTransport,
    marksign_mock_control: MockController,
    request: pytest.FixtureRequest,
) -> None:
    if where == "socket":
        server: BackgroundServer = request.getfixturevalue("marksign_mock_server")
        control, http = server.control, httpx.Client(base_url=server.base_url, timeout=0.2)
    else:
        control = marksign_mock_control
        http = httpx.Client(
            transport=marksign_mock_transport, base_url="http://marksign-mock.test", timeout=0.2
        )
    control.fault("delay", operation="initialize", seconds=1.5)
    client = Client(base_url=str(http.base_url)).set_httpx_client(http)
    started = time.monotonic()
    with pytest.raises(httpx.ReadTimeout):
        EN.initialize.sync(client=client, body=request_body())
    assert time.monotonic() - started < 1.2  # given up at the timeout, not at the answer
    # The simulator ran on to the end, as a server does for a client that left: over a
    # socket it then found the client gone when it read the body (nothing answered); in
    # process the body is there and its answer goes nowhere.
    deadline = time.monotonic() + 10
    while not control.journal(operation="initialize") and time.monotonic() < deadline:
        time.sleep(0.05)
    (entry,) = control.journal(operation="initialize")
    assert (entry.fault, entry.status) == ("delay", None if where == "socket" else 200)


@pytest.mark.anyio
async def test_an_async_client_in_process_is_held_to_its_timeout_too(
    marksign_mock_transport: InProcessTransport, marksign_mock_control: MockController
) -> None:
    marksign_mock_control.fault("delay", operation="initialize", seconds=1.5)
    async with httpx.AsyncClient(
        transport=marksign_mock_transport, base_url="http://marksign-mock.test", timeout=0.2
    ) as http:
        client = Client(base_url=str(http.base_url)).set_async_httpx_client(http)
        with pytest.raises(httpx.ReadTimeout):
            await EN.initialize.asyncio(client=client, body=request_body())
        # The transport serves on: the next call (no fault left) is answered.
        answer = await EN.initialize.asyncio(client=client, body=request_body())
        assert isinstance(answer, InitializeHashSigningOk)


@pytest.mark.anyio
async def test_an_async_client_in_process_may_stream_its_body(
    marksign_mock_transport: InProcessTransport,
) -> None:
    async def body() -> AsyncIterator[bytes]:
        yield b'{"access_token": '
        yield b'"not-a-token"}'

    async with httpx.AsyncClient(
        transport=marksign_mock_transport, base_url="http://marksign-mock.test"
    ) as http:
        answer = await http.post(
            "/en/smartid/sign/hash/status/ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d.json",
            content=body(),
            headers={"content-type": "application/json"},
        )
    assert (answer.status_code, answer.json()["error_code"]) == (400, 40003)


def test_the_in_process_reset_forgets_sessions_scripts_and_the_journal(
    marksign_mock_transport: InProcessTransport,
    client: Client,
    marksign_mock_control: MockController,
) -> None:
    start(client, EN)
    marksign_mock_control.fail("status", 50001, times=2)
    assert marksign_mock_transport.reset() == {
        "sessions_cleared": 1,
        "scripts_cleared": 1,
        "journal_cleared": 1,
    }
    assert marksign_mock_control.sessions() == []
    assert marksign_mock_control.scripts() == []
    assert [entry.operation_id for entry in marksign_mock_control.journal()] == []


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
