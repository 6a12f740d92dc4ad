"""Routing: each operation of the spec to the handler of its role, as Starlette routes.

One `OperationRoute` per operation of openapi.yaml (both locales): its endpoint reads the
body, validates it and the path parameters against the spec, checks the access token and
calls the handler. `ExactRoute` is Starlette's `Route` with the behaviours the contract
needs and Starlette's defaults lack:

- exactly the route's methods: a GET route does not also serve HEAD, and any other
  method answers 405 with `Allow` (Starlette's router raises the HTTPException that
  `rendering` renders in the error shape);
- the path ends where the template ends (Starlette's `$` also matches before a trailing
  newline, `%0A`), and a parameter may be empty, so that its validator names it
  (40001 "blank") instead of the path being unknown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any, Final

from marksign_spec import Spec
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from .exceptions import ApiError, ScriptedError
from .faults import TransportFault, fault_response
from .polls import PollAbandoned
from .recording import ANSWER_READ_LIMIT, FAULT_SCOPE_KEY, OPERATION_SCOPE_KEY, Recording
from .rendering import JSONBytesResponse, error_response, printable
from .responses import SigningResponses
from .validation import CheckedOperation, checked_operations

logger = logging.getLogger("marksign_mock")

# A parameter of a path template, `{token}` (as Starlette's routes read them).
TEMPLATE_PARAMETER: Final = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")


def path_regex(template: str) -> re.Pattern[str]:
    """The regex of a path template: like Starlette's own, except that a parameter may be
    empty and the path must end where the template does."""
    pattern, end = "", 0
    for match in TEMPLATE_PARAMETER.finditer(template):
        pattern += re.escape(template[end : match.start()]) + f"(?P<{match[1]}>[^/]*)"
        end = match.end()
    return re.compile("^" + pattern + re.escape(template[end:]) + r"\Z")


class ExactRoute(Route):
    """A Starlette `Route` that serves exactly its methods and paths (see the module)."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], *, methods: list[str], name: str
    ) -> None:
        super().__init__(path, endpoint, methods=methods, name=name)
        self.methods = {method.upper() for method in methods}  # Route adds HEAD to GET
        self.path_regex = path_regex(path)


class OperationRoute(ExactRoute):
    """One operation of openapi.yaml, served by the handler of its role.

    Before the handler, the scripts of a test may step in: a fault armed for this
    request (`scripts.Fault`) replaces or delays the answer, an error script
    (`scripts.ErrorScript`) answers its error code. The operation and the fault go into
    the request's scope for the journal. The endpoint answers every failure itself, in
    the error shape of the operation's locale: no exception leaves it.
    """

    def __init__(
        self,
        checked: CheckedOperation,
        responses: SigningResponses,
        recording: Recording | None = None,
    ) -> None:
        op = checked.operation
        if op.role is None:
            raise ValueError(f"{op.operation_id} has no role")
        handler = responses.handler(op.role)
        scripts = responses.store.scripts

        async def answer(request: Request) -> Response:
            data = await responses.read_json(request)
            path_params: dict[str, str] = request.path_params
            checked.check(data, path_params)
            responses.check_access_token(data)
            return JSONBytesResponse(await handler(data, path_params, request))

        async def scripted(request: Request) -> Response:
            if not scripts.armed:  # the common case: nothing to look up
                return await answer(request)
            fault = await scripts.take_fault(op, request.path_params.get("token"))
            if fault is not None:
                request.scope[FAULT_SCOPE_KEY] = fault.kind
                if fault.kind == "delay":
                    await asyncio.sleep(fault.seconds)
                elif fault.kind != "truncated":
                    with contextlib.suppress(ApiError):  # received whole, for the journal
                        await responses.read_json(request)
                    return fault_response(fault.kind)
            error = await scripts.take_error(op)
            if error is not None:
                raise ScriptedError(error.error_code, error.message)
            if fault is None or fault.kind != "truncated":
                return await answer(request)
            try:  # the answer the gateway sent, cut short on the way
                full: Response = await answer(request)
            except ApiError as failure:
                full = error_response(failure, op.locale)
            return fault_response("truncated", full)

        async def endpoint(request: Request) -> Response | None:
            request.scope[OPERATION_SCOPE_KEY] = op
            try:
                return await scripted(request)
            except ApiError as failure:
                return error_response(failure, op.locale)
            except (ClientDisconnect, PollAbandoned):
                return None  # gone before its body came, or while its poll waited
            except Exception:  # a bug, never bad input: the error shape all the same
                logger.exception("unexpected error on %s %s", op.method, op.path)
                return error_response(ApiError(50000), op.locale)

        self.operation = op
        super().__init__(
            op.path, AsgiEndpoint(endpoint, recording), methods=[op.method], name=op.operation_id
        )
        # The text before the first parameter: most paths are told apart by it alone.
        self.prefix = op.path.partition("{")[0]
        self.templated = "{" in op.path

    def match_path(self, path: str) -> dict[str, str] | None:
        """The path parameters if `path` is this operation's, else None (`path_regex`)."""
        if not self.templated:
            return {} if path == self.path else None
        if not path.startswith(self.prefix):
            return None
        match = self.path_regex.match(path)
        return None if match is None else match.groupdict()


class OperationDispatch:
    """ASGI: a request for an operation of the spec (its exact path and method) goes
    straight to the operation's endpoint; every other request to `fallback`, the Starlette
    application (the control plane, and the 404 and 405 answers of the same routes).

    Measured (BENCHMARKS.md): Starlette's router tries each route's regex in turn and its
    exception middleware wraps every call; the operations, which a load test calls
    thousands of times a second, skip both. The routes are Starlette's all the same.
    """

    def __init__(self, routes: Iterable[OperationRoute], fallback: ASGIApp) -> None:
        self.fallback = fallback
        self._fixed: dict[tuple[str, str], OperationRoute] = {}
        self._templated: list[OperationRoute] = []
        for route in routes:
            if route.templated:
                self._templated.append(route)
            else:
                self._fixed[(route.operation.method, route.path)] = route

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            method, path = scope["method"], scope["path"]
            route = self._fixed.get((method, path))
            if route is not None:
                scope["path_params"] = {}
                await route.app(scope, receive, send)
                return
            for route in self._templated:
                if route.operation.method == method:
                    params = route.match_path(path)
                    if params is not None:
                        scope["path_params"] = params
                        await route.app(scope, receive, send)
                        return
        await self.fallback(scope, receive, send)


class AsgiEndpoint:
    """A `request -> response` function as an ASGI app, which a Starlette `Route` takes as
    its endpoint as it is (documented). Starlette would otherwise wrap a function in its
    `request_response`, one more exception-handling layer per request (measured in
    BENCHMARKS.md). With a `recording`, the exchange goes into the journal once answered.
    """

    def __init__(
        self,
        respond: Callable[[Request], Awaitable[Response | None]],
        recording: Recording | None = None,
    ) -> None:
        self.respond = respond
        self.recording = recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        recording = self.recording
        if recording is None:
            response = await self.respond(Request(scope, receive))
            if response is not None:
                await response(scope, receive, send)
            return
        at, started = time.time(), time.perf_counter()
        response = None
        try:
            response = await self.respond(Request(scope, receive))
            if response is not None:
                await response(scope, receive, send)
        finally:
            recording.record(scope, at, started, *_outcome(scope, response))


def _outcome(scope: Scope, response: Response | None) -> tuple[int | None, bytes]:
    """What the journal says was answered: the status (None: nothing, the connection was
    closed or reset, or the client left) and the start of an error answer."""
    if isinstance(response, TransportFault):
        cut = response.answer
        if scope.get(FAULT_SCOPE_KEY) == "truncated" and cut is not None:
            return cut.status_code, b""  # what the answer cut short said
        return None, b""
    if response is None:
        return None, b""
    status = response.status_code
    if status == 200 or FAULT_SCOPE_KEY in scope:
        return status, b""
    return status, bytes(response.body[:ANSWER_READ_LIMIT])


def operation_routes(
    spec: Spec, responses: SigningResponses, recording: Recording | None = None
) -> Iterator[OperationRoute]:
    """A route for every operation of `spec` that has a role, in the document's order.

    An operation without a role (one this simulator does not know how to answer) gets
    no route, so it answers 404/40400, and is logged once.
    """
    for checked in checked_operations(spec):
        op = checked.operation
        if op.role is None:
            logger.warning(
                "operation %s of openapi.yaml has no role the simulator serves; it answers 404",
                printable(op.operation_id),
            )
            continue
        yield OperationRoute(checked, responses, recording)
