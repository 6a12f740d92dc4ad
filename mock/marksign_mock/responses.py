"""Responses: a request of the API -> the model -> the answer's JSON (moto's `responses.py`).

`SigningResponses` reads the JSON body, checks the access token, calls the session store
and serialises what it returns; it raises `ApiError` for everything that goes wrong and
leaves validation against the spec to `validation`, and HTTP to `routing`/`rendering`.
Each operation of the spec is served by the handler of its role (initialize / status).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import orjson
from marksign_spec import Role
from starlette.requests import ClientDisconnect, Request
from starlette.types import Message, Receive

from .exceptions import ApiError
from .journal import Scrubber
from .models import SessionRequest
from .polls import CLIENT_LEFT_EXTENSION
from .recording import BODY_SCOPE_KEY, DATA_SCOPE_KEY
from .rendering import JSON
from .stores import Store

_JSON = JSON.encode()

# An operation's handler: the validated body, the path parameters and the request (which
# says when the client leaves) -> the JSON answer.
Handler = Callable[[dict[str, Any], Mapping[str, str], Request], Awaitable[bytes]]


class SigningResponses:
    """The answers of the signing operations, over one session store."""

    def __init__(self, store: Store, access_tokens: Iterable[str], max_body_bytes: int) -> None:
        self.store = store
        self.max_body_bytes = max_body_bytes
        # Compared against every one of them, in constant time; never logged.
        self._access_tokens = tuple(t.encode() for t in sorted(access_tokens))
        self._scrubber = Scrubber(self._access_tokens)

    def handler(self, role: Role) -> Handler:
        """The handler of an operation's role."""
        handlers: dict[Role, Handler] = {"initialize": self.initialize, "status": self.status}
        return handlers[role]

    # -- operations ----------------------------------------------------------------------

    @property
    def access_tokens(self) -> tuple[bytes, ...]:
        """The accepted tokens, for scrubbing them from the journal (never logged)."""
        return self._access_tokens

    async def initialize(self, data: dict[str, Any], _: Mapping[str, str], __: Request) -> bytes:
        code = data["code"]
        message = data.get("message")
        if message is not None:  # a token pasted into it is not kept (nor shown, nor shared)
            message = self._scrubber.text(message)
        request = SessionRequest(
            data["hash_algorithm"], data["hash"], data["country"], code, message
        )
        scripts = self.store.scripts
        scenario = await scripts.peek_scenario(code) if scripts.armed else None
        session = await self.store.create(request, scenario)
        return orjson.dumps(
            {"status": "ok", "token": session.token, "control_code": session.control_code}
        )

    async def status(
        self, _: dict[str, Any], path_params: Mapping[str, str], request: Request
    ) -> bytes:
        # The route always captures `token`, validated against the spec before this runs.
        # A client that leaves while its poll waits ends the wait (PollAbandoned).
        signature = await self.store.status(path_params["token"], lambda: _left(request))
        return orjson.dumps({"status": "ok", "signature_value": signature})

    # -- parsing -------------------------------------------------------------------------

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

    async def read_json(self, request: Request) -> Any:
        """The request's JSON body: 415, 413 or 400 (40001 `[body]`) when it is not one.

        Read from the ASGI messages as they come (not `request.body()`): a body over the
        limit is refused without being held, and the common one-message body costs
        little (measured: BENCHMARKS.md).
        """
        content_type = content_length = None
        for name, value in request.scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"content-length":
                content_length = value
        if content_type is None or content_type.partition(b";")[0].strip().lower() != _JSON:
            raise ApiError(41500)
        limit = self.max_body_bytes
        if content_length is not None and content_length.isdigit() and int(content_length) > limit:
            raise ApiError(41300, limit=limit)
        message = await request.receive()
        raw: bytes = message.get("body", b"")
        if message.get("more_body", False) or message["type"] != "http.request":
            raw = await _read_rest(request.receive, message, limit)
        elif len(raw) > limit:
            raise ApiError(41300, limit=limit)
        scope = request.scope
        scope[BODY_SCOPE_KEY] = raw  # for the journal
        if not raw.strip():
            raise ApiError.invalid_parameter("body", "blank")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise ApiError.invalid_parameter("body", "invalid") from None
        scope[DATA_SCOPE_KEY] = data
        return data


def _left(request: Request) -> Awaitable[object]:
    """Done once the client has left: our server's future (no task per waiting poll:
    measured, BENCHMARKS.md), else the ASGI way, the server's `http.disconnect`."""
    left = request.scope.get("extensions", {}).get(CLIENT_LEFT_EXTENSION)
    return _disconnected(request.receive) if left is None else left()


async def _disconnected(receive: Receive) -> None:
    # The body was read whole before, so the server's next message is `http.disconnect`:
    # when the client leaves, or once the answer is sent.
    while (await receive())["type"] != "http.disconnect":
        pass


async def _read_rest(receive: Receive, first: Message, limit: int) -> bytes:
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
