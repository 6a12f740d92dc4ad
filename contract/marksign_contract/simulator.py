"""The simulator as a subprocess: the `marksign-mock` console script on a free loopback port."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from marksign_mock.cli import ENV_ACCESS_TOKENS, READY_PREFIX

# Answers at once and lets any well-formed personal code sign: generated requests succeed fast.
CONTRACT_OPTIONS = ("--answer-delay", "0", "--allow-any-code")


def console_script(name: str) -> Path:
    """A console script of this environment: it sits next to the running interpreter."""
    return Path(sys.executable).parent / name


class SimulatorProcess:
    """`marksign-mock` on 127.0.0.1 and a port the OS picks; `base_url` is set once it listens.

    Use it as a context manager. Its log (stderr) goes to `log_path`, or is discarded.
    """

    def __init__(
        self,
        options: Sequence[str] = CONTRACT_OPTIONS,
        *,
        access_token: str | None = None,
        log_path: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        self.options = tuple(options)
        self.access_token = access_token
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None

    def start(self) -> str:
        command = [
            str(console_script("marksign-mock")),
            *("--host", "127.0.0.1", "--port", "0", "--log-level", "warning"),
            *self.options,
        ]
        env: Mapping[str, str] = dict(os.environ)
        if self.access_token is not None:
            env = {**env, ENV_ACCESS_TOKENS: self.access_token}  # keeps it off `ps`
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 -- our own console script, no shell
            command,
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        try:
            self.base_url = self._wait_until_ready(self._process)
        except BaseException:
            self.stop()
            raise
        return self.base_url

    def _wait_until_ready(self, process: subprocess.Popen[str]) -> str:
        stdout = process.stdout
        assert stdout is not None
        lines: queue.Queue[str | None] = queue.Queue()

        def read() -> None:  # readline blocks; a thread lets the wait time out
            for line in stdout:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, name="marksign-mock-stdout", daemon=True).start()
        while True:
            try:
                line = lines.get(timeout=self.startup_timeout)
            except queue.Empty:
                raise RuntimeError(
                    f"marksign-mock did not start within {self.startup_timeout:g} s"
                ) from None
            if line is None:
                code = process.wait()
                raise RuntimeError(f"marksign-mock exited with code {code} before it listened")
            if line.startswith(READY_PREFIX):
                return line[len(READY_PREFIX) :].strip()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdout is not None:
            process.stdout.close()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> SimulatorProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
