"""The spec layer (marksign_spec): where openapi.yaml is, $ref resolution, operations,
roles and limits, and one-line errors for a spec that cannot be used."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from marksign_mock.control import CONTROL_DOCUMENT
from marksign_mock.exceptions import MESSAGES
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


def test_each_operations_error_codes_agree_with_its_description_and_the_simulator() -> None:
    """openapi.yaml's `x-error-codes`, the list in each operation's description (which the
    generated client's docstrings carry), the simulator's messages and the control plane's
    document name the same codes."""
    spec = load_spec()
    control = yaml.safe_load(CONTROL_DOCUMENT.read_text(encoding="utf-8"))
    request = control["components"]["schemas"]["ErrorScriptRequest"]
    by_role = {
        rule["if"]["properties"]["operation"]["enum"][0]: rule["then"]["properties"]["error_code"]
        for rule in request["allOf"]
    }
    names = control["components"]["schemas"]["OperationName"]["enum"]
    assert set(names) == {op.operation_id for op in spec.operations} | {"initialize", "status"}
    every = set()
    for op in spec.operations:
        assert op.error_codes, op.operation_id
        pattern = r"Error codes \(`x-error-codes`\): ([\d,\s]+)\."
        listed = re.search(pattern, op.definition["description"])
        assert listed is not None, op.operation_id
        assert [int(c) for c in re.findall(r"\d{5}", listed[1])] == list(op.error_codes)
        assert set(op.error_codes) <= set(MESSAGES)
        assert op.role is not None
        assert by_role[op.role]["enum"] == list(op.error_codes)
        every |= set(op.error_codes)
    assert sorted(every) == request["properties"]["error_code"]["enum"]
    twins = {op.role: op.error_codes for op in spec.operations}
    for op in spec.operations:
        assert op.error_codes == twins[op.role]  # both locales answer the same codes
