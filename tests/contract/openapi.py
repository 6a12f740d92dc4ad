"""openapi.yaml for the property tests: its schemas, and validators with `$ref`s resolved.

Everything comes from the spec layer (`marksign_spec`): the document and its one `$ref`
resolver.
"""

from __future__ import annotations

from typing import Any

from jsonschema import Draft202012Validator

from tests.spec_facts import SPEC

Json = Any

# Each operation and its locale twin, LT first.
TWINS = {
    "initializeHashSigning": "initializeHashSigningEn",
    "getHashSigningStatus": "getHashSigningStatusEn",
}


def document() -> dict[str, Json]:
    return dict(SPEC.document)


def resolve(node: Json) -> Json:
    """`node` with its local `$ref`s resolved (recursively)."""
    return SPEC.resolve(node)


def validator(schema: Json) -> Draft202012Validator:
    """A Draft 2020-12 validator for a schema of openapi.yaml, its `$ref`s resolved."""
    return Draft202012Validator(SPEC.resolve(schema))


def component_schemas() -> dict[str, Json]:
    return dict(SPEC.component_schemas())


def operation(operation_id: str) -> tuple[str, Json]:
    """The path and the definition of an operation."""
    op = SPEC.operation(operation_id)
    return op.path, op.definition


def response_schema(operation_id: str, status: int) -> Json:
    """The JSON schema of the operation's answer with `status` (its own entry or `default`)."""
    responses = operation(operation_id)[1]["responses"]
    response = resolve(responses.get(str(status), responses["default"]))
    return response["content"]["application/json"]["schema"]


def request_schema(operation_id: str) -> Json:
    body = resolve(operation(operation_id)[1]["requestBody"])
    return body["content"]["application/json"]["schema"]
