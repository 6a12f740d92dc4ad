"""Sessions, the simulated person and the store, without HTTP and with a fake clock."""

from __future__ import annotations

import asyncio
import re

import pytest
from marksign_mock import crypto
from marksign_mock.exceptions import ApiError
from marksign_mock.models import ManualClock, SessionStore
from marksign_mock.person import DEMO_IDENTITIES, Outcome, SimulatedPerson

HASH = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"
SIGNS = "30303039914"
REFUSES = "30403039917"
NEVER_ANSWERS = "30403039983"
TOKEN_SHAPE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def make_store(clock: ManualClock, **settings: object) -> SessionStore:
    defaults: dict[str, object] = {
        "person": SimulatedPerson(answer_delay=2.0),
        "session_timeout": 10.0,
        "retention": 30.0,
        "seed": 7,
        "clock": clock,
    }
    return SessionStore(**{**defaults, **settings})  # type: ignore[arg-type]


def start(store: SessionStore, code: str = SIGNS, hash_hex: str = HASH) -> str:
    algorithm = "SHA256" if len(hash_hex) == 64 else "SHA512"
    session = store.create(
        hash_algorithm=algorithm, hash_hex=hash_hex, country="LT", personal_code=code
    )
    return session.token


def raises_code(code: int) -> pytest.RaisesExc[ApiError]:
    return pytest.raises(ApiError, check=lambda e: e.code == code)


@pytest.mark.parametrize(("code", "outcome"), sorted(DEMO_IDENTITIES.items()))
def test_each_demo_identity_ends_with_its_outcome(
    fake_clock: ManualClock, code: str, outcome: Outcome
) -> None:
    store = make_store(fake_clock)
    session = store.get(start(store, code))
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


def test_a_code_without_account_is_refused_unless_any_code_is_allowed(
    fake_clock: ManualClock,
) -> None:
    with raises_code(40401):
        start(make_store(fake_clock), "38001085718")
    store = make_store(fake_clock, person=SimulatedPerson(2.0, allow_any_code=True))
    session = store.get(start(store, "38001085718"))
    assert session.answer is Outcome.OK


def test_a_person_slower_than_the_timeout_never_answers(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock, person=SimulatedPerson(answer_delay=60.0))
    session = store.get(start(store))
    assert session.answer_at is None
    fake_clock.advance(10.0)
    assert session.outcome(fake_clock()) is Outcome.TIMEOUT


def test_the_session_carries_the_verification_code_of_its_hash(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    session = store.get(start(store))
    assert session.control_code == crypto.control_code(bytes.fromhex(HASH))


def test_a_seed_repeats_the_tokens_and_reset_starts_them_over(fake_clock: ManualClock) -> None:
    first, second = make_store(fake_clock), make_store(fake_clock)
    tokens = [start(first) for _ in range(3)]
    assert tokens == [start(second) for _ in range(3)]
    assert all(TOKEN_SHAPE.match(t) for t in tokens)
    assert len(set(tokens)) == 3
    first.reset()
    assert [start(first) for _ in range(3)] == tokens
    other = make_store(fake_clock, seed=8)
    assert start(other) != tokens[0]


def test_without_a_seed_tokens_are_random(fake_clock: ManualClock) -> None:
    a, b = make_store(fake_clock, seed=None), make_store(fake_clock, seed=None)
    token = start(a)
    assert TOKEN_SHAPE.match(token)
    assert token != start(b)


def test_the_cap_counts_only_sessions_still_waiting_for_the_person(
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock, max_sessions=2)
    start(store)
    start(store)
    assert store.live_count() == 2
    with raises_code(42900):
        start(store)
    fake_clock.advance(2.0)  # both answered: they no longer count
    assert store.live_count() == 0
    start(store)


def test_a_result_is_kept_for_the_retention_time_then_forgotten(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    token = start(store, REFUSES)
    fake_clock.advance(2.0 + 29.9)  # answered at 2 s, kept 30 s
    assert store.get(token).outcome(fake_clock()) is Outcome.USER_REFUSED
    fake_clock.advance(0.1)
    with raises_code(40402):
        store.get(token)


def test_an_unknown_token_is_not_found(fake_clock: ManualClock) -> None:
    with raises_code(40402):
        make_store(fake_clock).get("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d")


def test_memory_stays_bounded_however_many_sessions_start(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock, max_sessions=1_000_000)
    for _ in range(2000):
        start(store)
        fake_clock.advance(0.1)
    # Sessions live 2 s and are kept 30 s more: at most the last 32 s (320 sessions) remain.
    assert 300 <= len(store) <= 321


def test_finished_results_beyond_max_retained_are_dropped_oldest_first(
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock, max_retained=5)
    tokens = []
    for _ in range(20):
        tokens.append(start(store))
        fake_clock.advance(3.0)  # each session finishes before the next one starts
    store.sweep()
    assert len(store) == 5
    store.get(tokens[-1])
    with raises_code(40402):
        store.get(tokens[0])


def test_reset_forgets_every_session(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    token = start(store)
    assert store.reset() == 1
    assert len(store) == 0
    assert store.live_count() == 0
    with raises_code(40402):
        store.get(token)


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


@pytest.mark.anyio
async def test_a_status_wait_holds_until_the_person_answers(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    token = start(store)
    waiting = asyncio.create_task(store.status(token))
    await _settle()
    assert not waiting.done()
    fake_clock.advance(2.0)
    store.sweep()  # wakes the long polls whose session has finished
    signature = await waiting
    assert signature == crypto.sign_hash("SHA256", bytes.fromhex(HASH))
    assert store.get(token).signature == signature  # computed once, kept


@pytest.mark.anyio
async def test_a_wait_for_a_person_who_never_answers_ends_at_expiry(
    fake_clock: ManualClock,
) -> None:
    store = make_store(fake_clock)
    waiting = asyncio.create_task(store.status(start(store, NEVER_ANSWERS)))
    fake_clock.advance(9.9)
    store.sweep()
    await _settle()
    assert not waiting.done()
    fake_clock.advance(0.1)
    store.sweep()
    with raises_code(40021):
        await waiting


@pytest.mark.anyio
async def test_many_waits_on_one_session_all_get_the_refusal(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    token = start(store, REFUSES)
    waits = [asyncio.create_task(store.status(token)) for _ in range(10)]
    await _settle()
    fake_clock.advance(2.0)
    store.sweep()
    results = await asyncio.gather(*waits, return_exceptions=True)
    assert all(isinstance(r, ApiError) and r.code == 40020 for r in results)


@pytest.mark.anyio
async def test_reset_answers_waiting_long_polls_with_not_found(fake_clock: ManualClock) -> None:
    store = make_store(fake_clock)
    waiting = asyncio.create_task(store.status(start(store)))
    await _settle()
    store.reset()
    with raises_code(40402):
        await waiting


@pytest.mark.anyio
async def test_a_wait_ends_on_its_timer_without_sweeps() -> None:
    # The real clock: the loop's timer wakes the long poll when the person answers.
    store = SessionStore(person=SimulatedPerson(answer_delay=0.05), session_timeout=5.0)
    token = start(store)
    assert await store.status(token) == crypto.sign_hash("SHA256", bytes.fromhex(HASH))
