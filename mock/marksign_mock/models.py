"""Signing sessions and their store: state and domain rules, no HTTP.

A session's timeline is fixed when it starts: the person answers at `answer_at` (never,
for a person who does not answer), the session expires at `expires_at`, its outcome is
known at `finished_at` (the earlier of the two) and it is forgotten `retention` seconds
later. Everything is read from the injected clock, so tests can
move time by hand; timers only wake long polls when a session finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import random
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from . import crypto
from .config import MockConfig
from .exceptions import ApiError
from .person import Outcome, SimulatedPerson
from .polls import Gone, ParkedPolls
from .scripts import Scenario

Clock = Callable[[], float]


class ManualClock:
    """A clock for tests: time moves only when `advance()` is called."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass(slots=True, eq=False)
class Session:
    token: str
    personal_code: str
    country: str
    hash_algorithm: str
    hash_bytes: bytes
    control_code: str
    answer: Outcome
    started_at: float
    answer_at: float | None  # None: the person never answers
    expires_at: float
    message: str | None = None  # shown on the phone
    signature: str | None = None
    waiting: int = 0  # long polls waiting for its outcome now
    evicted: bool = False
    # Woken when the outcome is known; only exists while somebody waits.
    _event: asyncio.Event | None = field(default=None, repr=False)
    _event_loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _timer: asyncio.TimerHandle | None = field(default=None, repr=False)
    # The signature being computed, which concurrent long polls share: signed once.
    _signing: asyncio.Future[str] | None = field(default=None, repr=False)

    @property
    def finished_at(self) -> float:
        return self.answer_at if self.answer_at is not None else self.expires_at

    def state(self, now: float) -> str:
        """Smart-ID's session state: RUNNING until the outcome is known, then COMPLETE."""
        return "COMPLETE" if now >= self.finished_at else "RUNNING"

    def outcome(self, now: float) -> Outcome | None:
        """The end result at time `now`, or None while the person has not answered."""
        if self.answer_at is not None and now >= self.answer_at:
            return self.answer
        if now >= self.expires_at:
            return Outcome.TIMEOUT
        return None


@dataclass(frozen=True, slots=True)
class SessionRequest:
    """What an initialize call asks for: its body, valid against the spec."""

    hash_algorithm: str
    hash_hex: str
    country: str
    personal_code: str
    message: str | None = None  # shown on the phone


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session request, checked, before the store gives it a token and a start."""

    request: SessionRequest
    hash_bytes: bytes
    answer: Outcome
    delay: float | None  # seconds until the person answers; None: never

    @classmethod
    def check(
        cls, person: SimulatedPerson, request: SessionRequest, scenario: Scenario | None = None
    ) -> NewSession:
        """40001 for a hash that does not fit its algorithm, 40401 if the person has no
        account. A `scenario` (taken from the scripts for this personal code) sets the end
        result and/or when the person answers; the person then has an account whatever the
        code."""
        try:
            hash_bytes = bytes.fromhex(request.hash_hex)
        except ValueError:
            raise ApiError.invalid_parameter("hash", "invalid") from None
        if len(hash_bytes) != crypto.DIGEST_SIZES.get(request.hash_algorithm):
            raise ApiError.invalid_parameter("hash", "invalid")
        answer = person.answer(request.personal_code)
        if scenario is not None:
            answer = person.scripted(answer, scenario.outcome, scenario.answer_after)
        if answer is None:
            raise ApiError(40401)
        return cls(request, hash_bytes, answer.outcome, answer.delay)

    def start(self, token: str, now: float, session_timeout: float) -> Session:
        """The session, started at `now`."""
        answer_at = None
        if self.delay is not None and self.delay < session_timeout:
            answer_at = now + self.delay
        request = self.request
        return Session(
            token=token,
            personal_code=request.personal_code,
            country=request.country,
            hash_algorithm=request.hash_algorithm,
            hash_bytes=self.hash_bytes,
            control_code=crypto.control_code(self.hash_bytes),
            answer=self.answer,
            started_at=now,
            answer_at=answer_at,
            expires_at=now + session_timeout,
            message=request.message,
        )


def rescript(
    session: Session,
    now: float,
    answer_delay: float,
    outcome: Outcome | None = None,
    answer_after: float | None = None,
    now_: bool = False,
) -> bool:
    """Change a running session's timeline in place (see `SessionStore.script`); False,
    and nothing changed, if it has finished. `answer_delay`: when a person who was never
    going to answer now answers, seconds after the start."""
    if now >= session.finished_at:
        return False
    if outcome is not None:
        session.answer = outcome
    if now_:
        answer_at: float | None = now
    elif answer_after is not None:
        answer_at = max(now, session.started_at + answer_after)
    else:
        answer_at = session.answer_at
    if session.answer is Outcome.TIMEOUT:  # the person never answers: it expires
        if now_:
            session.expires_at = now
        answer_at = None
    elif answer_at is None:  # it was waiting for an expiry; now someone answers
        answer_at = session.started_at + answer_delay
    session.answer_at = answer_at if answer_at is None else min(answer_at, session.expires_at)
    return True


class SessionStore:
    """Every session of one simulator; `reset()` forgets them all."""

    def __init__(
        self,
        *,
        person: SimulatedPerson | None = None,
        session_timeout: float = 120.0,
        retention: float = 300.0,
        max_sessions: int = 50_000,
        max_retained: int = 100_000,
        seed: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.person = person if person is not None else SimulatedPerson()
        self.session_timeout = session_timeout
        self.retention = retention
        self.max_sessions = max_sessions
        self.max_retained = max_retained
        self.seed = seed
        self.clock = clock
        self._sessions: dict[str, Session] = {}
        self._by_removal: list[tuple[float, str]] = []  # heap: (remove_at, token)
        self._live: list[tuple[float, str]] = []  # heap: (finished_at, token), not finished
        self._running: set[str] = set()  # tokens whose outcome is not known yet
        self._waited: set[Session] = set()  # sessions a long poll waits for
        self.parked = ParkedPolls()
        self._rng: random.Random | None = None
        self._reseed()

    @classmethod
    def from_config(cls, config: MockConfig, clock: Clock = time.monotonic) -> SessionStore:
        return cls(
            person=SimulatedPerson(config.answer_delay, config.allow_any_code),
            session_timeout=config.session_timeout,
            retention=config.retention,
            max_sessions=config.max_sessions,
            max_retained=config.max_retained,
            seed=config.seed,
            clock=clock,
        )

    def _reseed(self) -> None:
        # Not for secrets: a seeded generator makes tokens repeat across runs on purpose.
        self._rng = None if self.seed is None else random.Random(self.seed)  # noqa: S311

    def _new_token(self) -> str:
        while True:
            bits = secrets.randbits(128) if self._rng is None else self._rng.getrandbits(128)
            h = f"{bits:032x}"
            token = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
            if token not in self._sessions:
                return token

    # -- queries -------------------------------------------------------------------------

    def __len__(self) -> int:
        """Sessions held in memory (live and retained)."""
        return len(self._sessions)

    def live_count(self) -> int:
        """Sessions whose outcome is not known yet (pops only what is due: every `create`
        asks, so it must not cost one step per session)."""
        now = self.clock()
        live, running, sessions = self._live, self._running, self._sessions
        while live and live[0][0] <= now:
            _, token = heapq.heappop(live)
            # A scripted session may finish later than this entry says (a later entry
            # stands for it) or be gone.
            session = sessions.get(token)
            if session is None or now >= session.finished_at:
                running.discard(token)
        return len(running)

    def get(self, token: str) -> Session:
        """The session of `token`; 40402 if unknown or its result has expired."""
        session = self._sessions.get(token)
        if session is None or self.clock() >= session.finished_at + self.retention:
            raise ApiError(40402)
        return session

    # -- commands ------------------------------------------------------------------------

    def sessions(self) -> list[Session]:
        """Every session held (live and retained), oldest first."""
        now = self.clock()
        return [s for s in self._sessions.values() if now < s.finished_at + self.retention]

    def create(self, request: SessionRequest, scenario: Scenario | None = None) -> Session:
        """Start a session: 40001 for a bad hash, 40401 if the person has no account, 42900
        over the cap. A `scenario` (see `NewSession.check`) sets how it ends."""
        new = NewSession.check(self.person, request, scenario)
        now = self.clock()
        self._forget_due(now)
        if self.live_count() >= self.max_sessions:
            raise ApiError(42900)
        session = new.start(self._new_token(), now, self.session_timeout)
        self._sessions[session.token] = session
        self._track(session, now)
        return session

    def script(
        self,
        token: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        now_: bool = False,
    ) -> Session:
        """Change a running session: its end result, when the person answers (seconds after
        it started), or that the person answers now. Long polls waiting for it wake as soon
        as its outcome is known. 40402 if unknown; a finished session stays as it was."""
        session = self.get(token)
        now = self.clock()
        if not rescript(session, now, self.person.answer_delay, outcome, answer_after, now_):
            return session
        self._track(session, now)
        if now >= session.finished_at:
            self._wake(session, force=True)
        elif session._timer is not None and session._event_loop is not None:
            session._timer.cancel()  # re-arm for the new time
            delay = session.finished_at - now
            session._timer = session._event_loop.call_later(delay, self._wake, session)
        return session

    def _track(self, session: Session, now: float) -> None:
        """Remember when a session finishes and when it is forgotten (heaps, checked lazily)."""
        heapq.heappush(self._by_removal, (session.finished_at + self.retention, session.token))
        if session.finished_at > now:
            heapq.heappush(self._live, (session.finished_at, session.token))
            self._running.add(session.token)
        else:
            self._running.discard(session.token)

    async def wait(self, token: str, gone: Gone | None = None) -> Session:
        """Long poll: hold until the session's outcome is known (at the latest, expiry);
        PollAbandoned once `gone` resolves (the caller left)."""
        session = self.get(token)
        while True:
            if session.evicted:
                raise ApiError(40402)
            if self.clock() >= session.finished_at:
                return session
            session.waiting += 1
            try:
                with self.parked.parked(token, gone):
                    await self._event_for(session).wait()
            finally:
                session.waiting -= 1

    async def status(self, token: str, gone: Gone | None = None) -> str:
        """Long poll for the outcome: the base64 signature, or the outcome's ApiError."""
        session = await self.wait(token, gone)
        outcome = session.outcome(self.clock())
        code = None if outcome is None else outcome.error_code
        if code is not None:
            raise ApiError(code)
        if session.signature is not None:
            return session.signature
        signature = crypto.cached_signature(session.hash_algorithm, session.hash_bytes)
        if signature is None:
            if session._signing is None:
                # RSA signing releases the GIL: the event loop keeps serving meanwhile.
                session._signing = asyncio.get_running_loop().run_in_executor(
                    None, crypto.sign_hash, session.hash_algorithm, session.hash_bytes
                )
            signature = await asyncio.shield(session._signing)
        session.signature = signature
        session._signing = None
        return signature

    def sweep(self) -> int:
        """Forget sessions past retention (or beyond `max_retained`); wake due long polls.

        Returns how many sessions were forgotten. The app runs it every second; timers wake
        long polls on time, this catches those a lagging (e.g. fake) clock left waiting.
        """
        now = self.clock()
        removed = self._forget_due(now)
        for session in [s for s in self._waited if now >= s.finished_at]:
            self._wake(session)
        return removed

    def _forget_due(self, now: float) -> int:
        # Cheap enough for every `create`: pops only what is due.
        removal = self._by_removal
        sessions = self._sessions
        removed = 0
        while removal and removal[0][0] <= now:
            _, token = heapq.heappop(removal)
            session = sessions.get(token)
            if session is not None and now >= session.finished_at + self.retention:
                del sessions[token]  # (a scripted session may be due later: kept, re-tracked)
                self._running.discard(token)
                removed += 1
        # Finished but retained sessions are capped too: memory stays bounded at any rate.
        # The heap's top finished first, so it is finished whenever any session is; popping
        # finished sessions leaves the live count as it is.
        live = self.live_count()
        while removal and len(sessions) - live > self.max_retained:
            _, token = heapq.heappop(removal)
            session = sessions.get(token)
            if session is not None and now >= session.finished_at:  # never a running one
                del sessions[token]
                self._running.discard(token)
                removed += 1
        return removed

    def reset(self) -> int:
        """Forget every session (waiting long polls answer 40402); re-seed the tokens."""
        count = len(self._sessions)
        for session in list(self._waited):
            session.evicted = True
            self._wake(session, force=True)
        self._sessions.clear()
        self._by_removal.clear()
        self._live.clear()
        self._running.clear()
        self._waited.clear()
        self._reseed()
        return count

    # -- waking long polls ---------------------------------------------------------------

    def _event_for(self, session: Session) -> asyncio.Event:
        loop = asyncio.get_running_loop()
        if session._event is None or session._event_loop is not loop:
            # One event and one timer per waited session, however many polls wait on it.
            session._event = asyncio.Event()
            session._event_loop = loop
            delay = max(0.0, session.finished_at - self.clock())
            session._timer = loop.call_later(delay, self._wake, session)
            self._waited.add(session)
        return session._event

    def _wake(self, session: Session, force: bool = False) -> None:
        now = self.clock()
        if not force and now < session.finished_at:
            # The injected clock lags the loop's: look again when it should be due.
            loop = session._event_loop
            if loop is not None and not loop.is_closed():
                session._timer = loop.call_later(
                    max(0.01, session.finished_at - now), self._wake, session
                )
            return
        if session._timer is not None:
            session._timer.cancel()
        event = session._event
        session._event = session._event_loop = session._timer = None
        self._waited.discard(session)
        if event is not None:
            with contextlib.suppress(RuntimeError):  # its loop is closed: nobody waits
                event.set()
