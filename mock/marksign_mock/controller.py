"""The control plane from Python: `MockController`, typed, over any httpx client.

The same powers as `/_mock/` (control.yaml), for a test: it speaks HTTP to the control
plane, so one class serves the simulator in process (an httpx client on the
`InProcessTransport`) and over a socket (a base URL). The pytest fixtures hand one out:
`marksign_mock_control` (in process) and `marksign_mock_server.control`.

    control.scenario("30303039914", outcome="USER_REFUSED")      # the next session refuses
    control.fail("initialize", 50001, times=2)                   # the next 2 initialize calls
    control.fault("html_502", operation="status")                # a proxy's 502, once
    control.answer_now(token)                                    # release the long poll now
    control.journal(operation="status")                          # what the client sent
    control.arm_file("scenarios.yaml")                           # a scenario file's scripts
"""

from __future__ import annotations

import contextlib
import math
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Final, Literal, Self

import httpx

if TYPE_CHECKING:
    from marksign_spec import Spec

Outcome = Literal[
    "OK",
    "USER_REFUSED",
    "USER_REFUSED_DISPLAYTEXTANDPIN",
    "USER_REFUSED_VC_CHOICE",
    "USER_REFUSED_CONFIRMATIONMESSAGE",
    "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE",
    "WRONG_VC",
    "TIMEOUT",
    "DOCUMENT_UNUSABLE",
]
FaultName = Literal[
    "delay", "html_502", "empty_520", "not_json", "off_schema", "close", "reset", "truncated"
]
LocaleName = Literal["en", "lt"]


class MockControlError(Exception):
    """The control plane refused a request; `error_code` and `message` say why."""

    def __init__(self, status_code: int, error_code: int | None, message: str) -> None:
        super().__init__(f"{status_code} {error_code}: {message}")
        self.status_code = status_code
        self.error_code = error_code
        self.message = message


@dataclass(frozen=True)
class SessionInfo:
    """A session as the simulator holds it (never its access token)."""

    token: str
    personal_code: str
    country: str
    hash: str
    hash_algorithm: str
    message: str | None
    control_code: str
    state: Literal["RUNNING", "COMPLETE"]
    outcome: Outcome  # the planned end result
    result: Outcome | None  # the end result, once COMPLETE
    waiting_polls: int  # status calls waiting for its outcome now


@dataclass(frozen=True)
class JournalEntry:
    """A request the simulator received, and its answer."""

    seq: int
    at: str
    method: str
    path: str
    operation_id: str | None
    locale: LocaleName | None
    path_params: dict[str, str]
    body: Any  # the JSON body, access tokens replaced by a marker; None if not JSON
    body_bytes: int
    status: int | None  # None: no answer sent (a fault closed the connection, the client left)
    error_code: int | None
    fault: FaultName | None
    duration_ms: float


@dataclass(frozen=True)
class Script:
    """An armed scenario, error script or fault: its id (for `remove`) and uses left."""

    id: int
    kind: Literal["scenario", "error", "fault"]
    remaining: int
    details: dict[str, Any]


class MockController:
    """Programs one simulator through its control plane; see the module for examples.

    `MockController(http)` takes an httpx.Client whose base URL is the simulator's
    (in process or over a socket); `MockController.at(base_url)` makes one.
    """

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    @classmethod
    def at(cls, base_url: str, timeout: float = 30.0) -> MockController:
        return cls(httpx.Client(base_url=base_url, timeout=timeout))

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- scripts -------------------------------------------------------------------------

    def scenario(
        self,
        personal_code: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        times: int = 1,
    ) -> Script:
        """The next `times` sessions of `personal_code` end with `outcome` and/or are
        answered `answer_after` seconds after they start (TIMEOUT: never answered)."""
        body = _given(
            personal_code=personal_code, outcome=outcome, answer_after=answer_after, times=times
        )
        return _script("scenario", self._call("POST", "/_mock/scenarios", body)["scenario"])

    def fail(
        self,
        operation: str,
        error_code: int,
        *,
        times: int = 1,
        locale: LocaleName | None = None,
        message: str | None = None,
    ) -> Script:
        """The next `times` calls of `operation` (an operationId, or `initialize` /
        `status`) answer `error_code` (one the operation documents)."""
        body = _given(
            operation=operation, error_code=error_code, times=times, locale=locale, message=message
        )
        return _script("error", self._call("POST", "/_mock/errors", body)["error"])

    def fault(
        self,
        fault: FaultName,
        *,
        operation: str | None = None,
        locale: LocaleName | None = None,
        token: str | None = None,
        seconds: float | None = None,
        times: int = 1,
    ) -> Script:
        """The next `times` matching requests get `fault` (see control.yaml's table)."""
        body = _given(
            fault=fault,
            operation=operation,
            locale=locale,
            token=token,
            seconds=seconds,
            times=times,
        )
        return _script("fault", self._call("POST", "/_mock/faults", body)["fault"])

    def arm_file(self, path: str | os.PathLike[str], *, spec: Spec | None = None) -> list[Script]:
        """Arm the scripts of a scenario file (what `marksign-mock --scenario FILE` takes),
        in the file's order; returns them. All or nothing: the file is checked whole first
        against `spec` (by default the packaged openapi.yaml), and a bad one arms nothing
        (ValueError, one line naming the file, the item and the problem); if the simulator
        refuses an item (MockControlError, naming the item), the ones armed before it are
        removed. A connection lost midway removes those too, but the item whose answer it
        lost may be armed: `scripts()` shows it."""
        # Here, not at the top: the controller is an HTTP client, and the checks load the
        # simulator's modules (Starlette, the crypto), which a test of a server never needs.
        from marksign_spec import load_spec

        from .control import read_script_file

        file = read_script_file(spec or load_spec(), Path(path))
        armed: list[Script] = []
        try:
            for index, (section, item) in enumerate(file.items):
                kind, key = _SECTION_CALLS[section]
                try:
                    answer = self._call("POST", f"/_mock/{section}", dict(item))
                except MockControlError as refused:
                    place = f"{file.path}: {section}[{_index_in(file.items, index)}]"
                    raise MockControlError(
                        refused.status_code, refused.error_code, f"{place}: {refused.message}"
                    ) from None
                armed.append(_script(kind, answer[key]))
        except BaseException:
            for script in armed:
                # Used up meanwhile or reset: gone all the same. A lost connection: the
                # error that broke the loop says more than this one.
                with contextlib.suppress(MockControlError, httpx.HTTPError):
                    self.remove(script)
            raise
        return armed

    def scripts(self) -> list[Script]:
        """Every armed script, scenarios first."""
        answer = self._call("GET", "/_mock/scripts")
        return [
            *(_script("scenario", s) for s in answer["scenarios"]),
            *(_script("error", s) for s in answer["errors"]),
            *(_script("fault", s) for s in answer["faults"]),
        ]

    def remove(self, script: Script | int) -> None:
        if isinstance(script, Script):
            script = script.id
        if not isinstance(script, int) or isinstance(script, bool):
            raise TypeError(f"remove() takes a Script or its id, not {type(script).__name__}")
        self._call("DELETE", f"/_mock/scripts/{script}")

    def clear_scripts(self) -> int:
        cleared: int = self._call("DELETE", "/_mock/scripts")["cleared"]
        return cleared

    # -- sessions ------------------------------------------------------------------------

    def sessions(self, personal_code: str | None = None) -> list[SessionInfo]:
        params = {} if personal_code is None else {"personal_code": personal_code}
        answer = self._call("GET", "/_mock/sessions", params=params)
        return [SessionInfo(**session) for session in answer["sessions"]]

    def session(self, token: str) -> SessionInfo:
        return SessionInfo(**self._call("GET", f"/_mock/sessions/{_segment(token)}")["session"])

    def answer_now(self, token: str, outcome: Outcome | None = None) -> SessionInfo:
        """The person answers the running session now (a waiting long poll is released)."""
        answer = self._call(
            "POST", f"/_mock/sessions/{_segment(token)}/answer", _given(outcome=outcome)
        )
        return SessionInfo(**answer["session"])

    def script_session(
        self, token: str, *, outcome: Outcome | None = None, answer_after: float | None = None
    ) -> SessionInfo:
        """One running session's end result and/or answer time (seconds after its start)."""
        body = _given(outcome=outcome, answer_after=answer_after)
        answer = self._call("POST", f"/_mock/sessions/{_segment(token)}/script", body)
        return SessionInfo(**answer["session"])

    # -- journal -------------------------------------------------------------------------

    def journal(
        self,
        *,
        operation: str | None = None,
        locale: LocaleName | None = None,
        token: str | None = None,
        status: int | None = None,
        error_code: int | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        params = _given(
            operation=operation,
            locale=locale,
            token=token,
            status=status,
            error_code=error_code,
            limit=limit,
        )
        answer = self._call("GET", "/_mock/journal", params=params)
        return [JournalEntry(**entry) for entry in answer["entries"]]

    def clear_journal(self) -> int:
        cleared: int = self._call("DELETE", "/_mock/journal")["cleared"]
        return cleared

    def reset(self) -> dict[str, int]:
        """Forget sessions, scripts and the journal; how many of each there were."""
        answer = self._call("POST", "/_mock/reset")
        return {key: value for key, value in answer.items() if key != "status"}

    # -- HTTP ----------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        response = self.http.request(method, path, json=body, params=params)
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.is_success or not isinstance(answer, dict):
            error_code = answer.get("error_code") if isinstance(answer, dict) else None
            message = answer.get("message") if isinstance(answer, dict) else response.text[:200]
            raise MockControlError(response.status_code, error_code, str(message))
        return answer


def _segment(token: str) -> str:
    """`token` as one segment of a path: whatever it holds (`/`, `?`, `#`, `..`) stays in
    it, so a bad token is an unknown session, never another endpoint."""
    if not isinstance(token, str):
        raise TypeError(f"a session token is a str, not {type(token).__name__}")
    return urllib.parse.quote(token, safe="").replace(".", "%2E")


# A section of a scenario file: the kind of its scripts, and the key of the control
# plane's answer that holds the one armed.
_SECTION_CALLS: Final[dict[str, tuple[Literal["scenario", "error", "fault"], str]]] = {
    "scenarios": ("scenario", "scenario"),
    "errors": ("error", "error"),
    "faults": ("fault", "fault"),
}


def _index_in(items: tuple[tuple[str, Any], ...], index: int) -> int:
    """The place of `items[index]` in its own section of the file."""
    section = items[index][0]
    return sum(1 for other, _ in items[:index] if other == section)


def _given(**fields: Any) -> dict[str, Any]:
    """The fields given (not None), as a JSON body; a float that JSON cannot carry (NaN, an
    infinity) is a ValueError naming its field, before anything is sent."""
    for key, value in fields.items():
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{key} must be a finite number, not {value}")
    return {key: value for key, value in fields.items() if value is not None}


def _script(kind: Literal["scenario", "error", "fault"], data: dict[str, Any]) -> Script:
    details = {key: value for key, value in data.items() if key not in ("id", "remaining")}
    return Script(id=data["id"], kind=kind, remaining=data["remaining"], details=details)
