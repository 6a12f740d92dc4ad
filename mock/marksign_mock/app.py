"""The simulator as an ASGI app: a Starlette application assembled from the other modules.

The routes come from the spec (`routing`) and the control plane (`control`); errors are
rendered by `rendering`'s exception handlers; state lives in the store (`stores.Store`: in
memory, or in Redis); one log line per request comes from `RequestLog`. The lifespan opens
and closes the store and starts and stops the periodic sweep of expired sessions.
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
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import MockConfig
from .control import ControlPlane, ScriptBook, ScriptFile
from .exceptions import ApiError
from .journal import JournalStore, Scrubber
from .models import SessionStore
from .recording import JournalRecorder, Recording
from .rendering import exception_handlers, printable
from .responses import SigningResponses
from .routing import OperationDispatch, operation_routes
from .scripts import ScriptStore
from .stores import Store, as_store, open_store

logger = logging.getLogger("marksign_mock")

SWEEP_INTERVAL: Final = 1.0  # seconds between sweeps of expired sessions


class RequestLog:
    """ASGI middleware: one line per request (method, path, status, time), no secrets."""

    def __init__(self, app: ASGIApp, scrubber: Scrubber) -> None:
        self.app = app
        self.scrubber = scrubber  # a client may send an access token as the session token

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
                "%s %s %d %.1fms",
                scope["method"],
                printable(self.scrubber.text(scope["path"])),
                status,
                elapsed,
            )


class MockApp:
    """The simulator. `store` holds its sessions, scripts and journal, `config` its settings,
    `spec` its contract.

    `startup()`/`shutdown()` open and close the store and start and stop the sweep of
    expired sessions; the ASGI lifespan calls them (tests that drive the app without a
    server call them by hand). `scripts_at_start` (a scenario file) are armed at startup.
    """

    def __init__(
        self,
        config: MockConfig,
        spec: Spec,
        store: Store,
        *,
        scripts_at_start: ScriptFile | None = None,
    ) -> None:
        self.config = config
        self.spec = spec
        self.store = store
        self.scripts_at_start = scripts_at_start
        max_body = config.max_body_bytes or spec.limits.request_body_max_bytes
        self.responses = SigningResponses(store, config.access_tokens, max_body)
        self.control = ControlPlane(store, spec, read_json=self.responses.read_json)
        self._sweeper: asyncio.Task[None] | None = None
        # A journal of size 0 keeps nothing: nothing records then.
        recording = (
            Recording(store.journal, self.responses.access_tokens) if config.journal_size else None
        )
        operations = list(operation_routes(spec, self.responses, recording))
        routes: list[BaseRoute] = [*operations, *self.control.routes()]
        self.starlette = Starlette(
            routes=routes,
            exception_handlers=dict(exception_handlers(max_body)),
            lifespan=self._lifespan,
        )
        self.starlette.router.redirect_slashes = False
        # Outermost first: the log line, then the operations straight to their endpoints
        # (`routing.OperationDispatch`, each recording its own exchange) and everything else
        # to Starlette (the gateway's other paths through the journal's recorder).
        fallback: ASGIApp = self.starlette
        if recording is not None:
            fallback = JournalRecorder(fallback, recording)
        self._app = RequestLog(
            OperationDispatch(operations, fallback), Scrubber(self.responses.access_tokens)
        )

    @property
    def scripts(self) -> ScriptStore:
        return self.store.scripts

    @property
    def journal(self) -> JournalStore:
        return self.store.journal

    @property
    def routes(self) -> list[BaseRoute]:
        return self.starlette.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._app(scope, receive, send)

    # -- lifespan ------------------------------------------------------------------------

    async def startup(self) -> None:
        """Open the store, arm `scripts_at_start`, and start sweeping expired sessions
        periodically (ASGI lifespan startup)."""
        if self._sweeper is not None:
            return
        await self.store.open()
        scripts, self.scripts_at_start = self.scripts_at_start, None
        if scripts is not None:
            armed = await ScriptBook(self.spec).arm(self.store.scripts, scripts)
            logger.info("armed %d scripts of %s", armed, scripts.path)
        self._sweeper = asyncio.create_task(self._sweep_forever())

    async def shutdown(self) -> None:
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await self.store.aclose()

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
                await self.store.sweep()
            except ApiError:
                pass  # the store is unreachable: it logged that once, and says when it is back
            except Exception:
                logger.exception("sweeping expired sessions failed")


def create_app(
    config: MockConfig | None = None,
    *,
    store: Store | SessionStore | None = None,
    scripts_at_start: ScriptFile | None = None,
) -> MockApp:
    """A new simulator with the store that `config.store_url` names (`app.store`): empty
    in memory, or the shared one in Redis.

    `store` replaces that store, e.g. one with a fake clock (a bare `SessionStore` is put
    in memory). Raises OSError if the spec cannot be read, `marksign_spec.SpecError` if it
    cannot be used, `stores.StoreUnavailable` if the store cannot be used here.
    """
    config = MockConfig() if config is None else config
    spec = load_spec(config.spec_path)
    chosen = open_store(config) if store is None else as_store(store, config.journal_size)
    return MockApp(config, spec, chosen, scripts_at_start=scripts_at_start)
