"""Long polls parked in a store: counted, so that a test can await them instead of sleeping,
and given up when their caller leaves.

Both stores mark a status call as parked right before it awaits the session's answer;
`until()` returns once the count is reached. A poll parked with `gone` (an awaitable that
resolves when its caller has left, e.g. the client's connection closed) ends with
`PollAbandoned` as soon as it resolves: it is no longer counted, and holds nothing. No
HTTP, no Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Final

# Resolves when the caller of a long poll has left; only asked for once a poll parks.
Gone = Callable[[], Awaitable[object]]

# Where our HTTP server (`server.py`) offers a request's `Gone` in its ASGI scope
# (`extensions`): a future, not a task per waiting poll. Other servers: `http.disconnect`.
CLIENT_LEFT_EXTENSION: Final = "marksign_mock.client_left"


class PollAbandoned(Exception):
    """The caller of a parked long poll left: nobody waits for its answer any more."""


class ParkedPolls:
    """How many long polls wait, per token, in this process."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._total = 0
        self._changed: asyncio.Event | None = None

    def count(self, token: str | None = None) -> int:
        """Parked polls of `token` (None: of every token)."""
        return self._total if token is None else self._counts[token]

    @contextlib.contextmanager
    def parked(self, token: str, gone: Gone | None = None) -> Iterator[None]:
        """Count a poll of `token` as parked while the block awaits; with `gone`, the block
        is cancelled when its caller leaves, which raises PollAbandoned here."""
        self._counts[token] += 1
        self._total += 1
        self._notify()
        watch: _Watch | None = None
        try:
            if gone is not None:
                watch = _Watch(gone)
            yield
        except asyncio.CancelledError:
            # Cancelled by the watch alone (nobody else asked the task to stop meanwhile).
            if watch is not None and watch.fired and watch.task.uncancel() <= watch.cancelling:
                raise PollAbandoned from None
            raise
        finally:
            if watch is not None:
                watch.stop()
            self._counts[token] -= 1
            self._total -= 1
            if not self._counts[token]:
                del self._counts[token]

    async def until(self, token: str | None = None, count: int = 1) -> None:
        """Return once at least `count` polls of `token` (None: in all) are parked."""
        while self.count(token) < count:
            if self._changed is None:
                self._changed = asyncio.Event()
            await self._changed.wait()

    def _notify(self) -> None:
        changed, self._changed = self._changed, None
        if changed is not None:
            changed.set()


class _Watch:
    """Cancels the current task once `gone` resolves, unless stopped first. Made only
    while a poll is parked (a status call answered at once makes none); a `gone` that is a
    future (our server's) costs no task, any other awaitable one task while it waits."""

    def __init__(self, gone: Gone) -> None:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a long poll parks in a task")
        self.task = task
        self.cancelling = task.cancelling()  # requests to stop it before this one
        self.fired = False
        self.active = True
        self.watcher = asyncio.ensure_future(gone())
        self.watcher.add_done_callback(self._done)

    def _done(self, watcher: asyncio.Future[object]) -> None:
        # exception() also marks a failed watcher's error as seen: nobody else looks.
        if not watcher.cancelled() and watcher.exception() is None and self.active:
            self.fired = True
            self.task.cancel()

    def stop(self) -> None:
        """Out of the block: a watcher that resolves now must not cancel what comes next."""
        self.active = False
        self.watcher.cancel()
