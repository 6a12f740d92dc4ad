"""Every documented error code each operation can answer, reached through an error script
and received by the generated client as `Error`: the code, the HTTP status (its first
three digits) and the message of the request's locale. Sync and async, both locales."""

from __future__ import annotations

import httpx
import pytest
from marksign_client import Client
from marksign_client.models import Error
from marksign_mock import MockApp, MockControlError, MockController
from marksign_mock.exceptions import MESSAGES

from tests.spec_facts import SPEC

from .conftest import EN, LOCALES, LT, SIGNS, Locale, request, start, status_body

pytest_plugins = ["tests.store_fixtures"]

# (role, error_code) for every code the spec documents for the operations of that role:
# both locales of a role document the same codes (the spec tests hold them to that).
CODES = sorted(
    {(op.role, code) for op in SPEC.operations if op.role for code in op.error_codes},
    key=lambda pair: (str(pair[0]), pair[1]),
)


def expected_message(code: int, locale: str) -> str:
    english, lithuanian = MESSAGES[code]
    text = english if locale == "en" else lithuanian
    if code == 40001:  # a scripted 40001 names the request as a whole
        detail = "This value is not valid." if locale == "en" else "Ši reikšmė yra neteisinga."
        return text.format(param="request", detail=detail)
    return text


def test_the_operations_document_codes_to_script() -> None:
    roles = {role for role, _ in CODES}
    assert roles == {"initialize", "status"}
    assert ("initialize", 40005) in CODES
    assert ("status", 40022) in CODES


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("role", "code"), [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in CODES])
def test_every_documented_code_reaches_the_client_sync(
    client: Client, marksign_mock_control: MockController, locale: Locale, role: str, code: int
) -> None:
    token = start(client, locale) if role == "status" else None
    marksign_mock_control.fail(role, code, locale=locale.name)
    if role == "initialize":
        answer = locale.initialize.sync_detailed(client=client, body=request())
    else:
        answer = locale.status.sync_detailed(token, client=client, body=status_body())
    assert answer.status_code == code // 100
    assert isinstance(answer.parsed, Error), answer
    assert answer.parsed.error_code == code
    assert answer.parsed.message == expected_message(code, locale.name)


@pytest.mark.anyio
@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("role", "code"), [pytest.param(*c, id=f"{c[0]}-{c[1]}") for c in CODES])
async def test_every_documented_code_reaches_the_client_async(
    marksign_mock_app: MockApp, locale: Locale, role: str, code: int
) -> None:
    transport = httpx.ASGITransport(app=marksign_mock_app)
    await marksign_mock_app.startup()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as http:
            client = Client(base_url="http://mock.test").set_async_httpx_client(http)
            token = None
            if role == "status":
                started = await locale.initialize.asyncio(client=client, body=request())
                token = started.token
            scripted = await http.post(
                "/_mock/errors", json={"operation": role, "error_code": code}
            )
            assert scripted.status_code == 201, scripted.text
            if role == "initialize":
                answer = await locale.initialize.asyncio_detailed(client=client, body=request())
            else:
                answer = await locale.status.asyncio_detailed(
                    token, client=client, body=status_body()
                )
    finally:
        await marksign_mock_app.shutdown()
    assert answer.status_code == code // 100
    assert isinstance(answer.parsed, Error), answer
    assert (answer.parsed.error_code, answer.parsed.message) == (
        code,
        expected_message(code, locale.name),
    )


def test_a_script_answers_n_times_then_disarms(
    client: Client, marksign_mock_control: MockController
) -> None:
    en = EN
    marksign_mock_control.fail("initializeHashSigningEn", 50002, times=2)
    answers = [en.initialize.sync(client=client, body=request()) for _ in range(3)]
    assert [getattr(a, "error_code", None) for a in answers] == [50002, 50002, None]
    assert marksign_mock_control.scripts() == []


def test_integers_written_as_whole_floats_are_kept_as_integers(
    client: Client, marksign_mock_client: httpx.Client, marksign_mock_control: MockController
) -> None:
    # JSON Schema counts 2.0 as an integer. The Redis store kept "2.0", could no longer read
    # any script (50000 on every control call) and never applied it.
    body = {"operation": "initializeHashSigningEn", "error_code": 50002.0, "times": 2.0}
    armed = marksign_mock_client.post("/_mock/errors", json=body)
    assert armed.status_code == 201, armed.text
    error = armed.json()["error"]
    assert (error["error_code"], error["remaining"]) == (50002, 2)
    assert type(error["error_code"]) is int
    assert type(error["remaining"]) is int
    scenario = {"personal_code": SIGNS, "outcome": "USER_REFUSED", "times": 3.0}
    armed = marksign_mock_client.post("/_mock/scenarios", json=scenario)
    assert armed.status_code == 201, armed.text
    assert type(armed.json()["scenario"]["remaining"]) is int
    fault = marksign_mock_client.post("/_mock/faults", json={"fault": "html_502", "times": 1.0})
    assert fault.status_code == 201, fault.text
    assert type(fault.json()["fault"]["remaining"]) is int
    assert len(marksign_mock_control.scripts()) == 3
    marksign_mock_control.reset()
    marksign_mock_client.post("/_mock/errors", json=body)
    answers = [EN.initialize.sync(client=client, body=request()) for _ in range(3)]
    assert [getattr(a, "error_code", None) for a in answers] == [50002, 50002, None]


def test_a_script_for_one_locale_leaves_the_other(
    client: Client, marksign_mock_control: MockController
) -> None:
    en, lt = EN, LT
    marksign_mock_control.fail("initialize", 40403, locale="lt")
    assert not isinstance(en.initialize.sync(client=client, body=request()), Error)
    refused = lt.initialize.sync(client=client, body=request())
    assert isinstance(refused, Error)
    assert refused.error_code == 40403


def test_a_given_message_replaces_the_codes_own(
    client: Client, marksign_mock_control: MockController
) -> None:
    en = EN
    marksign_mock_control.fail("initialize", 50000, message="Gateway maintenance")
    answer = en.initialize.sync(client=client, body=request())
    assert isinstance(answer, Error)
    assert (answer.error_code, answer.message) == (50000, "Gateway maintenance")


@pytest.mark.parametrize(
    ("operation", "code", "param"),
    [
        ("status", 40401, "error_code"),  # initialize's code, not the status call's
        ("initialize", 40402, "error_code"),  # the status call's, not initialize's
        ("initialize", 40004, "error_code"),  # Mobile-ID's phone format: neither
        ("sign", 50000, "operation"),  # no such operation or role
    ],
)
def test_a_code_the_operation_does_not_document_is_refused_in_one_line(
    marksign_mock_control: MockController, operation: str, code: int, param: str
) -> None:
    with pytest.raises(MockControlError) as refused:
        marksign_mock_control.fail(operation, code)
    assert (refused.value.status_code, refused.value.error_code) == (400, 40001)
    assert refused.value.message == f"Invalid parameter [{param}]: This value is not valid."


def test_a_key_the_control_plane_does_not_take_is_named(
    marksign_mock_client: httpx.Client,
) -> None:
    answer = marksign_mock_client.post("/_mock/faults", json={"fault": "reset", "tiems": 3})
    assert (answer.status_code, answer.json()["error_code"]) == (400, 40001)
    assert answer.json()["message"] == "Invalid parameter [tiems]: This field was not expected."
