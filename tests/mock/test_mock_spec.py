"""Validators compiled from the spec layer's schemas: 40001 naming the parameter."""

from __future__ import annotations

from pathlib import Path

import pytest
from marksign_mock.exceptions import ApiError
from marksign_mock.validation import CheckedOperation, checked_operations
from marksign_spec import Spec, SpecError, load_spec

REPO_SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def _checked(spec: Spec, operation_id: str) -> CheckedOperation:
    return next(c for c in checked_operations(spec) if c.operation.operation_id == operation_id)


def test_operations_carry_compiled_validators() -> None:
    status = _checked(load_spec(), "getHashSigningStatusEn")
    assert set(status.path_params) == {"token"}
    status.path_params["token"].check("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d")
    with pytest.raises(ApiError) as raised:
        status.path_params["token"].check("EA89B835-C585-3C3C-9EA8-0F1B6ED3E13D")
    assert raised.value.params["param"] == "token"


def test_the_validator_follows_the_spec_file_it_was_given(tmp_path: Path) -> None:
    # Widen the country enum in a copy: the simulator must accept what the copy allows.
    changed = tmp_path / "openapi.yaml"
    changed.write_text(
        REPO_SPEC.read_text(encoding="utf-8").replace("enum: [LT, EE]", "enum: [LT, EE, LV]"),
        encoding="utf-8",
    )
    body = {
        "access_token": "t",
        "hash": "ab" * 32,
        "hash_algorithm": "SHA256",
        "country": "LV",
        "code": "30303039914",
    }
    validator = _checked(load_spec(changed), "initializeHashSigning").body
    assert validator is not None
    validator.check(body)
    original = _checked(load_spec(REPO_SPEC), "initializeHashSigning").body
    assert original is not None
    with pytest.raises(ApiError):
        original.check(body)


def _spec_with(old: str, new: str) -> str:
    text = REPO_SPEC.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


def test_a_schema_that_does_not_compile_is_a_one_line_error(tmp_path: Path) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text(_spec_with("enum: [LT, EE]", "enum: 5"), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        checked_operations(load_spec(broken))
    message = str(raised.value)
    assert message.startswith(f"{broken}: ")
    assert "POST /smartid/sign/hash.json (initializeHashSigning): invalid schema: " in message
    assert "\n" not in message
