"""Both stores, for the tests that must hold on either: in memory, and in a real Redis.
The fixtures (`redis_server`, `store_factory`) are in the plugin `tests.store_fixtures`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Final

import pytest
from marksign_mock import MockApp, MockConfig, create_app
from marksign_mock.exceptions import ApiError
from marksign_mock.models import Clock, SessionStore
from marksign_mock.redis_store import RedisStore
from marksign_mock.stores import Store

from tools.redis_server import RedisServer

STORES: Final = ("memory", "redis")

StoreFactory = Callable[..., Store]


def unique_prefix() -> str:
    return f"test-{uuid.uuid4().hex}:"


@contextlib.asynccontextmanager
async def opened_redis_store(url: str, **settings: Any) -> AsyncIterator[RedisStore]:
    """A Redis store under a prefix of its own, open (subscribed) for the block; its
    sessions, scripts and journal removed and its connections closed after it."""
    store = RedisStore(url, prefix=unique_prefix(), **settings)
    await store.open()
    try:
        yield store
    finally:
        with contextlib.suppress(ApiError):  # a test may have cut it off from Redis
            await store.reset()
        await store.aclose()


def config_store(factory: StoreFactory, config: MockConfig, clock: Clock) -> Store:
    """A store of the factory's kind with the settings of `config` (as `from_config`)."""
    memory = SessionStore.from_config(config, clock)
    settings = {name: getattr(memory, name) for name in STORE_SETTINGS}
    return factory(**settings)


STORE_SETTINGS: Final = (
    "person",
    "session_timeout",
    "retention",
    "max_sessions",
    "max_retained",
    "seed",
    "clock",
)


def app_with_store(config: MockConfig, kind: str, request: pytest.FixtureRequest) -> MockApp:
    """A simulator on a store of `kind`; a Redis one under a key prefix of its own (the
    test module names `tests.store_fixtures` in `pytest_plugins`)."""
    if kind == "memory":
        return create_app(config)
    server: RedisServer = request.getfixturevalue("redis_server")
    shared = replace(config, store_url=server.url)
    return create_app(shared, store=RedisStore.from_config(shared, prefix=unique_prefix()))
