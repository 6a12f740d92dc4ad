"""Load generators: wrk (one thread) with a Lua script, or an asyncio fallback when wrk is absent.

Both keep ``connections`` keep-alive connections busy for ``seconds`` with the same POST and
count every answer whose status is not the expected one as an error, next to socket errors
and timeouts.
"""

from __future__ import annotations

import asyncio
import json
import math
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.rawhttp import Connection, post_request

LUA_SCRIPT = Path(__file__).resolve().parent / "post.lua"
REQUEST_TIMEOUT = 10.0


@dataclass(frozen=True)
class Target:
    """One request, repeated: a POST of ``body`` to ``path`` that should answer ``expected``."""

    port: int
    path: str
    body: bytes
    expected: int
    headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"


@dataclass(frozen=True)
class LoadResult:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    socket_errors: int
    unexpected: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def errors(self) -> int:
        return self.socket_errors + self.unexpected


def run_wrk(wrk: str, target: Target, connections: int, seconds: float) -> LoadResult:
    duration = max(1, math.ceil(seconds))  # wrk takes whole seconds
    headers = [f"{name}: {value}" for name, value in target.headers.items()]
    command = [
        wrk,
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        f"{REQUEST_TIMEOUT:.0f}s",
        "-s",
        str(LUA_SCRIPT),
        target.url,
        "--",
        str(target.expected),
        target.body.decode(),
        *headers,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            data = json.loads(line.removeprefix("BENCH_JSON "))
            break
    else:
        raise RuntimeError(f"wrk gave no summary (exit {done.returncode}): {done.stderr[-500:]}")
    socket_errors = sum(data[key] for key in ("connect", "read", "write", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
        socket_errors=socket_errors,
        unexpected=data["unexpected"],
    )


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values (nan when there are none)."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


async def _python_load(target: Target, connections: int, seconds: float) -> LoadResult:
    request = post_request(target.port, target.path, target.body, target.headers)
    latencies: list[float] = []
    errors = {"socket": 0, "unexpected": 0}
    deadline = time.monotonic() + seconds

    async def worker() -> None:
        connection: Connection | None = None
        while time.monotonic() < deadline:
            try:
                if connection is None:
                    connection = await asyncio.wait_for(
                        Connection.open(target.port), REQUEST_TIMEOUT
                    )
                started = time.perf_counter()
                status, _ = await asyncio.wait_for(connection.exchange(request), REQUEST_TIMEOUT)
                latencies.append(time.perf_counter() - started)
                if status != target.expected:
                    errors["unexpected"] += 1
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                errors["socket"] += 1
                if connection is not None:
                    await connection.close()
                connection = None
        if connection is not None:
            await connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        p50_ms=percentile(latencies, 0.50) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        socket_errors=errors["socket"],
        unexpected=errors["unexpected"],
    )


def run_python(target: Target, connections: int, seconds: float) -> LoadResult:
    """The fallback generator: asyncio streams on uvloop when it is installed."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_python_load(target, connections, seconds))
    return uvloop.run(_python_load(target, connections, seconds))


def run_load(wrk: str | None, target: Target, connections: int, seconds: float) -> LoadResult:
    if wrk is not None:
        return run_wrk(wrk, target, connections, seconds)
    return run_python(target, connections, seconds)
