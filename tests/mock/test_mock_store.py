"""Sessions, the simulated person and the store, without HTTP and with a fake clock.

Every test of a store runs against both: in memory and in a real Redis (`store_factory`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
from collections.abc import Awaitable, Callable

import pytest
from marksign_mock import crypto
from marksign_mock.exceptions import ApiError
from marksign_mock.journal import JournalQuery, record_of
from marksign_mock.models import ManualClock, SessionRequest
from marksign_mock.person import DEMO_IDENTITIES, Outcome, SimulatedPerson
from marksign_mock.polls import PollAbandoned
from marksign_mock.redis_store import RedisStore
from marksign_mock.scripts import ErrorScript
from marksign_mock.stores import Store
from marksign_spec import load_spec

from tests.stores import StoreFactory, opened_redis_store, unique_prefix
from tools.redis_server import RedisServer

HASH = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"
SIGNS = "30303039914"
REFUSES = "30403039917"
NEVER_ANSWERS = "30403039983"
pytestmark = pytest.mark.anyio

STATUS_OPERATION = next(op for op in load_spec().operations if op.role == "status")
TOKEN_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")

pytest_plugins = ["tests.store_fixtures"]


@pytest.fixture
def make_store(store_factory: StoreFactory) -> StoreFactory:
    def make(clock: ManualClock, **settings: object) -> Store:
        return build(store_factory, clock, **settings)

    return make


def build(factory: StoreFactory, clock: ManualClock, **settings: object) -> Store:
    defaults: dict[str, object] = {
        "person": SimulatedPerson(answer_delay=2.0),
        "session_timeout": 10.0,
        "retention": 30.0,
        "seed": 7,
        "clock": clock,
    }
    return factory(**{**defaults, **settings})


async def start(store: Store, code: str = SIGNS, hash_hex: str = HASH) -> str:
    algorithm = "SHA256" if len(hash_hex) == 64 else "SHA512"
    session = await store.create(SessionRequest(algorithm, hash_hex, "LT", code))
    return session.token


def raises_code(code: int) -> pytest.RaisesExc[ApiError]:
    return pytest.raises(ApiError, check=lambda e: e.code == code)


@pytest.mark.parametrize(("code", "outcome"), sorted(DEMO_IDENTITIES.items()))
async def test_each_demo_identity_ends_with_its_outcome(
    make_store: StoreFactory, fake_clock: ManualClock, code: str, outcome: Outcome
) -> None:
    store = make_store(fake_clock)
    session = await store.get(await start(store, code))
    assert session.outcome(fake_clock()) is None  # nobody has answered yet
    fake_clock.advance(2.0)
    if outcome is Outcome.TIMEOUT:
        assert session.outcome(fake_clock()) is None  # still ringing
        fake_clock.advance(8.0)
    assert session.outcome(fake_clock()) is outcome


@pytest.mark.parametrize(
    ("outcome", "error_code"),
    [
        (Outcome.OK, None),
        (Outcome.USER_REFUSED, 40020),
        (Outcome.USER_REFUSED_VC_CHOICE, 40020),
        (Outcome.WRONG_VC, 40020),
        (Outcome.TIMEOUT, 40021),
        (Outcome.DOCUMENT_UNUSABLE, 40022),
    ],
)
def test_outcomes_map_to_mark_sign_error_codes(outcome: Outcome, error_code: int | None) -> None:
    assert outcome.error_code == error_code


async def test_a_code_without_account_is_refused_unless_any_code_is_allowed(
    make_store: StoreFactory,
    fake_clock: ManualClock,
) -> None:
    with raises_code(40401):
        await start(make_store(fake_clock), "38001085718")
    store = make_store(fake_clock, person=SimulatedPerson(2.0, allow_any_code=True))
    session = await store.get(await start(store, "38001085718"))
    assert session.answer is Outcome.OK


async def test_a_person_slower_than_the_timeout_never_answers(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock, person=SimulatedPerson(answer_delay=60.0))
    session = await store.get(await start(store))
    assert session.answer_at is None
    fake_clock.advance(10.0)
    assert session.outcome(fake_clock()) is Outcome.TIMEOUT


async def test_the_session_carries_the_verification_code_of_its_hash(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    session = await store.get(await start(store))
    assert session.control_code == crypto.control_code(bytes.fromhex(HASH))


async def test_a_seed_repeats_the_tokens_and_reset_starts_them_over(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    first, second = make_store(fake_clock), make_store(fake_clock)
    tokens = [await start(first) for _ in range(3)]
    assert tokens == [await start(second) for _ in range(3)]
    assert all(TOKEN_SHAPE.match(t) for t in tokens)
    assert len(set(tokens)) == 3
    await first.reset()
    assert [await start(first) for _ in range(3)] == tokens
    other = make_store(fake_clock, seed=8)
    assert await start(other) != tokens[0]


async def test_without_a_seed_tokens_are_random(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    a, b = make_store(fake_clock, seed=None), make_store(fake_clock, seed=None)
    token = await start(a)
    assert TOKEN_SHAPE.match(token)
    assert token != await start(b)


async def test_the_cap_counts_only_sessions_still_waiting_for_the_person(
    make_store: StoreFactory,
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock, max_sessions=2)
    await start(store)
    await start(store)
    assert await store.live_count() == 2
    with raises_code(42900):
        await start(store)
    fake_clock.advance(2.0)  # both answered: they no longer count
    assert await store.live_count() == 0
    await start(store)


async def test_the_cap_follows_scripts_reset_and_many_sessions(
    make_store: StoreFactory,
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock, max_sessions=500)
    tokens = [await start(store) for _ in range(300)]
    assert await store.live_count() == 300
    await store.script(tokens[0], outcome=Outcome.USER_REFUSED, now_=True)  # answered now
    await store.script(tokens[1], answer_after=5.0)  # answers later than planned
    assert await store.live_count() == 299
    fake_clock.advance(2.0)  # the others answer; the re-timed one still waits
    assert await store.live_count() == 1
    fake_clock.advance(3.0)
    assert await store.live_count() == 0
    await start(store)
    await store.reset()
    assert await store.live_count() == 0


async def test_a_result_is_kept_for_the_retention_time_then_forgotten(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store, REFUSES)
    fake_clock.advance(2.0 + 29.9)  # answered at 2 s, kept 30 s
    assert (await store.get(token)).outcome(fake_clock()) is Outcome.USER_REFUSED
    fake_clock.advance(0.1)
    with raises_code(40402):
        await store.get(token)


async def test_an_unknown_token_is_not_found(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    with raises_code(40402):
        await make_store(fake_clock).get("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d")


async def test_memory_stays_bounded_however_many_sessions_start(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock, max_sessions=1_000_000)
    for _ in range(2000):
        await start(store)
        fake_clock.advance(0.1)
    # Sessions live 2 s and are kept 30 s more: at most the last 32 s (320 sessions) remain.
    assert 300 <= await store.count() <= 321


async def test_finished_results_beyond_max_retained_are_dropped_oldest_first(
    make_store: StoreFactory,
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock, max_retained=5)
    tokens = []
    for _ in range(20):
        tokens.append(await start(store))
        fake_clock.advance(3.0)  # each session finishes before the next one starts
    await store.sweep()
    assert await store.count() == 5
    await store.get(tokens[-1])
    with raises_code(40402):
        await store.get(tokens[0])


async def test_reset_forgets_every_session(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store)
    assert await store.reset() == 1
    assert await store.count() == 0
    assert await store.live_count() == 0
    with raises_code(40402):
        await store.get(token)


async def test_a_status_wait_holds_until_the_person_answers(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    assert not waiting.done()
    fake_clock.advance(2.0)
    await store.sweep()  # wakes the long polls whose session has finished
    signature = await waiting
    assert signature == crypto.sign_hash("SHA256", bytes.fromhex(HASH))
    assert (await store.get(token)).signature == signature  # computed once, kept


async def test_a_wait_for_a_person_who_never_answers_ends_at_expiry(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store, NEVER_ANSWERS)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    fake_clock.advance(9.9)
    await store.sweep()
    await store.until_parked(token)  # woken or not, it waits again
    assert not waiting.done()
    fake_clock.advance(0.1)
    await store.sweep()
    with raises_code(40021):
        await waiting


async def test_a_poll_whose_caller_leaves_ends_and_is_no_longer_counted(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store)
    left = asyncio.Event()

    async def gone() -> None:
        await left.wait()

    leaving = asyncio.create_task(store.status(token, gone))
    staying = asyncio.create_task(store.status(token, gone=None))
    await store.until_parked(token, 2)
    assert (await store.get(token)).waiting == 2
    left.set()
    with pytest.raises(PollAbandoned):
        await asyncio.wait_for(leaving, 10)  # not until the session ends
    assert (await store.get(token)).waiting == 1
    assert not staying.done()
    # One that parks after its caller left gives up at once, and the session goes on.
    with pytest.raises(PollAbandoned):
        await asyncio.wait_for(store.status(token, gone), 10)
    fake_clock.advance(2.0)
    await store.sweep()
    assert await staying == crypto.sign_hash("SHA256", bytes.fromhex(HASH))
    assert (await store.get(token)).waiting == 0


async def test_a_caller_that_leaves_once_answered_changes_nothing(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    """`gone` resolving after the poll has its answer (as a server's `http.disconnect`
    does once the answer is sent) neither cancels nor fails what the task does next."""
    store = make_store(fake_clock)
    token = await start(store)
    left = asyncio.Event()

    async def gone() -> None:
        await left.wait()

    async def poll_then_go_on() -> str:
        signature = await store.status(token, gone)
        left.set()  # the caller leaves now; the watch that saw it must be stopped
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        return signature

    waiting = asyncio.create_task(poll_then_go_on())
    await store.until_parked(token)
    fake_clock.advance(2.0)
    await store.sweep()
    assert await waiting == crypto.sign_hash("SHA256", bytes.fromhex(HASH))


async def test_many_waits_on_one_session_all_get_the_refusal(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store, REFUSES)
    waits = [asyncio.create_task(store.status(token)) for _ in range(10)]
    await store.until_parked(token, 10)
    fake_clock.advance(2.0)
    await store.sweep()
    results = await asyncio.gather(*waits, return_exceptions=True)
    assert all(isinstance(r, ApiError) and r.code == 40020 for r in results)


async def test_reset_answers_waiting_long_polls_with_not_found(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    await store.reset()
    with raises_code(40402):
        await waiting


async def test_a_long_poll_across_a_reset_is_not_answered_by_the_next_session_of_its_token(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    # With a seed the tokens start over after a reset, so the next session takes the token
    # a poll still waits on: that poll's own session is gone all the same.
    store = make_store(fake_clock)
    token = await start(store)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    await store.reset()
    assert await start(store) == token
    await store.script(token, now_=True)
    with raises_code(40402):
        await waiting


async def test_a_scripted_session_releases_its_long_poll_at_once(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock, person=SimulatedPerson(answer_delay=60.0))
    token = await start(store)  # slower than the timeout: would never answer
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    assert (await store.get(token)).waiting == 1  # what the control plane shows
    scripted = await store.script(token, outcome=Outcome.USER_REFUSED, now_=True)
    assert scripted.state(fake_clock()) == "COMPLETE"
    with raises_code(40020):
        await waiting
    assert (await store.get(token)).waiting == 0
    # Finished: a later script changes nothing.
    again = await store.script(token, outcome=Outcome.OK, now_=True)
    assert again.outcome(fake_clock()) is Outcome.USER_REFUSED


async def test_a_script_moves_the_answer_time(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)  # the person would answer at 2 s
    token = await start(store)
    await store.script(token, answer_after=5.0)
    fake_clock.advance(2.0)
    assert (await store.get(token)).outcome(fake_clock()) is None
    assert await store.live_count() == 1
    fake_clock.advance(3.0)
    assert (await store.get(token)).outcome(fake_clock()) is Outcome.OK
    assert await store.live_count() == 0
    with raises_code(40402):
        await store.script("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d", now_=True)


async def test_sessions_lists_each_session_held_oldest_first(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    first = await start(store, SIGNS)
    fake_clock.advance(1.0)
    second = await start(store, REFUSES)
    assert [s.token for s in await store.sessions()] == [first, second]
    assert [s.personal_code for s in await store.sessions()] == [SIGNS, REFUSES]
    fake_clock.advance(31.5)  # forgotten at 32 s and 33 s (answered at 2 s and 3 s, kept 30 s)
    assert [s.token for s in await store.sessions()] == [second]


async def test_a_wait_ends_on_its_timer_without_sweeps(store_factory: StoreFactory) -> None:
    # The real clock: the loop's timer wakes the long poll when the person answers.
    store = store_factory(person=SimulatedPerson(answer_delay=0.05), session_timeout=5.0)
    token = await start(store)
    assert await store.status(token) == crypto.sign_hash("SHA256", bytes.fromhex(HASH))


@pytest.fixture
def signed(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The hashes the simulator signs (RSA) from now on, in order."""
    hashes: list[bytes] = []
    sign = crypto.sign_hash

    def counted(algorithm: str, hash_bytes: bytes) -> str:
        hashes.append(hash_bytes)
        return sign(algorithm, hash_bytes)

    monkeypatch.setattr(crypto, "sign_hash", counted)
    return hashes


async def test_concurrent_long_polls_of_one_session_sign_it_once(
    store_factory: StoreFactory, signed: list[bytes]
) -> None:
    store = store_factory(person=SimulatedPerson(answer_delay=0.0), session_timeout=5.0)
    fresh = os.urandom(32).hex()  # no cached signature of an earlier test
    token = await start(store, hash_hex=fresh)
    signatures = await asyncio.gather(*(store.status(token) for _ in range(20)))
    assert set(signatures) == {crypto.sign_hash_uncached("SHA256", bytes.fromhex(fresh))}
    assert signed == [bytes.fromhex(fresh)]


async def test_two_redis_stores_on_one_prefix_share_sessions_and_sign_once(
    redis_server: RedisServer, signed: list[bytes]
) -> None:
    # What two processes of one store see, in one event loop: the same sessions, one
    # signature between them, a long poll in one released by a script through the other.
    prefix = unique_prefix()
    person = SimulatedPerson(answer_delay=60.0)
    one, two = (RedisStore(redis_server.url, prefix=prefix, person=person) for _ in range(2))
    for store in (one, two):
        await store.open()
    try:
        fresh = os.urandom(32).hex()
        token = await start(one, hash_hex=fresh)
        assert (await two.get(token)).token == token
        polls = [asyncio.create_task(s.status(token)) for s in (one, two) for _ in range(5)]
        await one.until_parked(token, 5)
        await two.until_parked(token, 5)
        assert (await one.get(token)).waiting == 10
        await two.script(token, now_=True)
        signatures = await asyncio.gather(*polls)
        assert set(signatures) == {crypto.sign_hash_uncached("SHA256", bytes.fromhex(fresh))}
        assert signed == [bytes.fromhex(fresh)]
        assert await one.reset() == 1
        with raises_code(40402):
            await two.get(token)
    finally:
        for store in (one, two):
            await store.aclose()


async def test_releasing_a_stopping_processs_polls_answers_them_and_keeps_shared_sessions(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    store = build(store_factory, fake_clock)
    token = await start(store)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    await store.release_polls()
    if isinstance(store, RedisStore):  # shared: the session lives on for the others
        with raises_code(50002):
            await waiting
        other = RedisStore(store.url, prefix=store.prefix, clock=fake_clock)
        assert (await other.get(token)).token == token
        await other.aclose()
    else:  # the sessions go with the process
        with raises_code(40402):
            await waiting


async def test_a_process_that_hears_nothing_reads_the_scripts_from_redis(
    redis_server: RedisServer,
) -> None:
    # `deaf` never subscribed (as after a Redis restart, until it subscribes again): a
    # script armed through `one` must still apply in it.
    prefix = unique_prefix()
    one, deaf = (
        RedisStore(redis_server.url, prefix=prefix),
        RedisStore(redis_server.url, prefix=prefix),
    )
    await one.open()
    try:
        assert deaf.scripts.armed  # it cannot know: it must look
        assert await deaf.scripts.take_error(STATUS_OPERATION) is None
        await one.scripts.arm(ErrorScript(0, "status", 50003, None, None, 1))
        taken = await deaf.scripts.take_error(STATUS_OPERATION)
        assert taken is not None
        assert taken.error_code == 50003
        assert await one.scripts.take_error(STATUS_OPERATION) is None  # its one use is gone
    finally:
        await one.aclose()
        await deaf.aclose()


@pytest.mark.parametrize(("code", "error_code"), [(SIGNS, None), (REFUSES, 40020)])
async def test_a_long_poll_that_waited_gets_its_answer_even_if_retention_forgets_it_at_once(
    make_store: StoreFactory, fake_clock: ManualClock, code: str, error_code: int | None
) -> None:
    store = make_store(fake_clock, retention=0.0)
    token = await start(store, code)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    fake_clock.advance(2.0)
    await store.sweep()  # the answer is known, and the session forgotten: retention 0
    if error_code is None:
        assert await waiting == crypto.sign_hash("SHA256", bytes.fromhex(HASH))
    else:
        with raises_code(error_code):
            await waiting
    with raises_code(40402):  # a later poll finds nothing
        await store.status(token)


async def test_the_retained_cap_steps_over_a_running_session_of_another_process(
    redis_server: RedisServer, fake_clock: ManualClock
) -> None:
    # Processes on one prefix with different --retention: a running session of the one
    # with the shorter retention sorts before finished ones in the removal order.
    prefix = unique_prefix()

    def process(retention: float, answer_delay: float) -> RedisStore:
        person = SimulatedPerson(answer_delay=answer_delay)
        return RedisStore(
            redis_server.url, prefix=prefix, clock=fake_clock, person=person, max_retained=1,
            session_timeout=10.0, retention=retention,
        )  # fmt: skip

    keeps, brief = process(retention=300.0, answer_delay=0.0), process(10.0, 2.0)
    try:
        first = await start(keeps)  # finished at once, forgotten in 300 s
        running = await start(brief)  # running for 2 s, forgotten in 12 s: sorts first
        async with asyncio.timeout(10):  # the cap's loop used to spin in Redis for ever
            fake_clock.advance(0.1)
            second = await start(keeps)
            fake_clock.advance(0.1)
            third = await start(keeps)
            await keeps.sweep()
        assert (await keeps.get(running)).token == running
        assert (await keeps.get(third)).token == third
        for forgotten in (first, second):
            with raises_code(40402):
                await keeps.get(forgotten)
    finally:
        await keeps.reset()
        for store in (keeps, brief):
            await store.aclose()


async def test_a_signing_lock_is_released_only_by_its_holder_and_never_over_a_signature(
    redis_server: RedisServer,
) -> None:
    async with opened_redis_store(redis_server.url, person=SimulatedPerson(0.0)) as store:
        token = await start(store)
        key, lock = store.key(token), f"{store.prefix}signing:{token}"
        await store.redis.set(lock, "another process", px=60_000)
        await store._release(keys=[lock], args=[store.origin])
        assert await store.redis.get(lock) == "another process"
        await store.redis.delete(lock)
        await store.redis.hset(key, "signature", "stored meanwhile")
        claim = await store._claim_signing(keys=[key, lock], args=[store.origin, 60_000])
        assert claim == ["signed", "stored meanwhile"]
        assert not await store.redis.exists(lock)  # nobody signs it again


async def test_a_journal_read_waits_for_the_batch_a_background_flush_is_adding(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with opened_redis_store(redis_server.url) as store:
        journal = store.journal
        gate = asyncio.Event()  # holds the background flush's batch on its way to Redis
        adding = journal._append

        async def held(keys: list[str], args: list[str | int | float | bytes]) -> object:
            await gate.wait()
            return await adding(keys=keys, args=args)

        monkeypatch.setattr(journal, "_append", held)
        for path in ("/first", "/second"):
            journal.record(record_of(0.0, "POST", path, None, None, {}, None, 0, 200, b"", None, 1))
        journal._flush_soon(0.0)
        while journal._buffer:  # the background flush has taken both
            await asyncio.sleep(0.01)
        reading = asyncio.create_task(journal.entries(JournalQuery()))
        await asyncio.sleep(0.2)
        assert not reading.done()  # it waits for the batch on its way
        gate.set()
        entries = await reading
        assert [(e.seq, e.path) for e in entries] == [(1, "/first"), (2, "/second")]


async def test_scripts_armed_after_redis_lost_its_keys_apply_in_a_process_that_stayed_subscribed(
    redis_server: RedisServer,
) -> None:
    # FLUSHDB between two suites, say: the subscription survives it, the counts restart.
    async with opened_redis_store(redis_server.url) as store:
        await store.scripts.arm(ErrorScript(0, "status", 50003, None, None, 5))
        for _ in range(2):
            armed = await store.scripts.arm(ErrorScript(0, "status", 50004, None, None, 5))
            await store.scripts.remove(armed.id)
        lost = await store.redis.keys(f"{store.prefix}*")
        await store.redis.delete(*lost)
        assert store.subscribed
        fresh = await store.scripts.arm(ErrorScript(0, "status", 50000, None, None, 1))
        taken = await store.scripts.take_error(STATUS_OPERATION)
        assert taken is not None
        assert (taken.id, taken.error_code) == (fresh.id, 50000)
        assert await store.scripts.take_error(STATUS_OPERATION) is None  # its one use is gone


async def _listen_again(
    store: RedisStore, monkeypatch: pytest.MonkeyPatch, reload: Callable[[], Awaitable[None]]
) -> None:
    """Start the store's listener over, with `reload` as what it does on subscribing."""
    assert store._listener is not None
    store._listener.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await store._listener
    store._subscribed.clear()
    monkeypatch.setattr(store.scripts, "reload", reload)
    store._start_listener()


async def test_a_failure_while_listening_is_logged_and_the_process_subscribes_again(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async with opened_redis_store(redis_server.url) as store:
        reload = store.scripts.reload
        failures = [TypeError("a script record it cannot read")]

        async def failing_once() -> None:
            if failures:
                raise failures.pop()
            await reload()

        await _listen_again(store, monkeypatch, failing_once)
        async with asyncio.timeout(10):
            while not store.subscribed:
                await asyncio.sleep(0.02)
        assert not failures
        assert "the Redis subscription failed; subscribing again" in caplog.text


async def test_a_listener_that_keeps_failing_backs_off(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with opened_redis_store(redis_server.url) as store:
        tries = 0

        async def always_failing() -> None:
            nonlocal tries
            tries += 1
            raise TypeError("a script record it cannot read")

        await _listen_again(store, monkeypatch, always_failing)
        await asyncio.sleep(1.0)
        # Backing off: 0.05, 0.1, 0.2, 0.5 and 1 s between tries (a slow machine tries less).
        assert 1 <= tries <= 6
        assert not store.subscribed


async def test_a_reset_after_the_answer_was_due_but_before_the_poll_looked_is_not_found(
    make_store: StoreFactory, fake_clock: ManualClock
) -> None:
    store = make_store(fake_clock)
    token = await start(store)
    waiting = asyncio.create_task(store.status(token))
    await store.until_parked(token)
    fake_clock.advance(2.0)  # the answer is due; nothing has woken the poll yet
    await store.reset()
    with raises_code(40402):
        await waiting
