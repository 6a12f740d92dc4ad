"""How the generated client reads answers: every declared response, and the robustness cases.

The documented outcome (generated_client/README.md, `marksign_client.errors`): a body that
fits the model declared for its status is parsed (every status is declared through
`default`); any other body raises `UnexpectedResponse` with the status code and the raw
body, never a bare ValueError, KeyError or JSONDecodeError.
"""

import json
from typing import Any

import pytest
from marksign_client.errors import UnexpectedResponse
from marksign_client.models import Error
from marksign_client.types import Response

from tests.client.fake_gateway import ACCESS_TOKEN, FakeGateway, Operation


def _error(error_code: int, message: str) -> dict[str, Any]:
    return {"status": "error", "message": message, "error_code": error_code}


# Every error status: the four declared ones, then statuses that only `default` covers,
# including 520, which `http.HTTPStatus` does not know.
ERROR_ANSWERS = [
    pytest.param(
        400, _error(40001, "Invalid parameter [country]: This value is not valid."), id="400"
    ),
    pytest.param(404, _error(40402, "Session for given token was not found"), id="404"),
    pytest.param(408, _error(40801, "Timeout while acquiring certificate"), id="408"),
    pytest.param(500, _error(50001, "Technical error in service"), id="500"),
    pytest.param(405, _error(40500, "Method not allowed"), id="405-default"),
    pytest.param(429, _error(42900, "Too many live sessions"), id="429-default"),
    pytest.param(520, _error(52000, "Unknown error"), id="520-default"),
]


def _check_status_code(gateway: FakeGateway, response: Response[Any] | None) -> None:
    """A detailed variant reports the status as a plain int, whatever its value."""
    if response is not None:
        assert type(response.status_code) is int
        assert response.status_code == gateway.status_code


def test_200_parses_into_the_ok_model(
    gateway: FakeGateway, operation: Operation, variant: str
) -> None:
    gateway.answer_json(200, operation.ok_json)

    result = operation.call(gateway.client(), variant)

    assert type(result.parsed) is operation.ok_model
    assert result.parsed.to_dict() == operation.ok_json
    assert result.parsed.additional_properties == {}
    _check_status_code(gateway, result.response)


@pytest.mark.parametrize(("status_code", "body"), ERROR_ANSWERS)
def test_error_statuses_parse_into_error(
    gateway: FakeGateway, operation: Operation, variant: str, status_code: int, body: dict[str, Any]
) -> None:
    gateway.answer_json(status_code, body)

    result = operation.call(gateway.client(), variant)

    assert result.parsed == Error(
        status="error", message=body["message"], error_code=body["error_code"]
    )
    _check_status_code(gateway, result.response)


@pytest.mark.parametrize("status_code", [200, 404])
def test_unknown_keys_are_kept_in_additional_properties(
    gateway: FakeGateway, operation: Operation, variant: str, status_code: int
) -> None:
    extra = {"session_id": "abc", "details": {"retry": False}}
    known = operation.ok_json if status_code == 200 else _error(40402, "Not found")
    gateway.answer_json(status_code, {**known, **extra})

    result = operation.call(gateway.client(), variant)

    parsed: Any = result.parsed
    assert parsed.additional_properties == extra
    assert parsed.to_dict() == {**known, **extra}


def test_the_content_type_is_not_checked(
    gateway: FakeGateway, operation: Operation, variant: str
) -> None:
    """A JSON body that fits is parsed even when the server labels it as something else."""
    gateway.answer(200, json.dumps(operation.ok_json).encode(), "text/html; charset=UTF-8")

    result = operation.call(gateway.client(), variant)

    assert type(result.parsed) is operation.ok_model


# (status, body, content type, a phrase of the reason)
UNFIT_ANSWERS = [
    pytest.param(
        502,
        b"<html><body><h1>502 Bad Gateway</h1></body></html>",
        "text/html",
        "not JSON",
        id="502-html-page",
    ),
    pytest.param(503, b"Service Unavailable", "text/plain", "not JSON", id="503-plain-text"),
    pytest.param(200, b'{"status": "waiting"}', "application/json", "waiting", id="200-waiting"),
    pytest.param(
        200, b'{"status": "ok", "token": ', "application/json", "not JSON", id="200-invalid-json"
    ),
    pytest.param(200, b"", "application/json", "not JSON", id="200-empty-body"),
    pytest.param(200, b"\xff\xfe\xfa", "application/json", "not JSON", id="200-not-utf8"),
    pytest.param(
        200, b'{"status": "ok"}', "application/json", "lacks the key", id="200-missing-key"
    ),
    pytest.param(200, b"[1, 2]", "application/json", "does not fit", id="200-json-array"),
    pytest.param(200, b"null", "application/json", "does not fit", id="200-json-null"),
    pytest.param(200, b'"ok"', "application/json", "does not fit", id="200-json-string"),
    pytest.param(
        400,
        b'{"status": "error", "message": "Invalid access token"}',
        "application/json",
        "lacks the key 'error_code'",
        id="400-error-without-code",
    ),
    pytest.param(
        520,
        b'{"status": "ok", "message": "?", "error_code": 52000}',
        "application/json",
        "status must match const 'error'",
        id="520-not-error-shaped",
    ),
]


@pytest.mark.parametrize(("status_code", "content", "content_type", "reason"), UNFIT_ANSWERS)
def test_a_body_that_does_not_fit_raises_unexpected_response(
    gateway: FakeGateway,
    operation: Operation,
    variant: str,
    status_code: int,
    content: bytes,
    content_type: str,
    reason: str,
) -> None:
    gateway.answer(status_code, content, content_type)

    _check_unexpected_response(gateway, operation, variant, reason)


def _check_unexpected_response(
    gateway: FakeGateway, operation: Operation, variant: str, reason: str
) -> None:
    """The call raises UnexpectedResponse with the gateway's status, raw body and `reason`."""
    with pytest.raises(UnexpectedResponse) as raised:
        operation.call(gateway.client(), variant)

    error = raised.value
    assert error.status_code == gateway.status_code
    assert error.content == gateway.content
    assert reason in error.reason
    assert f"HTTP {gateway.status_code}" in str(error)
    assert ACCESS_TOKEN not in str(error)
    assert isinstance(error.__cause__, KeyError | TypeError | ValueError)


# JSON values of the wrong type for a string and for an integer field, by test id. A bool is
# not an integer, although Python's bool is a subclass of int.
NOT_STRINGS: dict[str, object] = {
    "null": None,
    "int": 1,
    "float": 1.5,
    "bool": True,
    "array": [],
    "object": {},
}
NOT_INTEGERS: dict[str, object] = {
    "null": None,
    "string": "abc",
    "numeric-string": "40001",
    "float": 40001.0,
    "bool": True,
    "array": [40001],
}


@pytest.mark.parametrize("value", NOT_STRINGS.values(), ids=NOT_STRINGS.keys())
def test_a_200_with_a_wrongly_typed_value_raises_unexpected_response(
    gateway: FakeGateway, operation: Operation, variant: str, value: object
) -> None:
    """E.g. `{"status": "ok", "signature_value": null}` is not a signature."""
    fields = [key for key in operation.ok_json if key != "status"]
    assert fields
    for key in fields:
        gateway.answer_json(200, {**operation.ok_json, key: value})

        _check_unexpected_response(gateway, operation, variant, f"{key} must be str")


@pytest.mark.parametrize("status_code", [400, 520])
@pytest.mark.parametrize(
    ("key", "value"),
    [pytest.param("message", value, id=f"message-{id_}") for id_, value in NOT_STRINGS.items()]
    + [
        pytest.param("error_code", value, id=f"error_code-{id_}")
        for id_, value in NOT_INTEGERS.items()
    ],
)
def test_an_error_with_a_wrongly_typed_value_raises_unexpected_response(
    gateway: FakeGateway,
    operation: Operation,
    variant: str,
    status_code: int,
    key: str,
    value: object,
) -> None:
    """E.g. `{"status": "error", "message": null, "error_code": "abc"}` is not an Error."""
    expected = "str" if key == "message" else "int"
    gateway.answer_json(status_code, {**_error(40001, "Invalid access token"), key: value})

    _check_unexpected_response(gateway, operation, variant, f"{key} must be {expected}")


@pytest.mark.parametrize("status_code", [200, 400])
def test_a_list_of_key_value_pairs_is_not_an_object(
    gateway: FakeGateway, operation: Operation, variant: str, status_code: int
) -> None:
    """`dict()` would turn `[["status", "ok"], ...]` into a model: it must not."""
    body = operation.ok_json if status_code == 200 else _error(40003, "Invalid access token")
    gateway.answer_json(status_code, [[key, value] for key, value in body.items()])

    _check_unexpected_response(gateway, operation, variant, "expects a JSON object, got list")
