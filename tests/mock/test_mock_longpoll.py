"""Long polls and the ASGI protocol, on one event loop (httpx.AsyncClient over ASGI)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from marksign_mock import MockApp, MockConfig, create_app, crypto
from marksign_mock.journal import JournalQuery
from marksign_mock.models import ManualClock, SessionRequest, SessionStore
from marksign_mock.polls import ParkedPolls, PollAbandoned

from tests.spec_facts import DOCS_ACCESS_TOKEN
from tests.stores import StoreFactory, config_store

pytestmark = pytest.mark.anyio

INITIALIZE = "/en/smartid/sign/hash.json"
STATUS = "/en/smartid/sign/hash/status/{}.json"

pytest_plugins = ["tests.store_fixtures"]


def body(hash_bytes: bytes, code: str) -> dict[str, Any]:
    return {
        "access_token": DOCS_ACCESS_TOKEN,
        "hash": hash_bytes.hex(),
        "hash_algorithm": "SHA256",
        "country": "LT",
        "code": code,
    }


@asynccontextmanager
async def serving(app: MockApp) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        await app.startup()
        try:
            yield client
        finally:
            await app.shutdown()


async def start(client: httpx.AsyncClient, hash_bytes: bytes, code: str) -> str:
    response = await client.post(INITIALIZE, json=body(hash_bytes, code))
    assert response.status_code == 200, response.text
    return str(response.json()["token"])


async def poll(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(STATUS.format(token), json={"access_token": DOCS_ACCESS_TOKEN})


async def test_a_long_poll_answers_once_the_person_does(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    config = MockConfig(answer_delay=5.0, session_timeout=60.0)
    app = create_app(config, store=config_store(store_factory, config, fake_clock))
    async with serving(app) as client:
        hash_bytes = hashlib.sha256(b"waited for").digest()
        token = await start(client, hash_bytes, "30303039914")
        waiting = asyncio.create_task(poll(client, token))
        await app.store.until_parked(token)
        assert not waiting.done()  # the status call is held: the person has not answered
        fake_clock.advance(5.0)
        await app.store.sweep()
        response = await waiting
        assert response.status_code == 200
        assert response.json()["signature_value"] == crypto.sign_hash("SHA256", hash_bytes)


async def test_many_concurrent_long_polls_each_get_their_own_answer(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    config = MockConfig(answer_delay=5.0, session_timeout=10.0, max_sessions=1000)
    app = create_app(config, store=config_store(store_factory, config, fake_clock))
    key = crypto.certificate().public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    async with serving(app) as client:
        # 200 sessions: 50 distinct hashes signed, refusals, wrong codes, and silence.
        codes = ["30303039914", "30403039917", "30403039972", "30403039983"]
        sessions = []
        for i in range(200):
            hash_bytes = hashlib.sha256(b"document %d" % i).digest()
            code = codes[i % 4]
            sessions.append((await start(client, hash_bytes, code), hash_bytes, code))
        polls = [asyncio.create_task(poll(client, token)) for token, _, _ in sessions]
        await app.store.until_parked(None, len(polls))
        assert not any(p.done() for p in polls)  # every status call waits for its person
        fake_clock.advance(5.0)  # everybody answers, except the one who never does
        await app.store.sweep()
        silent = [p for p, (_, _, code) in zip(polls, sessions, strict=True) if code == codes[3]]
        answered = await asyncio.gather(*(p for p in polls if p not in silent))
        assert not any(p.done() for p in silent)
        fake_clock.advance(5.0)  # the silent sessions expire
        await app.store.sweep()
        responses = await asyncio.gather(*polls)
    assert len(answered) == 150
    for (_, hash_bytes, code), response in zip(sessions, responses, strict=True):
        answer = response.json()
        if code == "30303039914":
            assert response.status_code == 200
            signature = base64.b64decode(answer["signature_value"])
            prehashed = utils.Prehashed(hashes.SHA256())
            key.verify(signature, hash_bytes, padding.PKCS1v15(), prehashed)
        elif code == "30403039983":
            assert (response.status_code, answer["error_code"]) == (400, 40021)
        else:
            assert (response.status_code, answer["error_code"]) == (400, 40020)


THOUSANDS = 2_000


async def test_thousands_of_long_polls_are_held_at_once_and_each_released_with_its_answer(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    config = MockConfig(answer_delay=5.0, session_timeout=10.0, max_sessions=THOUSANDS)
    app = create_app(config, store=config_store(store_factory, config, fake_clock))
    key = crypto.certificate().public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    # A quarter each: signs, refuses, chooses the wrong code, never answers. The signers'
    # documents have 25 hashes (a signature takes milliseconds): a poll given another
    # session's answer gets a signature that does not verify, or the wrong error.
    codes = ["30303039914", "30403039917", "30403039972", "30403039983"]
    async with serving(app) as client:
        sessions = []
        for i in range(THOUSANDS):  # started in the store: the polls are what is tested
            hash_bytes = hashlib.sha256(b"document %d" % (i // 4 % 25)).digest()
            code = codes[i % 4]
            session = await app.store.create(SessionRequest("SHA256", hash_bytes.hex(), "LT", code))
            sessions.append((session.token, hash_bytes, code))
        polls = [asyncio.create_task(poll(client, token)) for token, _, _ in sessions]
        # Every status call is in the store, waiting at once.
        await app.store.until_parked(None, THOUSANDS)
        assert not any(p.done() for p in polls)
        fake_clock.advance(5.0)  # the people answer, except those who never do
        await app.store.sweep()
        silent = [p for p, (_, _, code) in zip(polls, sessions, strict=True) if code == codes[3]]
        await asyncio.gather(*(p for p in polls if p not in silent))
        assert not any(p.done() for p in silent)
        fake_clock.advance(5.0)  # the silent sessions expire
        await app.store.sweep()
        responses = await asyncio.gather(*polls)
    prehashed = utils.Prehashed(hashes.SHA256())
    for (_, hash_bytes, code), response in zip(sessions, responses, strict=True):
        answer = response.json()
        if code == codes[0]:
            assert response.status_code == 200
            signature = base64.b64decode(answer["signature_value"])
            key.verify(signature, hash_bytes, padding.PKCS1v15(), prehashed)
        elif code == codes[3]:
            assert (response.status_code, answer["error_code"]) == (400, 40021)
        else:
            assert (response.status_code, answer["error_code"]) == (400, 40020)


async def test_a_reset_answers_waiting_long_polls_with_not_found(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    config = MockConfig(answer_delay=30.0, session_timeout=60.0)
    app = create_app(config, store=config_store(store_factory, config, fake_clock))
    async with serving(app) as client:
        token = await start(client, bytes(32), "30303039914")
        waiting = asyncio.create_task(poll(client, token))
        await app.store.until_parked(token)
        assert not waiting.done()
        reset = await client.post("/_mock/reset")
        assert reset.json()["sessions_cleared"] == 1
        response = await waiting
        assert (response.status_code, response.json()["error_code"]) == (404, 40402)


async def test_the_lifespan_sweeps_forgotten_sessions(
    fake_clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("marksign_mock.app.SWEEP_INTERVAL", 0.01)
    config = MockConfig(answer_delay=0.0, retention=1.0)
    app = create_app(config, store=SessionStore.from_config(config, clock=fake_clock))
    async with serving(app) as client:
        await start(client, bytes(32), "30303039914")
        assert await app.store.count() == 1
        fake_clock.advance(1.0)
        for _ in range(200):
            if await app.store.count() == 0:
                break
            await asyncio.sleep(0.01)
        assert await app.store.count() == 0


async def test_the_asgi_lifespan_protocol_starts_and_stops_the_sweeper() -> None:
    app = create_app()
    messages: asyncio.Queue[dict[str, str]] = asyncio.Queue()
    sent: list[str] = []
    for kind in ("lifespan.startup", "lifespan.shutdown"):
        messages.put_nowait({"type": kind})

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(message["type"])

    await app({"type": "lifespan"}, messages.get, send)
    assert sent == ["lifespan.startup.complete", "lifespan.shutdown.complete"]


async def test_a_client_that_leaves_mid_body_gets_no_answer() -> None:
    app = create_app()
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"access', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[Any] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": INITIALIZE,
        "headers": [(b"content-type", b"application/json")],
    }
    await app(scope, receive, send)
    assert sent == []


async def test_a_client_that_leaves_its_long_poll_ends_it_under_any_asgi_server(
    store_factory: StoreFactory, fake_clock: ManualClock
) -> None:
    """Without our server's future (as under uvicorn): the `http.disconnect` that the
    server's receive() gives when the client leaves ends the waiting poll, unanswered."""
    config = MockConfig(answer_delay=5.0, session_timeout=60.0)
    app = create_app(config, store=config_store(store_factory, config, fake_clock))
    async with serving(app) as client:
        token = await start(client, hashlib.sha256(b"left").digest(), "30303039914")
        left = asyncio.Event()
        body = b'{"access_token": "%s"}' % DOCS_ACCESS_TOKEN.encode()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            await left.wait()
            return {"type": "http.disconnect"}

        sent: list[Any] = []

        async def send(message: Any) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": STATUS.format(token),
            "headers": [(b"content-type", b"application/json")],
        }
        waiting = asyncio.create_task(app(scope, receive, send))
        await app.store.until_parked(token)
        assert (await app.store.get(token)).waiting == 1
        left.set()
        await asyncio.wait_for(waiting, 10)  # not once the person answers
        assert sent == []
        assert (await app.store.get(token)).waiting == 0
        (entry,) = [e for e in await app.store.journal.entries(JournalQuery()) if e.path_params]
        assert (entry.operation_id, entry.status) == ("getHashSigningStatusEn", None)


async def test_a_caller_that_leaves_as_its_poll_is_answered_cancels_nothing_after() -> None:
    """The watch of `gone` finishes first and the answer comes in the same turn of the
    loop: its callback runs once the poll has left the block, and must not cancel what the
    task does next (the signing, the answer)."""
    polls = ParkedPolls()
    answered, left = asyncio.Event(), asyncio.Event()

    async def gone() -> None:
        await left.wait()

    async def poll() -> str:
        with polls.parked("token", gone):
            await answered.wait()
        await asyncio.sleep(0.01)  # what the task does next
        return "answered"

    task = asyncio.create_task(poll())
    await polls.until("token")
    left.set()  # the watch runs first ...
    answered.set()  # ... then the poll, before the watch's callback
    assert await asyncio.wait_for(task, 10) == "answered"
    assert polls.count() == 0


async def test_a_watch_that_cannot_start_leaves_no_poll_counted() -> None:
    polls = ParkedPolls()

    def broken() -> Any:
        raise RuntimeError("no way to tell")

    with pytest.raises(RuntimeError, match="no way to tell"), polls.parked("token", broken):
        pass
    assert polls.count() == 0


async def test_a_poll_abandoned_in_a_task_once_asked_to_stop_is_still_abandoned() -> None:
    """The watch takes back only its own request to stop the task, as asyncio.timeout
    does: one the task swallowed before it parked does not turn the leaving client into a
    CancelledError."""
    polls = ParkedPolls()
    left = asyncio.Event()

    async def gone() -> None:
        await left.wait()

    async def poll() -> str:
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(1)  # swallowed, still counted by task.cancelling()
        try:
            with polls.parked("token", gone):
                await asyncio.Event().wait()
        except PollAbandoned:
            return "abandoned"
        return "answered"

    task = asyncio.create_task(poll())
    await polls.until("token")
    left.set()
    assert await asyncio.wait_for(task, 10) == "abandoned"
