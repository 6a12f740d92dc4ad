"""HTTP rendering: answers as bytes on the wire, and every error in the API's error shape.

`JSONBytesResponse` is a Starlette `Response` whose body is JSON serialised with orjson
and whose Content-Type is exactly `application/json` (the official PHP client reads
`message` only then). The exception handlers turn `ApiError`, Starlette's own HTTP errors
and anything unexpected into `{"status": "error", "message": ..., "error_code": ...}`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from typing import Any, Final

import orjson
from marksign_spec import Locale, locale_of
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, HTTPConnection, Request
from starlette.responses import Response
from starlette.types import ExceptionHandler

from .exceptions import ApiError, MethodNotAllowed, http_status

logger = logging.getLogger("marksign_mock")

JSON: Final = "application/json"  # exactly this Content-Type: no charset parameter
CONTROL_PREFIX: Final = "/_mock/"  # the simulator's own control plane: answers in English


def is_control_path(path: str) -> bool:
    return path.startswith(CONTROL_PREFIX) or path == CONTROL_PREFIX.rstrip("/")


def answer_locale(path: str) -> Locale:
    """The locale an answer to `path` is in: the spec's rule, English for the control plane."""
    return "en" if is_control_path(path) else locale_of(path)


class JSONBytesResponse(Response):
    """`application/json` (no charset), the content serialised with orjson unless bytes."""

    media_type = JSON

    def render(self, content: Any) -> bytes:
        return content if isinstance(content, bytes) else orjson.dumps(content)


def error_body(error: ApiError, locale: Locale) -> bytes:
    """The JSON error shape of `error` in `locale`."""
    if error.cacheable:
        return _plain_error_body(error.code, locale)
    return _error_body(error.code, error.message(locale))


def error_response(error: ApiError, locale: Locale) -> JSONBytesResponse:
    if isinstance(error, MethodNotAllowed):
        body = error_body(error, locale)
        return JSONBytesResponse(body, status_code=error.status, headers={"allow": error.allow})
    if error.cacheable:
        return _plain_error_response(error.code, locale)
    return JSONBytesResponse(error_body(error, locale), status_code=error.status)


@cache
def _plain_error_response(code: int, locale: Locale) -> JSONBytesResponse:
    # The same bytes every time (an unknown token's 40402 under load): made once. A
    # Response is sent as it is, never changed, so one serves every request.
    return JSONBytesResponse(_plain_error_body(code, locale), status_code=http_status(code))


def _error_body(code: int, message: str) -> bytes:
    return orjson.dumps({"status": "error", "message": message, "error_code": code})


@cache
def _plain_error_body(code: int, locale: Locale) -> bytes:
    # Errors without parameters (40402, 40003, ...) are on hot paths: serialise once.
    return _error_body(code, ApiError(code).message(locale))


def printable(path: str) -> str:
    """A path is client text: keep control characters out of log lines."""
    return path if path.isprintable() else ascii(path)


def exception_handlers(max_body_bytes: int) -> Mapping[Any, ExceptionHandler]:
    """Starlette exception handlers that answer every failure in the error shape."""

    async def api_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, ApiError)
        return error_response(error, answer_locale(request.scope["path"]))

    async def http_exception(request: Request, error: Exception) -> Response:
        # Starlette's own: routing (404, 405 with its Allow header) and the like.
        assert isinstance(error, HTTPException)
        allow = (error.headers or {}).get("Allow")
        api = {
            404: ApiError(40400),
            405: MethodNotAllowed(allow or ""),
            413: ApiError(41300, limit=max_body_bytes),
            415: ApiError(41500),
        }.get(error.status_code, ApiError(50000))
        return error_response(api, answer_locale(request.scope["path"]))

    async def client_gone(_: HTTPConnection, error: Exception) -> None:
        """The client disconnected before sending its whole body: nobody to answer.

        (A handler that returns no response sends nothing; Starlette types those as taking
        any connection, hence `HTTPConnection`.)"""

    async def unexpected(request: Request, error: Exception) -> Response:
        # A bug, never bad input: answer in the error shape all the same.
        path = printable(request.scope["path"])
        logger.error("unexpected error on %s %s", request.method, path, exc_info=error)
        return error_response(ApiError(50000), answer_locale(request.scope["path"]))

    return {
        ApiError: api_error,
        HTTPException: http_exception,
        ClientDisconnect: client_gone,
        Exception: unexpected,
    }
