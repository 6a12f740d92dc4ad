"""Simulators that break the contract on purpose, each in one way, to prove the suite notices.

Each variant wraps the real simulator and rewrites some of its answers. `CAUGHT_BY` names the
check that must catch each one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

import orjson
from marksign_mock import create_app

from .suite import CONTRACT_MOCK_CONFIG

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any  # parsed JSON, or None when the body is not JSON
    headers: list[tuple[bytes, bytes]]


# Given the request's method and path and the simulator's answer: the answer to send instead,
# or None to send the simulator's answer unchanged.
Rewrite = Callable[[str, str, Answer], Answer | None]


class BrokenSimulator:
    """The simulator with some of its answers rewritten (an ASGI app)."""

    def __init__(self, rewrite: Rewrite) -> None:
        self.app = create_app(CONTRACT_MOCK_CONFIG)
        self.rewrite = rewrite

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start: Message = {}
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        raw = b"".join(chunks)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            body = None
        headers = [(k, v) for k, v in start["headers"] if k != b"content-length"]
        answer = self.rewrite(
            scope["method"], scope["path"], Answer(start["status"], body, headers)
        )
        if answer is not None:
            raw = orjson.dumps(answer.body)
            start = {**start, "status": answer.status}
            headers = answer.headers
        await send({**start, "headers": [*headers, (b"content-length", b"%d" % len(raw))]})
        await send({"type": "http.response.body", "body": raw})


def _is_status(path: str) -> bool:
    return "/status/" in path


def _error(answer: Answer, code: int) -> bool:
    return isinstance(answer.body, dict) and answer.body.get("error_code") == code


def signs_unknown_sessions(method: str, path: str, answer: Answer) -> Answer | None:
    """A token nobody issued gets a signature instead of 404 / 40402."""
    if _is_status(path) and _error(answer, 40402):
        return Answer(200, {"status": "ok", "signature_value": "eA=="}, answer.headers)
    return None


def forgets_new_sessions(method: str, path: str, answer: Answer) -> Answer | None:
    """A session just started is not found."""
    if _is_status(path) and answer.status == 200:
        body = {"status": "error", "message": "Session not found", "error_code": 40402}
        return Answer(404, body, answer.headers)
    return None


def crashes_on_bad_input(method: str, path: str, answer: Answer) -> Answer | None:
    """An invalid parameter gets a 500 instead of 400 / 40001."""
    if _error(answer, 40001):
        body = {"status": "error", "message": "Internal error", "error_code": 50000}
        return Answer(500, body, answer.headers)
    return None


def accepts_bad_input(method: str, path: str, answer: Answer) -> Answer | None:
    """An invalid initialize request starts a session anyway."""
    if not _is_status(path) and _error(answer, 40001):
        body = {
            "status": "ok",
            "token": "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d",
            "control_code": "9403",
        }
        return Answer(200, body, answer.headers)
    return None


def drifts_from_the_schema(method: str, path: str, answer: Answer) -> Answer | None:
    """Initialize answers a five-digit control code."""
    if not _is_status(path) and answer.status == 200 and isinstance(answer.body, dict):
        return Answer(200, {**answer.body, "control_code": "94031"}, answer.headers)
    return None


def ignores_the_method(method: str, path: str, answer: Answer) -> Answer | None:
    """A method other than POST gets 404 instead of 405 with Allow."""
    if answer.status == 405:
        body = {"status": "error", "message": "Not found", "error_code": 40400}
        headers = [(k, v) for k, v in answer.headers if k != b"allow"]
        return Answer(404, body, headers)
    return None


def not_found_as_bad_request(method: str, path: str, answer: Answer) -> Answer | None:
    """An unknown session (40402) answers HTTP 400 instead of 404."""
    if _error(answer, 40402):
        return Answer(400, answer.body, answer.headers)
    return None


def invalid_parameter_as_unprocessable(method: str, path: str, answer: Answer) -> Answer | None:
    """An invalid parameter (40001) answers HTTP 422, a status the spec leaves to `default`."""
    if _error(answer, 40001):
        return Answer(422, answer.body, answer.headers)
    return None


# The checks that must catch each variant (all of them, on the first failing answer).
CAUGHT_BY: dict[Rewrite, tuple[str, ...]] = {
    signs_unknown_sessions: ("unknown_session_not_found",),
    forgets_new_sessions: ("issued_session_found",),
    crashes_on_bad_input: ("not_a_server_error",),
    accepts_bad_input: ("negative_data_rejection",),
    drifts_from_the_schema: ("response_schema_conformance",),
    ignores_the_method: ("unsupported_method",),
    # Three see it: the 400 response bounds error_code to 40000..40099, and a 400 tells a
    # schema-valid request (the spec's example token) that it is invalid.
    not_found_as_bad_request: (
        "error_status_matches_code",
        "positive_data_acceptance",
        "response_schema_conformance",
    ),
    # `default` cannot bound error_code, and an invalid request may get any 4xx: only the
    # status rule catches this one.
    invalid_parameter_as_unprocessable: ("error_status_matches_code",),
}
