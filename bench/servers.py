"""Start the servers under test as their own processes on 127.0.0.1, and stop them.

Ours is started by the simulator's own launcher (`marksign_mock.SimulatorProcess`), the
peers by `run_server` from their command lines.
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

from bench.tools import child_setup, log, results_dir


@dataclass(frozen=True)
class Server:
    name: str
    port: int
    pid: int

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time (user + system, all threads) the server process has used so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rpartition(")")[2].split()
        # After the command name: state is field 3, utime and stime are fields 14 and 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

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
    """Our simulator, started by its launcher on a free port, pinned to ``cpus``."""
    simulator = SimulatorProcess(
        options,
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
        yield Server(name, port, pid)
    finally:
        simulator.stop()
