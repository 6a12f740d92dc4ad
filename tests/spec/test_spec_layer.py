"""The spec layer (marksign_spec): where openapi.yaml is, $ref resolution, operations,
roles and limits, and one-line errors for a spec that cannot be used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from marksign_spec import SpecError, default_spec_path, load_spec, resolve_refs

REPO_SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_the_repository_spec_is_found_without_configuration() -> None:
    assert default_spec_path() == REPO_SPEC


def test_operations_carry_locale_role_and_path_parameters() -> None:
    spec = load_spec()
    status = spec.operation("getHashSigningStatusEn")
    assert status.locale == "en"
    assert status.role == "status"
    assert status.path == "/en/smartid/sign/hash/status/{token}.json"
    assert spec.operation("getHashSigningStatus").locale == "lt"
    assert spec.operation("initializeHashSigning").role == "initialize"
    assert list(status.path_parameters) == ["token"]
    assert spec.operation_ids("status") == ("getHashSigningStatus", "getHashSigningStatusEn")


def test_the_limits_are_read_from_the_document(tmp_path: Path) -> None:
    limits = load_spec().limits
    assert (limits.access_token_min_length, limits.access_token_max_length) == (1, 256)
    assert limits.session_token_length == 36
    assert limits.request_body_max_bytes == 65536
    changed = tmp_path / "openapi.yaml"
    changed.write_text(_spec_with("      maxLength: 256\n", "      maxLength: 300\n"))
    assert load_spec(changed).limits.access_token_max_length == 300


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
