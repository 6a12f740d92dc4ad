"""HTTP only: routing, parsing, validation and serialisation, as a raw ASGI app.

A plain ASGI callable rather than a framework keeps the per-request path short: one dict
lookup to route, orjson both ways, schemas compiled once from openapi.yaml. State lives
in `models.SessionStore`; error codes and messages in `errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Final

import orjson

from . import crypto
from .config import MockConfig
from .errors import ApiError, locale_of
from .models import SessionStore
from .spec import Operation, Spec, default_spec_path, load_spec

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Any]]
Send = Callable[[Any], Awaitable[None]]

logger = logging.getLogger("marksign_mock")

JSON: Final = b"application/json"
SWEEP_INTERVAL: Final = 1.0  # seconds between sweeps of expired sessions

# operationId -> the MockApp method that serves it. Every operation of openapi.yaml
# needs one; tests/mock checks that none is missing.
HANDLERS: Final[dict[str, str]] = {
    "initializeHashSigning": "_initialize",
    "initializeHashSigningEn": "_initialize",
    "getHashSigningStatus": "_status",
    "getHashSigningStatusEn": "_status",
}


class _MethodNotAllowed(ApiError):
    def __init__(self, allow: str) -> None:
        super().__init__(40500)
        self.allow = allow


class _ClientGone(Exception):
    """The client disconnected before sending its whole body: nobody to answer."""


Handler = Callable[[dict[str, Any], str | None], Awaitable[bytes]]


@dataclass(frozen=True)
class Route:
    """An operation bound to its handler; `param` is the templated path segment, if any."""

    operation: Operation
    handler: Handler
    prefix: str
    suffix: str
    param: str | None


# (status, body, content type): a plain tuple, built on every request.
Response = tuple[int, bytes, bytes]


class MockApp:
    """The simulator as an ASGI app. `store` holds its sessions; `config` its settings."""

    def __init__(self, config: MockConfig, spec: Spec, store: SessionStore) -> None:
        self.config = config
        self.spec = spec
        self.store = store
        # Compared against every one of them, in constant time; never logged.
        self._access_tokens = tuple(t.encode() for t in sorted(config.access_tokens))
        self._max_body = config.max_body_bytes
        self._exact: dict[str, dict[str, Route]] = {}
        self._templated: list[tuple[str, str, dict[str, Route]]] = []
        self.routes: list[Route] = []
        for op in spec.operations:
            name = HANDLERS.get(op.operation_id)
            if name is None:
                logger.warning("operation %s of openapi.yaml has no handler", op.operation_id)
                continue
            self._add_route(op, getattr(self, name))
        self._control: dict[str, tuple[str, Callable[[], Awaitable[Response]]]] = {
            "/_mock/certificate.pem": ("GET", self._certificate),
            "/_mock/openapi.yaml": ("GET", self._openapi),
            "/_mock/reset": ("POST", self._reset),
        }
        self._sweeper: asyncio.Task[None] | None = None

    def _add_route(self, op: Operation, handler: Handler) -> None:
        prefix, brace, rest = op.path.partition("{")
        param, _, suffix = rest.partition("}")
        if "{" in suffix:
            raise ValueError(f"{op.path}: one path parameter at most")
        route = Route(op, handler, prefix, suffix, param if brace else None)
        self.routes.append(route)
        if route.param is None:
            self._exact.setdefault(op.path, {})[op.method] = route
            return
        for known_prefix, known_suffix, by_method in self._templated:
            if (known_prefix, known_suffix) == (prefix, suffix):
                by_method[op.method] = route
                return
        self._templated.append((prefix, suffix, {op.method: route}))

    def _match(self, path: str) -> tuple[dict[str, Route] | None, str | None]:
        by_method = self._exact.get(path)
        if by_method is not None:
            return by_method, None
        for prefix, suffix, by_method in self._templated:
            if (
                path.startswith(prefix)
                and path.endswith(suffix)
                and len(path) >= len(prefix) + len(suffix)
            ):
                value = path[len(prefix) : len(path) - len(suffix)]
                if "/" not in value:
                    return by_method, value
        return None, None

    # -- ASGI ----------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)
        # websocket: not served; returning without accepting makes the server refuse it.

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        path: str = scope["path"]
        method: str = scope["method"]
        try:
            status, body, content_type = await self._respond(scope, receive, path, method)
            headers = [(b"content-type", content_type), (b"content-length", b"%d" % len(body))]
        except ApiError as error:
            status, body = error.code // 100, error.body(locale_of(path))
            headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body))]
            if isinstance(error, _MethodNotAllowed):
                headers.append((b"allow", error.allow.encode()))
        except _ClientGone:
            return
        except Exception:
            # A bug, never bad input: answer in the error shape all the same.
            logger.exception("unexpected error on %s %s", method, _printable(path))
            status, body = 500, ApiError(50000).body(locale_of(path))
            headers = [(b"content-type", JSON), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        if logger.isEnabledFor(logging.INFO):
            elapsed = (time.perf_counter() - started) * 1000
            logger.info("%s %s %d %.1fms", method, _printable(path), status, elapsed)

    async def _respond(self, scope: Scope, receive: Receive, path: str, method: str) -> Response:
        by_method, param_value = self._match(path)
        if by_method is None:
            control = self._control.get(path)
            if control is None:
                raise ApiError(40400)
            allowed, serve = control
            if method != allowed:
                raise _MethodNotAllowed(allowed)
            return await serve()
        route = by_method.get(method)
        if route is None:
            raise _MethodNotAllowed(", ".join(sorted(by_method)))
        data = await self._read_json(scope, receive)
        op = route.operation
        if op.body is not None:
            op.body.check(data)
        if route.param is not None:
            op.path_params[route.param].check(param_value)
        self._check_access_token(data)
        return 200, await route.handler(data, param_value), JSON

    async def _read_json(self, scope: Scope, receive: Receive) -> Any:
        """The request's JSON body: 415, 413 or 400 (40001 `[body]`) when it is not one."""
        content_type = content_length = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
        if content_type is None or content_type.partition(b";")[0].strip().lower() != JSON:
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

    async def _read_rest(self, receive: Receive, first: Any, limit: int) -> bytes:
        """The body that arrives in several messages, counted as it comes."""
        chunks: list[bytes] = []
        size = 0
        message = first
        while True:
            if message["type"] == "http.disconnect":
                raise _ClientGone
            chunk: bytes = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                raise ApiError(41300, limit=limit)
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)
            message = await receive()

    def _check_access_token(self, data: Any) -> None:
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

    async def _initialize(self, data: dict[str, Any], _: str | None) -> bytes:
        session = self.store.create(
            hash_algorithm=data["hash_algorithm"],
            hash_hex=data["hash"],
            country=data["country"],
            personal_code=data["code"],
        )
        return orjson.dumps(
            {"status": "ok", "token": session.token, "control_code": session.control_code}
        )

    async def _status(self, _: dict[str, Any], token: str | None) -> bytes:
        if token is None:
            raise ApiError.invalid_parameter("token", "blank")
        signature = await self.store.status(token)
        return orjson.dumps({"status": "ok", "signature_value": signature})

    # -- control plane (/_mock/..., not part of openapi.yaml) ----------------------------

    async def _certificate(self) -> Response:
        return 200, crypto.certificate_pem(), b"application/x-pem-file"

    async def _openapi(self) -> Response:
        return 200, self.spec.text, b"application/yaml"

    async def _reset(self) -> Response:
        cleared = self.store.reset()
        return 200, orjson.dumps({"status": "ok", "sessions_cleared": cleared}), JSON

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

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

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
