"""The status call is a long poll: a timeout that allows it reaches every request."""

import httpx

from tests.client.fake_gateway import FakeGateway, Operation

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
