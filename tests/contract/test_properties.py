"""Properties that tie the spec, the generated client and the simulator together.

- Every schema of components/schemas: values drawn from it round-trip through the client's
  type for it (`Model.from_dict(x).to_dict() == x`, enums by value, strings as `str`).
- Every answer the simulator gives to valid requests (the generated client sends them)
  matches the spec's schema for its status and parses into the client's model for it.
- The locale twins of each operation answer the same status and error_code to the same
  input, valid or not.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marksign_client import Client, models
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.types import Response
from marksign_mock import MockConfig, create_app
from marksign_mock.launcher import InProcessTransport

from tests.spec_facts import DOCS_ACCESS_TOKEN

from . import openapi, strategies
from .profiles import CONTRACT_SETTINGS
from .suite import CaseTally

pytest_plugins = [
    "tests.contract.plugins.tally",
]

Json = Any
BASE_URL = "http://marksign-mock.test"

# The client's type for each schema of components/schemas.
CLIENT_TYPES: dict[str, type] = {
    "SessionToken": str,
    "AccessToken": str,
    "InitializeHashSigningRequest": models.InitializeHashSigningRequest,
    "HashAlgorithm": models.HashAlgorithm,
    "Country": models.Country,
    "CertificateLevel": models.CertificateLevel,
    "HashSigningStatusRequest": models.HashSigningStatusRequest,
    "InitializeHashSigningOk": models.InitializeHashSigningOk,
    "HashSigningStatusOk": models.HashSigningStatusOk,
    "Error": models.Error,
}

# Smart-ID's demo identities decide how a session ends (DOMAIN.md); other codes have no
# account here. The simulator gives up on an unanswered session after SESSION_TIMEOUT.
DEMO_CODES = ["30303039914", "40504040001", "30403039917", "30403039972", "30403039983"]
SESSION_TIMEOUT = 0.2


def component(name: str) -> st.SearchStrategy[Json]:
    return strategies.from_schema({"$ref": f"#/components/schemas/{name}"})


def round_trip(kind: type, value: Json) -> Json:
    if kind is str:
        return str(value)
    if issubclass(kind, enum.Enum):
        return kind(value).value
    return kind.from_dict(value).to_dict()  # type: ignore[attr-defined]


def test_every_schema_has_a_client_type() -> None:
    assert set(CLIENT_TYPES) == set(openapi.component_schemas())


@pytest.mark.parametrize("name", sorted(CLIENT_TYPES))
@settings(CONTRACT_SETTINGS)
@given(data=st.data())
def test_schema_values_round_trip_through_the_client(
    name: str, data: st.DataObject, case_tally: CaseTally
) -> None:
    value = data.draw(component(name), label=name)
    case_tally.add("properties", "round trip")
    assert round_trip(CLIENT_TYPES[name], value) == value


@pytest.fixture
def simulator() -> Iterator[httpx.Client]:
    """The simulator in process: answers at once, demo identities decide the outcome."""
    config = MockConfig(answer_delay=0.0, session_timeout=SESSION_TIMEOUT)
    transport = InProcessTransport(create_app(config))
    with httpx.Client(transport=transport, base_url=BASE_URL) as client:
        yield client
    transport.close()


def client_of(simulator: httpx.Client) -> Client:
    client = Client(base_url=BASE_URL)
    client.set_httpx_client(simulator)
    return client


def check_answer(operation_id: str, answer: Response[Any]) -> None:
    """The answer matches the spec for its status, and the client parsed all of it."""
    assert answer.headers["content-type"] == "application/json", answer.headers
    body = json.loads(answer.content)
    schema = openapi.response_schema(operation_id, answer.status_code)
    errors = [error.message for error in openapi.validator(schema).iter_errors(body)]
    assert not errors, (answer.status_code, body, errors)
    parsed = answer.parsed
    assert parsed is not None
    assert isinstance(parsed, models.Error) == (answer.status_code != 200), parsed
    assert parsed.to_dict() == body


valid_initialize = st.builds(
    lambda body, token, code: {**body, "access_token": token, "code": code},
    component("InitializeHashSigningRequest"),
    st.sampled_from([DOCS_ACCESS_TOKEN]) | component("AccessToken"),
    st.sampled_from(DEMO_CODES) | st.from_regex(r"[0-9]{11}", fullmatch=True),
)


@settings(CONTRACT_SETTINGS)
@given(body=valid_initialize, english=st.booleans(), unknown=component("SessionToken"))
def test_answers_to_valid_requests_match_the_spec(
    simulator: httpx.Client,
    body: Json,
    english: bool,
    unknown: str,
    case_tally: CaseTally,
) -> None:
    client = client_of(simulator)
    initialize, status = (
        (initialize_hash_signing_en, get_hash_signing_status_en)
        if english
        else (initialize_hash_signing, get_hash_signing_status)
    )
    suffix = "En" if english else ""
    request = models.InitializeHashSigningRequest.from_dict(body)
    started = initialize.sync_detailed(client=client, body=request)
    check_answer("initializeHashSigning" + suffix, started)
    status_body = models.HashSigningStatusRequest(access_token=body["access_token"])
    tokens = [unknown]
    if isinstance(started.parsed, models.InitializeHashSigningOk):
        tokens.append(started.parsed.token)
    for token in tokens:
        answer = status.sync_detailed(token, client=client, body=status_body)
        check_answer("getHashSigningStatus" + suffix, answer)
    case_tally.add("properties", "valid requests", 1 + len(tokens))


# Request bodies, valid or not: the documented shape, with a key dropped or a value replaced,
# or any JSON at all.
def _broken(body: dict[str, Json], data: st.DataObject) -> Json:
    key = data.draw(st.sampled_from(sorted(body)))
    if data.draw(st.booleans()):
        return {name: value for name, value in body.items() if name != key}
    return {**body, key: data.draw(strategies.json_values)}


any_body = st.one_of(
    valid_initialize,
    st.builds(_broken, valid_initialize, st.data()),
    strategies.json_values,
)
path_segments = component("SessionToken") | st.text(min_size=1, max_size=40)


def post(simulator: httpx.Client, path: str, body: Json) -> tuple[int, Json]:
    answer = simulator.post(
        path, content=json.dumps(body), headers={"content-type": "application/json"}
    )
    parsed = answer.json()
    return answer.status_code, parsed.get("error_code") if isinstance(parsed, dict) else None


@settings(CONTRACT_SETTINGS)
@given(body=any_body, segment=path_segments, issued=st.booleans())
def test_locale_twins_answer_alike(
    simulator: httpx.Client, body: Json, segment: str, issued: bool, case_tally: CaseTally
) -> None:
    (initialize_lt, initialize_en) = (
        openapi.operation(op)[0] for op in ("initializeHashSigning", "initializeHashSigningEn")
    )
    (status_lt, status_en) = (
        openapi.operation(op)[0] for op in ("getHashSigningStatus", "getHashSigningStatusEn")
    )
    started = [post(simulator, path, body) for path in (initialize_lt, initialize_en)]
    assert started[0] == started[1], (body, started)

    token = quote(segment, safe="")
    if issued and started[0][0] == 200:
        token = simulator.post(initialize_lt, json=body).json()["token"]
    answers = [
        post(simulator, path.replace("{token}", token), body) for path in (status_lt, status_en)
    ]
    assert answers[0] == answers[1], (token, body, answers)
    case_tally.add("properties", "locale twins", 4)
