"""Soak: minutes of steady mixed load on one simulator process, every answer checked.

One simulator (the memory store, pinned to the server CPU) gets a session started at a
fixed rate for the whole duration, each with a demo identity in turn
(``marksign_mock.person.DEMO_IDENTITIES``: signers, refusers of several kinds, a wrong
verification code, one who never answers). Each session is one connection: the initialize
call, then its status call (a long poll until the outcome). Every answer is checked:

- initialize: 200 with a token and the control code of the hash
  (``marksign_mock.crypto.control_code``);
- status: what the identity's outcome gives: 200 with a signature over the session's hash
  that the simulator's certificate verifies (signers), the outcome's error code (40020 for
  the refusers and the wrong verification code) and 40021 for the one who never answers,
  once the session times out.

An answer is *correct*, *wrong* (an answer, but not that one) or *lost* (none: a connection
error or a timeout; a status call is allowed its whole wait plus ``STATUS_MARGIN``). The
RSS of the simulator is sampled every ``RSS_INTERVAL`` seconds; RSS at minute 1 (at half
time in runs under 2 minutes) is compared with RSS at the end.

The short answer delay and session timeout keep every kind of outcome, expiry included,
coming all through the run; the short retention and the small pool of hashes let the
simulator's memory settle before minute 1 (retained sessions, the journal, the signature
cache), so that the comparison sees leaks rather than caches filling.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric import rsa
from marksign_mock.crypto import control_code
from marksign_mock.exceptions import http_status
from marksign_mock.person import DEMO_IDENTITIES, Outcome

from bench import quiet
from bench.load import percentile
from bench.longpoll import error_code, public_key, signed
from bench.ours import (
    ACCESS_TOKEN,
    INITIALIZE_PATH,
    STATUS_BODY,
    describe,
    hash_of,
    mock_options,
    status_path,
)
from bench.rawhttp import Connection, post_request
from bench.servers import Server, run_ours
from bench.settings import Settings
from bench.table import Measure, Row
from bench.tools import log

SECTION = "soak: steady mixed load on one simulator process (memory store)"
RSS_INTERVAL = 10.0  # seconds between RSS samples
BASELINE_SECONDS = 60.0  # RSS at minute 1 is the baseline...
INITIALIZE_TIMEOUT = 10.0
STATUS_MARGIN = 30.0  # a status answer later than its outcome by this much is lost
RSS_GOAL = 0.10  # RSS at the end within 10% of RSS at minute 1


@dataclass(frozen=True)
class Plan:
    """What the soak does, from the settings (short runs get shorter timeouts)."""

    seconds: float
    rate: float  # sessions started per second
    answer_delay: float
    session_timeout: float
    retention: float
    hashes: int  # the pool of distinct hashes the sessions cycle through

    @classmethod
    def of(cls, settings: Settings) -> Plan:
        seconds = settings.soak_minutes * 60
        # Sessions of the one who never answers expire well within the run, even a short one.
        timeout = min(settings.soak_session_timeout, seconds / 4)
        return cls(
            seconds=seconds,
            rate=settings.soak_rate,
            answer_delay=min(settings.soak_answer_delay, timeout / 4),
            session_timeout=timeout,
            retention=settings.soak_retention,
            hashes=settings.soak_hashes,
        )

    def options(self) -> list[str]:
        return mock_options(
            self.answer_delay,
            *("--session-timeout", f"{self.session_timeout:g}"),
            *("--retention", f"{self.retention:g}"),
        )

    @property
    def baseline(self) -> float:
        """When the RSS that the end is compared with is read: minute 1, or half time."""
        return min(BASELINE_SECONDS, self.seconds / 2)


@dataclass
class Answer:
    """One request of the soak and what came of it."""

    call: str  # initialize or status
    verdict: str = "lost"  # correct, wrong or lost
    detail: str = ""  # what was wrong, or why lost
    latency: float = math.nan  # initialize: seconds to its answer; status: after its outcome
    answered_at: float = math.nan  # seconds since the soak began


@dataclass
class Session:
    index: int
    code: str
    outcome: Outcome
    answers: list[Answer] = field(default_factory=list)


@dataclass
class SoakRun:
    sessions: list[Session]
    samples: list[tuple[float, float | None]]  # (seconds since the start, RSS MB)
    load_seconds: float  # how long sessions were being started
    drain_seconds: float  # then, until the last answer
    late: float  # the most a session started after its planned time, seconds
    cpu_seconds: float  # the simulator's CPU during the load


def _expected_wait(plan: Plan, outcome: Outcome) -> float:
    return plan.session_timeout if outcome is Outcome.TIMEOUT else plan.answer_delay


async def _session(
    port: int, plan: Plan, session: Session, key: rsa.RSAPublicKey, began: float
) -> None:
    hash_hex = hash_of(session.index % plan.hashes)
    body = json.dumps(
        {
            "access_token": ACCESS_TOKEN,
            "hash": hash_hex,
            "hash_algorithm": "SHA256",
            "country": "LT",
            "code": session.code,
        }
    ).encode()
    start = Answer("initialize")
    session.answers.append(start)
    connection = None
    try:
        sent = time.monotonic()
        connection = await asyncio.wait_for(Connection.open(port), INITIALIZE_TIMEOUT)
        status, answer = await asyncio.wait_for(
            connection.exchange(post_request(port, INITIALIZE_PATH, body)), INITIALIZE_TIMEOUT
        )
        start.latency, start.answered_at = time.monotonic() - sent, time.monotonic() - began
        token = _check_initialize(start, status, answer, hash_hex)
        if token is None:
            return
        poll = Answer("status")
        session.answers.append(poll)
        wait = _expected_wait(plan, session.outcome)
        request = post_request(port, status_path(token), STATUS_BODY)
        status, answer = await asyncio.wait_for(connection.exchange(request), wait + STATUS_MARGIN)
        now = time.monotonic()
        # The outcome is known `wait` after the session started, which is after `sent`.
        poll.latency, poll.answered_at = now - sent - wait, now - began
        _check_status(poll, status, answer, hash_hex, session.outcome, key)
    except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
        lost = session.answers[-1]
        lost.verdict, lost.detail = "lost", type(error).__name__
    finally:
        if connection is not None:
            await connection.close()


def _check_initialize(answer: Answer, status: int, body: bytes, hash_hex: str) -> str | None:
    """The token when the answer is right; else the answer is marked wrong."""
    answer.verdict = "wrong"
    if status != 200:
        answer.detail = f"HTTP {status}{error_code(body)}"
        return None
    try:
        data = json.loads(body)
        token, code = data["token"], data["control_code"]
    except (ValueError, KeyError, TypeError):
        answer.detail = "200 without token and control code"
        return None
    if not isinstance(token, str) or not token:
        answer.detail = "200 without a token"
        return None
    if code != control_code(bytes.fromhex(hash_hex)):
        answer.detail = "control code not the hash's"
        return None
    answer.verdict = "correct"
    return token


def _check_status(
    answer: Answer,
    status: int,
    body: bytes,
    hash_hex: str,
    outcome: Outcome,
    key: rsa.RSAPublicKey,
) -> None:
    expected = outcome.error_code
    if expected is None:
        good = signed(status, body, hash_hex, key)
        want = "200 with a verified signature"
    else:
        good = status == http_status(expected) and error_code(body) == f" {expected}"
        want = f"{http_status(expected)} {expected}"
    answer.verdict = "correct" if good else "wrong"
    if not good:
        answer.detail = f"{outcome.value}: HTTP {status}{error_code(body)}, not {want}"


async def _sample_rss(
    server: Server, began: float, samples: list[tuple[float, float | None]]
) -> None:
    while True:
        await asyncio.sleep(max(0.0, began + len(samples) * RSS_INTERVAL - time.monotonic()))
        samples.append((time.monotonic() - began, server.memory_mb("VmRSS")))


async def _soak(server: Server, plan: Plan, key: rsa.RSAPublicKey) -> SoakRun:
    identities = list(DEMO_IDENTITIES.items())
    sessions: list[Session] = []
    tasks: list[asyncio.Future[None]] = []
    samples: list[tuple[float, float | None]] = []
    cpu_before = server.cpu_seconds()
    began = time.monotonic()
    sampler = asyncio.ensure_future(_sample_rss(server, began, samples))
    late = 0.0
    index = 0
    while (due := began + index / plan.rate) < began + plan.seconds:
        wait = due - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        else:
            late = max(late, -wait)
        code, outcome = identities[index % len(identities)]
        session = Session(index, code, outcome)
        sessions.append(session)
        tasks.append(asyncio.ensure_future(_session(server.port, plan, session, key, began)))
        index += 1
        if index % max(1, round(plan.rate * 60)) == 0:
            log(f"soak: {index} sessions started, {time.monotonic() - began:.0f} s")
    await asyncio.sleep(max(0.0, began + plan.seconds - time.monotonic()))
    load_seconds = time.monotonic() - began
    samples.append((load_seconds, server.memory_mb("VmRSS")))
    cpu_seconds = server.cpu_seconds() - cpu_before
    sampler.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await sampler
    log(f"soak: load over after {load_seconds:.0f} s; waiting for the last answers")
    await asyncio.gather(*tasks)
    drain_seconds = time.monotonic() - began - load_seconds
    return SoakRun(sessions, samples, load_seconds, drain_seconds, late, cpu_seconds)


def _event_loop_run(server: Server, plan: Plan, key: rsa.RSAPublicKey) -> SoakRun:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_soak(server, plan, key))
    return uvloop.run(_soak(server, plan, key))


def measure(settings: Settings, server_cpus: set[int]) -> tuple[list[Row], list[str]]:
    plan = Plan.of(settings)
    options = plan.options()
    quiet.wait_for_quiet(settings.quiet_wait)
    log(f"soak: {plan.seconds:g} s at {plan.rate:g} sessions/s")
    with run_ours("ours-soak", options, server_cpus) as server:
        key = public_key(server.base_url)
        with quiet.watch(server.pids()) as watch:
            run = _event_loop_run(server, plan, key)
        peak_mb = server.memory_mb("VmHWM")
    rows = _rows(plan, run, peak_mb, watch.disturbed)
    samples = ", ".join("n/a" if mb is None else f"{mb:.0f}" for _, mb in run.samples)
    notes = [
        f"soak: {describe(options)}, pinned to CPU {sorted(server_cpus)}, this process (the "
        f"client) on the others; one session started every {1 / plan.rate * 1000:g} ms "
        f"({plan.rate:g}/s, about {2 * plan.rate:g} requests/s: a few percent of what one "
        "core serves, so the soak looks at leaks and wrong answers under steady use, not at "
        "saturation); identities in turn: "
        + ", ".join(f"{code} {outcome.value}" for code, outcome in DEMO_IDENTITIES.items()),
        f"soak: each session one connection (initialize, then its status call held until the "
        f"outcome: {plan.answer_delay:g} s, or {plan.session_timeout:g} s for the one who "
        f"never answers); hashes cycle through {plan.hashes} (the signature cache fills "
        f"early), retention {plan.retention:g} s (retained sessions level off early); "
        f"lost = no answer (a connection error, or none {STATUS_MARGIN:g} s after the "
        "outcome), wrong = any other answer than the identity's",
        f"soak: RSS every {RSS_INTERVAL:g} s (MB): {samples}",
    ]
    return rows, notes


def _expected(outcome: Outcome) -> str:
    if outcome.error_code is None:
        return "200 signed"
    return f"{outcome.error_code} {'expired' if outcome is Outcome.TIMEOUT else 'refused'}"


def _rows(plan: Plan, run: SoakRun, peak_mb: float | None, disturbed: bool) -> list[Row]:
    answers = [answer for session in run.sessions for answer in session.answers]
    verdicts = Counter(answer.verdict for answer in answers)
    not_sent = sum(1 for session in run.sessions if len(session.answers) < 2)
    failures = Counter(
        f"{answer.call} {answer.verdict}: {answer.detail}"
        for answer in answers
        if answer.verdict != "correct"
    )
    if not_sent:
        failures["status not sent (its initialize failed)"] = not_sent
    by_outcome = Counter(_expected(session.outcome) for session in run.sessions)
    in_load = sum(1 for answer in answers if answer.answered_at <= run.load_seconds)

    def latencies(call: str) -> list[float]:
        return sorted(
            answer.latency * 1000
            for answer in answers
            if answer.call == call and answer.verdict == "correct"
        )

    def ms(values: Sequence[float], fraction: float) -> Measure | str:
        value = percentile(values, fraction)
        return "n/a" if math.isnan(value) else Measure.once(value)

    baseline = next(
        ((t, mb) for t, mb in run.samples if t >= plan.baseline - 1 and mb is not None), None
    )
    end = run.samples[-1] if run.samples and run.samples[-1][1] is not None else None
    ratio = (
        f"{end[1] / baseline[1]:.3f}x"
        if baseline and end and baseline[1] and end[1] is not None
        else "n/a"
    )
    at = f"{baseline[0]:.0f} s" if baseline else f"{plan.baseline:.0f} s"
    minutes = plan.seconds / 60
    section = f"{SECTION}, {minutes:g} min"
    init, poll = latencies("initialize"), latencies("status")
    return [
        Row(
            section,
            f"sessions started per second (planned {plan.rate:g})",
            "req/s",
            Measure.once(len(run.sessions) / run.load_seconds),
        ),
        Row(
            section,
            "requests answered per second (during the load)",
            "req/s",
            Measure.once(in_load / run.load_seconds),
            noisy=disturbed,
        ),
        Row(
            section,
            "sessions by expected status answer",
            "",
            ", ".join(f"{kind}: {n}" for kind, n in sorted(by_outcome.items())),
        ),
        Row(
            section,
            "requests: correct / wrong / lost",
            "",
            f"{verdicts['correct']} / {verdicts['wrong']} / {verdicts['lost']}",
            goal="0 wrong, 0 lost",
        ),
        Row(
            section,
            "failed requests by kind",
            "",
            "; ".join(f"{kind}: {n}" for kind, n in failures.most_common(5)) or "none",
        ),
        Row(section, "initialize latency, p50", "ms", ms(init, 0.5), noisy=True),
        Row(section, "initialize latency, p99", "ms", ms(init, 0.99), noisy=True),
        Row(section, "status: outcome -> its answer, p50", "ms", ms(poll, 0.5), noisy=True),
        Row(section, "status: outcome -> its answer, p99", "ms", ms(poll, 0.99), noisy=True),
        Row(
            section,
            "a session started late by at most",
            "ms",
            Measure.once(run.late * 1000),
            noisy=True,
        ),
        Row(
            section,
            "simulator CPU during the load",
            "%",
            Measure.once(run.cpu_seconds / run.load_seconds * 100),
            noisy=disturbed,
        ),
        Row(
            section,
            f"RSS at {at}",
            "MB",
            "n/a" if baseline is None or baseline[1] is None else Measure.once(baseline[1]),
        ),
        Row(
            section,
            f"RSS at the end ({run.load_seconds:.0f} s)",
            "MB",
            "n/a" if end is None or end[1] is None else Measure.once(end[1]),
        ),
        Row(
            section,
            f"RSS at the end / at {at}",
            "",
            ratio,
            goal=f"within {RSS_GOAL:.0%} (0.90x-1.10x)",
        ),
        Row(
            section,
            "peak RSS (VmHWM)",
            "MB",
            "n/a" if peak_mb is None else Measure.once(peak_mb),
        ),
        Row(
            section,
            "last answers after the load (drain)",
            "s",
            Measure.once(run.drain_seconds),
            noisy=True,
        ),
    ]
