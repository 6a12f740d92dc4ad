"""Bad input never yields a 5xx: random methods, paths, content types and bodies."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from marksign_mock import InProcessTransport, MockConfig, create_app

from tests.spec_facts import DOCS_ACCESS_TOKEN

TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"
KNOWN_PATHS = [
    "/smartid/sign/hash.json",
    "/en/smartid/sign/hash.json",
    f"/smartid/sign/hash/status/{TOKEN}.json",
    f"/en/smartid/sign/hash/status/{TOKEN}.json",
    "/en/smartid/sign/hash/status/{}.json",
    "/_mock/reset",
]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
# Bodies close to valid ones find more than random JSON alone.
near_valid = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.sampled_from([DOCS_ACCESS_TOKEN, "", "x"]) | json_values,
        "hash": st.sampled_from(["ab" * 32, "AB" * 64, "zz"]) | json_values,
        "hash_algorithm": st.sampled_from(["SHA256", "SHA512", "MD5"]) | json_values,
        "country": st.sampled_from(["LT", "EE", "LV"]) | json_values,
        "code": st.sampled_from(["30303039914", "30403039917", "1"]) | json_values,
        "message": st.text(max_size=250) | json_values,
        "certificate_level": st.sampled_from(["QSCD", "QUALIFIED", "X"]) | json_values,
    },
)
bodies = st.one_of(
    json_values.map(lambda v: json.dumps(v).encode()),
    near_valid.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=200),
    st.just(b"1" * 400),  # an integer beyond 64 bits
)
paths = st.one_of(
    st.sampled_from(KNOWN_PATHS),
    st.text(max_size=40).map(lambda t: f"/en/smartid/sign/hash/status/{t}.json"),
    st.text(max_size=40).map(lambda t: "/" + t),
)
content_types = st.sampled_from(
    [None, "application/json", "application/json; charset=utf-8", "text/plain", "a/b;;;="]
)


@pytest.fixture(scope="module")
def client() -> Iterator[httpx.Client]:
    app = create_app(MockConfig(answer_delay=0.0, session_timeout=1.0))
    transport = InProcessTransport(app)
    with httpx.Client(transport=transport, base_url="http://marksign-mock.test") as client:
        yield client


@settings(max_examples=150, deadline=None, derandomize=True, database=None)
@given(
    method=st.sampled_from(["POST", "POST", "POST", "GET", "PUT"]),
    path=paths,
    content_type=content_types,
    body=bodies,
)
def test_no_input_gets_a_server_error(
    client: httpx.Client, method: str, path: str, content_type: str | None, body: bytes
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    url = quote(path, safe="/")
    response = client.request(method, url, content=body, headers=headers)
    assert response.status_code < 500, response.text
    assert response.headers["content-type"] == "application/json"
    answer: dict[str, Any] = response.json()
    if response.status_code != 200:
        assert set(answer) == {"status", "message", "error_code"}
        assert answer["error_code"] // 100 == response.status_code
