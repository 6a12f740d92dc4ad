"""Long-poll capacity: N status calls held at once by one simulator process, or by two.

N sessions are started (a demo identity that signs), then N connections each send the
status call of their own session and wait. The simulated person answers every session
``answer_delay`` seconds after it started, long enough for all the polls to be in place
first; meanwhile the rate of new sessions is timed with the N polls waiting. Every answer is
checked against its own session: its signature must verify with the simulator's certificate
over that session's hash.

Three variants, each with fresh simulators: distinct hashes (one RSA signature per released
poll: the realistic case, bound by RSA) and one shared hash (signed once: the release
measures the waking of the polls alone), each in one process (the issue's goal: peak RSS
under 300 MB); and distinct hashes split across two processes on different ports over one
Redis (``--store``, a redis-server of the bench's own): sessions are started alternately on
both, and each poll is sent to the other process than the one that started its session,
so that every answer crosses the shared store. Every answer is counted as correct (its own
session's verified signature), wrong (any other answer) or lost (no answer: a connection
error or a timeout).

The connections are raw asyncio streams with a hand-written HTTP/1.1 request (lighter than
httpx at 10,000 connections), and both this process and the server get their open-file
limit raised to the hard limit (the two processes split the polls between them)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import math
import time
from collections.abc import Coroutine, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils

from bench import quiet
from bench.load import percentile
from bench.ours import (
    INITIALIZE_PATH,
    STATUS_BODY,
    describe,
    hash_of,
    initialize_body,
    mock_options,
    status_path,
)
from bench.rawhttp import Connection, post_request, read_response
from bench.servers import Server, redis_url, run_ours, run_redis
from bench.settings import Settings
from bench.table import Measure, Row
from bench.tools import cpu_split, log, raise_fd_limit

SECTION = "long-poll capacity (one simulator process)"
SECTION_SHARED = "long-poll capacity (two simulator processes over one Redis)"
CREATE_WORKERS = 64  # keep-alive connections that start the sessions
CONNECT_AT_ONCE = 256  # polls connecting at the same time (below the listen backlog)
FD_MARGIN = 200  # descriptors kept free for everything else
REQUEST_TIMEOUT = 30.0
RATE_SECONDS = 2.0  # how long session starts are timed while the polls wait
# After its answer moment a poll may still wait for the RSA signatures queued before its own.
RELEASE_TIMEOUT = 600.0


@dataclass
class Poll:
    token: str
    hash_hex: str
    answer_at: float  # when the person answers, on this process's monotonic clock
    poll_port: int  # the simulator process its status call goes to
    placed_at: float = math.nan  # when the status request was sent
    answered_at: float = math.nan
    status: int = 0
    body: bytes = b""
    error: str = ""


async def _create_sessions(
    ports: Sequence[int], count: int, answer_delay: float, shared_hash: bool
) -> list[Poll]:
    """Session i is started on ``ports[i % len(ports)]``; its poll goes to the next port
    (the same one when there is one)."""
    polls: list[Poll | None] = [None] * count
    next_index = 0

    async def worker() -> None:
        nonlocal next_index
        connections: dict[int, Connection] = {}
        try:
            while next_index < count:
                index = next_index
                next_index += 1
                port = ports[index % len(ports)]
                if port not in connections:
                    connections[port] = await Connection.open(port)
                hash_hex = hash_of(0 if shared_hash else index)
                request = post_request(port, INITIALIZE_PATH, initialize_body(hash_hex))
                sent = time.monotonic()
                status, body = await asyncio.wait_for(
                    connections[port].exchange(request), REQUEST_TIMEOUT
                )
                if status != 200:
                    raise RuntimeError(f"initialize answered {status}: {body[:200]!r}")
                token = json.loads(body)["token"]
                # The session starts between sending and answering: take the earlier end, so
                # release latencies are never understated.
                other = ports[(index + 1) % len(ports)]
                polls[index] = Poll(token, hash_hex, sent + answer_delay, other)
        finally:
            for connection in connections.values():
                await connection.close()

    await asyncio.gather(*(worker() for _ in range(min(CREATE_WORKERS, count))))
    return [poll for poll in polls if poll is not None]


async def _hold(poll: Poll, gate: asyncio.Semaphore, deadline: float) -> None:
    port = poll.poll_port
    request = post_request(port, status_path(poll.token), STATUS_BODY)
    connection = None
    try:
        async with gate:
            connection = await asyncio.wait_for(Connection.open(port), REQUEST_TIMEOUT)
            await asyncio.wait_for(connection.send(request), REQUEST_TIMEOUT)
            poll.placed_at = time.monotonic()
        remaining = max(1.0, deadline - time.monotonic())
        poll.status, poll.body = await asyncio.wait_for(read_response(connection.reader), remaining)
        poll.answered_at = time.monotonic()
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
        poll.error = type(error).__name__
    finally:
        if connection is not None:
            await connection.close()


async def _start_rate(ports: Sequence[int], seconds: float) -> float:
    """Sessions started per second by CREATE_WORKERS connections (spread over ``ports``)
    for ``seconds``."""
    deadline = time.monotonic() + seconds
    started = 0

    async def worker(port: int) -> None:
        nonlocal started
        request = post_request(port, INITIALIZE_PATH, initialize_body(hash_of(0)))
        connection = await Connection.open(port)
        try:
            while time.monotonic() < deadline:
                status, _ = await asyncio.wait_for(connection.exchange(request), REQUEST_TIMEOUT)
                started += status == 200
        finally:
            await connection.close()

    began = time.monotonic()
    await asyncio.gather(*(worker(ports[i % len(ports)]) for i in range(CREATE_WORKERS)))
    return started / (time.monotonic() - began)


@dataclass
class Run:
    polls: list[Poll]
    create_seconds: float
    # Each simulator's RSS once the sessions exist, before the polls.
    sessions_mb: list[float | None]
    held_mb: list[float | None]  # each one's RSS with every poll held, before the first answer
    # Sessions started per second while every poll is held (nan: no time left to measure).
    rate_while_held: float = math.nan


async def _run_polls(
    servers: Sequence[Server], count: int, answer_delay: float, shared_hash: bool
) -> Run:
    ports = [server.port for server in servers]
    started = time.monotonic()
    polls = await _create_sessions(ports, count, answer_delay, shared_hash)
    create_seconds = time.monotonic() - started
    sessions_mb = [server.memory_mb("VmRSS") for server in servers]
    log(f"long poll: {len(polls)} sessions started in {create_seconds:.1f} s; placing the polls")
    gate = asyncio.Semaphore(CONNECT_AT_ONCE)
    deadline = time.monotonic() + answer_delay + RELEASE_TIMEOUT
    holds = [asyncio.ensure_future(_hold(poll, gate, deadline)) for poll in polls]
    first_answer = min(poll.answer_at for poll in polls)
    # Until shortly before the first person answers: every poll should be in place by then.
    spare = RATE_SECONDS + 1.0
    await asyncio.wait(holds, timeout=max(0.0, first_answer - spare - time.monotonic()))
    held_mb = [server.memory_mb("VmRSS") for server in servers]
    placed = sum(1 for poll in polls if not math.isnan(poll.placed_at))
    log(f"long poll: {placed} polls placed; starting sessions while they wait")
    rate = math.nan
    if placed == len(polls) and first_answer - time.monotonic() > RATE_SECONDS:
        rate = await _start_rate(ports, RATE_SECONDS)
    log("long poll: waiting for the answers")
    await asyncio.gather(*holds)
    return Run(polls, create_seconds, sessions_mb, held_mb, rate)


def public_key(base_url: str) -> rsa.RSAPublicKey:
    """The key of the simulator's certificate (``GET /_mock/certificate.pem``)."""
    with httpx.Client(base_url=base_url, timeout=30) as client:
        pem = client.get("/_mock/certificate.pem").raise_for_status().content
    key = x509.load_pem_x509_certificate(pem).public_key()
    if not isinstance(key, rsa.RSAPublicKey):
        raise TypeError("the simulator's certificate has no RSA key")
    return key


def signed(status: int, body: bytes, hash_hex: str, key: rsa.RSAPublicKey) -> bool:
    """Whether a status answer is 200 with a signature over ``hash_hex`` that ``key`` verifies
    (RSA PKCS#1 v1.5 over the SHA-256 hash, as the simulator signs)."""
    if status != 200:
        return False
    try:
        signature = base64.b64decode(json.loads(body)["signature_value"], validate=True)
        key.verify(
            signature,
            bytes.fromhex(hash_hex),
            padding.PKCS1v15(),
            utils.Prehashed(hashes.SHA256()),
        )
    except (ValueError, KeyError, TypeError, InvalidSignature):
        return False
    return True


def _correct(poll: Poll, key: rsa.RSAPublicKey) -> bool:
    return signed(poll.status, poll.body, poll.hash_hex, key)


@dataclass(frozen=True)
class Variant:
    key: str  # names its simulators' logs
    section: str
    label: str
    shared_hash: bool
    processes: int  # 1: in memory; 2: on different ports over one Redis


VARIANTS = (
    # Every session signs its own hash: one RSA-4096 signature per poll, made on its release.
    Variant("distinct", SECTION, "distinct hashes", False, 1),
    # Every session signs the same hash: the signature is made once and the release measures
    # the waking of the polls alone.
    Variant("shared", SECTION, "one shared hash", True, 1),
    # Sessions started alternately on A and B, each poll sent to the other one: every answer
    # crosses the Redis store (its deadline, its signature, its release).
    Variant(
        "redis",
        SECTION_SHARED,
        "distinct hashes, each poll on the other process",
        False,
        2,
    ),
)
PROCESS_NAMES = "AB"


@contextlib.contextmanager
def _simulators(
    variant: Variant, options: Sequence[str], server_cpus: set[int]
) -> Iterator[tuple[list[Server], Server | None]]:
    """The variant's simulators (and their Redis, if they share one) for the block."""
    name = f"ours-longpoll-{variant.key}"
    with contextlib.ExitStack() as stack:
        if variant.processes == 1:
            yield [stack.enter_context(run_ours(name, options, server_cpus, raise_fds=True))], None
            return
        _, load_cpus = cpu_split()
        redis = stack.enter_context(run_redis("longpoll-redis", load_cpus))
        shared = [*options, "--store", redis_url(redis.port)]
        servers = [
            stack.enter_context(
                run_ours(f"{name}-{letter.lower()}", shared, server_cpus, raise_fds=True)
            )
            for letter in PROCESS_NAMES[: variant.processes]
        ]
        yield servers, redis


def _event_loop_run(coroutine: Coroutine[Any, Any, Run]) -> Run:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def measure(settings: Settings, server_cpus: set[int]) -> tuple[list[Row], list[str]]:
    limit = raise_fd_limit()
    count = settings.longpoll_sessions
    notes = []
    if count > limit - FD_MARGIN:
        count = max(1, limit - FD_MARGIN)
        notes.append(f"long poll: N lowered to {count} by the open-file limit ({limit})")
    delay = settings.longpoll_answer_delay
    options = mock_options(delay, "--session-timeout", f"{delay + RELEASE_TIMEOUT:g}")
    rows: list[Row] = []
    for variant in VARIANTS:
        quiet.wait_for_quiet(settings.quiet_wait)
        with _simulators(variant, options, server_cpus) as (servers, redis):
            idle_mb = [server.memory_mb("VmRSS") for server in servers]
            run = _event_loop_run(_run_polls(servers, count, delay, variant.shared_hash))
            peak_mb = [server.memory_mb("VmHWM") for server in servers]
            redis_mb = None if redis is None else redis.memory_mb("VmRSS")
            key = public_key(servers[0].base_url)
        rows += _rows(variant, run, key, count, idle_mb, peak_mb, redis_mb)
    _, load_cpus = cpu_split()
    notes += [
        f"long poll: {describe(options)}; RLIMIT_NOFILE raised to the hard limit ({limit}) "
        "with resource.setrlimit in this process and in the server (before exec)",
        f"long poll over Redis: two simulators with the same options and --store "
        "redis://127.0.0.1:PORT/0 (a redis-server of the bench's own, started empty); "
        f"sessions started alternately on A and B, each poll sent to the other; both "
        f"simulators pinned to CPU {sorted(server_cpus)} (the one-process variants' CPU), "
        f"redis-server with this process on CPU {sorted(load_cpus)}; correct = 200 with the "
        "signature of its own session's hash, verified with the simulator's certificate; "
        "wrong = any other answer; lost = no answer (connection error or timeout)",
    ]
    return rows, notes


def error_code(body: bytes) -> str:
    """`` 50002`` for an answer in the API's error shape, else nothing."""
    try:
        return f" {int(json.loads(body)['error_code'])}"
    except (ValueError, KeyError, TypeError):
        return ""


def _mb(value: float | None) -> Measure | str:
    return "n/a" if value is None else Measure.once(value)


def _rows(
    variant: Variant,
    run: Run,
    key: rsa.RSAPublicKey,
    count: int,
    idle_mb: Sequence[float | None],
    peak_mb: Sequence[float | None],
    redis_mb: float | None,
) -> list[Row]:
    polls = run.polls
    correct = [poll for poll in polls if _correct(poll, key)]
    lost = sum(1 for poll in polls if poll.error) + count - len(polls)
    wrong = len(polls) - len(correct) - sum(1 for poll in polls if poll.error)
    in_place = sum(1 for poll in polls if poll.placed_at < poll.answer_at)
    errors: dict[str, int] = {}
    for poll in polls:
        if poll.error or poll.status != 200:
            kind = poll.error or f"HTTP {poll.status}{error_code(poll.body)}"
            errors[kind] = errors.get(kind, 0) + 1
    latencies = sorted(poll.answered_at - poll.answer_at for poll in correct)
    last = (
        max(poll.answered_at for poll in correct) - max(poll.answer_at for poll in polls)
        if correct
        else math.nan
    )
    log(
        f"long poll, {variant.label}: {len(correct)}/{count} correct, {wrong} wrong, "
        f"{lost} lost; failures {errors or 'none'}"
    )

    def seconds(value: float) -> Measure | str:
        return "n/a" if math.isnan(value) else Measure.once(value)

    def rss(idle: float | None, sessions: float | None, held: float | None) -> str:
        return " / ".join("n/a" if v is None else f"{v:.0f}" for v in (idle, sessions, held))

    failures = ", ".join(f"{kind}: {n}" for kind, n in errors.items()) or "none"
    section = f"{variant.section}, N={count}, {variant.label}"
    rows = [
        Row(section, "polls in place before their answer", "", f"{in_place}/{count}"),
        Row(
            section,
            "answers carrying their own session's verified signature",
            "",
            f"{len(correct)}/{count}",
            goal=f"{count}/{count}",
        ),
        Row(
            section,
            "answers: correct / wrong / lost",
            "",
            f"{len(correct)} / {wrong} / {lost}",
            goal=f"{count} / 0 / 0",
        ),
        Row(section, "failed polls by kind", "", failures),
        Row(
            section,
            "sessions started per second (before the polls)",
            "req/s",
            Measure.once(len(polls) / run.create_seconds),
            noisy=True,
        ),
        Row(
            section,
            "sessions started per second while the N polls wait",
            "req/s",
            "n/a" if math.isnan(run.rate_while_held) else Measure.once(run.rate_while_held),
            noisy=True,
        ),
        Row(
            section,
            "answer -> its response, p50",
            "s",
            seconds(percentile(latencies, 0.5)),
            noisy=True,
        ),
        Row(
            section,
            "answer -> its response, p99",
            "s",
            seconds(percentile(latencies, 0.99)),
            noisy=True,
        ),
        Row(section, "last answer -> last response", "s", seconds(last), noisy=True),
    ]
    if variant.processes == 1:
        return [
            *rows,
            Row(
                section,
                "peak RSS of the simulator (VmHWM)",
                "MB",
                _mb(peak_mb[0]),
                goal="< 300 MB",
            ),
            Row(
                section,
                "RSS: idle / sessions made / polls held",
                "MB",
                rss(idle_mb[0], run.sessions_mb[0], run.held_mb[0]) + " MB",
            ),
        ]
    for index, name in enumerate(PROCESS_NAMES[: variant.processes]):
        rows.append(Row(section, f"peak RSS of process {name} (VmHWM)", "MB", _mb(peak_mb[index])))
    for index, name in enumerate(PROCESS_NAMES[: variant.processes]):
        rows.append(
            Row(
                section,
                f"RSS of process {name}: idle / sessions made / polls held",
                "MB",
                rss(idle_mb[index], run.sessions_mb[index], run.held_mb[index]) + " MB",
            )
        )
    rows.append(Row(section, "RSS of redis-server after the answers", "MB", _mb(redis_mb)))
    return rows
