"""The generated models on their own: `from_dict` checks types, `repr` hides secrets."""

from typing import Any

import pytest
from marksign_client.models import (
    CertificateLevel,
    Country,
    Error,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_client.types import UNSET

from tests.client.fake_gateway import ACCESS_TOKEN, HASH_HEX, SESSION_TOKEN

INITIALIZE_JSON: dict[str, Any] = {
    "access_token": ACCESS_TOKEN,
    "hash": HASH_HEX,
    "hash_algorithm": "SHA256",
    "country": "LT",
    "code": "30303039914",
}


def test_repr_of_the_status_request_hides_the_access_token() -> None:
    body = HashSigningStatusRequest(access_token=ACCESS_TOKEN)

    assert ACCESS_TOKEN not in repr(body)
    assert ACCESS_TOKEN not in str(body)
    assert ACCESS_TOKEN not in f"{body!r} {[body]}"
    assert body.access_token == ACCESS_TOKEN
    assert body == HashSigningStatusRequest(access_token=ACCESS_TOKEN)  # still compared
    assert body != HashSigningStatusRequest(access_token="another")


def test_repr_of_the_initialize_request_hides_only_the_access_token() -> None:
    body = InitializeHashSigningRequest(
        access_token=ACCESS_TOKEN,
        hash_=HASH_HEX,
        hash_algorithm=HashAlgorithm.SHA256,
        country=Country.LT,
        code="30303039914",
        certificate_level=CertificateLevel.QSCD,
    )

    text = repr(body)
    assert ACCESS_TOKEN not in text
    assert "access_token" not in text
    for shown in (HASH_HEX, "30303039914", "SHA256", "LT", "QSCD", "message=<"):
        assert shown in text
    assert body.to_dict()["access_token"] == ACCESS_TOKEN


def test_repr_of_the_started_session_shows_its_token() -> None:
    """The session token is not a secret without the access token, and helps debugging."""
    started = InitializeHashSigningOk(status="ok", token=SESSION_TOKEN, control_code="9403")

    assert f"token='{SESSION_TOKEN}'" in repr(started)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param([("status", "ok"), ("signature_value", "abc")], id="pairs"),
        pytest.param("ok", id="string"),
        pytest.param(None, id="null"),
    ],
)
def test_from_dict_rejects_anything_but_a_mapping(source: Any) -> None:
    with pytest.raises(TypeError, match="HashSigningStatusOk expects a JSON object"):
        HashSigningStatusOk.from_dict(source)


def test_from_dict_checks_required_primitive_types() -> None:
    with pytest.raises(TypeError, match="error_code must be int, got bool"):
        Error.from_dict({"status": "error", "message": "?", "error_code": True})
    with pytest.raises(TypeError, match="hash must be str, got int"):
        InitializeHashSigningRequest.from_dict({**INITIALIZE_JSON, "hash": 1})


@pytest.mark.parametrize("value", [None, 5, ["text"]])
def test_from_dict_checks_an_optional_field_when_present(value: object) -> None:
    with pytest.raises(TypeError, match="message must be str"):
        InitializeHashSigningRequest.from_dict({**INITIALIZE_JSON, "message": value})


def test_from_dict_leaves_absent_optional_fields_unset() -> None:
    body = InitializeHashSigningRequest.from_dict(INITIALIZE_JSON)

    assert body.message is UNSET
    assert body.certificate_level is UNSET
    assert body.to_dict() == INITIALIZE_JSON


def test_from_dict_rejects_an_unknown_optional_enum_value() -> None:
    with pytest.raises(ValueError, match="ULTIMATE"):
        InitializeHashSigningRequest.from_dict({**INITIALIZE_JSON, "certificate_level": "ULTIMATE"})
