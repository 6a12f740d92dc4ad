"""HTTP only: routing, parsing, validation and serialisation, on Starlette.

One Starlette `Route` per path of openapi.yaml (both locales) and one per `/_mock/`
control endpoint, in a Starlette `Router`; `ApiError` (and anything unexpected) becomes the
API's error shape in exception handlers installed by Starlette's `ExceptionMiddleware`.
orjson both ways, request schemas compiled once from openapi.yaml (`spec`). State lives in
`models.SessionStore`; error codes and messages in `errors`.

Not the `Starlette` application class: its outermost `ServerErrorMiddleware` re-raises an
unexpected exception after answering 500 (httpx's ASGITransport then raises it in the
caller's test), and each middleware layer costs time on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import orjson
from starlette.exceptions import HTTPException
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Match, Route, Router
from starlette.types import ExceptionHandler, Message, Receive, Scope, Send

from . import crypto
from .config import MockConfig
from .errors import ApiError, locale_of
from .models import SessionStore
from .spec import TEMPLATE_PARAMETER, Operation, Spec, default_spec_path, load_spec

logger = logging.getLogger("marksign_mock")

JSON: Final = "application/json"  # exactly this Content-Type: no charset parameter
_JSON_BYTES: Final = JSON.encode()
SWEEP_INTERVAL: Final = 1.0  # seconds between sweeps of expired sessions

# operationId -> the MockApp method that serves it. Every operation of openapi.yaml
# needs one; tests/mock checks that none is missing.
HANDLERS: Final[dict[str, str]] = {
    "initializeHashSigning": "_initialize",
    "initializeHashSigningEn": "_initialize",
    "getHashSigningStatus": "_status",
    "getHashSigningStatusEn": "_status",
}

# An operation's handler: the validated body and the path parameters -> the JSON answer.
Handler = Callable[[dict[str, Any], Mapping[str, str]], Awaitable[bytes]]
Endpoint = Callable[[Request], Awaitable[Response]]


class JSONBytesResponse(Response):
    """`application/json` (no charset), the body serialised with orjson unless already bytes."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)

    def init_headers(self, headers: Mapping[str, str] | None = None) -> None:
        # Starlette's, for the one case here (a body, no caller-set length or type), in
        # fewer steps: this runs for every answer.
        self.raw_headers = [
            (b"content-length", b"%d" % len(self.body)),
            (b"content-type", _JSON_BYTES),
        ]
        if headers:
            self.raw_headers += [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ]


class _MethodNotAllowed(ApiError):
    def __init__(self, allow: str) -> None:
        super().__init__(40500)
        self.allow = allow


def _path_regex(template: str) -> re.Pattern[str]:
    """The regex of a path template: like Starlette's own, except that a parameter may be
    empty (its validator then names it, 40001 "blank") and the path must end where the
    template does (Starlette's `$` also matches before a trailing newline, `%0A`)."""
    pattern, end = "", 0
    for match in TEMPLATE_PARAMETER.finditer(template):
        pattern += re.escape(template[end : match.start()]) + f"(?P<{match[1]}>[^/]*)"
        end = match.end()
    return re.compile(pattern + re.escape(template[end:]) + r"\Z")


class ExactRoute(Route):
    """A Starlette `Route` that serves exactly its methods and paths.

    A GET route does not also serve HEAD, and a wrong method raises 40500 with `Allow`
    listing every method of the path (sorted), rendered in the error shape. `matches` does
    what Starlette's does for `str` parameters in fewer steps: the router calls it for
    every route until one matches, on every request.
    """

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, methods: list[str], name: str
    ) -> None:
        super().__init__(path, endpoint, methods=methods, name=name)
        self._methods = frozenset(method.upper() for method in methods)
        self.methods = set(self._methods)  # Route.__init__ adds HEAD to a GET route
        self.allow = ", ".join(sorted(self._methods))
        self.path_regex = _path_regex(path)
        self._match = self.path_regex.match

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] != "http":
            return Match.NONE, {}
        # The path as the server gives it: the simulator is served at the root.
        found = self._match(scope["path"])
        if found is None:
            return Match.NONE, {}
        path_params: dict[str, Any] = found.groupdict()
        if "path_params" in scope:
            path_params = {**scope["path_params"], **path_params}
        child_scope = {"endpoint": self.endpoint, "path_params": path_params}
        return (Match.FULL if scope["method"] in self._methods else Match.PARTIAL), child_scope

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] not in self._methods:  # the path matched, the method did not
            raise _MethodNotAllowed(self.allow)
        await self.app(scope, receive, send)


class OperationEndpoint:
    """The ASGI endpoint of one path of openapi.yaml: read the JSON body, validate it and
    the path parameters against the spec, check the access token, call the handler.

    An ASGI app rather than a `request -> response` function, so that an `ApiError` goes
    through one of Starlette's exception-handling wrappers (the middleware's), not two.
    """

    def __init__(self, operations: Mapping[str, tuple[Operation, Handler]], app: MockApp) -> None:
        self.operations = {method: op for method, (op, _) in operations.items()}
        self._bound = dict(operations)
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        op, handler = self._bound[scope["method"]]
        app = self._app
        data = await app.read_json(scope, receive)
        if op.body is not None:
            op.body.check(data)  # the body first: the same input, the same 40001
        path_params: dict[str, str] = scope["path_params"]
        for name, value in path_params.items():
            validator = op.path_params.get(name)
            if validator is not None:
                validator.check(value)
        app.check_access_token(data)
        response = JSONBytesResponse(await handler(data, path_params))
        await response(scope, receive, send)


class OperationRoute(ExactRoute):
    """The operations of openapi.yaml on one path (`operations`: by method)."""

    def __init__(
        self, path: str, operations: Mapping[str, tuple[Operation, Handler]], app: MockApp
    ) -> None:
        endpoint = OperationEndpoint(operations, app)
        self.operations = endpoint.operations
        name = "|".join(op.operation_id for op in self.operations.values())
        super().__init__(path, endpoint, methods=list(operations), name=name)


class MockApp:
    """The simulator as an ASGI app. `store` holds its sessions; `config` its settings.

    `router` is the Starlette router; `routes` its routes (`OperationRoute`s for the spec's
    paths, then the control endpoints). `startup()`/`shutdown()` start and stop the sweep of
    expired sessions; the ASGI lifespan calls them.
    """

    def __init__(self, config: MockConfig, spec: Spec, store: SessionStore) -> None:
        self.config = config
        self.spec = spec
        self.store = store
        # Compared against every one of them, in constant time; never logged.
        self._access_tokens = tuple(t.encode() for t in sorted(config.access_tokens))
        self._max_body = config.max_body_bytes
        self._sweeper: asyncio.Task[None] | None = None
        self.router = Router(
            self._routes(), redirect_slashes=False, default=self._not_found, lifespan=self._lifespan
        )
        handlers: dict[Any, ExceptionHandler] = {
            ApiError: self._api_error,
            HTTPException: self._http_exception,
            ClientDisconnect: self._client_gone,
            Exception: self._unexpected,
        }
        self._asgi = ExceptionMiddleware(self.router, handlers=handlers)

    @property
    def routes(self) -> list[BaseRoute]:
        return self.router.routes

    def _routes(self) -> list[BaseRoute]:
        by_path: dict[str, dict[str, tuple[Operation, Handler]]] = {}
        for op in self.spec.operations:
            name = HANDLERS.get(op.operation_id)
            if name is None:
                logger.warning("operation %s of openapi.yaml has no handler", op.operation_id)
                continue
            by_path.setdefault(op.path, {})[op.method] = (op, getattr(self, name))
        api = [OperationRoute(path, ops, self) for path, ops in by_path.items()]
        # The router tries routes in order, each costing time: the templated status paths
        # (polled again and again) go first, except that a fixed path must come before a
        # templated one that would match it too (the fixed one is meant for it).
        templated = [r for r in api if "{" in r.path]
        fixed = [r for r in api if "{" not in r.path]
        shadowed = [f for f in fixed if any(t.path_regex.match(f.path) for t in templated)]
        routes: list[BaseRoute] = [
            *shadowed,
            *templated,
            *(f for f in fixed if f not in shadowed),
        ]
        control: list[tuple[str, str, Endpoint]] = [
            ("/_mock/certificate.pem", "GET", self._certificate),
            ("/_mock/openapi.yaml", "GET", self._openapi),
            ("/_mock/reset", "POST", self._reset),
        ]
        for path, method, endpoint in control:
            routes.append(ExactRoute(path, endpoint, methods=[method], name=endpoint.__name__))
        return routes

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            if logger.isEnabledFor(logging.INFO):
                await self._logged(scope, receive, send)
            else:
                await self._asgi(scope, receive, send)
        elif kind == "lifespan":
            await self.router(scope, receive, send)
        # websocket: not served; returning without accepting makes the server refuse it.

    async def _logged(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request and log one line: method, path, status and time, no secrets."""
        started = time.perf_counter()
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        await self._asgi(scope, receive, sending)
        if status:  # nothing is sent to a client that left mid-body
            elapsed = (time.perf_counter() - started) * 1000
            logger.info(
                "%s %s %d %.1fms", scope["method"], _printable(scope["path"]), status, elapsed
            )

    async def _not_found(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise ApiError(40400)

    # -- exception handlers: the error shape ---------------------------------------------

    async def _api_error(self, request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        headers = {"allow": error.allow} if isinstance(error, _MethodNotAllowed) else None
        body = error.body(locale_of(request.scope["path"]))
        return JSONBytesResponse(body, status_code=error.status, headers=headers)

    async def _http_exception(self, request: Request, error: Exception) -> Response:
        # Starlette's own (none is expected: routing and body limits are the app's).
        assert isinstance(error, HTTPException)
        allow = (error.headers or {}).get("Allow")
        api_error = {
            404: ApiError(40400),
            405: _MethodNotAllowed(allow or ""),
            413: ApiError(41300, limit=self._max_body),
            415: ApiError(41500),
        }.get(error.status_code, ApiError(50000))
        return await self._api_error(request, api_error)

    async def _client_gone(self, _: HTTPConnection, error: Exception) -> None:
        """The client disconnected before sending its whole body: nobody to answer.

        (A handler that returns no response sends nothing; Starlette types those as taking
        any connection, hence `HTTPConnection`.)"""

    async def _unexpected(self, request: Request, error: Exception) -> Response:
        # A bug, never bad input: answer in the error shape all the same.
        path = request.scope["path"]
        logger.error("unexpected error on %s %s", request.method, _printable(path), exc_info=error)
        return await self._api_error(request, ApiError(50000))

    # -- parsing -------------------------------------------------------------------------

    async def read_json(self, scope: Scope, receive: Receive) -> Any:
        """The request's JSON body: 415, 413 or 400 (40001 `[body]`) when it is not one."""
        content_type = content_length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
        if content_type is None or content_type.partition(b";")[0].strip().lower() != _JSON_BYTES:
            raise ApiError(41500)
        limit = self._max_body
        if content_length is not None:
            try:
                declared = int(content_length)
            except ValueError:
                declared = 0  # the server refuses those; the streamed size still counts
            if declared > limit:
                raise ApiError(41300, limit=limit)
        message = await receive()
        raw: bytes = message.get("body", b"")
        if message.get("more_body", False) or message["type"] != "http.request":
            raw = await self._read_rest(receive, message, limit)
        elif len(raw) > limit:
            raise ApiError(41300, limit=limit)
        if not raw.strip():
            raise ApiError.invalid_parameter("body", "blank")
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError.invalid_parameter("body", "invalid") from None

    async def _read_rest(self, receive: Receive, first: Message, limit: int) -> bytes:
        """The body that arrives in several messages, counted as it comes."""
        chunks: list[bytes] = []
        size = 0
        message = first
        while True:
            if message["type"] == "http.disconnect":
                raise ClientDisconnect
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ApiError(41300, limit=limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()

    def check_access_token(self, data: Any) -> None:
        candidate = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(candidate, str):
            raise ApiError(40003)
        given = candidate.encode("utf-8", "surrogatepass")
        valid = False
        for known in self._access_tokens:  # no early exit: timing tells nothing
            valid |= hmac.compare_digest(known, given)
        if not valid:
            raise ApiError(40003)

    # -- operations ----------------------------------------------------------------------

    async def _initialize(self, data: dict[str, Any], _: Mapping[str, str]) -> bytes:
        session = self.store.create(
            hash_algorithm=data["hash_algorithm"],
            hash_hex=data["hash"],
            country=data["country"],
            personal_code=data["code"],
        )
        return orjson.dumps(
            {"status": "ok", "token": session.token, "control_code": session.control_code}
        )

    async def _status(self, _: dict[str, Any], path_params: Mapping[str, str]) -> bytes:
        # The route always captures `token`, validated against the spec before this runs.
        signature = await self.store.status(path_params["token"])
        return orjson.dumps({"status": "ok", "signature_value": signature})

    # -- control plane (/_mock/..., not part of openapi.yaml) ----------------------------

    async def _certificate(self, _: Request) -> Response:
        return Response(crypto.certificate_pem(), media_type="application/x-pem-file")

    async def _openapi(self, _: Request) -> Response:
        return Response(self.spec.text, media_type="application/yaml")

    async def _reset(self, _: Request) -> Response:
        return JSONBytesResponse({"status": "ok", "sessions_cleared": self.store.reset()})

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


@lru_cache(maxsize=8)
def _load_spec(path: Path, mtime_ns: int) -> Spec:
    # Parsing and compiling takes milliseconds; a test suite creates many apps.
    return load_spec(path)


def _printable(path: str) -> str:
    # A path is client text: keep control characters out of the log line.
    return path if path.isprintable() else ascii(path)


def create_app(config: MockConfig | None = None, *, store: SessionStore | None = None) -> MockApp:
    """A new simulator with its own empty store (`app.store`).

    `store` replaces the store built from `config`, e.g. one with a fake clock.
    """
    config = MockConfig() if config is None else config
    path = (config.spec_path or default_spec_path()).resolve()
    spec = _load_spec(path, path.stat().st_mtime_ns)
    return MockApp(config, spec, SessionStore.from_config(config) if store is None else store)
