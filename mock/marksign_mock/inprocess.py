"""A synchronous httpx transport that calls the simulator in process, without a socket.

`httpx.Client(transport=InProcessTransport(app))` is a plain httpx.Client, so a generated
client takes it with `set_httpx_client(...)`. Every request runs on one event loop in a
background thread, so long polls, the person's timers and the periodic sweep all work as
they do behind uvicorn. (Starlette's TestClient does the same, but it now warns unless
`httpx2` is installed, and it is then an `httpx2.Client`.)
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

from .app import MockApp

T = TypeVar("T")


class InProcessTransport(httpx.BaseTransport):
    """Serves `app` from an event loop in a daemon thread; `close()` stops it."""

    def __init__(self, app: MockApp) -> None:
        self.app = app
        self._asgi = httpx.ASGITransport(app=app)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="marksign-mock-inprocess", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._run(app.startup())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise RuntimeError("the in-process transport is closed")
        # The app reads the body on the loop's thread; keep the request's own headers
        # (a chunked request stays without Content-Length).
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            stream=httpx.ByteStream(request.read()),
            extensions=request.extensions,
        )

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(forwarded)
            return response.status_code, response.headers, await response.aread()

        status, headers, content = self._run(call())
        return httpx.Response(status, headers=headers, content=content, request=request)

    def reset(self) -> int:
        """Forget every session, on the app's loop (long polls answer 40402)."""

        async def reset() -> int:
            return self.app.store.reset()

        return self._run(reset())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self.reset()  # wake long polls still waiting, then stop the loop
            self._run(self.app.shutdown())
            self._run(self._loop.shutdown_default_executor())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()
