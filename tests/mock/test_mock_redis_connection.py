"""The Redis store when the network between it and Redis fails in a way a restart does not
show: a subscription that goes silent without closing (a NAT or a load balancer that drops
the flow): the process notices, and reads from Redis what it can no longer hear. A Redis
too busy to answer in time: the command is not sent twice. And the tests' own Redis,
stopped even when a script keeps it busy.

A proxy on 127.0.0.1 between the store and a real Redis passes everything through, except
what the test asks it to lose.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
import redis.exceptions
from marksign_mock import redis_store
from marksign_mock.exceptions import ApiError
from marksign_mock.journal import record_of
from marksign_mock.models import SessionRequest
from marksign_mock.person import Outcome
from marksign_mock.redis_store import RedisStore
from marksign_mock.scripts import ErrorScript, Scenario
from marksign_spec import load_spec

from tests.stores import unique_prefix
from tools.redis_server import RedisServer

pytest_plugins = ["tests.store_fixtures"]
pytestmark = [pytest.mark.anyio, pytest.mark.socket]

STATUS_OPERATION = next(op for op in load_spec().operations if op.role == "status")
HASH = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"


class Network:
    """Forwards 127.0.0.1:`port` to Redis; `silence()`: connections that subscribed pass
    nothing more either way, and stay open; `lose_the_answer_to(b"EVALSHA")`: the next such
    command reaches Redis and runs, and its connection breaks before the answer comes back."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.port = 0
        self.silent = False
        self.losing: bytes | None = None
        self.lost = 0  # answers lost
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> Network:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for writer in self._writers:  # every connection, both sides, closed for good
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        await self._server.wait_closed()

    def silence(self) -> None:
        self.silent = True

    def lose_the_answer_to(self, command: bytes) -> None:
        self.losing = command

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        redis_in, redis_out = await asyncio.open_connection("127.0.0.1", self.redis_port)
        self._writers += (client_out, redis_out)
        subscriber = losing = False

        async def forward(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, outgoing: bool
        ) -> None:
            nonlocal subscriber, losing
            while data := await reader.read(65536):
                if outgoing:
                    subscriber = subscriber or b"SUBSCRIBE" in data.upper()
                    if self.losing is not None and self.losing in data.upper():
                        self.losing, losing = None, True
                elif losing:  # the command ran; its answer never arrives
                    self.lost += 1
                    client_out.transport.abort()
                    return
                if subscriber and self.silent:
                    continue  # the flow is gone: nothing arrives, nothing is closed
                writer.write(data)
                await writer.drain()

        await asyncio.gather(
            forward(client_in, redis_out, True),
            forward(redis_in, client_out, False),
            return_exceptions=True,
        )
        redis_out.close()
        client_out.close()


async def test_a_subscription_gone_silent_is_noticed_and_scripts_are_read_from_redis(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(redis_store, "SUBSCRIPTION_PING_SECONDS", 0.1)
    # Redis still counts the silent subscriber, which never confirms a broadcast.
    monkeypatch.setattr(redis_store, "BROADCAST_TIMEOUT_SECONDS", 0.5)
    prefix = unique_prefix()
    async with Network(redis_server.port) as network:
        behind = RedisStore(f"redis://127.0.0.1:{network.port}/0", prefix=prefix)
        other = RedisStore(redis_server.url, prefix=prefix)
        for store in (behind, other):
            await store.open()
        try:
            assert behind.subscribed
            network.silence()
            async with asyncio.timeout(10):
                while behind.subscribed:
                    await asyncio.sleep(0.05)
            armed = await other.scripts.arm(ErrorScript(0, "status", 50003, None, None, 1))
            taken = await behind.scripts.take_error(STATUS_OPERATION)
            assert taken is not None
            assert taken.id == armed.id
        finally:
            await other.reset()
            for store in (behind, other):
                await store.aclose()


async def _each_once(store: RedisStore) -> dict[str, object]:
    """Every store call that counts or takes, once; what each answered and left behind."""
    code = "30303039914"
    request = SessionRequest("SHA256", HASH, "LT", code)
    seen: dict[str, object] = {}
    await store.scripts.arm(ErrorScript(0, "status", 50003, None, None, 3))
    seen["take_error"] = (await store.scripts.take_error(STATUS_OPERATION)) is not None
    seen["uses left"] = [e.remaining for e in (await store.scripts.listing()).errors]
    await store.scripts.arm(Scenario(0, code, Outcome.USER_REFUSED, None, 5))
    session = await store.create(request, await store.scripts.peek_scenario(code))
    seen["sessions"] = len(await store.sessions())
    seen["scenario uses left"] = [s.remaining for s in (await store.scripts.listing()).scenarios]
    armed = await store.scripts.arm(ErrorScript(0, "initialize", 50001, None, None, 1))
    seen["remove"] = await store.scripts.remove(armed.id)
    waiting = asyncio.create_task(store.status(session.token))
    await store.until_parked(session.token)
    seen["waiting"] = (await store.get(session.token)).waiting
    await store.script(session.token, now_=True)
    with contextlib.suppress(ApiError):
        await waiting
    seen["waiting after"] = (await store.get(session.token)).waiting
    for _ in range(4):
        store.journal.record(
            record_of(1.0, "POST", "/x", None, None, {}, None, 0, 200, b"", None, 1.0)
        )
    await store.journal.flush()
    seen["journal reset"] = await store.journal.reset()
    seen["reset"] = await store.reset()
    seen["scripts cleared"] = await store.scripts.reset()
    return seen


@pytest.mark.parametrize("losing", [None, b"EVALSHA"])
async def test_a_script_whose_answer_was_lost_runs_once(
    redis_server: RedisServer, losing: bytes | None
) -> None:
    # The pool sends a command again once when its connection breaks; Redis may have run it.
    # Every call is made twice: once as it is, once with the answer of its first script lost.
    async with Network(redis_server.port) as network:
        store = RedisStore(f"redis://127.0.0.1:{network.port}/0", prefix=unique_prefix())
        await store.open()
        try:
            expected = await _each_once(store)  # every script loaded, nothing lost
            if losing is not None:
                original = store.redis.evalsha

                async def evalsha(*args: Any, **options: Any) -> Any:
                    network.lose_the_answer_to(losing)
                    return await original(*args, **options)

                store.redis.evalsha = evalsha  # type: ignore[method-assign]
            assert (
                await _each_once(store)
                == expected
                == {
                    "take_error": True,
                    "uses left": [2],
                    "sessions": 1,
                    "scenario uses left": [4],
                    "remove": 1,
                    "waiting": 1,
                    "waiting after": 0,
                    "journal reset": 4,
                    "reset": 1,
                    "scripts cleared": 2,
                }
            )
            assert network.lost == (0 if losing is None else 12)
        finally:
            await store.reset()
            await store.scripts.reset()
            await store.aclose()


# Counts its runs in KEYS[1], then keeps Redis busy for ARGV[1] milliseconds.
_COUNT_THEN_BUSY = """
redis.call('INCR', KEYS[1])
local t = redis.call('TIME')
local busy_until = t[1] * 1000000 + t[2] + tonumber(ARGV[1]) * 1000
repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] >= busy_until
return 1
"""


async def test_a_command_that_timed_out_is_not_sent_again(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Redis was busy, not gone: the command ran, and a copy sent again would run after it.
    monkeypatch.setattr(redis_store, "COMMAND_TIMEOUT_SECONDS", 0.5)
    store = RedisStore(redis_server.url, prefix=unique_prefix())
    runs = store.prefix + "runs"
    try:
        with pytest.raises(redis.exceptions.TimeoutError):
            # Busy 0.7 s: a retry's new connection (after at most 50 ms) would be greeted
            # within its own 0.5 s, and its copy run after the first.
            await store.redis.eval(_COUNT_THEN_BUSY, 1, runs, "700")
        await asyncio.sleep(0.3)  # the copy, had one been sent, is queued before this read
        async with aioredis.Redis.from_url(redis_server.url, decode_responses=True) as reader:
            assert await reader.get(runs) == "1"  # answered after whatever was queued
            await reader.delete(runs)
    finally:
        await store.aclose()


async def test_a_database_redis_does_not_have_stops_the_startup(
    redis_server: RedisServer,
) -> None:
    # Redis answers (it is not down): waiting "until it is back" would wait for ever.
    url = redis_server.url.rpartition("/")[0] + "/99999"
    store = RedisStore(url, prefix=unique_prefix())
    try:
        with pytest.raises(RuntimeError) as refused:
            await store.open()
        assert str(refused.value) == (
            f"Redis at {url} refuses this store: DB index is out of range"
        )
    finally:
        await store.aclose()


async def test_a_redis_busy_at_startup_does_not_stop_it(redis_server: RedisServer) -> None:
    # BUSY passes (a script runs to its end): the store starts, and answers once it is over.
    # Redis says BUSY once a script has run for lua-time-limit (5 s; 0.1 s here), and this
    # one outlasts the wait for the subscription, so the store's first read meets BUSY.
    async with aioredis.Redis.from_url(redis_server.url) as busy:
        await busy.config_set("lua-time-limit", 100)
        try:
            script = busy.eval(_COUNT_THEN_BUSY, 1, unique_prefix(), "3000")
            running: asyncio.Future[Any] = asyncio.ensure_future(script)
            await asyncio.sleep(0.2)  # the script has started
            store = RedisStore(redis_server.url, prefix=unique_prefix())
            try:
                await store.open()  # would raise if BUSY counted as a refusal
                await running
                assert await store.redis.ping()
            finally:
                await store.aclose()
        finally:
            await busy.config_set("lua-time-limit", 5000)


def test_a_redis_stuck_in_a_script_is_still_stopped(tmp_path: Path) -> None:
    # The tests' own Redis: SIGTERM waits for a running script, which may never end (as
    # the retained cap's loop once did); stop() must end it all the same.
    server = RedisServer(tmp_path)
    server.start()
    pid = server.pid
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as client:
        client.sendall(b"*3\r\n$4\r\nEVAL\r\n$17\r\nwhile true do end\r\n$1\r\n0\r\n")
        time.sleep(0.2)  # the script is running
        server.stop(grace=0.5)
    assert server.pid is None
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
