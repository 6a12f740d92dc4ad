"""The simulator's HTTP/1.1 server (`marksign_mock.server`) over real sockets on 127.0.0.1.

Most tests speak raw HTTP to the server with a small ASGI app of their own
(`asgi_apps.EchoApp`), to see the wire itself; some use the simulator (`BackgroundServer`).
The worker tests start processes: `python -m tests.mock.asgi_apps` and `marksign-mock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import gc
import json
import logging
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import httpx
import pytest
from marksign_mock import BackgroundServer, MockConfig
from marksign_mock.launcher import READY_PREFIX
from marksign_mock.server import (
    ASGIApp,
    HttpServer,
    Receive,
    Scope,
    Send,
    ServerSettings,
    StartupFailed,
    _Exchange,
    bind_socket,
)
from starlette.applications import Starlette

from tests.spec_facts import DOCS_ACCESS_TOKEN
from tools.redis_server import RedisServer

from .asgi_apps import EchoApp, lifespan

pytest_plugins = ["tests.store_fixtures"]

pytestmark = pytest.mark.socket

REPO = Path(__file__).resolve().parents[2]
UNKNOWN_STATUS = "/en/smartid/sign/hash/status/00000000-0000-4000-8000-000000000000.json"
STATUS_BODY = json.dumps({"access_token": DOCS_ACCESS_TOKEN}).encode()


# -- a server in a thread, and a raw HTTP client -------------------------------------------


class Served:
    """`HttpServer(app)` on 127.0.0.1 in a thread of its own, for the `with` block."""

    def __init__(self, app: ASGIApp, settings: ServerSettings | None = None) -> None:
        self.server = HttpServer(app, settings)
        self.sock = bind_socket("127.0.0.1", 0)
        self.port: int = self.sock.getsockname()[1]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.failure: BaseException | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            await self.server.serve([self.sock], ready=self._ready.set)

        try:
            asyncio.run(main())
        except BaseException as failure:
            self.failure = failure
        finally:
            self.sock.close()
            self._ready.set()

    def start(self) -> None:
        self._thread.start()
        assert self._ready.wait(10)

    def stop(self) -> None:
        """Begin the graceful shutdown (returns at once)."""
        assert self.loop is not None
        self.loop.call_soon_threadsafe(self.server.stop)

    def join(self) -> None:
        self._thread.join(10)
        assert not self._thread.is_alive()

    def __enter__(self) -> Self:
        self.start()
        assert self.failure is None, self.failure
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._thread.is_alive():
            self.stop()
        self.join()


@dataclass
class Answer:
    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    raw_head: bytes = b""

    def header(self, name: bytes) -> bytes | None:
        values = [v for n, v in self.headers if n.lower() == name]
        assert len(values) <= 1, f"{name!r} sent {len(values)} times"
        return values[0] if values else None

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Raw:
    """A client socket that writes bytes as given and reads answers one at a time."""

    port: int
    sock: socket.socket = field(init=False)
    stream: IO[bytes] = field(init=False)

    def __post_init__(self) -> None:
        self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.stream = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read(self, *, head: bool = False) -> Answer:
        """The next answer; `head`: the request was HEAD (the answer has no body)."""
        status_line = self.stream.readline()
        assert status_line, "the server closed the connection instead of answering"
        version, status, reason = status_line.rstrip(b"\r\n").split(b" ", 2)
        assert version == b"HTTP/1.1"
        lines = [status_line]
        headers = []
        while (line := self.stream.readline()) not in (b"\r\n", b""):
            lines.append(line)
            name, _, value = line.rstrip(b"\r\n").partition(b":")
            headers.append((name, value.strip()))
        answer = Answer(int(status), reason, headers, raw_head=b"".join(lines))
        if head or answer.status < 200 or answer.status in (204, 304):
            return answer
        length = answer.header(b"content-length")
        if length is not None:
            answer.body = self.stream.read(int(length))
        elif answer.header(b"transfer-encoding") == b"chunked":
            parts = []
            while size := int(self.stream.readline().strip(), 16):
                parts.append(self.stream.read(size))
                assert self.stream.readline() == b"\r\n"
            assert self.stream.readline() == b"\r\n"
            answer.body = b"".join(parts)
        else:  # close-delimited
            answer.body = self.stream.read()
        return answer

    def closed_by_server(self) -> bool:
        """True when the server closes the connection before sending anything more."""
        try:
            return self.stream.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.stream.close()
        self.sock.close()


@contextlib.contextmanager
def raw(port: int) -> Iterator[Raw]:
    client = Raw(port)
    try:
        yield client
    finally:
        client.close()


def get(path: str, *headers: str, version: str = "1.1", method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/{version}", "Host: test", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def post(path: str, body: bytes, *headers: str) -> bytes:
    head = [
        f"POST {path} HTTP/1.1",
        "Host: test",
        "Content-Type: application/json",
        f"Content-Length: {len(body)}",
        *headers,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def chunked(path: str, chunks: list[bytes]) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    ).encode()
    return head + b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks) + b"0\r\n\r\n"


@pytest.fixture
def echo() -> Iterator[tuple[EchoApp, Served]]:
    app = EchoApp()
    with Served(app) as served:
        yield app, served


def server_errors(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "marksign_mock.server" and r.levelno >= 40]


# -- the ASGI scope ------------------------------------------------------------------------


def test_the_scope_is_asgi_3_with_the_path_decoded_and_the_transport(
    echo: tuple[EchoApp, Served],
) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/a%20b/c?x=1&y=%20", "X-Mixed-Case: Value"))
        seen = client.read().json()
        local, peer = client.sock.getsockname(), client.sock.getpeername()
    assert seen["type"] == "http"
    assert seen["asgi"]["version"] == "3.0"
    assert seen["http_version"] == "1.1"
    assert (seen["method"], seen["scheme"], seen["root_path"]) == ("GET", "http", "")
    assert (seen["path"], seen["raw_path"]) == ("/a b/c", "/a%20b/c")
    assert seen["query_string"] == "x=1&y=%20"
    assert ["x-mixed-case", "Value"] in seen["headers"]
    assert seen["client"] == list(local[:2])
    assert seen["server"] == list(peer[:2])
    assert seen["transport_in_scope"]


# -- connections: keep-alive, pipelining, HTTP/1.0, Connection: close ----------------------


def test_a_connection_serves_request_after_request(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/first"))
        first = client.read()
        client.send(get("/second"))
        second = client.read()
    assert first.json()["path"] == "/first"
    assert second.json()["path"] == "/second"
    assert first.json()["client"] == second.json()["client"]  # the same connection
    assert first.header(b"connection") is None  # HTTP/1.1 keeps it open without saying so


def test_pipelined_requests_are_answered_in_order_one_at_a_time(
    echo: tuple[EchoApp, Served],
) -> None:
    app, served = echo
    with raw(served.port) as client:
        client.send(
            get("/one") + post("/two", b'{"n": 2}') + chunked("/three", [b"{", b"}"]) + get("/4")
        )
        paths = [client.read().json()["path"] for _ in range(4)]
    assert paths == ["/one", "/two", "/three", "/4"]
    assert app.most_in_flight == 1


def test_pipelined_requests_to_the_simulator_are_answered_in_order() -> None:
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        client.send(
            post(UNKNOWN_STATUS, STATUS_BODY)
            + get("/_mock/certificate.pem")
            + post(UNKNOWN_STATUS, b"{")
        )
        answers = [client.read() for _ in range(3)]
    assert [a.status for a in answers] == [404, 200, 400]
    assert answers[0].json()["error_code"] == 40402
    assert answers[1].body.startswith(b"-----BEGIN CERTIFICATE-----")


def test_an_answered_request_is_freed_without_the_cycle_collector() -> None:
    """Nothing of a request refers back to it (its scope holds the connection's `left`, not
    the exchange's): with the collector off, answered requests do not pile up."""
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        client.send(post(UNKNOWN_STATUS, STATUS_BODY))
        client.read()
        gc.collect()
        gc.disable()
        try:
            for _ in range(100):
                client.send(post(UNKNOWN_STATUS, STATUS_BODY))
                assert client.read().status == 404
            live = sum(1 for o in gc.get_objects() if type(o) is _Exchange)
        finally:
            gc.enable()
    assert live <= 2, live  # the last one, perhaps still finishing, and the one parsed


def test_http_1_0_closes_after_the_answer(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/old", version="1.0"))
        answer = client.read()
        assert answer.json()["http_version"] == "1.0"
        assert answer.header(b"connection") == b"close"
        assert client.closed_by_server()


def test_http_1_0_keeps_the_connection_when_asked(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/one", "Connection: keep-alive", version="1.0"))
        first = client.read()
        client.send(get("/two", "Connection: keep-alive", version="1.0"))
        second = client.read()
    assert first.header(b"connection") == b"keep-alive"
    assert second.json()["path"] == "/two"


def test_http_1_0_gets_a_streamed_answer_until_the_connection_closes(
    echo: tuple[EchoApp, Served],
) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/stream", "Connection: keep-alive", version="1.0"))
        answer = client.read()
    assert answer.header(b"transfer-encoding") is None
    assert answer.header(b"content-length") is None
    assert answer.body == b"one,two,three"


def test_a_streamed_answer_is_chunked_on_http_1_1(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/stream") + get("/after"))
        answer = client.read()
        after = client.read()
    assert answer.header(b"transfer-encoding") == b"chunked"
    assert answer.body == b"one,two,three"
    assert after.json()["path"] == "/after"


def test_connection_close_from_the_client_is_honoured(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/bye", "Connection: close") + get("/ignored"))
        answer = client.read()
        assert answer.header(b"connection") == b"close"
        assert client.closed_by_server()


def test_connection_close_from_the_app_is_honoured(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/close-header"))
        assert client.read().header(b"connection") == b"close"
        assert client.closed_by_server()


# -- request bodies ------------------------------------------------------------------------


def test_a_chunked_request_body_reaches_the_app_whole(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(chunked("/echo", [b'{"a":', b' "b"', b"}"]))
        assert client.read().json()["body"] == '{"a": "b"}'


def test_a_chunked_request_to_the_simulator_is_read() -> None:
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        client.send(chunked(UNKNOWN_STATUS, [STATUS_BODY[:10], STATUS_BODY[10:]]))
        answer = client.read()
    assert (answer.status, answer.json()["error_code"]) == (404, 40402)


def test_a_large_body_is_streamed_and_reading_pauses_while_the_app_waits(
    echo: tuple[EchoApp, Served],
) -> None:
    # The app receives only once the server stopped reading: what it gets in one message
    # is what the server buffered, bounded by the high-water mark and one socket read.
    _, served = echo
    body = b"x" * (4 * 1024 * 1024)
    with raw(served.port) as client:
        client.send(post("/wait-for-pause", body))
        seen = client.read().json()
    assert len(seen["body"]) == len(body)
    assert seen["body_messages"] > 1
    assert seen["largest_body_message"] <= ServerSettings().body_high_water + 256 * 1024


def test_expect_100_continue_is_answered_when_the_app_reads_the_body() -> None:
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        head = post(UNKNOWN_STATUS, STATUS_BODY, "Expect: 100-continue")[: -len(STATUS_BODY)]
        client.send(head)
        interim = client.read()
        assert (interim.status, interim.raw_head) == (100, b"HTTP/1.1 100 Continue\r\n")
        client.send(STATUS_BODY)
        final = client.read()
        assert (final.status, final.json()["error_code"]) == (404, 40402)
        client.send(get("/_mock/certificate.pem"))  # the connection goes on
        assert client.read().status == 200


def test_expect_100_continue_refused_by_the_length_gets_no_100_and_closes() -> None:
    config = MockConfig(answer_delay=0, max_body_bytes=1000)
    with BackgroundServer(_simulator(config)) as server, raw(server.port) as client:
        client.send(
            b"POST %s HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000\r\nExpect: 100-continue\r\n\r\n" % UNKNOWN_STATUS.encode()
        )
        answer = client.read()
        assert (answer.status, answer.json()["error_code"]) == (413, 41300)
        assert answer.header(b"connection") == b"close"
        assert client.closed_by_server()


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_and_the_connection_goes_on(framing: str) -> None:
    config = MockConfig(answer_delay=0, max_body_bytes=1000)
    big = b'{"access_token": "' + b"x" * 200_000 + b'"}'
    request = (
        post(UNKNOWN_STATUS, big)
        if framing == "content-length"
        else chunked(UNKNOWN_STATUS, [big[i : i + 4096] for i in range(0, len(big), 4096)])
    )
    with BackgroundServer(_simulator(config)) as server, raw(server.port) as client:
        client.send(request)
        answer = client.read()
        assert (answer.status, answer.json()["error_code"]) == (413, 41300)
        client.send(post(UNKNOWN_STATUS, STATUS_BODY))
        assert client.read().status == 404


# -- answers: HEAD, date, errors ----------------------------------------------------------


def test_head_gets_the_headers_without_the_body(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/same", method="GET"))
        full = client.read()
        client.send(get("/same", method="HEAD") + get("/next"))
        head = client.read(head=True)
        after = client.read()  # parses only if no body bytes followed the HEAD answer
    assert head.status == 200
    assert head.header(b"content-length") is not None
    assert after.json()["path"] == "/next"
    assert len(full.body) > 0


def test_head_to_the_simulator_is_405_without_a_body() -> None:
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        client.send(get("/_mock/certificate.pem", method="HEAD") + get("/_mock/certificate.pem"))
        head = client.read(head=True)
        after = client.read()
    assert (head.status, head.header(b"allow")) == (405, b"GET")
    assert after.status == 200


def test_answers_carry_a_date_and_no_server_header(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/"))
        answer = client.read()
    date = answer.header(b"date")
    assert date is not None
    assert date.endswith(b" GMT")
    assert email.utils.parsedate_to_datetime(date.decode()).tzinfo is not None
    assert answer.header(b"server") is None


def _error(answer: Answer, status: int, code: int) -> str:
    assert answer.status == status
    assert answer.header(b"content-type") == b"application/json"
    error = answer.json()
    assert (error["status"], error["error_code"]) == ("error", code)
    message: str = error["message"]
    return message


def test_an_app_that_fails_before_answering_gets_a_500_in_the_error_shape(
    echo: tuple[EchoApp, Served], caplog: pytest.LogCaptureFixture
) -> None:
    _, served = echo
    with caplog.at_level(logging.ERROR), raw(served.port) as client:
        client.send(get("/raise"))
        message = _error(client.read(), 500, 50000)
        client.send(get("/after"))  # the connection goes on
        assert client.read().status == 200
    assert message == "Klaida apdorojant užklausą"  # 50000 in the bare path's locale (LT)
    (logged,) = server_errors(caplog)
    assert "GET /raise" in logged.getMessage()
    assert logged.exc_info is not None


def test_an_app_that_returns_without_answering_gets_a_500(
    echo: tuple[EchoApp, Served], caplog: pytest.LogCaptureFixture
) -> None:
    _, served = echo
    with caplog.at_level(logging.ERROR), raw(served.port) as client:
        client.send(get("/no-answer"))
        _error(client.read(), 500, 50000)
    assert len(server_errors(caplog)) == 1


def test_an_app_that_fails_halfway_through_its_answer_has_the_connection_closed(
    echo: tuple[EchoApp, Served], caplog: pytest.LogCaptureFixture
) -> None:
    _, served = echo
    with caplog.at_level(logging.ERROR), raw(served.port) as client:
        client.send(get("/raise-after-start"))
        status_line = client.stream.readline()
        rest = client.stream.read()  # until the server closes
    assert status_line.startswith(b"HTTP/1.1 200 ")
    assert rest.endswith(b"\r\n\r\n12345")  # the head, then half the promised body
    (logged,) = server_errors(caplog)
    assert "GET /raise-after-start" in logged.getMessage()


# -- requests that are not HTTP ------------------------------------------------------------

NOT_HTTP = {
    "request-line": b"GARBAGE\r\n\r\n",
    "content-length": b"POST /en/x HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
    "header-name": b"GET /en/x HTTP/1.1\r\nBad Header: 1\r\n\r\n",
    "header-value": b"GET /en/x HTTP/1.1\r\nX: a\x01b\r\n\r\n",
    "long-head": b"GET /en/x HTTP/1.1\r\nX: " + b"a" * 70_000 + b"\r\n\r\n",
    "upgrade": b"GET /en/x HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    "length-and-chunked": (
        b"POST /en/x HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
    ),
}


@pytest.mark.parametrize("request_bytes", NOT_HTTP.values(), ids=NOT_HTTP.keys())
def test_a_request_that_is_not_http_gets_400_in_the_error_shape_and_a_close(
    echo: tuple[EchoApp, Served], request_bytes: bytes
) -> None:
    app, served = echo
    with raw(served.port) as client:
        client.send(request_bytes)
        answer = client.read()
        assert client.closed_by_server()
    message = _error(answer, 400, 40001)
    assert message == "Invalid parameter [request]: This value is not valid."
    assert answer.header(b"connection") == b"close"
    assert app.most_in_flight == 0  # the app never saw it


def test_a_broken_chunked_body_gets_400_and_the_app_sees_the_client_leave(
    echo: tuple[EchoApp, Served],
) -> None:
    app, served = echo
    with raw(served.port) as client:
        client.send(b"POST /en/x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\nzz\r\n")
        _error(client.read(), 400, 40001)
        assert client.closed_by_server()
    assert app.done.wait(10)
    assert app.events[-1] == "disconnect before the body ended"


def test_the_400_speaks_the_paths_locale(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(b"GET /smartid/x HTTP/1.1\r\nContent-Length: x\r\n\r\n")
        message = _error(client.read(), 400, 40001)
    assert message.startswith("Neteisingas parametras [request]")
    with raw(served.port) as client:  # the control plane answers in English, as it says
        client.send(b"GET /_mock/sessions HTTP/1.1\r\nContent-Length: x\r\n\r\n")
        message = _error(client.read(), 400, 40001)
    assert message == "Invalid parameter [request]: This value is not valid."


def test_a_bad_request_after_good_ones_is_answered_after_them(
    echo: tuple[EchoApp, Served],
) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/good") + get("/also-good") + b"GARBAGE\r\n\r\n")
        first, second, third = client.read(), client.read(), client.read()
        assert client.closed_by_server()
    assert [first.json()["path"], second.json()["path"]] == ["/good", "/also-good"]
    _error(third, 400, 40001)


# -- the connection as the app sees it ------------------------------------------------------


def test_the_app_closing_the_connection_then_receives_a_disconnect(
    echo: tuple[EchoApp, Served],
) -> None:
    app, served = echo
    with raw(served.port) as client:
        client.send(get("/close-self"))
        assert client.closed_by_server()
    assert app.done.wait(10)
    assert app.events[-1] == "http.disconnect"


def test_a_long_poll_whose_client_left_runs_on_and_the_server_serves_the_next(
    echo: tuple[EchoApp, Served], caplog: pytest.LogCaptureFixture
) -> None:
    app, served = echo
    with caplog.at_level(logging.WARNING):
        client = Raw(served.port)
        client.send(get("/poll"))
        assert app.entered.wait(10)
        client.close()
        assert app.done.wait(10)  # not cancelled: it saw the client leave, and finished
        with raw(served.port) as other:
            other.send(get("/next"))
            assert other.read().json()["path"] == "/next"
    assert app.events[-2:] == ["http.disconnect", "poll finished"]
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_writing_waits_while_the_client_does_not_read(echo: tuple[EchoApp, Served]) -> None:
    app, served = echo
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # a slow, small window
    sock.settimeout(30)
    sock.connect(("127.0.0.1", served.port))
    with sock, sock.makefile("rb") as stream:
        sock.sendall(get("/big"))
        while stream.readline() != b"\r\n":
            pass
        total = 0
        while size := int(stream.readline().strip(), 16):
            total += len(stream.read(size))
            stream.readline()
    assert total == 256 * 65536
    # Without flow control the app would have buffered most of its 16 MiB at once.
    assert app.largest_write_buffer < 1024 * 1024


def test_an_idle_connection_is_closed_after_the_idle_timeout() -> None:
    with Served(EchoApp(), ServerSettings(idle_timeout=0.2)) as served:
        with raw(served.port) as client:
            client.send(get("/"))
            assert client.read().status == 200
            assert client.closed_by_server()
        with raw(served.port) as silent:  # one that never sent anything
            assert silent.closed_by_server()


def test_a_body_that_stops_coming_is_given_up_and_the_app_sees_the_client_leave() -> None:
    app = EchoApp()
    settings = ServerSettings(body_timeout=0.3)
    with Served(app, settings) as served, raw(served.port) as client:
        head = post("/x", b"{}" * 50)  # says 100 bytes
        client.send(head[: head.index(b"\r\n\r\n") + 4] + b"{}")  # sends 2
        assert client.closed_by_server()
        assert app.done.wait(10)
        assert app.events[-1] == "disconnect before the body ended"


def test_a_slow_body_that_keeps_coming_is_read() -> None:
    settings = ServerSettings(body_timeout=0.3)
    with Served(EchoApp(), settings) as served, raw(served.port) as client:
        request = post("/x", b"[" + b"1," * 9 + b"1]")
        split = request.index(b"\r\n\r\n") + 4
        client.send(request[:split])
        for byte in range(split, len(request)):  # a byte each 0.1 s: 2 s in all
            time.sleep(0.1)
            client.send(request[byte : byte + 1])
        assert client.read().status == 200


def test_a_client_waiting_for_100_continue_is_not_stalled() -> None:
    # The app reads the body only after a while: the client, told nothing yet, waits; then
    # it has the whole timeout to send it (more than the 0.05 s between the server's ticks).
    settings = ServerSettings(body_timeout=0.3)
    with Served(EchoApp(), settings) as served, raw(served.port) as client:
        client.send(post("/wait-a-second", b"{}", "Expect: 100-continue")[:-2])
        assert client.read().status == 100  # a second later, when the app asks for the body
        time.sleep(0.15)
        client.send(b"{}")
        assert client.read().status == 200


def test_a_body_whose_reading_was_paused_is_timed_from_when_reading_resumed() -> None:
    # 70 KB fill the buffer (reading pauses); the app asks for the body a second later, and
    # the rest comes 0.15 s after that: well within the timeout of time spent reading.
    settings = ServerSettings(body_timeout=0.5)
    with Served(EchoApp(), settings) as served, raw(served.port) as client:
        request = post("/wait-a-second", b"x" * 100_000)
        cut = request.index(b"\r\n\r\n") + 4 + 70_000
        client.send(request[:cut])
        time.sleep(1.15)
        client.send(request[cut:])
        assert client.read().status == 200


# -- lifespan and shutdown -----------------------------------------------------------------


def test_the_lifespan_starts_and_stops_the_app() -> None:
    app = EchoApp()
    with Served(app):
        assert app.events == ["startup"]
    assert app.events == ["startup", "shutdown"]


async def _failing_startup(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "lifespan"
    await receive()
    raise RuntimeError("no database\nat all")


@contextlib.asynccontextmanager
async def _failing_lifespan(_: object) -> Any:
    raise ValueError("cannot start")
    yield  # pragma: no cover


@pytest.mark.parametrize(
    ("app", "reason"),
    [
        (_failing_startup, "RuntimeError: no database at all"),
        (Starlette(lifespan=_failing_lifespan), "ValueError: cannot start"),
    ],
    ids=["raises", "starlette-startup-failed"],
)
def test_a_failed_startup_stops_the_server_with_one_line(app: ASGIApp, reason: str) -> None:
    served = Served(app)
    served.start()
    served.join()
    assert isinstance(served.failure, StartupFailed)
    assert str(served.failure) == f"the app's startup failed: {reason}"
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", served.port), timeout=10)


def test_shutdown_lets_the_request_in_flight_finish_and_closes_idle_connections() -> None:
    app = EchoApp()
    with Served(app) as served, raw(served.port) as busy, raw(served.port) as idle:
        idle.send(get("/"))
        idle.read()
        busy.send(get("/hold"))
        assert app.entered.wait(10)
        served.stop()
        assert idle.closed_by_server()
        assert app.loop is not None
        assert app.release is not None
        app.loop.call_soon_threadsafe(app.release.set)
        answer = busy.read()
        assert answer.status == 200
        assert answer.header(b"connection") == b"close"
        assert busy.closed_by_server()
        served.join()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", served.port), timeout=10)
    assert app.events == ["startup", "shutdown"]


def test_shutdown_cancels_a_request_that_outlives_the_grace() -> None:
    app = EchoApp()
    settings = ServerSettings(graceful_timeout=0.1)
    with Served(app, settings) as served, raw(served.port) as busy:
        busy.send(get("/hold"))
        assert app.entered.wait(10)
        served.stop()
        assert busy.closed_by_server()  # without an answer
        served.join()
    assert app.events == ["startup", "cancelled", "shutdown"]


# -- edge cases of the wire: trailers, targets, 100 Continue, receive(), stalls, shutdown ---


class _Script:
    """An app of one scripted request (lifespan handled), run by the test's `handle`;
    `seen` collects what it observed, `entered` is set once it holds the request."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.seen: list[Any] = []
        self.entered = threading.Event()
        self.finished = threading.Event()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        try:
            await self.handle(self, scope, receive, send)
        finally:
            self.finished.set()


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None if the client left first."""
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk: bytes = message["body"]
        body += chunk
        if not message.get("more_body", False):
            return body


def test_trailers_of_a_chunked_body_are_not_headers(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    request = chunked("/", [b"{}"]).replace(b"0\r\n\r\n", b"0\r\nContent-Type: text/plain\r\n\r\n")
    with raw(served.port) as client:
        client.send(request)
        seen = client.read().json()
    assert ["content-type", "application/json"] in seen["headers"]
    assert ["content-type", "text/plain"] not in seen["headers"]


def test_a_trailer_does_not_change_the_simulators_answer() -> None:
    request = chunked(UNKNOWN_STATUS, [STATUS_BODY]).replace(
        b"0\r\n\r\n", b"0\r\nContent-Type: text/plain\r\n\r\n"
    )
    with BackgroundServer(_simulator()) as server, raw(server.port) as client:
        client.send(request)
        assert _error(client.read(), 404, 40402)


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [("http://test", "/", ""), ("http://test?x=1", "/", "x=1"), ("http://test/a", "/a", "")],
)
def test_an_absolute_target_without_a_path_is_the_root(
    echo: tuple[EchoApp, Served], target: str, path: str, query: str
) -> None:
    _, served = echo
    with raw(served.port) as client:
        client.send(get(target))
        seen = client.read().json()
    assert (seen["path"], seen["query_string"]) == (path, query)


def test_an_http_1_0_client_gets_no_100_continue(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    with raw(served.port) as client:
        head = b"POST / HTTP/1.0\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        client.send(head)
        client.sock.settimeout(0.5)
        with pytest.raises(TimeoutError):  # nothing before the body
            client.sock.recv(1)
        client.sock.settimeout(10)
        client.send(b"{}")
        answer = client.read()
    assert answer.status == 200
    assert b"100 Continue" not in answer.raw_head


async def _stream_then_read(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"begun;", "more_body": True})
    script.entered.set()
    body = await _read_body(receive)
    await send({"type": "http.response.body", "body": b"read %r" % body})


def test_no_100_continue_once_the_answer_has_begun() -> None:
    app = _Script(_stream_then_read)
    with Served(app) as served, raw(served.port) as client:
        client.send(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert app.entered.wait(10)
        client.send(b"{}")
        answer = client.read()
        assert answer.status == 200  # the first thing on the wire is the answer
        assert answer.body == b"begun;read b'{}'"
        assert answer.header(b"connection") == b"close"  # the client may not have sent it
        assert client.closed_by_server()


async def _refuse_then_wait(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": []})
    await send({"type": "http.response.body", "body": b""})
    script.seen.append(await receive())


def test_receive_after_a_refusal_without_the_body_is_a_disconnect() -> None:
    app = _Script(_refuse_then_wait)
    with Served(app) as served, raw(served.port) as client:
        client.send(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 9\r\nExpect: 100-continue\r\n\r\n"
        )
        answer = client.read()
        assert client.closed_by_server()  # and no 100 Continue after the answer either
        assert app.finished.wait(10)
    assert answer.status == 413
    assert app.seen == [{"type": "http.disconnect"}]


async def _start_then_read(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    # A streamed answer over the request's body (Starlette's StreamingResponse over
    # request.stream()): the start is sent before the body is read, nothing is written yet.
    await send({"type": "http.response.start", "status": 200, "headers": []})
    body = await _read_body(receive)
    await send({"type": "http.response.body", "body": b"read %r" % body})


def test_100_continue_is_sent_while_the_answer_is_started_but_not_written() -> None:
    with Served(_Script(_start_then_read)) as served, raw(served.port) as client:
        client.send(
            b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n"
        )
        assert client.read().status == 100
        client.send(b"{}")
        answer = client.read()
        assert (answer.status, answer.body) == (200, b"read b'{}'")
        assert answer.header(b"connection") is None  # the connection goes on
        client.send(get("/"))
        assert client.read().status == 200


async def _two_readers(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    readers = {asyncio.ensure_future(receive()) for _ in range(2)}
    script.entered.set()
    done, waiting = await asyncio.wait(readers, return_when=asyncio.FIRST_COMPLETED)
    script.seen += [task.result() for task in done]
    await asyncio.sleep(0.1)  # the other one is still waiting: nothing more has come
    script.seen.append(len(waiting) == 1 and not next(iter(waiting)).done())
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})
    script.seen += [await task for task in waiting]


def test_of_two_receives_waiting_for_a_body_one_gets_it_and_the_other_waits_on() -> None:
    app = _Script(_two_readers)
    with Served(app) as served, raw(served.port) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\n")
        assert app.entered.wait(10)
        client.send(b"abcd")
        assert client.read().body == b"ok"
        assert app.finished.wait(10)
    body = {"type": "http.request", "body": b"abcd", "more_body": False}
    assert app.seen == [body, True, {"type": "http.disconnect"}]


async def _two_receivers(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    # Starlette's streamed answers: one task listens for the client leaving while the
    # answer asks `request.is_disconnected()`, a receive() cancelled at once.
    await receive()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"event\n", "more_body": True})

    async def listen() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        script.seen.append("the listener saw the client leave")

    listener = asyncio.ensure_future(listen())
    await asyncio.sleep(0.05)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(0):
            await receive()
    script.entered.set()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(10):
            await listener


def test_a_second_receive_does_not_hide_the_client_leaving() -> None:
    app = _Script(_two_receivers)
    with Served(app) as served:
        with raw(served.port) as client:
            client.send(get("/events"))
            assert app.entered.wait(10)
        assert app.finished.wait(10)
        assert app.seen == ["the listener saw the client leave"]
        _wait_until(lambda: not served.server.tasks)  # the exchange's task is done


def _wait_until(condition: Any, seconds: float = 10.0) -> None:
    """Wait for `condition()` (true on the server's thread soon), failing after `seconds`."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "not within the time"
        time.sleep(0.01)


async def _refuse_unread(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 415, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_a_client_stalled_in_a_body_the_answer_did_not_wait_for_meets_the_idle_timeout() -> None:
    settings = ServerSettings(idle_timeout=0.2)
    with Served(_Script(_refuse_unread), settings) as served, raw(served.port) as client:
        client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\nabc")
        assert client.read().status == 415
        assert client.closed_by_server()


async def _read_then_answer(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    first = await receive()  # the part of the body sent with the head
    script.entered.set()
    rest = await _read_body(receive) if first.get("more_body") else b""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"got %s%s" % (first["body"], rest)})


def test_shutdown_waits_for_the_rest_of_a_body_in_flight() -> None:
    app = _Script(_read_then_answer)
    settings = ServerSettings(graceful_timeout=5)
    with Served(app, settings) as served:
        with raw(served.port) as client:
            client.send(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\n12345")
            assert app.entered.wait(10)
            served.stop()
            client.send(b"67890")
            answer = client.read()
            assert (answer.status, answer.body) == (200, b"got 1234567890")
            assert answer.header(b"connection") == b"close"
            assert client.closed_by_server()
        served.join()


async def _raise_after_start(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    raise RuntimeError("the answer's first part failed")


async def _too_long(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"longer than two"})


async def _start_without_status(
    script: _Script, scope: Scope, receive: Receive, send: Send
) -> None:
    await send({"type": "http.response.start", "headers": []})


async def _start_only(script: _Script, scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})


@pytest.mark.parametrize(
    "handle",
    [_raise_after_start, _too_long, _start_without_status, _start_only],
    ids=["raises-after-start", "longer-than-its-length", "start-without-status", "start-only"],
)
def test_an_app_that_fails_before_a_byte_of_its_answer_is_written_gets_a_500(
    handle: Any, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR), Served(_Script(handle)) as served, raw(served.port) as c:
        c.send(get("/en/x"))
        assert _error(c.read(), 500, 50000) == "Issues while processing the request"
        c.send(get("/en/x"))  # the connection goes on
        assert c.read().status == 500
    assert len(server_errors(caplog)) == 2


H2C = ("Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c", "HTTP2-Settings: AAMAAABkAAQAAP__")


def test_an_h2c_offer_is_answered_over_http_1_1_and_the_connection_goes_on(
    echo: tuple[EchoApp, Served],
) -> None:
    # `curl --http2 http://...` offers HTTP/2 this way; a server may ignore the offer.
    _, served = echo
    with raw(served.port) as client:
        client.send(get("/first", *H2C) + get("/second"))  # the next one in the same packet
        first, second = client.read(), client.read()
        client.send(get("/third"))
        third = client.read()
    assert [a.status for a in (first, second, third)] == [200, 200, 200]
    assert [a.json()["path"] for a in (first, second, third)] == ["/first", "/second", "/third"]
    assert first.header(b"upgrade") is None


def test_an_h2c_offer_with_a_body_is_answered_with_the_body_read_whole(
    echo: tuple[EchoApp, Served],
) -> None:
    # llhttp stops after the head of an upgrade: the server reads the body itself.
    _, served = echo
    request = post("/posted", b'{"a": 1}', *H2C)
    with raw(served.port) as client:
        client.send(request[:-4])  # the body in two parts, the second later
        client.send(request[-4:] + get("/after"))
        posted, after = client.read().json(), client.read().json()
    assert (posted["path"], posted["body"]) == ("/posted", '{"a": 1}')
    assert after["path"] == "/after"


def test_an_h2c_offer_with_a_chunked_body_gets_400(echo: tuple[EchoApp, Served]) -> None:
    _, served = echo
    request = chunked("/", [b"{}"]).replace(
        b"Host: test\r\n", b"Host: test\r\n%s\r\n" % "\r\n".join(H2C).encode()
    )
    with raw(served.port) as client:
        client.send(request)
        _error(client.read(), 400, 40001)
        assert client.closed_by_server()


# -- workers -------------------------------------------------------------------------------


class Process:
    """A command that prints READY_PREFIX + URL when it serves; stderr read line by line."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            text=True,
        )
        self.out: queue.Queue[str | None] = queue.Queue()
        self.err: queue.Queue[str | None] = queue.Queue()
        self.err_lines: list[str] = []
        for stream, into in ((self.process.stdout, self.out), (self.process.stderr, self.err)):
            threading.Thread(target=self._pump, args=(stream, into), daemon=True).start()

    @staticmethod
    def _pump(stream: IO[str] | None, into: queue.Queue[str | None]) -> None:
        assert stream is not None
        for line in stream:
            into.put(line)
        into.put(None)

    def url(self) -> str:
        while (line := self.out.get(timeout=60)) is not None:
            if line.startswith(READY_PREFIX):
                return line.removeprefix(READY_PREFIX).strip()
        raise AssertionError(f"it exited with {self.process.wait()} before serving")

    def log_line(self, containing: str) -> str:
        """The next stderr line that contains `containing` (waits for it)."""
        while (line := self.err.get(timeout=60)) is not None:
            self.err_lines.append(line)
            if containing in line:
                return line
        raise AssertionError(f"no log line with {containing!r}: {self.err_lines}")

    def rest_of_stderr(self) -> list[str]:
        self.process.wait(timeout=60)
        while (line := self.err.get(timeout=60)) is not None:
            self.err_lines.append(line)
        return self.err_lines

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)  # what Ctrl+C does
        return self.process.wait(timeout=30)

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def running(command: list[str]) -> Iterator[Process]:
    process = Process(command)
    try:
        yield process
    finally:
        process.close()


def _pids(url: str, connections: int) -> list[int]:
    """The worker pid that answered each of `connections` new connections."""
    pids = []
    for _ in range(connections):
        with httpx.Client(base_url=url, timeout=10) as client:  # a connection of its own
            pids.append(client.get("/").json()["pid"])
    return pids


def test_workers_share_one_port_and_each_answers_connections() -> None:
    command = [sys.executable, "-m", "tests.mock.asgi_apps", "pid", "2"]
    with running(command) as parent:
        url = parent.url()
        pids = _pids(url, 64)  # SO_REUSEPORT hashes each connection to a worker
        assert len(set(pids)) == 2
        assert parent.process.pid not in pids
        assert parent.interrupt() == 0
    for pid in set(pids):  # stopped with the parent
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def test_a_worker_that_dies_is_logged_and_replaced() -> None:
    command = [sys.executable, "-m", "tests.mock.asgi_apps", "pid", "2"]
    with running(command) as parent:
        url = parent.url()
        first = set(_pids(url, 64))
        victim = min(first)
        os.kill(victim, signal.SIGKILL)
        died = parent.log_line(f"(pid {victim})")
        assert "was killed by SIGKILL; starting another" in died
        parent.log_line(f"in place of pid {victim}")
        later = set(_pids(url, 64))
        assert victim not in later
        assert len(later) == 2
        assert len(later - first) == 1
        assert parent.interrupt() == 0


def test_a_worker_that_fails_to_start_stops_them_all(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.mock.asgi_apps", "second-fails", "2", str(tmp_path)]
    with running(command) as parent:
        lines = parent.rest_of_stderr()
        assert parent.process.returncode == 1
    # Which of the two builds its app first is up to the OS.
    assert re.fullmatch(
        r"asgi_apps: worker [01]: cannot build the app: RuntimeError: this worker cannot start\n",
        lines[-1],
    )
    started = int((tmp_path / "first.pid").read_text())
    with pytest.raises(ProcessLookupError):  # the worker that did start was stopped
        os.kill(started, 0)


def test_the_command_serves_from_workers_that_share_a_redis_store(
    redis_server: RedisServer,
) -> None:
    store = redis_server.url.removesuffix("/0") + "/1"  # a database of this test's own
    command = [
        str(Path(sys.executable).with_name("marksign-mock")),
        *("--workers", "2", "--store", store, "--port", "0", "--answer-delay", "0"),
        *("--log-level", "warning"),
    ]
    with running(command) as parent:
        url = parent.url()
        httpx.post(f"{url}/_mock/reset", timeout=10).raise_for_status()
        for _ in range(8):
            with httpx.Client(base_url=url, timeout=10) as client:
                assert client.get("/_mock/certificate.pem").status_code == 200
                unknown = client.post(UNKNOWN_STATUS, json={"access_token": DOCS_ACCESS_TOKEN})
                assert unknown.json()["error_code"] == 40402
        tokens = []
        for _ in range(8):  # a new connection each: either worker starts the session...
            started = httpx.post(
                f"{url}/en/smartid/sign/hash.json",
                json={
                    "access_token": DOCS_ACCESS_TOKEN,
                    "hash": "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf",
                    "hash_algorithm": "SHA256",
                    "country": "LT",
                    "code": "30303039914",
                },
                timeout=10,
            )
            tokens.append(started.json()["token"])
        for token in tokens:  # ...and either answers its status: the sessions are shared
            done = httpx.post(
                f"{url}/en/smartid/sign/hash/status/{token}.json",
                json={"access_token": DOCS_ACCESS_TOKEN},
                timeout=10,
            )
            assert done.json()["status"] == "ok", done.text
        assert parent.interrupt() == 0


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_command_says_in_one_line_when_it_cannot_listen(
    workers: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from marksign_mock import cli

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        # (Workers need a shared store; it is not reached before the port is taken.)
        store = ["--store", "redis://127.0.0.1:9/0"] if workers != "1" else []
        options = ["--port", str(port), "--workers", workers, *store, "--log-level", "warning"]
        code = cli.main(options)
    assert code == 1
    assert capsys.readouterr().err == (
        f"marksign-mock: cannot listen on 127.0.0.1:{port}: Address already in use\n"
    )


def _simulator(config: MockConfig | None = None) -> Any:
    from marksign_mock import create_app

    return create_app(config or MockConfig(answer_delay=0))
