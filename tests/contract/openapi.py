"""openapi.yaml for the property tests: its schemas, and validators that resolve its `$ref`s."""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from marksign_contract.cli import spec_path
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

Json = Any
SPEC_URI = "urn:marksign:openapi"

# Each operation and its locale twin, LT first.
TWINS = {
    "initializeHashSigning": "initializeHashSigningEn",
    "getHashSigningStatus": "getHashSigningStatusEn",
}


@cache
def document() -> dict[str, Json]:
    loaded = yaml.safe_load(spec_path().read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@cache
def _registry() -> Registry[Json]:
    resource: Resource[Json] = Resource.from_contents(document(), default_specification=DRAFT202012)
    registry: Registry[Json] = Registry().with_resource(SPEC_URI, resource)
    return registry


def resolve(node: Json) -> Json:
    """Follow local `$ref`s until a node that is not one."""
    while isinstance(node, dict) and "$ref" in node:
        target: Json = document()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def validator(schema: Json) -> Draft202012Validator:
    """A Draft 2020-12 validator for a schema of openapi.yaml, its `$ref`s resolved there."""
    return Draft202012Validator(_absolute(schema), registry=_registry())


def _absolute(node: Json) -> Json:
    """`node` with its local `$ref`s ("#/...") made to point into the registered document."""
    if isinstance(node, list):
        return [_absolute(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {
        key: SPEC_URI + value
        if key == "$ref" and isinstance(value, str) and value.startswith("#")
        else _absolute(value)
        for key, value in node.items()
    }


def component_schemas() -> dict[str, Json]:
    schemas: dict[str, Json] = document()["components"]["schemas"]
    return schemas


def operation(operation_id: str) -> tuple[str, Json]:
    """The path and the definition of an operation."""
    for path, item in document()["paths"].items():
        if item.get("post", {}).get("operationId") == operation_id:
            return path, item["post"]
    raise KeyError(operation_id)


def response_schema(operation_id: str, status: int) -> Json:
    """The JSON schema of the operation's answer with `status` (its own entry or `default`)."""
    responses = operation(operation_id)[1]["responses"]
    response = resolve(responses.get(str(status), responses["default"]))
    return response["content"]["application/json"]["schema"]


def request_schema(operation_id: str) -> Json:
    body = resolve(operation(operation_id)[1]["requestBody"])
    return body["content"]["application/json"]["schema"]
