"""Reading openapi.yaml: $ref resolution, validators compiled from the spec, its location."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from marksign_mock.errors import ApiError
from marksign_mock.spec import SpecError, default_spec_path, load_spec, resolve_refs

REPO_SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_the_repository_spec_is_found_without_configuration() -> None:
    assert default_spec_path() == REPO_SPEC


def test_operations_carry_locale_and_compiled_validators() -> None:
    spec = load_spec()
    status = spec.operation("getHashSigningStatusEn")
    assert status.locale == "en"
    assert status.path == "/en/smartid/sign/hash/status/{token}.json"
    assert spec.operation("getHashSigningStatus").locale == "lt"
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
    validator = load_spec(changed).operation("initializeHashSigning").body
    assert validator is not None
    validator.check(body)
    original = load_spec(REPO_SPEC).operation("initializeHashSigning").body
    assert original is not None
    with pytest.raises(ApiError):
        original.check(body)


def test_refs_are_resolved_recursively_and_cycles_refused() -> None:
    document = {
        "a": {"$ref": "#/b"},
        "b": {"c": {"$ref": "#/d~1e"}},
        "d/e": 1,
        "f": {"$ref": "#/b", "description": "kept"},
    }
    assert resolve_refs(document)["a"] == {"c": 1}
    assert resolve_refs(document)["f"] == {"c": 1, "description": "kept"}
    with pytest.raises(ValueError, match="circular"):
        resolve_refs({"a": {"$ref": "#/a"}})
    with pytest.raises(ValueError, match="local"):
        resolve_refs({"a": {"$ref": "other.yaml#/a"}})


def _spec_with(old: str, new: str) -> str:
    text = REPO_SPEC.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new)


STATUS_EN = "POST /en/smartid/sign/hash/status/{token}.json"
STATUS_LT = "POST /smartid/sign/hash/status/{token}.json (getHashSigningStatus)"
# A spec that cannot be used, built from the repository's; what its error must say.
BROKEN_SPECS = [
    pytest.param(
        lambda: "openapi: 3.1.0\npaths: {/x.json: [\n",
        "not valid YAML: did not find expected node content (line 3, column 1)",
        id="broken-yaml",
    ),
    pytest.param(lambda: "- openapi\n", "not an OpenAPI document with paths", id="a-list"),
    pytest.param(
        lambda: _spec_with("      operationId: getHashSigningStatusEn\n", ""),
        f"{STATUS_EN}: no operationId",
        id="no-operation-id",
    ),
    pytest.param(
        lambda: _spec_with(
            "operationId: getHashSigningStatusEn", "operationId: getHashSigningStatus"
        ),
        f"{STATUS_EN}: operationId getHashSigningStatus is taken by POST /smartid/",
        id="duplicate-operation-id",
    ),
    pytest.param(
        lambda: _spec_with("schemas/HashSigningStatusRequest'", "schemas/Missing'"),
        "$ref '#/components/schemas/Missing' points to nothing",
        id="dangling-ref",
    ),
    pytest.param(
        lambda: _spec_with("enum: [LT, EE]", "enum: 5"),
        "POST /smartid/sign/hash.json (initializeHashSigning): invalid schema: ",
        id="invalid-schema",
    ),
    pytest.param(
        lambda: _spec_with(
            "    parameters:\n      - $ref: '#/components/parameters/SessionToken'\n", ""
        ),
        f"{STATUS_LT}: the path parameter {{token}} is not declared",
        id="undeclared-path-parameter",
    ),
    pytest.param(
        lambda: _spec_with("      in: path\n", ""),
        f"{STATUS_LT}: 'in' is missing",
        id="parameter-without-in",
    ),
    pytest.param(
        lambda: _spec_with("  /en/smartid/sign/hash.json:", "  en/smartid/sign/hash.json:"),
        "the path 'en/smartid/sign/hash.json' does not start with '/'",
        id="relative-path",
    ),
    pytest.param(
        lambda: _spec_with("/smartid/sign/hash/status/{token}.json:", "/x/{token:int}.json:"),
        "the path parameter {token:int} is not a plain name",
        id="typed-path-parameter",
    ),
]


@pytest.mark.parametrize(("write", "problem"), BROKEN_SPECS)
def test_a_spec_that_cannot_be_used_is_a_one_line_error_naming_file_and_problem(
    tmp_path: Path, write: Callable[[], str], problem: str
) -> None:
    broken = tmp_path / "openapi.yaml"
    broken.write_text(write(), encoding="utf-8")
    with pytest.raises(SpecError) as raised:
        load_spec(broken)
    message = str(raised.value)
    assert message.startswith(f"{broken}: ")
    assert problem in message
    assert "\n" not in message
    assert isinstance(raised.value, ValueError)  # what callers catching ValueError expect
