"""Small ASGI apps of the server's own tests, and `python -m tests.mock.asgi_apps` to serve
one from worker processes (the factories are module-level: the workers are spawned).

`EchoApp` answers what it received (scope, body, how many body messages); a few paths
make it misbehave on purpose. `pid_app` answers its process id.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from marksign_mock.faults import TRANSPORT_EXTENSION
from marksign_mock.launcher import StartupFailed, configure_logging, serve_workers
from marksign_mock.server import ASGIApp, Message, Receive, Scope, Send

JSON_HEADERS = [(b"content-type", b"application/json")]


async def lifespan(receive: Receive, send: Send) -> None:
    """A lifespan that starts and stops without a fuss."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def answer(send: Send, status: int, body: bytes, headers: Any = None) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers or []})
    await send({"type": "http.response.body", "body": body})


class EchoApp:
    """Answers JSON describing the request. Paths that do something else:

    /raise (fails before answering), /raise-after-start, /no-answer, /stream (three body
    messages, no length), /close-header (answers `connection: close`), /hold (waits for
    `release`), /poll (waits for the client to leave), /close-self (closes the connection
    and reads on), /big (16 MiB in 64 KiB messages), /wait-for-pause (receives the body
    only once the server stopped reading), /wait-a-second (receives the body a second late).
    """

    def __init__(self) -> None:
        self.in_flight = 0
        self.most_in_flight = 0
        self.events: list[str] = []  # lifespan and the misbehaving paths, in order
        self.entered = threading.Event()  # /hold, /poll: the request is in the app
        self.done = threading.Event()  # /poll, /close-self, /hold: the app has finished
        self.release: asyncio.Event | None = None  # /hold answers once set (on the loop)
        self.largest_write_buffer = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            self.loop = asyncio.get_running_loop()
            self.release = asyncio.Event()
            self.events.append("startup")
            await lifespan(receive, send)
            self.events.append("shutdown")
            return
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.serve(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope["path"]
        transport = scope["extensions"][TRANSPORT_EXTENSION]
        if path == "/wait-a-second":
            await asyncio.sleep(1.0)
        if path == "/wait-for-pause":
            for _ in range(10_000):  # each turn lets the loop read; a paused read stops it
                if not transport.is_reading():
                    break
                await asyncio.sleep(0)
        messages: list[Message] = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.events.append("disconnect before the body ended")
                self.done.set()
                return
            messages.append(message)
            if not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages)
        if path == "/raise":
            raise RuntimeError("a bug before answering")
        if path == "/no-answer":
            return
        if path == "/raise-after-start":
            headers = [(b"content-length", b"10")]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": b"12345", "more_body": True})
            raise RuntimeError("a bug halfway through the answer")
        if path == "/stream":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for part in (b"one,", b"two,", b"three"):
                await send({"type": "http.response.body", "body": part, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/hold":
            self.entered.set()
            assert self.release is not None
            try:
                await self.release.wait()
            except asyncio.CancelledError:
                self.events.append("cancelled")
                self.done.set()
                raise
        if path == "/poll":
            self.entered.set()
            self.events.append((await receive())["type"])
            await answer(send, 200, b"nobody reads this")
            self.events.append("poll finished")
            self.done.set()
            return
        if path == "/close-self":
            transport.close()
            self.events.append((await receive())["type"])
            self.done.set()
            return
        if path == "/big":
            chunk = b"x" * 65536
            await send({"type": "http.response.start", "status": 200, "headers": []})
            for _ in range(256):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                size = transport.get_write_buffer_size()
                self.largest_write_buffer = max(self.largest_write_buffer, size)
            await send({"type": "http.response.body", "body": b""})
            return
        headers = list(JSON_HEADERS)
        if path == "/close-header":
            headers.append((b"connection", b"close"))
        described = {
            "type": scope["type"],
            "asgi": scope["asgi"],
            "http_version": scope["http_version"],
            "method": scope["method"],
            "scheme": scope["scheme"],
            "path": path,
            "raw_path": scope["raw_path"].decode("latin-1"),
            "query_string": scope["query_string"].decode("latin-1"),
            "root_path": scope["root_path"],
            "headers": [[n.decode("latin-1"), v.decode("latin-1")] for n, v in scope["headers"]],
            "client": scope["client"],
            "server": scope["server"],
            "transport_in_scope": transport is not None,
            "body": body.decode("latin-1"),
            "body_messages": len(messages),
            "largest_body_message": max(len(m.get("body", b"")) for m in messages),
        }
        await answer(send, 200, json.dumps(described).encode(), headers)
        if path == "/hold":
            self.done.set()


def pid_app() -> ASGIApp:
    """Answers `{"pid": ...}`: which worker process served the connection."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await lifespan(receive, send)
            return
        await receive()
        await answer(send, 200, json.dumps({"pid": os.getpid()}).encode(), JSON_HEADERS)

    return app


def second_fails(folder: Path) -> ASGIApp:
    """The first worker to build it serves (and writes its pid to `folder`); the next fails."""
    marker = folder / "first.pid"
    try:
        with marker.open("x") as first:
            first.write(str(os.getpid()))
    except FileExistsError:
        raise RuntimeError("this worker cannot start") from None
    return pid_app()


def main(argv: list[str]) -> int:
    """`python -m tests.mock.asgi_apps pid|second-fails WORKERS [FOLDER]`."""
    kind, workers = argv[0], int(argv[1])
    factories: dict[str, Callable[[], ASGIApp]] = {
        "pid": pid_app,
        "second-fails": functools.partial(second_fails, Path(argv[-1])),
    }
    configure_logging("info")
    try:
        serve_workers(factories[kind], workers=workers, host="127.0.0.1", port=0)
    except StartupFailed as failure:
        print(f"asgi_apps: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
