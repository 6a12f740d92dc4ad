"""The status call is a long poll: a timeout that allows it reaches every request."""

from pathlib import Path

import httpx
from marksign_client import Client

from tests.client.fake_gateway import BASE_URL, FakeGateway, Operation

LONG_POLL = httpx.Timeout(10.0, read=250.0)


def test_the_timeout_is_set_on_both_httpx_clients(gateway: FakeGateway) -> None:
    client = gateway.client(timeout=LONG_POLL)

    assert client.get_httpx_client().timeout == LONG_POLL
    assert client.get_async_httpx_client().timeout == LONG_POLL


def test_every_request_carries_the_long_poll_timeout(
    gateway: FakeGateway, operation: Operation, variant: str
) -> None:
    gateway.answer_json(200, operation.ok_json)

    operation.call(gateway.client(timeout=LONG_POLL), variant)

    [request] = gateway.requests
    assert request.extensions["timeout"] == {
        "connect": 10.0,
        "read": 250.0,
        "write": 10.0,
        "pool": 10.0,
    }


README = Path(__file__).resolve().parents[2] / "generated_client" / "README.md"


def test_a_plain_client_never_times_out(gateway: FakeGateway) -> None:
    """What the README says: `Client(base_url=...)` gives httpx `timeout=None`."""
    client = gateway.client()

    assert client.get_httpx_client().timeout == httpx.Timeout(None)
    assert client.get_async_httpx_client().timeout == httpx.Timeout(None)


def test_a_client_set_with_set_httpx_client_keeps_httpx_default_of_5_s() -> None:
    """What the README says: the `Client`'s timeout does not reach a handed-over client."""
    client = Client(base_url=BASE_URL, timeout=LONG_POLL)
    client.set_httpx_client(httpx.Client(base_url=BASE_URL))
    client.set_async_httpx_client(httpx.AsyncClient(base_url=BASE_URL))

    assert client.get_httpx_client().timeout == httpx.Timeout(5.0)
    assert client.get_async_httpx_client().timeout == httpx.Timeout(5.0)


def test_the_readme_states_the_timeout_defaults_and_the_recommendation() -> None:
    text = " ".join(README.read_text(encoding="utf-8").split())

    for statement in (
        "A plain `Client(base_url=...)` passes `timeout=None` to httpx",
        "its requests never time out",
        "`set_httpx_client` or `set_async_httpx_client`",
        "its timeout is httpx's default of 5 s",
        "are a long poll",
        "Recommended: `Client(base_url=..., timeout=httpx.Timeout(10.0, read=250.0))`",
    ):
        assert statement in text
