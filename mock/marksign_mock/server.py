"""The simulator's HTTP/1.1 server: asyncio and httptools under an ASGI 3 app; the wire only.

Our own because uvicorn's protocol cost more per request than the simulator itself
(BENCHMARKS.md). It does what the simulator needs and no more: HTTP/1.1 and 1.0,
keep-alive, pipelining (one request in flight per connection, the rest waiting in order),
`Expect: 100-continue`, chunked request bodies streamed to the app, chunked or
close-delimited streamed answers, the ASGI lifespan, and a graceful shutdown. No TLS, no
WebSocket, no HTTP/2 (an `Upgrade: h2c` offer, as `curl --http2` makes, is answered over
HTTP/1.1; other upgrades get 400).

A request that is not HTTP gets the API's error shape (400 / 40001 `[request]`), an app
that fails before answering gets 500 / 50000; nothing else on the wire comes from here.
The connection's transport is in each request's scope (`faults.TRANSPORT_EXTENSION`):
the transport faults close or reset it themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import http
import logging
import socket
import urllib.parse
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any, Final

import httptools

from .exceptions import ApiError
from .faults import TRANSPORT_EXTENSION
from .polls import CLIENT_LEFT_EXTENSION
from .rendering import answer_locale, error_body, printable

logger = logging.getLogger("marksign_mock.server")

# ASGI 3, structurally (Starlette's types are the same shapes).
Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONTINUE: Final = b"HTTP/1.1 100 Continue\r\n\r\n"
DISCONNECT: Final = {"type": "http.disconnect"}  # copied for each receive()


@dataclass(frozen=True)
class ServerSettings:
    """How the server treats connections. Times are in seconds."""

    # An idle keep-alive connection (no request in flight) is closed after this (uvicorn's 5).
    idle_timeout: float = 5.0
    # A request whose body stops coming (no byte for this long, while the server reads) is
    # given up: the connection is closed and the app sees the client leave (nginx's
    # client_body_timeout is 60; a JSON body on a test machine needs far less).
    body_timeout: float = 30.0
    # At shutdown, requests in flight get this long to be answered; then they are cancelled.
    graceful_timeout: float = 1.0
    backlog: int = 4096
    # Request line and headers together; a longer head is answered 400.
    max_head_bytes: int = 64 * 1024
    # Request body buffered for the app before reading from the socket pauses.
    body_high_water: int = 64 * 1024

    def __post_init__(self) -> None:
        if self.idle_timeout <= 0 or self.body_timeout <= 0 or self.graceful_timeout < 0:
            raise ValueError(
                "idle_timeout and body_timeout must be positive, graceful_timeout not negative"
            )


class StartupFailed(Exception):
    """The server could not start serving; the message is one line, for the log."""


class _HeadTooLarge(Exception):
    """Raised in a parser callback: httptools turns it into a parse error (a 400)."""


def _status_line(status: int) -> bytes:
    try:
        phrase = http.HTTPStatus(status).phrase.encode()
    except ValueError:  # e.g. 520: the reason phrase is optional, its space is not
        phrase = b""
    return b"HTTP/1.1 %d %s\r\n" % (status, phrase)


STATUS_LINES: Final = {status: _status_line(status) for status in range(100, 600)}


def _date_line() -> bytes:
    return b"date: %s\r\n" % email.utils.formatdate(usegmt=True).encode()


def _address(info: Any) -> tuple[str, int] | None:
    # IPv6 addresses come as 4-tuples; ASGI wants (host, port). Unix sockets: none.
    return (str(info[0]), int(info[1])) if isinstance(info, tuple) else None


def _tokens(value: bytes) -> list[bytes]:
    return [token.strip() for token in value.lower().split(b",")]


def bind_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    """A TCP socket bound to (host, port), not listening yet (the server listens on it)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if reuse_port:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


class _Exchange:
    """One request and its answer: the ASGI `receive` and `send` of one HTTP request."""

    __slots__ = (
        "body",
        "bodyless",
        "buffered",
        "chunked",
        "complete",
        "conn",
        "delivered",
        "disconnected",
        "expect_continue",
        "head_only",
        "head_pending",
        "headers",
        "keep_alive",
        "length_left",
        "message_complete",
        "scope",
        "started",
        "status",
        "task",
        "waiters",
    )

    def __init__(
        self, conn: _Connection, scope: Scope, keep_alive: bool, expect_continue: bool
    ) -> None:
        self.conn = conn
        self.scope = scope
        self.keep_alive = keep_alive
        self.expect_continue = expect_continue  # 100 Continue not sent yet
        self.head_only = scope["method"] == "HEAD"
        # Request side: body chunks not yet received by the app.
        self.body: list[bytes] = []
        self.buffered = 0
        self.message_complete = False  # the parser has seen the whole request
        self.delivered = False  # the app has received the request's last body message
        # One future per receive() waiting (an app may wait in two tasks at once, as
        # Starlette's streamed answers do: one listens for the client leaving).
        self.waiters: list[asyncio.Future[None]] = []
        self.disconnected = False
        # Response side.
        self.started = False
        self.head_pending = False  # started, head not written yet
        self.complete = False
        self.status = 0
        self.headers: Iterable[tuple[bytes, bytes]] = ()
        self.bodyless = False  # a HEAD request, or a status without a body
        self.chunked = False
        self.length_left: int | None = None  # of the app's own content-length
        self.task: asyncio.Task[None] | None = None

    def wake(self) -> None:
        for waiter in self.waiters:
            if not waiter.done():
                waiter.set_result(None)

    def disconnect(self) -> None:
        """The client is gone, or its request's answer goes nowhere: tell the app."""
        self.disconnected = True
        self.wake()  # a receive() waiting now sees http.disconnect

    def nothing_written(self) -> bool:
        """Whether no byte of the answer is on the wire yet (the head goes out with the
        first body message)."""
        return not self.started or self.head_pending

    async def run(self, app: ASGIApp) -> None:
        conn = self.conn
        try:
            await app(self.scope, self.receive, self.send)
        except Exception as error:
            await self._failed(error)
        else:
            if not self.complete and not self.disconnected and not conn.transport.is_closing():
                where = f"{self.scope['method']} {printable(self.scope['path'])}"
                if self.nothing_written():
                    logger.error("the app returned without answering %s", where)
                    await self._send_500()
                else:
                    logger.error("the app returned before its answer to %s ended", where)
                    conn.close()
        finally:
            conn.server.tasks.discard(self.task)

    async def _failed(self, error: Exception) -> None:
        where = f"{self.scope['method']} {printable(self.scope['path'])}"
        if self.complete:
            # Starlette re-raises what its exception handlers already logged and answered.
            logger.debug("the app raised after answering %s", where, exc_info=error)
            return
        logger.error("the app failed on %s", where, exc_info=error)
        if self.disconnected or self.conn.transport.is_closing():
            return
        if self.nothing_written():
            await self._send_500()
        else:  # half an answer is on the wire: only closing can end it
            self.conn.close()

    async def _send_500(self) -> None:
        # What the app began and did not write is forgotten.
        self.started = self.head_pending = self.chunked = False
        self.length_left = None
        body = error_body(ApiError(50000), answer_locale(self.scope["path"]))
        headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
        await self.send({"type": "http.response.start", "status": 500, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})

    async def receive(self) -> Message:
        conn = self.conn
        if self.expect_continue and self.nothing_written():
            # The client waits for this before it sends the body; the app asks for it now
            # (never once the answer is on the wire: then the head says the connection
            # closes).
            self.expect_continue = False
            if not self.body and not self.message_complete and not self.disconnected:
                conn.transport.write(CONTINUE)
                conn.idle_since = conn.loop.time()  # the body may come now (`stalled`)
        while not (self.body or self.disconnected or self.complete) and (
            self.delivered or not self.message_complete
        ):
            # Wait for more body, the end of the request, the end of the answer or the
            # client leaving (after the whole body, only the last two can come); another
            # receive() woken with this one may have taken what woke it.
            waiter = conn.loop.create_future()
            self.waiters.append(waiter)
            if conn.read_paused:
                conn.update_reading()
            try:
                await waiter
            finally:
                self.waiters.remove(waiter)
        if self.disconnected or self.complete or conn.transport.is_closing():
            return dict(DISCONNECT)
        chunks = self.body
        body = chunks[0] if len(chunks) == 1 else b"".join(chunks)
        chunks.clear()
        self.buffered = 0
        more = not self.message_complete
        self.delivered = not more
        if conn.read_paused:
            conn.update_reading()
        return {"type": "http.request", "body": body, "more_body": more}

    async def send(self, message: Message) -> None:
        conn = self.conn
        if conn.write_paused and not self.disconnected:
            await conn.drain()
        if self.disconnected or conn.transport.is_closing():
            return  # nobody to answer (the client left, or the app closed the connection)
        kind = message["type"]
        if not self.started:
            if kind != "http.response.start":
                raise RuntimeError(f"expected http.response.start, got {kind}")
            self.status = message["status"]
            self.headers = message.get("headers", ())
            self.started = self.head_pending = True
            return  # the head goes out with the first body message: one write
        if kind != "http.response.body" or self.complete:
            raise RuntimeError(f"unexpected ASGI message {kind} after the answer started")
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        parts = self._head(body, more) if self.head_pending else []
        if self.bodyless:
            pass
        elif self.chunked:
            if body:
                parts += (b"%x\r\n" % len(body), body, b"\r\n")
            if not more:
                parts.append(b"0\r\n\r\n")
        else:
            if self.length_left is not None:
                self.length_left -= len(body)
                if self.length_left < 0:
                    raise RuntimeError("the answer is longer than its content-length")
            parts.append(body)
        if parts:
            conn.transport.write(parts[0] if len(parts) == 1 else b"".join(parts))
        self.head_pending = False
        if not more:
            if self.length_left and not self.bodyless:
                raise RuntimeError("the answer is shorter than its content-length")
            self.complete = True
            self.wake()  # a receive() waiting now sees http.disconnect
            conn.answered(self)

    def _head(self, body: bytes, more: bool) -> list[bytes]:
        """The status line and headers, with what the server adds to the app's headers."""
        status = self.status
        parts = [STATUS_LINES.get(status) or _status_line(status)]
        length = framing = close = date = False
        for name, value in self.headers:
            lower = name.lower()
            if lower == b"content-length":
                length = True
                self.length_left = int(value)
            elif lower == b"transfer-encoding":
                framing = True
                self.chunked = b"chunked" in _tokens(value)
            elif lower == b"connection":
                close = b"close" in _tokens(value)
            elif lower == b"date":
                date = True
            parts += (name, b": ", value, b"\r\n")
        no_content = status < 200 or status in (204, 304)
        self.bodyless = no_content or self.head_only
        if no_content:
            pass
        elif not length and not framing:
            if not more:  # all of it now: say how long (for HEAD, what GET would send)
                parts.append(b"content-length: %d\r\n" % len(body))
            elif self.head_only:
                pass
            elif self.scope["http_version"] == "1.1":
                self.chunked = True
                parts.append(b"transfer-encoding: chunked\r\n")
            else:  # HTTP/1.0 has no chunks: the end of the connection ends the body
                self.keep_alive = False
        if self.expect_continue and not self.message_complete:
            # Answered without reading the body the client is holding back: whether it
            # sends it now is up to the client, so this connection cannot carry another.
            self.keep_alive = False
        if close:
            self.keep_alive = False
        elif not self.keep_alive:
            parts.append(b"connection: close\r\n")
        elif self.scope["http_version"] == "1.0":
            parts.append(b"connection: keep-alive\r\n")
        if not date:
            parts.append(self.conn.server.date_line)
        parts.append(b"\r\n")
        return parts


class _Connection(asyncio.Protocol):
    """One client connection: parses requests, runs one exchange at a time, in order."""

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.loop = server.loop
        self.app = server.app
        self.settings = server.settings
        self.parser = self._new_parser()
        self.transport: asyncio.Transport = None  # type: ignore[assignment]
        self.local: tuple[str, int] | None = None
        self.peer: tuple[str, int] | None = None
        # Exchanges parsed and not yet answered, in order; the first one is running.
        self.exchanges: deque[_Exchange] = deque()
        self.parsing: _Exchange | None = None  # the one whose body the parser is reading
        self.url = b""
        self.headers: list[tuple[bytes, bytes]] = []
        self.head_bytes = 0
        self.expect_continue = False
        self.upgrade_ignored = False  # an h2c offer, answered over HTTP/1.1
        self.upgrade_body_left = 0  # of its body, which llhttp leaves to us
        self.ignore_input = False  # after a parse error or a `Connection: close` request
        self.pending_error: bytes | None = None  # a 400 to send after the answers before it
        self.read_paused = False
        self.write_paused = False
        self.writable: asyncio.Future[None] | None = None
        self.idle_since = 0.0
        self.gone = False  # the client left, or the connection is closing
        self.leaving: list[asyncio.Future[None]] | None = None  # `left()`'s, while they wait

    def _new_parser(self) -> httptools.HttpRequestParser:
        parser = httptools.HttpRequestParser(self)
        # Data after a `Connection: close` request is ignored, not a parse error.
        parser.set_dangerous_leniencies(lenient_data_after_close=True)
        return parser

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # a stream transport (uvloop's is no asyncio.Transport subclass)
        self.local = _address(transport.get_extra_info("sockname"))
        self.peer = _address(transport.get_extra_info("peername"))
        self.idle_since = self.loop.time()
        self.server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.ignore_input = True
        for exchange in self.exchanges:  # the running one keeps running (a long poll may)
            exchange.disconnect()
        self.exchanges.clear()
        self._leave()
        self.parsing = None
        self.write_paused = False
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)
        self.server.forget(self)

    def data_received(self, data: bytes) -> None:
        if self.ignore_input:
            return
        if self.upgrade_body_left:
            data = self._upgrade_body(data)
            if not data:
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if not self.upgrade_ignored:
                self.bad_request()
                return
            # The h2c offer is answered over HTTP/1.1: llhttp stopped after the head, so
            # the body is read here, and what follows it is HTTP/1.1 for a new parser.
            self.upgrade_ignored = False
            self.parser = self._new_parser()
            rest = data[upgrade.args[0] :]
            if self.upgrade_body_left:
                rest = self._upgrade_body(rest)
            if rest:
                self.data_received(rest)
        except httptools.HttpParserError:
            self.bad_request()

    def eof_received(self) -> bool | None:
        # The client is gone: close (an exchange in flight sees http.disconnect). A client
        # that only shut its sending side (`nc -N`) looks the same, and gets no answer, as
        # with uvicorn: a long poll must see its client leave, and half-closing is rare.
        return None

    def pause_writing(self) -> None:
        self.write_paused = True

    def resume_writing(self) -> None:
        self.write_paused = False
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    # -- httptools callbacks -------------------------------------------------------------

    def on_message_begin(self) -> None:
        self.idle_since = self.loop.time()  # a head on its way is not idle time
        self.url = b""
        self.headers = []
        self.head_bytes = 0
        self.expect_continue = False

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_bytes += len(url)
        if self.head_bytes > self.settings.max_head_bytes:
            raise _HeadTooLarge

    def on_header(self, name: bytes, value: bytes) -> None:
        if self.parsing is not None:
            return  # a trailer of a chunked body: never one of the request's headers
        self.head_bytes += len(name) + len(value) + 4
        if self.head_bytes > self.settings.max_head_bytes:
            raise _HeadTooLarge
        name = name.lower()
        if name == b"expect" and value.lower() == b"100-continue":
            self.expect_continue = True
        self.headers.append((name, value))

    def on_headers_complete(self) -> None:
        parser = self.parser
        if parser.should_upgrade():  # httptools raises HttpParserUpgrade after the request
            length = self._h2c_offer()
            if length is None:
                return  # WebSocket and the like: not served (400)
            self.upgrade_ignored = True  # RFC 9110 §7.8: the server may ignore the offer
            self.upgrade_body_left = length
        url = httptools.parse_url(self.url)
        raw_path: bytes = url.path or b"/"  # none in `http://host` (absolute form)
        path = raw_path.decode("ascii")  # llhttp lets only ASCII through
        if "%" in path:
            path = urllib.parse.unquote(path)
        keep_alive = parser.should_keep_alive()
        http_version = parser.get_http_version()
        scope: Scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": http_version,
            "server": self.local,
            "client": self.peer,
            "scheme": "http",
            "method": parser.get_method().decode("ascii"),
            "root_path": "",
            "path": path,
            "raw_path": raw_path,
            "query_string": url.query or b"",
            "headers": self.headers,
            "state": self.server.state.copy(),
            "extensions": {TRANSPORT_EXTENSION: self.transport, CLIENT_LEFT_EXTENSION: self.left},
        }
        # An HTTP/1.0 client knows no 100 Continue: its expectation is ignored (RFC 9110).
        expect_continue = self.expect_continue and http_version != "1.0"
        exchange = _Exchange(self, scope, keep_alive, expect_continue)
        self.parsing = exchange
        self.exchanges.append(exchange)
        if len(self.exchanges) == 1:
            self.start(exchange)
        else:  # pipelined: it waits its turn, and reading waits with it
            self.update_reading()

    def _upgrade_body(self, data: bytes) -> bytes:
        """The body of an h2c request, from `data`; returns what follows it."""
        part = data[: self.upgrade_body_left]
        self.upgrade_body_left -= len(part)
        if part:
            self.on_body(part)
        if not self.upgrade_body_left:
            self.on_message_complete()
        return data[len(part) :]

    def _h2c_offer(self) -> int | None:
        """The body length of an `Upgrade: h2c` request (`curl --http2 http://...`), which
        is answered as HTTP/1.1; None for any other upgrade, or a chunked body."""
        offered: list[bytes] = []
        length = 0
        for name, value in self.headers:
            if name == b"upgrade":
                offered += _tokens(value)
            elif name == b"transfer-encoding":
                return None
            elif name == b"content-length":
                length = int(value)  # llhttp has checked it
        return length if offered == [b"h2c"] else None

    def on_body(self, body: bytes) -> None:
        exchange = self.parsing
        if exchange is None:
            return  # an upgrade
        if exchange.complete:  # a body the answer did not wait for: dropped
            self.idle_since = self.loop.time()  # the client is still sending it
            return
        exchange.expect_continue = False  # the client sends it without waiting
        self.idle_since = self.loop.time()  # the body is coming (`stalled`)
        exchange.body.append(body)
        exchange.buffered += len(body)
        exchange.wake()
        if exchange.buffered > self.settings.body_high_water:
            self.update_reading()

    def on_message_complete(self) -> None:
        exchange = self.parsing
        if exchange is None or self.upgrade_body_left:
            return  # an upgrade; or the head of an h2c offer, whose body comes next
        self.parsing = None
        exchange.message_complete = True
        if not exchange.keep_alive:
            self.ignore_input = True  # `Connection: close` (or HTTP/1.0): the last request
        if exchange.complete:  # answered before its body ended; the body is now read
            if not self.exchanges:
                self.idle_since = self.loop.time()
            self.update_reading()
        else:
            exchange.wake()

    # -- the exchanges -------------------------------------------------------------------

    def start(self, exchange: _Exchange) -> None:
        exchange.task = task = self.loop.create_task(exchange.run(self.app))
        self.server.tasks.add(task)

    def answered(self, exchange: _Exchange) -> None:
        """The app sent the whole answer of the first exchange: on to the next one."""
        if not exchange.keep_alive:
            self.finish()
            return
        self.exchanges.popleft()
        if self.exchanges:
            self.start(self.exchanges[0])
        elif self.pending_error is not None:
            self.transport.write(self.pending_error)
            self.finish()
            return
        else:  # nothing owed: idle, or reading the rest of a body the answer did not wait for
            self.idle_since = self.loop.time()
        self.update_reading()

    def update_reading(self) -> None:
        """Read while the request being parsed may go on: pause while requests are
        waiting their turn or the body not yet received by the app is large."""
        parsing = self.parsing
        pause = len(self.exchanges) > 1 or (
            parsing is not None
            and not parsing.complete
            and parsing.buffered > self.settings.body_high_water
        )
        if pause != self.read_paused and not self.transport.is_closing():
            self.read_paused = pause
            if pause:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()
                self.idle_since = self.loop.time()  # a paused body was not a stalled one

    async def drain(self) -> None:
        if self.writable is None or self.writable.done():
            self.writable = self.loop.create_future()
        await self.writable

    def bad_request(self) -> None:
        """Not HTTP (or not HTTP served here): 400 in the error shape, then close, after
        the answers to the requests before it."""
        self.ignore_input = True
        path = self.url.decode("latin-1") if self.url else "/en/"
        body = error_body(ApiError.invalid_parameter("request", "invalid"), answer_locale(path))
        answer = b"".join(
            (
                STATUS_LINES[400],
                b"content-type: application/json\r\n",
                b"content-length: %d\r\n" % len(body),
                b"connection: close\r\n",
                self.server.date_line,
                b"\r\n",
                body,
            )
        )
        broken = self.parsing
        if broken is not None:  # the request's own body broke off: it gets the 400
            self.parsing = None
            if broken.complete:  # answered already; only the rest of its body was left
                self.close()
                return
            if broken is self.exchanges[0]:
                if broken.started:
                    self.close()
                    return
                broken.disconnect()  # the app's answer, if it comes, goes nowhere
            self.exchanges.remove(broken)
        if self.exchanges:
            self.pending_error = answer
            self.update_reading()
        else:
            self.transport.write(answer)
            self.finish()

    def close(self) -> None:
        """Close now (what is written still goes out first)."""
        self._drop_exchanges()
        self.transport.close()

    def finish(self) -> None:
        """Close after the last answer, gently: send FIN once it is out, then read and drop
        what the client still sends until it closes too (closing with unread input would
        send RST, which can destroy the answer before the client reads it). An idle
        connection to the idle timeout, so a client that never closes is closed then."""
        self._drop_exchanges()
        self.idle_since = self.loop.time()
        if self.transport.is_closing():
            return
        if self.read_paused:
            self.read_paused = False
            self.transport.resume_reading()
        self.transport.write_eof()

    def _drop_exchanges(self) -> None:
        for exchange in self.exchanges:
            if not exchange.complete:
                exchange.disconnect()
        self.exchanges.clear()
        self._leave()
        self.parsing = None
        self.ignore_input = True

    def left(self) -> asyncio.Future[None]:
        """A future done once the client has left (`CLIENT_LEFT_EXTENSION`): what a long
        poll waits on besides its answer, without a task of its own as `receive()` needs.
        The connection's, not the exchange's: the scope holds it, and a scope that held its
        exchange would make every request a reference cycle for the collector."""
        future: asyncio.Future[None] = self.loop.create_future()
        if self.gone:
            future.set_result(None)
        else:  # those of earlier waits that ended are dropped
            leaving = [waiting for waiting in self.leaving or () if not waiting.done()]
            leaving.append(future)
            self.leaving = leaving
        return future

    def _leave(self) -> None:
        self.gone = True
        leaving, self.leaving = self.leaving, None
        for future in leaving or ():
            if not future.done():
                future.set_result(None)

    def is_idle(self) -> bool:
        """No answer owed: nothing parsed, or only the rest of an answered request's body."""
        parsing = self.parsing
        return not self.exchanges and (parsing is None or parsing.complete)

    def stalled(self, now: float) -> bool:
        """A request's body stopped coming: nothing for `body_timeout` while reading (not
        while the client waits for its 100 Continue, nor while reading is paused)."""
        parsing = self.parsing
        return (
            parsing is not None
            and not parsing.complete
            and not parsing.expect_continue
            and not self.read_paused
            and now - self.idle_since >= self.settings.body_timeout
        )

    def shutdown(self) -> None:
        """The server stops: close now if idle, else after the answer in flight (whose
        request may still be sending its body)."""
        if not self.exchanges:
            if self.parsing is None:
                self.close()
            else:  # answered; the rest of its body is read and dropped until the client closes
                self.finish()
            return
        if self.parsing is None:
            self.ignore_input = True
        for exchange in self.exchanges:
            exchange.keep_alive = False


class HttpServer:
    """Serves an ASGI app on listening sockets until `stop()`: `await server.serve(...)`."""

    def __init__(self, app: ASGIApp, settings: ServerSettings | None = None) -> None:
        self.app = app
        self.settings = ServerSettings() if settings is None else settings
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Task[None]] = set()  # exchanges running, clients gone or not
        self.state: dict[str, Any] = {}  # the lifespan's state, copied into each request
        self.date_line = _date_line()
        self.started = False
        self._stop: asyncio.Future[None] | None = None
        self._stopping = False
        self._drained: asyncio.Future[None] | None = None
        self._listeners: list[asyncio.Server] = []
        self._ticker: asyncio.TimerHandle | None = None
        self._lifespan: _Lifespan | None = None

    async def serve(
        self, sockets: Iterable[socket.socket], *, ready: Callable[[], None] | None = None
    ) -> None:
        """Start the app (lifespan), listen on `sockets` (bound, not yet listening), call
        `ready`, serve until `stop()`, then shut down gracefully. Raises StartupFailed if
        the app's startup fails."""
        self.loop = asyncio.get_running_loop()
        self._stop = self.loop.create_future()
        if self._stopping:
            return
        self._lifespan = _Lifespan(self.app, self.state)
        await self._lifespan.startup()
        try:
            for sock in sockets:
                listener = await self.loop.create_server(
                    lambda: _Connection(self), sock=sock, backlog=self.settings.backlog
                )
                self._listeners.append(listener)
            self._tick()
            self.started = True
            if ready is not None:
                ready()
            if not self._stopping:
                await self._stop
        finally:
            await self._shutdown()

    def stop(self) -> None:
        """Begin the graceful shutdown (from the loop's thread; idempotent)."""
        self._stopping = True
        if self._stop is not None and not self._stop.done():
            self._stop.set_result(None)

    def _tick(self) -> None:
        """Once a second (or more often for short timeouts): the date header, and idle
        connections past the idle timeout and stalled bodies closed. One timer for all
        connections costs less than a timer per request."""
        now = self.loop.time()
        self.date_line = _date_line()
        timeout = self.settings.idle_timeout
        expired = [
            conn
            for conn in self.connections
            if (conn.is_idle() and now - conn.idle_since >= timeout) or conn.stalled(now)
        ]
        for conn in expired:
            conn.close()
        shortest = min(1.0, timeout / 4, self.settings.body_timeout / 4)
        self._ticker = self.loop.call_at(now + shortest, self._tick)

    def forget(self, conn: _Connection) -> None:
        self.connections.discard(conn)
        self._check_drained()

    def _check_drained(self) -> None:
        drained = self._drained
        if drained is not None and not drained.done() and not self.connections:
            drained.set_result(None)

    async def _shutdown(self) -> None:
        self._stopping = True
        self.started = False
        for listener in self._listeners:
            listener.close()
        if self._ticker is not None:
            self._ticker.cancel()
        self._drained = self.loop.create_future()
        for conn in list(self.connections):
            conn.shutdown()
        self._check_drained()
        # In flight: answered within the grace, or cancelled. Clients that left are not
        # waited for (their long polls answer nobody).
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.settings.graceful_timeout):
                await self._drained
        tasks = list(self.tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        for conn in list(self.connections):
            conn.transport.abort()
        if self.connections:  # abort() calls connection_lost soon: let it
            self._drained = self.loop.create_future()
            self._check_drained()
            await self._drained
        for listener in self._listeners:
            await listener.wait_closed()
        self._listeners.clear()
        if self._lifespan is not None:
            await self._lifespan.shutdown()
            self._lifespan = None


class _Lifespan:
    """The ASGI lifespan protocol: startup before listening, shutdown after the last answer.

    An app that returns without a word does not use the lifespan (served all the same);
    one that fails its startup (an exception, or `lifespan.startup.failed`) stops the
    server with StartupFailed.
    """

    def __init__(self, app: ASGIApp, state: dict[str, Any]) -> None:
        self.app = app
        self.state = state
        self.inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.answers: asyncio.Queue[Message | BaseException | None] = asyncio.Queue()
        self.task: asyncio.Task[None] | None = None
        self.running = False

    async def startup(self) -> None:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}}
        scope["state"] = self.state
        self.task = asyncio.get_running_loop().create_task(self._run(scope))
        await self.inbox.put({"type": "lifespan.startup"})
        answer = await self.answers.get()
        if answer is None:  # the app does not use the lifespan
            return
        if isinstance(answer, BaseException):
            raise StartupFailed(f"the app's startup failed: {_one_line(answer)}")
        if answer["type"] == "lifespan.startup.failed":
            await self._finish(cancel=True)
            raise StartupFailed(f"the app's startup failed: {_last_line(answer)}")
        self.running = True

    async def shutdown(self) -> None:
        if not self.running:
            await self._finish()
            return
        self.running = False
        await self.inbox.put({"type": "lifespan.shutdown"})
        answer = await self.answers.get()
        if isinstance(answer, BaseException):
            logger.error("the app's shutdown failed: %s", _one_line(answer))
        elif answer is not None and answer["type"] == "lifespan.shutdown.failed":
            logger.error("the app's shutdown failed: %s", _last_line(answer))
        await self._finish()

    async def _finish(self, *, cancel: bool = False) -> None:
        if self.task is not None:
            if cancel:  # it said it failed: nothing more to wait for
                self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)

    async def _run(self, scope: Scope) -> None:
        try:
            await self.app(scope, self.inbox.get, self._send)
        except Exception as error:
            await self.answers.put(error)
        else:
            await self.answers.put(None)

    async def _send(self, message: Message) -> None:
        await self.answers.put(message)


def _one_line(error: BaseException) -> str:
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return " ".join(text.split())


def _last_line(message: Message) -> str:
    # Starlette puts a whole traceback here; its last line names the exception.
    lines = [line.strip() for line in str(message.get("message", "")).splitlines()]
    return next((line for line in reversed(lines) if line), "no reason given")
