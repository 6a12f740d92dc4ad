"""The request journal: what the simulator received and answered, bounded. No HTTP here.

WireMock's request journal, shaped by this API: each entry has the operation, locale and
path parameters, the JSON body with every access token replaced by a marker (the token
itself is never stored), and the answer's HTTP status and `error_code`. The oldest
entries are dropped beyond `max_entries`. `JournalStore` is where the entries are kept:
`Journal` in this process's memory, or Redis (`redis_store`) for processes that share a
store.
"""

from __future__ import annotations

import datetime
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import orjson
from marksign_spec import Locale

# What the journal shows where the request had an access token.
ACCESS_TOKEN_MARKER: Final = "<access token hidden>"  # noqa: S105 -- not a token


@dataclass(slots=True)
class JournalEntry:
    at: float  # when it arrived (seconds since the epoch)
    method: str
    path: str
    operation_id: str | None  # None: not an operation of the spec (unknown path, ...)
    locale: Locale | None
    path_params: Mapping[str, str]
    body: Any  # the JSON body, access tokens replaced; None if it was not JSON
    body_bytes: int
    status: int | None  # None: no answer was sent (a fault closed the connection, the client left)
    answer: bytes  # the start of an error answer (our own bytes: no token), else b""
    fault: str | None  # the fault that answered, if any
    duration_ms: float
    # 1, 2, ... given by the journal that keeps it: the order requests were answered in. Over
    # several processes (Redis), the place in that order when read: an entry another process
    # answered earlier and adds later moves the entries after it up by one.
    seq: int = 0

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

    @classmethod
    def from_record(cls, record: str | bytes, seq: int) -> JournalEntry:
        """The entry that `record_of` wrote, numbered `seq`."""
        values = orjson.loads(record)
        values[_ANSWER] = values[_ANSWER].encode("latin-1")
        entry = cls(*values)
        entry.seq = seq
        return entry


# A journal record: one entry, as `record_of` writes it and `JournalEntry.from_record`
# reads it. Both journals keep records, not entries: one bytes object per request, which
# costs less to keep than an entry with its dicts and strings (measured: BENCHMARKS.md).
_ANSWER: Final = 9  # the position of `answer`, kept as text (latin-1: any bytes, losslessly)


def record_of(
    at: float,
    method: str,
    path: str,
    operation_id: str | None,
    locale: Locale | None,
    path_params: Mapping[str, str],
    body: Any,
    body_bytes: int,
    status: int | None,
    answer: bytes,
    fault: str | None,
    duration_ms: float,
) -> bytes:
    """The record of an entry (the fields of `JournalEntry`, in order, without `seq`);
    `body` is JSON data with its access tokens already replaced."""
    return orjson.dumps(
        (
            at,
            method,
            path,
            operation_id,
            locale,
            path_params,
            body,
            body_bytes,
            status,
            answer.decode("latin-1"),
            fault,
            duration_ms,
        )
    )


@dataclass(frozen=True)
class JournalQuery:
    """Which entries to return: each filter given must match (see `JournalStore.entries`)."""

    operation: str | None = None  # an operationId, or a role looked up in `roles`
    locale: Locale | None = None
    token: str | None = None
    status: int | None = None
    error_code: int | None = None
    roles: Mapping[str, str] = field(default_factory=dict)  # operationId -> role
    limit: int | None = None  # the newest `limit` of those that match

    def select(self, entries: Iterable[JournalEntry]) -> list[JournalEntry]:
        operation, roles = self.operation, self.roles
        found = [
            entry
            for entry in entries
            if (
                operation is None
                or operation == entry.operation_id
                or (entry.operation_id is not None and roles.get(entry.operation_id) == operation)
            )
            and (self.locale is None or entry.locale == self.locale)
            and (self.token is None or entry.path_params.get("token") == self.token)
            and (self.status is None or entry.status == self.status)
            and (self.error_code is None or entry.error_code == self.error_code)
        ]
        limit = self.limit
        return found if limit is None else found[-limit:] if limit else []


class JournalStore(Protocol):
    """Where the journal's entries are kept: `record` is on every request (no I/O there)."""

    max_entries: int

    def record(self, record: bytes) -> None:
        """Keep an entry's `record_of` (it is numbered here or when it reaches the shared
        journal)."""

    async def entries(self, query: JournalQuery) -> list[JournalEntry]:
        """The entries that match `query`, oldest first, every process's included."""
        ...

    async def reset(self) -> int:
        """Forget every entry; returns how many there were."""
        ...


@dataclass
class Journal:
    """The journal of one simulator process, in its memory (`JournalStore`)."""

    max_entries: int = 1000
    _records: deque[bytes] = field(init=False, repr=False)
    _recorded: int = field(default=0, repr=False)  # ever: the last one's `seq`

    def __post_init__(self) -> None:
        self._records = deque(maxlen=self.max_entries)

    def record(self, record: bytes) -> None:
        self._recorded += 1
        self._records.append(record)

    async def entries(self, query: JournalQuery) -> list[JournalEntry]:
        records = self._records
        first = self._recorded - len(records) + 1  # those before were dropped or reset
        return query.select(
            JournalEntry.from_record(record, seq) for seq, record in enumerate(records, first)
        )

    def __len__(self) -> int:
        return len(self._records)

    async def reset(self) -> int:
        count = len(self._records)
        self._records.clear()
        return count


class Scrubber:
    """Takes the access tokens out of what is kept or logged of a request: its body, and
    its path (where a client may have put one in place of a session token)."""

    def __init__(self, secrets: Iterable[bytes]) -> None:
        self.known = frozenset(secret.decode("utf-8", "replace") for secret in secrets)

    def text(self, value: str) -> str:
        """`value` with every accepted access token in it replaced by ACCESS_TOKEN_MARKER."""
        for secret in self.known:
            if secret in value:
                value = value.replace(secret, ACCESS_TOKEN_MARKER)
        return value

    def body(self, raw: bytes) -> Any:
        """The JSON body with every `access_token` value, and every accepted access token
        inside any other string, replaced by ACCESS_TOKEN_MARKER. None if it is not JSON:
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
        if isinstance(value, str):
            return self.text(value)
        return value
