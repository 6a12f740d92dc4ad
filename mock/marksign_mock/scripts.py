"""What a test scripted: session scenarios, error answers and faults. State only, no HTTP.

Each script applies to the next N matching requests (or sessions) and disarms by itself
after N, like a WireMock stub with a count. `ScriptStore` is where they are kept: `Scripts`
in this process's memory, or Redis (`redis_store`) for processes that share a store.
"""

from __future__ import annotations

import dataclasses
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


Script = Scenario | ErrorScript | Fault
# One kind of script, whichever: what `arm` takes, it gives back.
AnyScript = TypeVar("AnyScript", bound=Script)


class ScriptStore(Protocol):
    """Where the scripts of a simulator are kept: in its memory (`Scripts`), or in Redis,
    shared by every process of the store (`redis_store.RedisScripts`).

    `armed` answers from what this process holds (on the request path, without I/O);
    taking a use is atomic across every process that shares the store.
    """

    @property
    def armed(self) -> bool:
        """Whether any script may be armed: when not, a request needs no other look."""
        ...

    async def peek_scenario(self, personal_code: str) -> Scenario | None:
        """The first armed scenario of `personal_code`; the store's `create` takes its use."""
        ...

    async def take_error(self, op: Operation) -> ErrorScript | None:
        """The first error script matching `op`, one use taken (None: none armed)."""
        ...

    async def take_fault(self, op: Operation, token: str | None) -> Fault | None:
        """The first fault matching `op` (and the status call's `token`), one use taken."""
        ...

    async def arm(self, script: AnyScript) -> AnyScript:
        """Arm `script` (its `id` is ignored): the same script with the id it got."""
        ...

    async def listing(self) -> Armed:
        """Every armed script with its remaining uses, in the order they were armed."""
        ...

    async def remove(self, script_id: int) -> bool:
        """Disarm one script by id; False if there is none."""
        ...

    async def reset(self) -> int:
        """Disarm every script; returns how many there were."""
        ...


@dataclass
class Armed:
    """The scripts armed at one moment, each kind in the order it was armed."""

    scenarios: list[Scenario] = field(default_factory=list)
    errors: list[ErrorScript] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.scenarios) + len(self.errors) + len(self.faults)

    def add(self, script: Script) -> None:
        if isinstance(script, Scenario):
            self.scenarios.append(script)
        elif isinstance(script, ErrorScript):
            self.errors.append(script)
        else:
            self.faults.append(script)

    def scenario_for(self, personal_code: str) -> Scenario | None:
        return next((s for s in self.scenarios if s.personal_code == personal_code), None)

    def errors_for(self, op: Operation) -> Iterator[ErrorScript]:
        return (script for script in self.errors if script.matches(op))

    def faults_for(self, op: Operation, token: str | None) -> Iterator[Fault]:
        return (fault for fault in self.faults if fault.matches(op, token))


@dataclass
class Scripts:
    """The scripts of one simulator process, in its memory (`ScriptStore`).

    Every change happens in one synchronous step on the simulator's event loop, so a
    concurrent request sees a script whole or not at all."""

    held: Armed = field(default_factory=Armed)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1), repr=False)

    @property
    def armed(self) -> bool:
        return bool(self.held.scenarios or self.held.errors or self.held.faults)

    async def arm(self, script: AnyScript) -> AnyScript:
        armed = dataclasses.replace(script, id=next(self._ids))
        self.held.add(armed)
        return armed

    # -- taking: each use counts, the last one disarms -----------------------------------

    async def peek_scenario(self, personal_code: str) -> Scenario | None:
        return self.held.scenario_for(personal_code)

    def use_scenario(self, scenario: Scenario) -> None:
        """Count one use of a scenario (a session was made with it)."""
        if scenario in self.held.scenarios:
            _use(self.held.scenarios, scenario)

    async def take_error(self, op: Operation) -> ErrorScript | None:
        script = next(self.held.errors_for(op), None)
        if script is not None:
            _use(self.held.errors, script)
        return script

    async def take_fault(self, op: Operation, token: str | None) -> Fault | None:
        fault = next(self.held.faults_for(op, token), None)
        if fault is not None:
            _use(self.held.faults, fault)
        return fault

    async def listing(self) -> Armed:
        return Armed(list(self.held.scenarios), list(self.held.errors), list(self.held.faults))

    async def remove(self, script_id: int) -> bool:
        held = self.held
        return (
            _remove(held.scenarios, script_id)
            or _remove(held.errors, script_id)
            or _remove(held.faults, script_id)
        )

    async def reset(self) -> int:
        count = len(self.held)
        self.held = Armed()
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
