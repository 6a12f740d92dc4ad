"""The simulator as an ASGI app: a Starlette application assembled from the other modules.

The routes come from the spec (`routing`) and the control plane (`control`); errors are
rendered by `rendering`'s exception handlers; state lives in `models.SessionStore`; one
log line per request comes from `RequestLog`. The lifespan starts and stops the periodic
sweep of expired sessions.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Final

from marksign_spec import Spec, load_spec
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import MockConfig
from .control import control_routes
from .models import SessionStore
from .rendering import exception_handlers, printable
from .responses import SigningResponses
from .routing import operation_routes

logger = logging.getLogger("marksign_mock")

SWEEP_INTERVAL: Final = 1.0  # seconds between sweeps of expired sessions


class RequestLog:
    """ASGI middleware: one line per request (method, path, status, time), no secrets."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not logger.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self.app(scope, receive, sending)
        if status:  # nothing is sent to a client that left mid-body
            elapsed = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %d %.1fms", scope["method"], printable(scope["path"]), status, elapsed
            )


class MockApp:
    """The simulator. `store` holds its sessions, `config` its settings, `spec` its contract.

    `startup()`/`shutdown()` start and stop the sweep of expired sessions; the ASGI
    lifespan calls them (tests that drive the app without a server call them by hand).
    """

    def __init__(self, config: MockConfig, spec: Spec, store: SessionStore) -> None:
        self.config = config
        self.spec = spec
        self.store = store
        max_body = config.max_body_bytes or spec.limits.request_body_max_bytes
        self.responses = SigningResponses(store, config.access_tokens, max_body)
        self._sweeper: asyncio.Task[None] | None = None
        routes: list[BaseRoute] = [
            *operation_routes(spec, self.responses),
            *control_routes(store, spec.text),
        ]
        self.starlette = Starlette(
            routes=routes,
            middleware=[Middleware(RequestLog)],
            exception_handlers=dict(exception_handlers(max_body)),
            lifespan=self._lifespan,
        )
        self.starlette.router.redirect_slashes = False

    @property
    def routes(self) -> list[BaseRoute]:
        return self.starlette.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.starlette(scope, receive, send)

    # -- lifespan ------------------------------------------------------------------------

    async def startup(self) -> None:
        """Start sweeping expired sessions periodically (ASGI lifespan startup)."""
        if self._sweeper is None:
            self._sweeper = asyncio.create_task(self._sweep_forever())

    async def shutdown(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper

    @contextlib.asynccontextmanager
    async def _lifespan(self, _: object) -> AsyncIterator[None]:
        await self.startup()
        try:
            yield
        finally:
            await self.shutdown()

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(SWEEP_INTERVAL)
            try:
                self.store.sweep()
            except Exception:
                logger.exception("sweeping expired sessions failed")


def create_app(config: MockConfig | None = None, *, store: SessionStore | None = None) -> MockApp:
    """A new simulator with its own empty store (`app.store`).

    `store` replaces the store built from `config`, e.g. one with a fake clock. Raises
    OSError if the spec cannot be read, `marksign_spec.SpecError` if it cannot be used.
    """
    config = MockConfig() if config is None else config
    spec = load_spec(config.spec_path)
    return MockApp(config, spec, SessionStore.from_config(config) if store is None else store)
