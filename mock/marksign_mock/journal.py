"""The request journal: what the simulator received and answered, bounded. No HTTP here.

WireMock's request journal, shaped by this API: each entry has the operation, locale and
path parameters, the JSON body with every access token replaced by a marker (the token
itself is never stored), and the answer's HTTP status and `error_code`. The oldest
entries are dropped beyond `max_entries`.
"""

from __future__ import annotations

import datetime
import itertools
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
from marksign_spec import Locale

# What the journal shows where the request had an access token.
ACCESS_TOKEN_MARKER: Final = "<access token hidden>"  # noqa: S105 -- not a token


@dataclass(frozen=True, slots=True)
class JournalEntry:
    seq: int  # 1, 2, ... in the order requests were answered by this simulator
    at: float  # when it arrived (seconds since the epoch)
    method: str
    path: str
    operation_id: str | None  # None: not an operation of the spec (unknown path, ...)
    locale: Locale | None
    path_params: Mapping[str, str]
    body: Any  # the JSON body, access tokens replaced; None if it was not JSON
    body_bytes: int
    status: int | None  # None: no answer was sent (a fault closed the connection)
    answer: bytes  # the start of an error answer (our own bytes: no token), else b""
    fault: str | None  # the fault that answered, if any
    duration_ms: float

    @property
    def error_code(self) -> int | None:
        """The answer's `error_code`, for an error answer in the error shape."""
        if not self.answer:
            return None
        try:
            code = orjson.loads(self.answer).get("error_code")
        except (orjson.JSONDecodeError, AttributeError):
            return None
        return code if isinstance(code, int) else None

    def as_json(self) -> dict[str, Any]:
        at = datetime.datetime.fromtimestamp(self.at, datetime.UTC)
        return {
            "seq": self.seq,
            "at": at.isoformat(timespec="milliseconds"),
            "method": self.method,
            "path": self.path,
            "operation_id": self.operation_id,
            "locale": self.locale,
            "path_params": dict(self.path_params),
            "body": self.body,
            "body_bytes": self.body_bytes,
            "status": self.status,
            "error_code": self.error_code,
            "fault": self.fault,
            "duration_ms": self.duration_ms,
        }


@dataclass
class Journal:
    max_entries: int = 1000
    _entries: deque[JournalEntry] = field(init=False, repr=False)
    _seq: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def __post_init__(self) -> None:
        self._entries = deque(maxlen=self.max_entries)

    def next_seq(self) -> int:
        return next(self._seq)

    def record(self, entry: JournalEntry) -> None:
        self._entries.append(entry)

    def entries(
        self,
        *,
        operation: str | None = None,
        locale: Locale | None = None,
        token: str | None = None,
        status: int | None = None,
        error_code: int | None = None,
        roles: Mapping[str, str] | None = None,
        limit: int | None = None,
    ) -> list[JournalEntry]:
        """The entries that match every filter given, oldest first (the newest `limit`).

        `operation` is an operationId, or a role looked up in `roles` (operationId -> role).
        """
        roles = roles or {}
        found = [
            entry
            for entry in self._entries
            if (
                operation is None
                or operation == entry.operation_id
                or (entry.operation_id is not None and roles.get(entry.operation_id) == operation)
            )
            and (locale is None or entry.locale == locale)
            and (token is None or entry.path_params.get("token") == token)
            and (status is None or entry.status == status)
            and (error_code is None or entry.error_code == error_code)
        ]
        return found if limit is None else found[-limit:] if limit else []

    def __len__(self) -> int:
        return len(self._entries)

    def reset(self) -> int:
        count = len(self._entries)
        self._entries.clear()
        return count


class Scrubber:
    """Takes the access tokens out of request bodies before they are kept."""

    def __init__(self, secrets: Iterable[bytes]) -> None:
        self.known = frozenset(secret.decode("utf-8", "replace") for secret in secrets)

    def body(self, raw: bytes) -> Any:
        """The JSON body with every `access_token` value, and any string equal to an
        accepted access token, replaced by ACCESS_TOKEN_MARKER. None if it is not JSON:
        its text could hold a token where no key says so."""
        try:
            return self.scrub(orjson.loads(raw))
        except orjson.JSONDecodeError:
            return None

    def scrub(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                key: ACCESS_TOKEN_MARKER if key == "access_token" else self.scrub(item)
                for key, item in value.items()
            }
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, str) and value in self.known:
            return ACCESS_TOKEN_MARKER
        return value
