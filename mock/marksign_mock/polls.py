"""Long polls parked in a store: counted, so that a test can await them instead of sleeping.

Both stores mark a status call as parked right before it awaits the session's answer;
`until()` returns once the count is reached. No HTTP, no Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import Iterator


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
    def parked(self, token: str) -> Iterator[None]:
        self._counts[token] += 1
        self._total += 1
        self._notify()
        try:
            yield
        finally:
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
