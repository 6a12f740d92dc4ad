"""The store of a simulator: its sessions, scripts and journal, wherever they are kept.

`Store` is what `responses`, `control` and `app` call. Two implementations:

- `MemoryStore`: this process's memory (`models.SessionStore`, `scripts.Scripts`,
  `journal.Journal`), the embedded default;
- `redis_store.RedisStore`: a Redis server, so that several simulator processes (workers
  on one port, or replicas behind a load balancer) share every session, script and
  journal entry (`marksign-mock --store redis://...`).

`open_store()` picks one from `MockConfig.store_url`. Both keep the same rules (the
behaviour tests run against both).
"""

from __future__ import annotations

import time
from typing import Protocol

from .config import MockConfig, redacted_url
from .journal import Journal, JournalStore
from .models import Clock, Session, SessionRequest, SessionStore
from .person import Outcome
from .polls import Gone
from .scripts import Scenario, Scripts, ScriptStore


class Store(Protocol):
    """Sessions with their deadlines and long polls, scripts, and the journal.

    Every method may raise `ApiError`: 40402 for an unknown token, 50002 when the server
    that keeps the state cannot be reached.
    """

    @property
    def clock(self) -> Clock:
        """The time every deadline is on."""
        ...

    @property
    def scripts(self) -> ScriptStore: ...

    @property
    def journal(self) -> JournalStore: ...

    async def open(self) -> None:
        """Get ready to serve (the app's startup); an unreachable server is no failure."""

    async def aclose(self) -> None:
        """Release what `open` took (the app's shutdown); kept state stays where it is."""

    async def create(self, request: SessionRequest, scenario: Scenario | None = None) -> Session:
        """Start a session: 40001 for a hash that does not fit its algorithm, 40401 without
        an account, 42900 over the cap. A `scenario` (from `scripts.peek_scenario`) sets how
        it ends, and one of its uses is taken once the session exists."""
        ...

    async def get(self, token: str) -> Session:
        """The session of `token` as it is now; 40402 if unknown or past retention."""
        ...

    async def status(self, token: str, gone: Gone | None = None) -> str:
        """Long poll: the base64 signature once the person has signed, else the outcome's
        ApiError. The signature is computed once per session. PollAbandoned once `gone`
        resolves while it waits (the caller left)."""
        ...

    async def sessions(self) -> list[Session]:
        """Every session held (live and retained), oldest first."""
        ...

    async def script(
        self,
        token: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        now_: bool = False,
    ) -> Session:
        """Change a running session (`models.rescript`); its long polls, in any process,
        look again. 40402 if unknown; a finished session stays as it was."""
        ...

    async def count(self) -> int:
        """Sessions held (live and retained)."""
        ...

    async def live_count(self) -> int:
        """Sessions whose outcome is not known yet."""
        ...

    async def sweep(self) -> int:
        """Forget sessions past retention or beyond the cap; wake long polls now due."""
        ...

    async def reset(self) -> int:
        """Forget every session (long polls answer 40402); returns how many there were."""
        ...

    async def release_polls(self) -> None:
        """Answer the long polls waiting in this process now: it is about to stop. What
        other processes share stays as it is."""

    async def until_parked(self, token: str | None = None, count: int = 1) -> None:
        """Return once `count` long polls (of `token`, or of any) wait in this process:
        for tests, which await this instead of sleeping."""


class MemoryStore:
    """`Store` in this process's memory: `memory` holds the sessions."""

    def __init__(self, memory: SessionStore, *, journal_size: int = 1000) -> None:
        self.memory = memory
        self.clock = memory.clock
        self.scripts = Scripts()
        self.journal = Journal(journal_size)

    async def open(self) -> None:
        pass

    async def aclose(self) -> None:
        pass

    async def create(self, request: SessionRequest, scenario: Scenario | None = None) -> Session:
        session = self.memory.create(request, scenario)
        if scenario is not None:  # counted once it made a session
            self.scripts.use_scenario(scenario)
        return session

    async def get(self, token: str) -> Session:
        return self.memory.get(token)

    async def status(self, token: str, gone: Gone | None = None) -> str:
        return await self.memory.status(token, gone)

    async def sessions(self) -> list[Session]:
        return self.memory.sessions()

    async def script(
        self,
        token: str,
        *,
        outcome: Outcome | None = None,
        answer_after: float | None = None,
        now_: bool = False,
    ) -> Session:
        return self.memory.script(token, outcome=outcome, answer_after=answer_after, now_=now_)

    async def count(self) -> int:
        return len(self.memory)

    async def live_count(self) -> int:
        return self.memory.live_count()

    async def sweep(self) -> int:
        return self.memory.sweep()

    async def reset(self) -> int:
        return self.memory.reset()

    async def release_polls(self) -> None:
        self.memory.reset()  # the sessions go with this process: 40402

    async def until_parked(self, token: str | None = None, count: int = 1) -> None:
        await self.memory.parked.until(token, count)


async def reset_all(store: Store) -> dict[str, int]:
    """Forget every session (long polls answer 40402), script and journal entry, as
    `POST /_mock/reset` does; how many of each there were."""
    return {
        "sessions_cleared": await store.reset(),
        "scripts_cleared": await store.scripts.reset(),
        "journal_cleared": await store.journal.reset(),
    }


class StoreUnavailable(RuntimeError):
    """The store that `store_url` names cannot be used here (one line says why)."""


def open_store(config: MockConfig, clock: Clock | None = None) -> Store:
    """The store that `config.store_url` names: memory (None) or Redis (`redis://...`).

    The memory store reads the monotonic clock; Redis the wall clock, which every process
    on every machine shares. `clock` replaces either (tests move a fake one by hand).
    """
    if config.store_url is None:
        memory = SessionStore.from_config(config, clock or time.monotonic)
        return MemoryStore(memory, journal_size=config.journal_size)
    try:
        from .redis_store import RedisStore
    except ImportError as error:
        raise StoreUnavailable(
            f"--store {config.store_url.partition(':')[0]}:// needs the Redis client "
            f"({error.name or error} is missing): pip install 'marksign-mock[redis]'"
        ) from None
    try:
        return RedisStore.from_config(config, clock or time.time)
    except ValueError as error:
        raise StoreUnavailable(f"--store {redacted_url(config.store_url)}: {error}") from None


def as_store(store: Store | SessionStore, journal_size: int = 1000) -> Store:
    """A `Store`; a bare `SessionStore` (e.g. one with a fake clock) is put in memory."""
    if isinstance(store, SessionStore):
        return MemoryStore(store, journal_size=journal_size)
    return store
