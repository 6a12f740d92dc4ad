"""The simulator over HTTP, in process: every bad input, both locales, the signing flow."""

from __future__ import annotations

import base64
import hashlib
import json
import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from marksign_mock import InProcessTransport, MockApp, MockConfig, SessionStore, create_app, crypto
from marksign_mock.models import ManualClock

from tests.spec_facts import DOCS_ACCESS_TOKEN

REPO_ROOT = Path(__file__).resolve().parents[2]
HASH = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"
SIGNS = "30303039914"
DOCS_TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"
INITIALIZE = {"lt": "/smartid/sign/hash.json", "en": "/en/smartid/sign/hash.json"}
STATUS = {"lt": "/smartid/sign/hash/status/{}.json", "en": "/en/smartid/sign/hash/status/{}.json"}
LOCALES = ["lt", "en"]
MISSING = object()


def settings(**changes: Any) -> pytest.MarkDecorator:
    """Run a test with a simulator whose config differs from the fast default."""
    config = MockConfig(**{"answer_delay": 0.0, "session_timeout": 1.0, **changes})
    return pytest.mark.parametrize("marksign_mock_config", [config], ids=["settings"])


def init_body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": DOCS_ACCESS_TOKEN,
        "hash": HASH,
        "hash_algorithm": "SHA256",
        "country": "LT",
        "message": "Sign the contract no. 1",
        "code": SIGNS,
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not MISSING}


def post_json(client: httpx.Client, path: str, body: Any) -> httpx.Response:
    content = json.dumps(body).encode()
    return client.post(path, content=content, headers={"content-type": "application/json"})


def error_message(response: httpx.Response, status: int, error_code: int) -> str:
    """Assert the error shape, status and exact content type; return the message."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"status", "message", "error_code"}
    assert body["status"] == "error"
    assert body["error_code"] == error_code
    assert isinstance(body["message"], str)
    assert body["message"]
    return str(body["message"])


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    body: dict[str, Any] = response.json()
    assert body["status"] == "ok"
    return body


def initialize(client: httpx.Client, locale: str = "en", **changes: Any) -> dict[str, Any]:
    return ok(post_json(client, INITIALIZE[locale], init_body(**changes)))


def status(client: httpx.Client, session: str, locale: str = "en") -> httpx.Response:
    return post_json(client, STATUS[locale].format(session), {"access_token": DOCS_ACCESS_TOKEN})


# -- validation: 40001 names the parameter ---------------------------------------------

INVALID_INITIALIZE = [
    pytest.param(init_body(access_token=MISSING), "access_token", "blank", id="no-access-token"),
    pytest.param(init_body(hash=MISSING), "hash", "blank", id="no-hash"),
    pytest.param(init_body(hash_algorithm=MISSING), "hash_algorithm", "blank", id="no-algorithm"),
    pytest.param(init_body(country=MISSING), "country", "blank", id="no-country"),
    pytest.param(init_body(code=MISSING), "code", "blank", id="no-code"),
    pytest.param(init_body(country=None), "country", "blank", id="null-country"),
    pytest.param(init_body(access_token=""), "access_token", "blank", id="empty-access-token"),
    pytest.param(init_body(country="LV"), "country", "invalid", id="unknown-country"),
    pytest.param(init_body(country="lt"), "country", "invalid", id="lowercase-country"),
    pytest.param(init_body(hash="xyz"), "hash", "invalid", id="hash-not-hex"),
    pytest.param(init_body(hash=HASH * 2), "hash", "invalid", id="sha512-length-for-sha256"),
    pytest.param(
        init_body(hash_algorithm="SHA512"), "hash", "invalid", id="sha256-length-for-sha512"
    ),
    pytest.param(init_body(hash_algorithm="MD5"), "hash_algorithm", "invalid", id="md5"),
    pytest.param(
        init_body(certificate_level="ADVANCED"), "certificate_level", "invalid", id="level"
    ),
    pytest.param(init_body(code=30303039914), "code", "type", id="code-as-number"),
    pytest.param(init_body(hash=["ab"]), "hash", "type", id="hash-as-list"),
    pytest.param(init_body(message="x" * 201), "message", "too_long", id="long-message"),
    pytest.param(init_body(access_token="t" * 257), "access_token", "too_long", id="long-token"),
    pytest.param({}, "access_token", "blank", id="empty-object-names-first-key"),
    pytest.param([init_body()], "body", "type", id="array-body"),
    pytest.param("text", "body", "type", id="string-body"),
    pytest.param(None, "body", "blank", id="null-body"),
]

DETAILS = {
    "en": {
        "blank": "This value should not be blank.",
        "invalid": "This value is not valid.",
        "type": "This value should be of type",
        "too_long": "This value is too long.",
    },
    "lt": {
        "blank": "Ši reikšmė negali būti tuščia.",
        "invalid": "Ši reikšmė yra neteisinga.",
        "type": "Šios reikšmės tipas turi būti",
        "too_long": "Per ilga reikšmė.",
    },
}
PREFIX = {"en": "Invalid parameter", "lt": "Neteisingas parametras"}


def names(message: str, locale: str, param: str, detail: str) -> bool:
    return message.startswith(f"{PREFIX[locale]} [{param}]: {DETAILS[locale][detail]}")


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(("body", "param", "detail"), INVALID_INITIALIZE)
def test_invalid_initialize_request_names_the_parameter(
    marksign_mock_client: httpx.Client, locale: str, body: Any, param: str, detail: str
) -> None:
    response = post_json(marksign_mock_client, INITIALIZE[locale], body)
    assert names(error_message(response, 400, 40001), locale, param, detail)


# A personal code that is there but not 11 digits answers 40005 (openapi.yaml: the `code`
# property's x-error-code); missing, empty or not a string stays 40001 (above).
MALFORMED_CODES = [
    pytest.param("3030303991", id="code-10-digits"),
    pytest.param("PNOLT-30303039914", id="code-etsi"),
]
CODE_FORMAT = {"en": "Person code is of incorrect format", "lt": "Neteisingas asmens kodo formatas"}


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("code", MALFORMED_CODES)
def test_a_malformed_personal_code_answers_40005(
    marksign_mock_client: httpx.Client, locale: str, code: str
) -> None:
    response = post_json(marksign_mock_client, INITIALIZE[locale], init_body(code=code))
    assert error_message(response, 400, 40005) == CODE_FORMAT[locale]


def test_the_docs_sample_failure_is_reproduced_word_for_word(
    marksign_mock_client: httpx.Client,
) -> None:
    response = post_json(marksign_mock_client, INITIALIZE["en"], init_body(country="XX"))
    assert response.json() == {
        "status": "error",
        "message": "Invalid parameter [country]: This value is not valid.",
        "error_code": 40001,
    }
    response = post_json(marksign_mock_client, INITIALIZE["lt"], init_body(country="XX"))
    expected = "Neteisingas parametras [country]: Ši reikšmė yra neteisinga."
    assert error_message(response, 400, 40001) == expected


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("raw", "detail"),
    [
        pytest.param(b'{"access_token": ', "invalid", id="truncated"),
        pytest.param(b"{'access_token': 'x'}", "invalid", id="single-quotes"),
        pytest.param(b'{"a": NaN}', "invalid", id="nan"),
        pytest.param(b"\xff\xfe{}", "invalid", id="not-utf8"),
        pytest.param(b"", "blank", id="empty"),
        pytest.param(b"  \n", "blank", id="whitespace"),
    ],
)
def test_a_body_that_is_not_json_is_an_invalid_parameter(
    marksign_mock_client: httpx.Client, locale: str, raw: bytes, detail: str
) -> None:
    for path in (INITIALIZE[locale], STATUS[locale].format(DOCS_TOKEN)):
        response = marksign_mock_client.post(
            path, content=raw, headers={"content-type": "application/json"}
        )
        assert names(error_message(response, 400, 40001), locale, "body", detail)


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("token", "body", "param", "detail"),
    [
        pytest.param(DOCS_TOKEN, {}, "access_token", "blank", id="no-access-token"),
        pytest.param(DOCS_TOKEN, {"access_token": 5}, "access_token", "type", id="number"),
        pytest.param(DOCS_TOKEN.upper(), None, "token", "invalid", id="uppercase-token"),
        pytest.param("ea89b835", None, "token", "invalid", id="short-token"),
        pytest.param(DOCS_TOKEN + ".x", None, "token", "invalid", id="dot"),
        pytest.param("", None, "token", "blank", id="empty-token"),
    ],
)
def test_invalid_status_request_names_the_parameter(
    marksign_mock_client: httpx.Client,
    locale: str,
    token: str,
    body: Any,
    param: str,
    detail: str,
) -> None:
    payload = {"access_token": DOCS_ACCESS_TOKEN} if body is None else body
    response = post_json(marksign_mock_client, STATUS[locale].format(token), payload)
    assert names(error_message(response, 400, 40001), locale, param, detail)


def test_the_body_is_validated_before_the_token_in_the_path(
    marksign_mock_client: httpx.Client,
) -> None:
    response = post_json(marksign_mock_client, STATUS["en"].format("nope"), {})
    assert "[access_token]" in error_message(response, 400, 40001)


# -- access token, unknown sessions ------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_a_wrong_access_token_is_refused(marksign_mock_client: httpx.Client, locale: str) -> None:
    wrong = "0" + DOCS_ACCESS_TOKEN[1:]
    response = post_json(marksign_mock_client, INITIALIZE[locale], init_body(access_token=wrong))
    message = error_message(response, 400, 40003)
    assert message == {"en": "Invalid access token", "lt": "Neteisingas prieigos raktas"}[locale]
    assert wrong not in response.text
    # Checked before the session is looked up: an unknown token does not tell more.
    path = STATUS[locale].format(DOCS_TOKEN)
    error_message(post_json(marksign_mock_client, path, {"access_token": wrong}), 400, 40003)


@settings(access_tokens=frozenset({"first-token", "second-token"}))
def test_every_configured_access_token_is_accepted(marksign_mock_client: httpx.Client) -> None:
    for token in ("first-token", "second-token"):
        initialize(marksign_mock_client, access_token=token)
    response = post_json(marksign_mock_client, INITIALIZE["en"], init_body())  # docs' token
    error_message(response, 400, 40003)


def test_the_docs_curl_request_gets_a_session_not_found(marksign_mock_client: httpx.Client) -> None:
    # curl --request POST '.../en/smartid/sign/hash/status/ea89b835-....json'
    #   --header 'Content-Type: application/json' --data-raw '{"access_token": "52900c96-..."}'
    response = marksign_mock_client.post(
        f"/en/smartid/sign/hash/status/{DOCS_TOKEN}.json",
        content=b'{\n  "access_token": "52900c96-3f60-5307-3719-5948f0191da6"\n}',
        headers={"Content-Type": "application/json"},
    )
    assert error_message(response, 404, 40402) == "Session for given token was not found"
    response = status(marksign_mock_client, DOCS_TOKEN, "lt")
    assert error_message(response, 404, 40402) == "Sesija pagal pateiktą raktą nerasta"


# -- HTTP level: path, method, size, content type ----------------------------------------


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/en/smartid/sign/hash", "Unknown path"),
        ("/en/smartid/sign/hash/status/a/b.json", "Unknown path"),
        ("/smartid/sign/hash/status/.json/x", "Nežinomas kelias"),
        ("/", "Nežinomas kelias"),
        ("/_mock/nothing", "Unknown path"),
    ],
)
def test_an_unknown_path_is_not_found(
    marksign_mock_client: httpx.Client, path: str, message: str
) -> None:
    response = post_json(marksign_mock_client, path, init_body())
    assert error_message(response, 404, 40400) == message


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
@pytest.mark.parametrize("path", [INITIALIZE["en"], STATUS["lt"].format(DOCS_TOKEN)])
def test_a_wrong_method_is_not_allowed(
    marksign_mock_client: httpx.Client, method: str, path: str
) -> None:
    response = marksign_mock_client.request(method, path)
    error_message(response, 405, 40500)
    assert response.headers["allow"] == "POST"


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_a_body_that_is_not_declared_json_is_unsupported(
    marksign_mock_client: httpx.Client, locale: str, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    content = json.dumps(init_body()).encode()
    for path in (INITIALIZE[locale], STATUS[locale].format(DOCS_TOKEN)):
        response = marksign_mock_client.post(path, content=content, headers=headers)
        error_message(response, 415, 41500)


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=utf-8", "Application/JSON", "application/json ;x=y"]
)
def test_json_content_type_parameters_and_case_are_accepted(
    marksign_mock_client: httpx.Client, content_type: str
) -> None:
    content = json.dumps(init_body()).encode()
    response = marksign_mock_client.post(
        INITIALIZE["en"], content=content, headers={"content-type": content_type}
    )
    ok(response)


def _body_of_size(size: int) -> bytes:
    start = json.dumps(init_body(padding="")).encode()
    body = start[:-2] + b"x" * (size - len(start)) + start[-2:]
    assert len(body) == size
    return body


def test_a_body_over_64_kib_is_too_large(marksign_mock_client: httpx.Client) -> None:
    headers = {"content-type": "application/json"}
    ok(marksign_mock_client.post(INITIALIZE["en"], content=_body_of_size(65536), headers=headers))
    response = marksign_mock_client.post(
        INITIALIZE["en"], content=_body_of_size(65537), headers=headers
    )
    assert error_message(response, 413, 41300) == "Request body too large (limit 65536 bytes)"


def test_a_streamed_body_is_counted_as_it_arrives(marksign_mock_client: httpx.Client) -> None:
    # No Content-Length: the size check must count the chunks.
    chunks = iter([b'{"access_token": "', b"x" * 40_000, b"x" * 40_000, b'"}'])
    request = marksign_mock_client.build_request(
        "POST", INITIALIZE["lt"], content=chunks, headers={"content-type": "application/json"}
    )
    assert "content-length" not in request.headers
    response = marksign_mock_client.send(request)
    error_message(response, 413, 41300)


def test_the_content_type_is_checked_before_the_size(marksign_mock_client: httpx.Client) -> None:
    response = marksign_mock_client.post(
        INITIALIZE["en"], content=b"x" * 70_000, headers={"content-type": "text/plain"}
    )
    error_message(response, 415, 41500)


# -- the signing flow --------------------------------------------------------------------


def _certificate_key(client: httpx.Client) -> rsa.RSAPublicKey:
    response = client.get("/_mock/certificate.pem")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/x-pem-file"
    key = x509.load_pem_x509_certificate(response.content).public_key()
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    ("algorithm", "hash_class", "code", "country"),
    [
        ("SHA256", hashes.SHA256, "30303039914", "LT"),
        ("SHA512", hashes.SHA512, "40504040001", "EE"),
    ],
)
def test_a_session_ends_with_a_signature_that_verifies(
    marksign_mock_client: httpx.Client,
    locale: str,
    algorithm: str,
    hash_class: type[hashes.HashAlgorithm],
    code: str,
    country: str,
) -> None:
    hash_bytes = hashlib.new(algorithm.lower(), b"contract no. 1").digest()
    started = initialize(
        marksign_mock_client,
        locale,
        hash=hash_bytes.hex(),
        hash_algorithm=algorithm,
        code=code,
        country=country,
        certificate_level="QUALIFIED",
    )
    assert started["control_code"] == crypto.control_code(hash_bytes)
    body = ok(status(marksign_mock_client, started["token"], locale))
    assert set(body) == {"status", "signature_value"}
    signature = base64.b64decode(body["signature_value"], validate=True)
    key = _certificate_key(marksign_mock_client)
    key.verify(signature, hash_bytes, padding.PKCS1v15(), utils.Prehashed(hash_class()))
    # The result stays: asking again gives the same signature.
    assert ok(status(marksign_mock_client, started["token"], locale)) == body


def test_uppercase_hex_is_signed_as_the_same_hash(marksign_mock_client: httpx.Client) -> None:
    upper = initialize(marksign_mock_client, hash=HASH.upper())
    lower = initialize(marksign_mock_client, hash=HASH)
    assert upper["control_code"] == lower["control_code"]
    assert ok(status(marksign_mock_client, upper["token"])) == ok(
        status(marksign_mock_client, lower["token"])
    )


def test_unknown_keys_are_ignored(marksign_mock_client: httpx.Client) -> None:
    started = initialize(marksign_mock_client, token=DOCS_TOKEN, extra={"nested": [1, None]})
    # The official PHP client repeats the token in the status body.
    body = {"access_token": DOCS_ACCESS_TOKEN, "token": started["token"], "x": 1}
    ok(post_json(marksign_mock_client, STATUS["en"].format(started["token"]), body))


@settings(answer_delay=0.2)
def test_a_status_call_returns_the_signature_once_the_person_answers(
    marksign_mock_client: httpx.Client,
) -> None:
    # That it waits is shown with a fake clock in test_mock_longpoll; this is end to end.
    token = initialize(marksign_mock_client)["token"]
    body = ok(status(marksign_mock_client, token))
    assert body["signature_value"] == crypto.sign_hash("SHA256", bytes.fromhex(HASH))


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize(
    "code",
    ["30403039917", "30403039928", "30403039939", "30403039946", "30403039950", "30403039972"],
)
def test_a_refusal_or_wrong_verification_code_ends_with_40020(
    marksign_mock_client: httpx.Client, locale: str, code: str
) -> None:
    token = initialize(marksign_mock_client, locale, code=code)["token"]
    message = error_message(status(marksign_mock_client, token, locale), 400, 40020)
    assert message.startswith({"en": "User refused", "lt": "Naudotojas atšaukė"}[locale])


@settings(session_timeout=0.3)
def test_a_person_who_never_answers_ends_with_40021(marksign_mock_client: httpx.Client) -> None:
    token = initialize(marksign_mock_client, code="30403039983")["token"]
    expired = status(marksign_mock_client, token)
    assert error_message(expired, 400, 40021) == "Session expired"
    expired = status(marksign_mock_client, token, "lt")
    assert error_message(expired, 400, 40021) == "Sesijos laikas baigėsi"


def test_a_code_without_account_is_40401(marksign_mock_client: httpx.Client) -> None:
    response = post_json(marksign_mock_client, INITIALIZE["en"], init_body(code="38001085718"))
    assert error_message(response, 404, 40401) == "Invalid user (account not found)"
    response = post_json(marksign_mock_client, INITIALIZE["lt"], init_body(code="38001085718"))
    assert error_message(response, 404, 40401) == "Neteisingas naudotojas (paskyra nerasta)"


@settings(allow_any_code=True)
def test_with_allow_any_code_every_code_signs(marksign_mock_client: httpx.Client) -> None:
    token = initialize(marksign_mock_client, code="38001085718")["token"]
    ok(status(marksign_mock_client, token))


@settings(max_sessions=2, answer_delay=30.0, session_timeout=60.0)
def test_too_many_live_sessions_are_refused_with_429(marksign_mock_client: httpx.Client) -> None:
    initialize(marksign_mock_client)
    initialize(marksign_mock_client, "lt")
    response = post_json(marksign_mock_client, INITIALIZE["en"], init_body())
    assert error_message(response, 429, 42900) == "Too many live sessions"


def in_process(app: MockApp) -> httpx.Client:
    return httpx.Client(transport=InProcessTransport(app), base_url="http://marksign-mock.test")


def test_a_result_is_forgotten_after_the_retention_time(
    marksign_mock_config: MockConfig, fake_clock: ManualClock
) -> None:
    config = replace(marksign_mock_config, retention=10.0)
    app = create_app(config, store=SessionStore.from_config(config, clock=fake_clock))
    with in_process(app) as client:
        token = initialize(client)["token"]
        ok(status(client, token))
        fake_clock.advance(10.0)
        error_message(status(client, token), 404, 40402)


def test_seeded_simulators_hand_out_the_same_tokens() -> None:
    tokens = []
    for _ in range(2):
        with in_process(create_app(MockConfig(answer_delay=0.0, seed=42))) as client:
            tokens.append([initialize(client)["token"] for _ in range(3)])
    assert tokens[0] == tokens[1]


# -- control plane -----------------------------------------------------------------------


def test_reset_forgets_the_sessions(marksign_mock_client: httpx.Client) -> None:
    token = initialize(marksign_mock_client)["token"]
    response = marksign_mock_client.post("/_mock/reset")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    # One session, no scripts, the journal's one initialize (the reset itself is not in it).
    assert response.json() == {
        "status": "ok",
        "sessions_cleared": 1,
        "scripts_cleared": 0,
        "journal_cleared": 1,
    }
    error_message(status(marksign_mock_client, token), 404, 40402)


def test_the_spec_and_certificate_are_served(marksign_mock_client: httpx.Client) -> None:
    spec = marksign_mock_client.get("/_mock/openapi.yaml")
    assert spec.status_code == 200
    assert spec.headers["content-type"] == "application/yaml"
    assert spec.content == (REPO_ROOT / "openapi.yaml").read_bytes()
    certificate = marksign_mock_client.get("/_mock/certificate.pem")
    assert certificate.content == crypto.certificate_pem()
    assert certificate.content.startswith(b"-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("GET", "/_mock/reset", "POST"),
        ("POST", "/_mock/certificate.pem", "GET"),
        ("DELETE", "/_mock/openapi.yaml", "GET"),
    ],
)
def test_control_endpoints_answer_a_wrong_method_with_405(
    marksign_mock_client: httpx.Client, method: str, path: str, allow: str
) -> None:
    response = marksign_mock_client.request(method, path)
    error_message(response, 405, 40500)
    assert response.headers["allow"] == allow


# -- robustness and logging --------------------------------------------------------------


def test_an_unexpected_failure_still_answers_in_the_error_shape(
    marksign_mock_app: MockApp,
    marksign_mock_client: httpx.Client,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*_: Any) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(marksign_mock_app.store, "create", broken)
    with caplog.at_level(logging.ERROR, logger="marksign_mock"):
        response = post_json(marksign_mock_client, INITIALIZE["en"], init_body())
    assert error_message(response, 500, 50000) == "Issues while processing the request"
    assert "a bug" in caplog.text


SECRET = "a-secret-access-token-0123456789"


@settings(access_tokens=frozenset({SECRET}))
def test_one_log_line_per_request_without_the_access_token(
    marksign_mock_client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    client = marksign_mock_client
    with caplog.at_level(logging.INFO, logger="marksign_mock"):
        token = initialize(client, access_token=SECRET)["token"]
        ok(post_json(client, STATUS["en"].format(token), {"access_token": SECRET}))
        post_json(client, INITIALIZE["lt"], init_body(access_token=SECRET + "x"))
    lines = [r.getMessage() for r in caplog.records if r.name == "marksign_mock"]
    assert len(lines) == 3
    assert lines[0].startswith("POST /en/smartid/sign/hash.json 200 ")
    assert lines[0].endswith("ms")
    assert lines[2].startswith("POST /smartid/sign/hash.json 400 ")
    assert SECRET not in caplog.text
