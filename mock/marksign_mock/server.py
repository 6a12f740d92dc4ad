"""Serving the app on a real socket with uvicorn: settings, and a background-thread server."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from types import TracebackType
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import MockApp
from .errors import ApiError, locale_of
from .models import SessionStore


class ErrorShapedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, but a request that is not HTTP at all (a garbage request
    line, a non-numeric Content-Length) gets the API's error shape (400 / 40001 naming
    `[request]`) instead of uvicorn's plain-text 400: every answer of the simulator is JSON.
    """

    def send_400_response(self, msg: str) -> None:
        path = self.url.decode("latin-1") if self.url else "/en/"
        body = ApiError.invalid_parameter("request", "invalid").body(locale_of(path))
        self.transport.write(
            b"HTTP/1.1 400 Bad Request\r\n"
            b"content-type: application/json\r\n"
            b"content-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (len(body), body)
        )
        self.transport.close()


def uvicorn_config(app: MockApp, *, log_level: str = "info", **overrides: Any) -> uvicorn.Config:
    """uvicorn settings for the simulator: httptools, asyncio's loop, no access log.

    The event loop is the standard library's, not uvloop: under 200 busy keep-alive
    connections uvloop served a few of them late (p99 ~1 s against ~50 ms with asyncio's
    loop, measured with wrk in bench/), for only ~8% more requests per second.

    Each request is logged by the app itself (one line, no secrets). A long poll holds its
    connection for up to the session timeout, so shutdown does not wait for them.
    """
    settings: dict[str, Any] = {
        "host": app.config.host,
        "port": app.config.port,
        "http": ErrorShapedHttpToolsProtocol,
        "loop": "asyncio",
        "lifespan": "on",
        "access_log": False,
        "server_header": False,
        "log_config": None,
        "log_level": log_level,
        "timeout_graceful_shutdown": 1,
        "backlog": 4096,
    }
    settings.update(overrides)
    return uvicorn.Config(app, **settings)


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class BackgroundServer:
    """The simulator on 127.0.0.1 (a free port by default), served from a daemon thread.

    Use it as a context manager; `base_url` is set once it listens. `reset()` is safe to
    call from any thread; `store` is for reading (it belongs to the server's event loop).
    """

    def __init__(self, app: MockApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.base_url = ""
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None

    @property
    def store(self) -> SessionStore:
        return self.app.store

    def start(self, timeout: float = 10.0) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self.base_url = base_url(self.host, self.port)
        server = uvicorn.Server(uvicorn_config(self.app, log_level="warning"))
        self._server = server
        self._thread = threading.Thread(
            target=self._run, args=(server, sock), name="marksign-mock", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the simulator did not start: {self._failure!r}")
            time.sleep(0.005)

    def _run(self, server: uvicorn.Server, sock: socket.socket) -> None:
        async def serve() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve(sockets=[sock])

        try:
            asyncio.run(serve())
        except BaseException as failure:  # reported by start(); a thread cannot raise
            self._failure = failure
        finally:
            sock.close()

    def reset(self) -> int:
        """Forget every session (long polls answer 40402); returns how many there were."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return self.store.reset()

        async def reset() -> int:
            return self.store.reset()

        return asyncio.run_coroutine_threadsafe(reset(), loop).result(timeout=10)

    def stop(self) -> None:
        if self._server is None or self._thread is None:
            return
        if self._server.started and self._thread.is_alive():
            self.reset()  # answer waiting long polls now, so shutdown need not wait
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._server = None

    def __enter__(self) -> BackgroundServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
