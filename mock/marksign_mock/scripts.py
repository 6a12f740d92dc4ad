"""What a test scripted: session scenarios, error answers and faults. State only, no HTTP.

Each script applies to the next N matching requests (or sessions) and disarms by itself
after N, like a WireMock stub with a count. Every change happens in one synchronous step
on the simulator's event loop, so a concurrent request sees a script whole or not at all.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Final, Literal, Protocol, TypeVar, get_args

from marksign_spec import Locale, Operation

from .person import Outcome

# The faults a test can inject (see `rendering.FAULTS` for what each sends).
FaultKind = Literal[
    "delay",
    "html_502",
    "empty_520",
    "not_json",
    "off_schema",
    "close",
    "reset",
    "truncated",
]
FAULT_KINDS: Final[tuple[FaultKind, ...]] = get_args(FaultKind)


@dataclass
class Scenario:
    """The next `remaining` sessions of `personal_code`: their end result and/or when the
    person answers (seconds after initialize; None: the configured answer delay)."""

    id: int
    personal_code: str
    outcome: Outcome | None
    answer_after: float | None
    remaining: int


@dataclass
class ErrorScript:
    """The next `remaining` calls of an operation answer `error_code`."""

    id: int
    operation: str  # an operationId, or a role ("initialize", "status")
    error_code: int
    locale: Locale | None  # None: either locale
    message: str | None  # None: the code's own message in the request's locale
    remaining: int

    def matches(self, op: Operation) -> bool:
        return _operation_matches(self.operation, op) and self.locale in (None, op.locale)


@dataclass
class Fault:
    """The next `remaining` requests matching an operation (and locale, token) fail so."""

    id: int
    kind: FaultKind
    operation: str | None  # an operationId or a role; None: any operation of the spec
    locale: Locale | None
    token: str | None  # the status call's path token
    seconds: float  # for "delay": how long to wait before the answer
    remaining: int

    def matches(self, op: Operation, token: str | None) -> bool:
        return (
            (self.operation is None or _operation_matches(self.operation, op))
            and self.locale in (None, op.locale)
            and self.token in (None, token)
        )


def _operation_matches(wanted: str, op: Operation) -> bool:
    return wanted in (op.operation_id, op.role)


@dataclass
class Scripts:
    """Every script of one simulator instance; `reset()` forgets them all."""

    scenarios: list[Scenario] = field(default_factory=list)
    errors: list[ErrorScript] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    def next_id(self) -> int:
        return next(self._ids)

    def add_scenario(
        self,
        personal_code: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        times: int = 1,
    ) -> Scenario:
        scenario = Scenario(self.next_id(), personal_code, outcome, answer_after, times)
        self.scenarios.append(scenario)
        return scenario

    def add_error(
        self,
        operation: str,
        error_code: int,
        *,
        locale: Locale | None = None,
        message: str | None = None,
        times: int = 1,
    ) -> ErrorScript:
        script = ErrorScript(self.next_id(), operation, error_code, locale, message, times)
        self.errors.append(script)
        return script

    def add_fault(
        self,
        kind: FaultKind,
        *,
        operation: str | None = None,
        locale: Locale | None = None,
        token: str | None = None,
        seconds: float = 0.0,
        times: int = 1,
    ) -> Fault:
        fault = Fault(self.next_id(), kind, operation, locale, token, seconds, times)
        self.faults.append(fault)
        return fault

    # -- taking: each use counts, the last one disarms -----------------------------------

    def peek_scenario(self, personal_code: str) -> Scenario | None:
        """The first armed scenario of `personal_code` (`use_scenario` counts it)."""
        for scenario in self.scenarios:
            if scenario.personal_code == personal_code:
                return scenario
        return None

    def use_scenario(self, scenario: Scenario) -> None:
        if scenario in self.scenarios:
            _use(self.scenarios, scenario)

    def take_error(self, op: Operation) -> ErrorScript | None:
        for script in self.errors:
            if script.matches(op):
                _use(self.errors, script)
                return script
        return None

    def take_fault(self, op: Operation, token: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(op, token):
                _use(self.faults, fault)
                return fault
        return None

    def remove(self, script_id: int) -> bool:
        """Disarm one script by id; False if there is none."""
        return (
            _remove(self.scenarios, script_id)
            or _remove(self.errors, script_id)
            or _remove(self.faults, script_id)
        )

    def reset(self) -> int:
        """Disarm every script; returns how many there were."""
        count = len(self.scenarios) + len(self.errors) + len(self.faults)
        self.scenarios.clear()
        self.errors.clear()
        self.faults.clear()
        return count


class _Counted(Protocol):
    id: int
    remaining: int


_S = TypeVar("_S", bound=_Counted)


def _use(scripts: list[_S], script: _S) -> None:
    script.remaining -= 1
    if script.remaining <= 0:
        scripts.remove(script)


def _remove(scripts: list[_S], script_id: int) -> bool:
    for script in scripts:
        if script.id == script_id:
            scripts.remove(script)
            return True
    return False
