"""What the journal keeps of a request, from its ASGI scope and its answer.

An operation's endpoint records its own exchange (`Recording.record`, from
`routing.AsgiEndpoint`): it knows the body it read (`BODY_SCOPE_KEY`, `DATA_SCOPE_KEY`,
set by `responses.read_json`), the response it made and the fault that answered, so
nothing wraps `receive` or `send` on the hot path (measured: BENCHMARKS.md). The other
requests of the gateway's paths (an unknown path, a wrong method) go through
`JournalRecorder`, an ASGI middleware that watches what is sent. The control plane is
never recorded.
"""

from __future__ import annotations

import time
from typing import Final

from marksign_spec import Operation
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .journal import JournalStore, Scrubber, record_of
from .rendering import is_control_path

# What the app tells the journal, in the request's scope: the spec operation served, the
# fault that answered (if any), and the body as read (raw, and parsed if it was JSON).
OPERATION_SCOPE_KEY: Final = "marksign_mock.operation"
FAULT_SCOPE_KEY: Final = "marksign_mock.fault"
BODY_SCOPE_KEY: Final = "marksign_mock.body"
DATA_SCOPE_KEY: Final = "marksign_mock.data"
ANSWER_READ_LIMIT: Final = 4096  # answer bytes kept (for its error_code)
_NO_DATA: Final = object()


class Recording:
    """Records requests into `journal`, their bodies scrubbed of the access tokens."""

    def __init__(self, journal: JournalStore, secrets: tuple[bytes, ...]) -> None:
        self.journal = journal
        self.scrubber = Scrubber(secrets)

    def record(
        self, scope: Scope, at: float, started: float, status: int | None, answer: bytes
    ) -> None:
        op: Operation | None = scope.get(OPERATION_SCOPE_KEY)
        raw: bytes = scope.get(BODY_SCOPE_KEY, b"")
        data = scope.get(DATA_SCOPE_KEY, _NO_DATA)
        scrubber = self.scrubber
        body = scrubber.scrub(data) if data is not _NO_DATA else scrubber.body(raw) if raw else None
        path = scrubber.text(scope["path"])
        params: dict[str, str] = scope.get("path_params", {}) if op is not None else {}
        if path is not scope["path"]:  # an access token sent as the session token
            params = {name: scrubber.text(value) for name, value in params.items()}
        self.journal.record(
            record_of(
                at,
                scope["method"],
                path,
                None if op is None else op.operation_id,
                None if op is None else op.locale,
                params,
                body,
                len(raw),
                status,
                answer,
                scope.get(FAULT_SCOPE_KEY),
                round((time.perf_counter() - started) * 1_000_000) / 1000,  # ms, to the µs
            )
        )


class JournalRecorder:
    """ASGI middleware: the requests of the gateway's paths that no operation's endpoint
    records (an unknown path, a wrong method), with the status and error answer sent."""

    def __init__(self, app: ASGIApp, recording: Recording) -> None:
        self.app = app
        self.recording = recording

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or is_control_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        at, started = time.time(), time.perf_counter()
        status: int | None = None
        answer = b""

        async def sending(message: Message) -> None:
            nonlocal status, answer
            if message["type"] == "http.response.start":
                status = message["status"]
            elif not answer and status not in (None, 200):
                answer = message.get("body", b"")[:ANSWER_READ_LIMIT]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception:
            status = 500  # the server answers it with 500 (in the error shape)
            raise
        finally:
            self.recording.record(scope, at, started, status, answer)
