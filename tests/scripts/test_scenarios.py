"""Scenarios: a personal code's next sessions, one session by token, "answer now", and
sessions a test can inspect. The person's configured answer delay is 30 s here, so a test
that passes quickly was released by its script, not by waiting."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
from marksign_client import Client
from marksign_client.models import Error, HashSigningStatusOk
from marksign_mock import BackgroundServer, MockControlError, MockController
from marksign_mock.launcher import InProcessTransport

from .conftest import ANSWER_DELAY, EN, LOCALES, SIGNS, Locale, request, start, status_body

pytest_plugins = ["tests.store_fixtures"]

REFUSES = "30403039917"
NO_ACCOUNT = "38001010000"  # well-formed, not a demo identity

# The outcomes a scenario can give, and what the status call then answers (None: signed).
OUTCOMES = {
    "OK": None,
    "USER_REFUSED": 40020,
    "USER_REFUSED_DISPLAYTEXTANDPIN": 40020,
    "USER_REFUSED_VC_CHOICE": 40020,
    "USER_REFUSED_CONFIRMATIONMESSAGE": 40020,
    "USER_REFUSED_CONFIRMATIONMESSAGE_WITH_VC_CHOICE": 40020,
    "WRONG_VC": 40020,
    "DOCUMENT_UNUSABLE": 40022,
}


def status(client: Client, token: str, locale: Locale = EN) -> object:
    return locale.status.sync(token, client=client, body=status_body())


@pytest.mark.parametrize(("outcome", "code"), OUTCOMES.items())
def test_a_scenario_decides_the_end_result(
    client: Client, marksign_mock_control: MockController, outcome: str, code: int | None
) -> None:
    marksign_mock_control.scenario(SIGNS, outcome=outcome, answer_after=0)  # type: ignore[arg-type]
    answer = status(client, start(client, EN))
    if code is None:
        assert isinstance(answer, HashSigningStatusOk), answer
    else:
        assert isinstance(answer, Error), answer
        assert answer.error_code == code


def test_timeout_means_the_person_never_answers(
    client: Client, marksign_mock_control: MockController
) -> None:
    marksign_mock_control.scenario(SIGNS, outcome="TIMEOUT")
    token = start(client, EN)
    session = marksign_mock_control.session(token)
    assert (session.state, session.outcome, session.result) == ("RUNNING", "TIMEOUT", None)
    # Ending it now (as if the session timed out) answers 40021 at once.
    marksign_mock_control.answer_now(token)
    answer = status(client, token)
    assert isinstance(answer, Error)
    assert answer.error_code == 40021


def test_a_scenario_applies_to_the_next_n_sessions_then_disarms(
    client: Client, marksign_mock_control: MockController
) -> None:
    marksign_mock_control.scenario(SIGNS, outcome="WRONG_VC", answer_after=0, times=2)
    tokens = [start(client, EN) for _ in range(3)]
    outcomes = [marksign_mock_control.session(token).outcome for token in tokens]
    assert outcomes == ["WRONG_VC", "WRONG_VC", "OK"]
    assert marksign_mock_control.scripts() == []


def test_a_scenario_gives_a_code_without_an_account_one(
    client: Client, marksign_mock_control: MockController
) -> None:
    refused = EN.initialize.sync(client=client, body=request(NO_ACCOUNT))
    assert isinstance(refused, Error)
    assert refused.error_code == 40401
    marksign_mock_control.scenario(NO_ACCOUNT, answer_after=0)
    assert isinstance(status(client, start(client, EN, NO_ACCOUNT)), HashSigningStatusOk)


def test_a_per_session_outcome_does_not_leak_to_other_sessions(
    client: Client, marksign_mock_control: MockController
) -> None:
    first, second = start(client, EN), start(client, EN)
    marksign_mock_control.script_session(first, outcome="DOCUMENT_UNUSABLE", answer_after=0)
    marksign_mock_control.answer_now(second)
    one, other = status(client, first), status(client, second)
    assert isinstance(one, Error)
    assert one.error_code == 40022
    assert isinstance(other, HashSigningStatusOk), other
    assert marksign_mock_control.session(second).result == "OK"


@pytest.mark.parametrize("locale", LOCALES)
def test_answer_now_releases_a_waiting_long_poll(
    client: Client, marksign_mock_control: MockController, locale: Locale
) -> None:
    token = start(client, locale, REFUSES)
    answers: list[object] = []
    poll = threading.Thread(target=lambda: answers.append(status(client, token, locale)))
    started = time.monotonic()
    poll.start()
    # The poll is waiting (the person answers only after 30 s) ...
    deadline = time.monotonic() + 10
    while not marksign_mock_control.session(token).waiting_polls:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert poll.is_alive()
    assert not answers
    # ... until the person answers now.
    marksign_mock_control.answer_now(token)
    poll.join(timeout=10)
    elapsed = time.monotonic() - started
    assert answers, "the long poll did not answer"
    assert isinstance(answers[0], Error), answers
    assert answers[0].error_code == 40020
    assert elapsed < ANSWER_DELAY / 3, elapsed  # released, not timed out


@pytest.mark.parametrize("where", ["socket", "in-process", "in-process-async"])
def test_a_client_that_gives_up_its_long_poll_is_no_longer_waited_for(
    request: pytest.FixtureRequest,
    client: Client,
    marksign_mock_control: MockController,
    marksign_mock_transport: InProcessTransport,
    where: str,
) -> None:
    """The client's read timeout (which closes its connection) while the poll waits (the
    person answers after 30 s): the poll ends at once, uncounted, journaled as not
    answered, over a socket as in process."""
    base_url, control = "http://marksign-mock.test", marksign_mock_control
    # In process, the impatient client is not closed: that would close the transport.
    transport: dict[str, Any] = {"transport": marksign_mock_transport}
    if where == "socket":
        server: BackgroundServer = request.getfixturevalue("marksign_mock_server")
        base_url, control, transport = server.base_url, server.control, {}
        with Client(base_url=base_url, timeout=httpx.Timeout(10)) as over_the_socket:
            token = start(over_the_socket, EN, REFUSES)
    else:
        token = start(client, EN, REFUSES)
    impatient = httpx.Timeout(10, read=0.5)

    async def give_up_async() -> None:
        async with httpx.AsyncClient(base_url=base_url, timeout=impatient, **transport) as http:
            await EN.status.asyncio(
                token, client=Client(base_url).set_async_httpx_client(http), body=status_body()
            )

    def give_up() -> None:
        if where == "in-process-async":
            asyncio.run(give_up_async())
        else:
            http = httpx.Client(base_url=base_url, timeout=impatient, **transport)
            try:
                status(Client(base_url).set_httpx_client(http), token)
            finally:
                if where == "socket":
                    http.close()  # its connection too

    with pytest.raises(httpx.ReadTimeout):
        give_up()
    deadline = time.monotonic() + 10
    while control.session(token).waiting_polls:
        assert time.monotonic() < deadline, "the poll still waits for a client that left"
        time.sleep(0.01)
    (entry,) = control.journal(operation="status")
    assert (entry.status, entry.error_code, entry.fault) == (None, None, None)
    assert control.session(token).state == "RUNNING"  # the session goes on


def test_answer_now_can_change_the_outcome(
    client: Client, marksign_mock_control: MockController
) -> None:
    token = start(client, EN)
    session = marksign_mock_control.answer_now(token, outcome="USER_REFUSED")
    assert (session.state, session.result) == ("COMPLETE", "USER_REFUSED")
    answer = status(client, token)
    assert isinstance(answer, Error)
    assert answer.error_code == 40020


def test_a_finished_session_stays_as_it_was(
    client: Client, marksign_mock_control: MockController
) -> None:
    token = start(client, EN)
    marksign_mock_control.answer_now(token)
    again = marksign_mock_control.answer_now(token, outcome="USER_REFUSED")
    assert again.result == "OK"


def test_sessions_can_be_inspected_without_the_access_token(
    client: Client, marksign_mock_control: MockController
) -> None:
    token = start(client, EN)
    (session,) = marksign_mock_control.sessions(personal_code=SIGNS)
    assert session.token == token
    assert (session.personal_code, session.country, session.hash_algorithm) == (
        SIGNS,
        "LT",
        "SHA256",
    )
    assert session.message == "Sign the test contract"
    assert len(session.control_code) == 4
    assert session.state == "RUNNING"
    assert "access_token" not in vars(session)
    assert marksign_mock_control.sessions(personal_code=REFUSES) == []


def test_an_unknown_session_is_40402(marksign_mock_control: MockController) -> None:
    with pytest.raises(MockControlError) as unknown:
        marksign_mock_control.answer_now("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d")
    assert (unknown.value.status_code, unknown.value.error_code) == (404, 40402)


@pytest.mark.parametrize("token", ["../reset#", "../scripts", "..", ".", "a/b", "x?y=1", "%2e%2e"])
def test_a_token_that_is_not_one_never_reaches_another_endpoint(
    client: Client, marksign_mock_control: MockController, token: str
) -> None:
    start(client, EN)
    marksign_mock_control.fail("status", 50001)
    for call in (
        marksign_mock_control.session,
        marksign_mock_control.answer_now,
        marksign_mock_control.script_session,
    ):
        with pytest.raises(MockControlError) as refused:
            call(token)
        assert refused.value.status_code in (400, 404), refused.value
    # Nothing was reset, answered or listed in its place.
    assert len(marksign_mock_control.scripts()) == 1
    (session,) = marksign_mock_control.sessions()
    assert session.state == "RUNNING"


def test_remove_takes_a_script_or_its_id(marksign_mock_control: MockController) -> None:
    script = marksign_mock_control.fail("status", 50001)
    with pytest.raises(TypeError, match="a Script or its id, not str"):
        marksign_mock_control.remove(str(script.id))  # type: ignore[arg-type]
    marksign_mock_control.remove(script.id)
    assert marksign_mock_control.scripts() == []
