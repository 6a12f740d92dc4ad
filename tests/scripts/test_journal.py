"""The request journal: what the client sent, in order, never the access token."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from marksign_client import Client
from marksign_client.models import HashSigningStatusRequest, InitializeHashSigningRequest
from marksign_mock import MockApp, MockConfig, MockController, create_app
from marksign_mock.journal import ACCESS_TOKEN_MARKER
from marksign_mock.launcher import InProcessTransport

from .conftest import EN, LT, SIGNS, request, status_body

pytest_plugins = ["tests.store_fixtures"]

SECRET = "journal-secret-access-token-0123"


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    return MockConfig(answer_delay=0.0, access_tokens=frozenset({SECRET}), journal_size=6)


def secret_request(**changes: object) -> InitializeHashSigningRequest:
    body = request()
    body.access_token = SECRET
    for key, value in changes.items():
        setattr(body, key, value)
    return body


def test_the_journal_records_what_the_client_sent_without_the_token(
    client: Client,
    marksign_mock_client: httpx.Client,
    marksign_mock_control: MockController,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG):
        started = EN.initialize.sync(client=client, body=secret_request())
        token = started.token
        answered = LT.status.sync_detailed(token, client=client, body=secret_status())
        # A client that puts the token where no key says so: scrubbed all the same.
        marksign_mock_client.post(
            "/en/smartid/sign/hash.json", json={"access_token": SECRET, "note": [SECRET]}
        )
        # ...inside another string, and in the path in place of the session token.
        pasted = EN.initialize.sync(client=client, body=secret_request(message=f"ok {SECRET}"))
        marksign_mock_client.post(
            "/en/smartid/sign/hash.json", json={"access_token": SECRET, "n": f"token={SECRET}"}
        )
        marksign_mock_client.post(
            f"/en/smartid/sign/hash/status/{SECRET}.json", json={"access_token": SECRET}
        )
    first, second, third, _, fourth, fifth = marksign_mock_control.journal()
    assert (first.operation_id, first.locale, first.status) == (
        "initializeHashSigningEn",
        "en",
        200,
    )
    assert first.body["code"] == SIGNS
    assert first.body["message"] == "Sign the test contract"
    assert first.body["access_token"] == ACCESS_TOKEN_MARKER
    assert (second.operation_id, second.locale, second.path_params) == (
        "getHashSigningStatus",
        "lt",
        {"token": token},
    )
    assert second.status == answered.status_code == 200
    assert third.body == {"access_token": ACCESS_TOKEN_MARKER, "note": [ACCESS_TOKEN_MARKER]}
    assert (third.status, third.error_code) == (400, 40001)
    assert first.seq < second.seq < third.seq
    assert fourth.body["n"] == f"token={ACCESS_TOKEN_MARKER}"
    assert fifth.path == f"/en/smartid/sign/hash/status/{ACCESS_TOKEN_MARKER}.json"
    assert fifth.status == 400
    # The session keeps the message it was given with the token hidden in it, as its
    # journal entry does (it was never stored).
    assert marksign_mock_control.session(pasted.token).message == f"ok {ACCESS_TOKEN_MARKER}"
    # Nowhere: not in the journal, not in any answer, not in the logs.
    shown = marksign_mock_client.get("/_mock/journal").text
    shown += marksign_mock_client.get("/_mock/sessions").text
    assert SECRET not in shown
    # (httpx, the test's own client, logs the URL it was given; the simulator's lines not.)
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("marksign_mock")]
    assert any("/status/" in line for line in ours)
    assert not [line for line in ours if SECRET in line]
    assert SECRET not in json.dumps([vars(e) for e in marksign_mock_control.journal()])


def test_the_journal_filters_and_resets(
    client: Client, marksign_mock_control: MockController
) -> None:
    token = start_secret(client)
    LT.status.sync(token, client=client, body=secret_status())
    EN.status.sync("00000000-0000-4000-8000-000000000000", client=client, body=secret_status())
    control = marksign_mock_control
    assert [e.operation_id for e in control.journal(operation="status")] == [
        "getHashSigningStatus",
        "getHashSigningStatusEn",
    ]
    assert [e.status for e in control.journal(locale="lt")] == [200]
    assert [e.error_code for e in control.journal(error_code=40402)] == [40402]
    assert len(control.journal(token=token)) == 1
    assert len(control.journal(limit=1)) == 1
    assert control.clear_journal() == 3
    assert control.journal() == []


def test_a_reset_right_after_requests_counts_every_one(
    client: Client, marksign_mock_control: MockController
) -> None:
    # Nothing reads the journal first: on Redis, the entries are still with their process.
    for _ in range(3):
        EN.status.sync("00000000-0000-4000-8000-000000000000", client=client, body=secret_status())
    assert marksign_mock_control.clear_journal() == 3
    assert marksign_mock_control.journal() == []


def test_the_journal_is_bounded(client: Client, marksign_mock_control: MockController) -> None:
    for _ in range(7):
        EN.initialize.sync(client=client, body=secret_request())
    entries = marksign_mock_control.journal()
    assert len(entries) == 6  # journal_size
    assert [e.seq for e in entries] == [2, 3, 4, 5, 6, 7]
    assert marksign_mock_control.clear_journal() == 6
    EN.initialize.sync(client=client, body=secret_request())
    assert [e.seq for e in marksign_mock_control.journal()] == [8]  # numbers stay taken


def test_each_simulator_has_its_own_scripts_and_journal(
    marksign_mock_app: MockApp, marksign_mock_control: MockController
) -> None:
    other_app = create_app(MockConfig(answer_delay=0.0))
    with httpx.Client(transport=InProcessTransport(other_app), base_url="http://other") as http:
        other = MockController(http)
        other.fail("initialize", 50001)
        other.scenario(SIGNS, outcome="USER_REFUSED")
        assert len(other.scripts()) == 2
        assert marksign_mock_control.scripts() == []
        http.post("/en/smartid/sign/hash.json", json={})
        assert len(other.journal()) == 1
    assert marksign_mock_control.journal() == []
    assert other_app.journal is not marksign_mock_app.journal


def start_secret(client: Client) -> str:
    started = EN.initialize.sync(client=client, body=secret_request())
    token: str = started.token
    return token


def secret_status() -> HashSigningStatusRequest:
    body = status_body()
    body.access_token = SECRET
    return body
