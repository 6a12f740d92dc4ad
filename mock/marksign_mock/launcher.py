"""Starting the simulator: the one launcher, whatever embeds it.

Three ways, one module (like Schemathesis's app runner or WireMock's one server class):

- `InProcessTransport`: an httpx transport that calls the app without a socket;
- `BackgroundServer`: our HTTP server (`server`) on 127.0.0.1 in a daemon thread;
- `SimulatorProcess`: `python -m marksign_mock` as a subprocess on a free loopback port.

`serve()` runs the server in the foreground (the `marksign-mock` command), `serve_workers()`
in several processes on one port (`marksign-mock --workers N`). The CLI, the pytest plugin,
the contract runner, the demo and the benchmarks all start the simulator here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.process
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Final, Self, TypeVar

import httpx

from .app import MockApp
from .config import ENV_ACCESS_TOKENS
from .controller import MockController
from .faults import FAULT_HEADER, IN_PROCESS_FAULT_STATUS
from .polls import CLIENT_LEFT_EXTENSION
from .server import ASGIApp, HttpServer, Receive, Scope, Send, bind_socket
from .server import StartupFailed as StartupFailed  # raised by serve(), serve_workers()
from .server import logger as server_logger
from .stores import Store, reset_all

T = TypeVar("T")

logger = logging.getLogger("marksign_mock")

READY_PREFIX: Final = "marksign-mock: serving "  # the startup line; the URL follows it
LOG_FORMAT: Final = "%(asctime)s %(levelname)s %(name)s: %(message)s"  # the command's log


class _LogFormatter(logging.Formatter):
    """`logging.Formatter` with the date and time of `asctime` made once per second: the
    command logs a line per request at its default level (formatTime is the documented
    place to change how the time is written; the text is the same)."""

    _second: int | None = None
    _text = ""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._text = time.strftime(self.default_time_format, self.converter(second))
            self._second = second
        return f"{self._text},{int(record.msecs):03d}"  # default_msec_format's text


def configure_logging(level: str) -> None:
    """The log of a process that runs the simulator as a command (`marksign-mock`, a
    worker): lines of LOG_FORMAT on stderr from `level` up.

    What LOG_FORMAT does not show is not collected (the options of the logging HOWTO's
    "Optimization"): no caller lookup, no thread or process. Measured (BENCHMARKS.md): the
    line logged per request cost about 64 µs of a served request's CPU, about 54 with
    these. Never for an embedding process: its logging is its own.
    """
    logging._srcfile = None  # the HOWTO's documented switch
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler()
    handler.setFormatter(_LogFormatter(LOG_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class _Running:
    """A simulator that `start()`s and `stop()`s; as a context manager, for the block."""

    def start(self) -> object:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def new_event_loop() -> asyncio.AbstractEventLoop:
    """The event loop the server runs on: the standard library's, not uvloop.

    Measured on our server with the simulator (BENCHMARKS.md): uvloop took 4 to 10 % less
    CPU per request, but under 200 busy keep-alive connections it served some of them late
    (p99 0.46 s and 0.93 s in 2 runs of 8, never above 52 ms with asyncio's loop).
    """
    return asyncio.new_event_loop()


def _run(main: Coroutine[Any, Any, T]) -> T:
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)


def _listen_socket(host: str, port: int, *, reuse_port: bool = False) -> socket.socket:
    try:
        return bind_socket(host, port, reuse_port=reuse_port)
    except OSError as error:
        where = base_url(host, port).removeprefix("http://")
        raise StartupFailed(f"cannot listen on {where}: {error.strerror or error}") from None


def _announce(url: str) -> None:
    print(f"{READY_PREFIX}{url}", flush=True)


def _freeze_startup_objects() -> None:
    """For a process that only serves: what startup made (the spec, its compiled schemas,
    the modules) is set aside for good (`gc.freeze`), so that a full collection walks only
    what serving made instead of pausing every answer for it. Measured (BENCHMARKS.md): p99
    at 200 connections 39 ms against 68 ms, the RSS of a 7-minute soak flat; a larger
    young threshold on top made p99 no better and let the RSS creep (1.07x in 7 minutes).
    Not for an embedding process (the background server runs in a test's process, whose
    collector is its own)."""
    gc.collect()
    gc.freeze()


def serve(app: MockApp, *, log_level: str = "info") -> None:
    """Serve `app` on its configured host and port until SIGINT (Ctrl+C) or SIGTERM; print
    READY_PREFIX + URL once listening (the line `SimulatorProcess` waits for).

    Raises StartupFailed (one line) if it cannot listen or the app's startup fails.
    `log_level` is the server's own (its connection-level errors).
    """
    sock = _listen_socket(app.config.host, app.config.port)
    logging.getLogger(server_logger.name).setLevel(log_level.upper())
    host, port = sock.getsockname()[:2]
    server = HttpServer(app)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, _stopping(app, server))

        def ready() -> None:
            _freeze_startup_objects()
            _announce(base_url(host, port))

        await server.serve([sock], ready=ready)

    try:
        _run(main())
    finally:
        sock.close()


def _stopping(app: ASGIApp, server: HttpServer) -> Callable[[], None]:
    """A signal's handler: the long polls waiting in this process are answered (40402 in
    memory, whose sessions go with it; 50002 on a shared store, whose sessions live on),
    then the graceful shutdown, which would otherwise cut them off without an answer."""
    stopping: list[asyncio.Task[None]] = []  # kept until done

    async def release_then_stop() -> None:
        try:
            if isinstance(app, MockApp):
                await app.store.release_polls()
        finally:
            server.stop()

    def handler() -> None:
        if not stopping:
            stopping.append(asyncio.get_running_loop().create_task(release_then_stop()))

    return handler


# -- several processes on one port --------------------------------------------------------

WORKER_STOP_TIMEOUT: Final = 10.0  # seconds a worker gets to stop before it is killed


@dataclass
class _Worker:
    """One worker process, as the parent sees it."""

    slot: int
    process: multiprocessing.process.BaseProcess
    channel: Connection | None  # the worker says "ready" or why it failed; None once read
    ready: bool = False
    replaces: int | None = None  # the pid of the worker it replaces


def _worker_main(
    factory: Callable[[], ASGIApp],
    host: str,
    port: int,
    log_level: str,
    channel: Connection,
) -> None:
    """A worker process: its own app from `factory`, its own socket on the shared port."""
    # Ctrl+C reaches the parent, which stops the workers with SIGTERM: no KeyboardInterrupt
    # tracebacks from the workers, even while they start.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_logging(log_level)
    try:
        app = factory()
        sock = _listen_socket(host, port, reuse_port=True)
    except StartupFailed as failure:
        channel.send(str(failure))
        sys.exit(1)
    except Exception as error:  # the factory's: reported as one line, by the parent
        channel.send(f"cannot build the app: {type(error).__name__}: {error}")
        sys.exit(1)
    server = HttpServer(app)

    async def main() -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, _stopping(app, server))

        def ready() -> None:
            _freeze_startup_objects()
            channel.send(None)

        await server.serve([sock], ready=ready)

    try:
        _run(main())
    except StartupFailed as failure:
        channel.send(str(failure))
        sys.exit(1)
    finally:
        sock.close()
        channel.close()


def serve_workers(
    factory: Callable[[], ASGIApp],
    *,
    workers: int,
    host: str,
    port: int,
    log_level: str = "info",
) -> None:
    """Serve on (host, port) from `workers` processes, each with its own app from `factory`
    (picklable: the workers are spawned, e.g. `functools.partial(create_app, config)`),
    until SIGINT (Ctrl+C) or SIGTERM.

    Each worker listens on its own SO_REUSEPORT socket: the kernel spreads connections over
    them evenly (one shared socket let whichever worker woke first take most of them,
    measured). READY_PREFIX + URL is printed once every worker serves. A worker that dies
    later is logged and replaced; one that fails to start stops them all: StartupFailed.
    """
    if workers < 1:
        raise ValueError("workers must be at least 1")
    # Holds the port (a free one if port is 0) without listening: connections go only to
    # the workers' listening sockets.
    holder = _listen_socket(host, port, reuse_port=True)
    logging.getLogger(server_logger.name).setLevel(log_level.upper())
    port = holder.getsockname()[1]
    context = multiprocessing.get_context("spawn")
    wakeup, wakeup_writer = socket.socketpair()
    for end in (wakeup, wakeup_writer):
        end.setblocking(False)
    previous = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    previous_fd = signal.set_wakeup_fd(wakeup_writer.fileno())
    for signum in previous:  # the wakeup socket carries them to the loop below
        signal.signal(signum, lambda *_: None)
    pool: list[_Worker] = []

    def spawn(slot: int) -> _Worker:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(
            target=_worker_main,
            args=(factory, host, port, log_level, sender),
            name=f"marksign-mock-worker-{slot}",
        )
        process.start()
        sender.close()  # the worker's end: its exit shows as EOF here
        return _Worker(slot, process, receiver)

    try:
        pool.extend(spawn(slot) for slot in range(workers))
        announced = False
        while True:
            waiting: list[Any] = [wakeup]
            for worker in pool:
                waiting.append(worker.process.sentinel)
                if worker.channel is not None:
                    waiting.append(worker.channel)
            woken = multiprocessing.connection.wait(waiting)
            if wakeup in woken:
                with contextlib.suppress(BlockingIOError):
                    wakeup.recv(4096)
                return
            for index, worker in enumerate(pool):
                if worker.channel is not None and worker.channel in woken:
                    _read_channel(worker)
                if worker.process.sentinel in woken and worker.channel is None:
                    worker.process.join()  # it has exited: this only reaps it
                    how = _exit_status(worker.process.exitcode)
                    if not worker.ready:
                        raise StartupFailed(f"worker {worker.slot} {how} before serving")
                    logger.error(
                        "worker %d (pid %s) %s; starting another",
                        worker.slot,
                        worker.process.pid,
                        how,
                    )
                    pool[index] = spawn(worker.slot)
                    pool[index].replaces = worker.process.pid
                    worker.process.close()
            if not announced and all(worker.ready for worker in pool):
                announced = True
                _announce(base_url(host, port))
    finally:
        _stop_workers(pool)
        signal.set_wakeup_fd(previous_fd)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        for sock in (wakeup, wakeup_writer, holder):
            sock.close()


def _exit_status(code: int | None) -> str:
    if code is not None and code < 0:
        with contextlib.suppress(ValueError):
            return f"was killed by {signal.Signals(-code).name}"
    return f"exited with code {code}"


def _read_channel(worker: _Worker) -> None:
    """The worker's word: None when it serves, else why it failed (StartupFailed)."""
    channel = worker.channel
    assert channel is not None
    try:
        failure = channel.recv()
    except EOFError:  # it exited without a word; its sentinel tells the rest
        failure = None
        worker.channel = None
        channel.close()
    else:
        if failure is not None:
            raise StartupFailed(f"worker {worker.slot}: {failure}")
        worker.ready = True
        worker.channel = None
        channel.close()
        if worker.replaces is not None:
            logger.info(
                "worker %d (pid %s) serves in place of pid %s",
                worker.slot,
                worker.process.pid,
                worker.replaces,
            )


def _stop_workers(pool: list[_Worker]) -> None:
    for worker in pool:
        if worker.process.is_alive():
            worker.process.terminate()  # SIGTERM: a graceful stop
    deadline = time.monotonic() + WORKER_STOP_TIMEOUT
    for worker in pool:
        worker.process.join(max(0.0, deadline - time.monotonic()))
        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join()
        if worker.channel is not None:
            worker.channel.close()


# The in-process request being served in this task: the future done once its client left.
_LEFT: ContextVar[asyncio.Future[None] | None] = ContextVar("marksign_mock_left", default=None)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _read_timeout(request: httpx.Request) -> float | None:
    """The client's read timeout for `request` (None: it waits as long as it takes)."""
    timeout: float | None = request.extensions.get("timeout", {}).get("read")
    return timeout


def _transport_error(fault: str, content: bytes, request: httpx.Request) -> httpx.TransportError:
    """What httpx raises on a real socket for a transport fault (the socket tests show it)."""
    if fault == "reset":
        return httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
    if fault == "truncated":
        half, whole = len(content) // 2, len(content)
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body "
            f"(received {half} bytes, expected {whole})",
            request=request,
        )
    return httpx.RemoteProtocolError(
        "Server disconnected without sending a response.", request=request
    )


class InProcessTransport(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """Serves `app` from an event loop in a daemon thread; `close()` stops it.

    For an `httpx.Client` and an `httpx.AsyncClient` alike. It acts as a socket would
    towards the client: the transport faults raise what httpx raises on a socket, and the
    client's read timeout is kept (`httpx.ReadTimeout`); the app then runs on to its end,
    its answer going nowhere, and a long poll it was waiting in ends, as our server tells
    it when a client leaves (`CLIENT_LEFT_EXTENSION`).
    """

    def __init__(self, app: MockApp) -> None:
        self.app = app
        # Unexpected errors are answered in the error shape (500/50000) and logged; the
        # test sees the answer, as a client would, not the exception.
        self._asgi = httpx.ASGITransport(app=self._serve, raise_app_exceptions=False)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="marksign-mock-inprocess", daemon=True
        )
        self._thread.start()
        self._closed = False
        self._abandoned: set[concurrent.futures.Future[Any]] = set()  # timed out, running
        # Per answer still running: the future that tells the app its client left.
        self._left: dict[concurrent.futures.Future[Any], asyncio.Future[None]] = {}
        self._run(app.startup())

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The app, told when the client of the request it serves gives up (`_LEFT`)."""
        left = _LEFT.get()
        if left is not None:
            # A future of its own per wait: the poll's watch cancels the one it is given.
            scope.setdefault("extensions", {})[CLIENT_LEFT_EXTENSION] = lambda: asyncio.shield(left)
        await self.app(scope, receive, send)

    def _call(self, request: httpx.Request) -> concurrent.futures.Future[httpx.Response]:
        """The app's answer to `request`, on the app's loop."""
        if self._closed:
            raise RuntimeError("the in-process transport is closed")
        # The app reads the body on the loop's thread; keep the request's own headers
        # (a chunked request stays without Content-Length).
        forwarded = httpx.Request(
            request.method,
            request.url,
            headers=request.headers,
            stream=httpx.ByteStream(request.read()),
            extensions=request.extensions,
        )

        async def call() -> httpx.Response:
            # httpx's ASGI transport runs the app in this task: it sees this context.
            _LEFT.set(left)
            response = await self._asgi.handle_async_request(forwarded)
            content = await response.aread()
            status, headers = response.status_code, response.headers
            fault = headers.get(FAULT_HEADER) if status == IN_PROCESS_FAULT_STATUS else None
            if fault is not None:
                raise _transport_error(fault, content, request)
            return httpx.Response(status, headers=headers, content=content, request=request)

        left: asyncio.Future[None] = self._loop.create_future()  # done on its loop only
        answer = asyncio.run_coroutine_threadsafe(call(), self._loop)
        self._left[answer] = left
        answer.add_done_callback(self._forget_left)
        return answer

    def _forget_left(self, answer: concurrent.futures.Future[httpx.Response]) -> None:
        self._left.pop(answer, None)

    def _abandon(self, answer: concurrent.futures.Future[httpx.Response]) -> None:
        """The client gave up on `answer`: the app runs on, until `close()` at the latest,
        told that its client left (a long poll ends)."""
        self._abandoned.add(answer)
        answer.add_done_callback(self._abandoned.discard)
        left = self._left.get(answer)
        if left is not None:
            self._loop.call_soon_threadsafe(_resolve, left)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        answer = self._call(request)
        try:
            return answer.result(timeout=_read_timeout(request))
        except TimeoutError:
            if answer.done():  # the app's own
                raise
            self._abandon(answer)
            raise httpx.ReadTimeout("timed out", request=request) from None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()  # a streamed body, read here; `_call` then has it whole
        answer = self._call(request)
        try:
            # Shielded: the caller's cancellation leaves the app running, as a socket would.
            return await asyncio.wait_for(
                asyncio.shield(asyncio.wrap_future(answer)), _read_timeout(request)
            )
        except TimeoutError:
            if answer.done():
                raise
            self._abandon(answer)
            raise httpx.ReadTimeout("timed out", request=request) from None
        except asyncio.CancelledError:
            self._abandon(answer)
            raise

    async def aclose(self) -> None:
        """Nothing: an `httpx.AsyncClient` on this transport does not own the simulator;
        `close()` (the fixture's teardown) stops it."""

    def reset(self) -> dict[str, int]:
        """Forget every session (long polls answer 40402), script and journal entry, as
        `POST /_mock/reset` does; how many of each there were."""
        return self._run(reset_all(self.app.store))

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            # Answer long polls still waiting (a shared store keeps its sessions), stop what
            # clients gave up on, then stop.
            self._run(self.app.store.release_polls())
            for abandoned in list(self._abandoned):
                abandoned.cancel()
            self._run(self.app.shutdown())
            self._run(self._loop.shutdown_default_executor())
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
            self._loop.close()


class BackgroundServer(_Running):
    """The simulator on 127.0.0.1 (a free port by default), served from a daemon thread.

    Use it as a context manager; `base_url` is set once it listens. `reset()` is safe to
    call from any thread; `store` is for reading (it belongs to the server's event loop).
    """

    def __init__(self, app: MockApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.base_url = ""
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None
        self._control: MockController | None = None

    @property
    def store(self) -> Store:
        return self.app.store

    @property
    def control(self) -> MockController:
        """The control plane over the socket (scenarios, faults, journal, ...)."""
        if self._control is None:
            if not self.base_url:
                raise RuntimeError("the simulator is not running")
            self._control = MockController.at(self.base_url)
        return self._control

    def start(self, timeout: float = 10.0) -> None:
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        self.base_url = base_url(self.host, self.port)
        server = HttpServer(self.app)
        self._server = server
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._serve, args=(server, sock, ready), name="marksign-mock", daemon=True
        )
        self._thread.start()
        # Set once it serves, or when the thread ends without serving.
        if not ready.wait(timeout) or not server.started:
            self.stop()
            raise RuntimeError(f"the simulator did not start: {self._failure!r}")

    def _serve(self, server: HttpServer, sock: socket.socket, ready: threading.Event) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            await server.serve([sock], ready=ready.set)

        try:
            _run(main())
        except BaseException as failure:  # reported by start(); a thread cannot raise
            self._failure = failure
        finally:
            sock.close()
            ready.set()

    def reset(self) -> dict[str, int]:
        """Forget every session (long polls answer 40402), script and journal entry, as
        `POST /_mock/reset` does; how many of each there were."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return asyncio.run(reset_all(self.store))
        return asyncio.run_coroutine_threadsafe(reset_all(self.store), loop).result(timeout=10)

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        loop = self._loop
        if server.started and thread.is_alive() and loop is not None and not loop.is_closed():
            # Answer waiting long polls now, so that shutdown need not wait for them; a
            # shared store keeps its sessions for the other processes.
            with contextlib.suppress(RuntimeError):
                release = self.store.release_polls()
                asyncio.run_coroutine_threadsafe(release, loop).result(timeout=10)
        if loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop ended already
                loop.call_soon_threadsafe(server.stop)
        thread.join(timeout=15)
        self._server = None
        if self._control is not None:
            self._control.close()
            self._control = None


class SimulatorProcess(_Running):
    """`python -m marksign_mock` on 127.0.0.1 and a port the OS picks, as a subprocess.

    `base_url` is set once it listens. Use it as a context manager. `options` are more
    `marksign-mock` options; the access token, if given, goes through the environment
    (never the command line, which `ps` shows). Its log (stderr) goes to `log_path`, or is
    discarded. `preexec` runs in the child before it starts (e.g. CPU pinning). `python` is
    the interpreter to run it with (one that has marksign-mock installed); this one by
    default.
    """

    def __init__(
        self,
        options: Sequence[str] = (),
        *,
        access_token: str | None = None,
        log_path: Path | None = None,
        log_level: str = "warning",
        startup_timeout: float = 30.0,
        env: Mapping[str, str] | None = None,
        preexec: Callable[[], None] | None = None,
        python: str | None = None,
    ) -> None:
        self.options = tuple(options)
        self.python = sys.executable if python is None else python
        self.access_token = access_token
        self.log_path = log_path
        self.log_level = log_level
        self.startup_timeout = startup_timeout
        self.env = dict(os.environ if env is None else env)
        self.preexec = preexec
        self.base_url = ""
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    def command(self) -> list[str]:
        return [
            self.python,
            *("-m", "marksign_mock"),
            *("--host", "127.0.0.1", "--port", "0", "--log-level", self.log_level),
            *self.options,
        ]

    def start(self) -> str:
        env = dict(self.env)
        if self.access_token is not None:
            env[ENV_ACCESS_TOKENS] = self.access_token  # keeps it off `ps`
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            self._log = self.log_path.open("wb")
        self._process = subprocess.Popen(  # noqa: S603 -- an interpreter we were given, no shell
            self.command(),
            stdout=subprocess.PIPE,
            stderr=self._log if self._log is not None else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
            preexec_fn=self.preexec,
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
