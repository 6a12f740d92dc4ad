"""The Redis store when the network between it and Redis fails in ways a restart does not
show: an answer lost after Redis ran the command (the request fails with 50002, and the
command is never sent a second time: a session made twice, a script's use taken twice),
and a subscription that goes silent without closing (a NAT or a load balancer that drops
the flow): the process notices, and reads from Redis what it can no longer hear.

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

import pytest
from marksign_mock import redis_store
from marksign_mock.exceptions import ApiError
from marksign_mock.models import SessionRequest
from marksign_mock.redis_store import RedisStore
from marksign_mock.scripts import ErrorScript
from marksign_spec import load_spec

from tests.stores import opened_redis_store, unique_prefix
from tools.redis_server import RedisServer

pytest_plugins = ["tests.store_fixtures"]
pytestmark = [pytest.mark.anyio, pytest.mark.socket]

STATUS_OPERATION = next(op for op in load_spec().operations if op.role == "status")
HASH = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"


class Network:
    """Forwards 127.0.0.1:`port` to Redis. `drop(sha)`: the next answer to that script
    never arrives (the client's connection is aborted instead); `silence()`: connections
    that subscribed pass nothing more either way, and stay open."""

    def __init__(self, redis_port: int) -> None:
        self.redis_port = redis_port
        self.port = 0
        self.sha: bytes | None = None
        self.dropped = 0
        self.silent = False
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

    def drop(self, sha: str) -> None:
        self.sha = sha.encode()

    def silence(self) -> None:
        self.silent = True

    async def _serve(
        self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter
    ) -> None:
        redis_in, redis_out = await asyncio.open_connection("127.0.0.1", self.redis_port)
        self._writers += (client_out, redis_out)
        pending = False  # the chosen script was sent: its answer is the one to drop
        subscriber = False

        async def up() -> None:
            nonlocal pending, subscriber
            while data := await client_in.read(65536):
                subscriber = subscriber or b"SUBSCRIBE" in data.upper()
                if subscriber and self.silent:
                    continue
                if self.sha is not None and self.sha in data:
                    pending = True
                redis_out.write(data)
                await redis_out.drain()

        async def down() -> None:
            nonlocal pending
            while data := await redis_in.read(65536):
                if subscriber and self.silent:
                    continue
                if pending and data.startswith(b"-NOSCRIPT"):  # not run: it is loaded, sent again
                    pending = False
                elif pending:  # it ran; its answer is lost
                    self.sha, pending = None, False
                    self.dropped += 1
                    client_out.transport.abort()
                    return
                client_out.write(data)
                await client_out.drain()

        await asyncio.gather(up(), down(), return_exceptions=True)
        redis_out.close()
        client_out.close()


async def test_a_lost_answer_is_a_50002_and_the_command_is_not_run_again(
    redis_server: RedisServer,
) -> None:
    async with (
        Network(redis_server.port) as proxy,
        opened_redis_store(f"redis://127.0.0.1:{proxy.port}/0") as store,
    ):
        armed = await store.scripts.arm(ErrorScript(0, "status", 50003, None, None, 3))
        proxy.drop(store.scripts._take.sha)
        with pytest.raises(ApiError, check=lambda e: e.code == 50002):
            await store.scripts.take_error(STATUS_OPERATION)
        uses = {s.id: s.remaining for s in (await store.scripts.listing()).errors}
        assert uses[armed.id] == 2  # one use taken, once

        proxy.drop(store._create.sha)
        with pytest.raises(ApiError, check=lambda e: e.code == 50002):
            await store.create(SessionRequest("SHA256", HASH, "LT", "30303039914"))
        assert await store.count() == 1  # made once
        assert proxy.dropped == 2


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
