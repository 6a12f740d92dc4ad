"""The handwritten openapi.yaml: valid for both validators, examples valid, locales twinned."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator
from marksign_mock.exceptions import MESSAGES
from marksign_spec import ref_target, resolve_refs
from openapi_spec_validator import validate as validate_openapi

from tools import redocly

ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = ROOT / "openapi.yaml"

Json = Any

# The four operations: (operationId, path), LT first, its EN twin second.
TWINS = [
    (
        ("initializeHashSigning", "/smartid/sign/hash.json"),
        ("initializeHashSigningEn", "/en/smartid/sign/hash.json"),
    ),
    (
        ("getHashSigningStatus", "/smartid/sign/hash/status/{token}.json"),
        ("getHashSigningStatusEn", "/en/smartid/sign/hash/status/{token}.json"),
    ),
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Json]:
    loaded = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def resolve(spec: dict[str, Json], node: Json) -> Json:
    """The node a local `$ref` points to, as written (its own `$ref`s left in place, which
    these tests read); `deep_resolve` resolves them all."""
    while isinstance(node, dict) and "$ref" in node:
        node = ref_target(spec, node["$ref"])
    return node


def deep_resolve(spec: dict[str, Json], node: Json) -> Json:
    """`node` with every `$ref` resolved, by the spec layer's one resolver."""
    return resolve_refs(node, spec)


def schema_validator(spec: dict[str, Json], schema: Json) -> Draft202012Validator:
    """A validator for `schema`, its `$ref`s resolved in openapi.yaml by the spec layer."""
    return Draft202012Validator(resolve_refs(schema, spec), format_checker=None)


def operations(spec: dict[str, Json]) -> Iterator[tuple[str, str, dict[str, Json]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in {"get", "put", "post", "delete", "patch", "head", "options", "trace"}:
                yield path, method, operation


def media_examples(spec: dict[str, Json]) -> Iterator[tuple[str, Json, Json]]:
    """Every (where, schema, example value) of the request bodies, responses and parameters."""
    components = spec["components"]
    for kind in ("requestBodies", "responses"):
        for name, body in components[kind].items():
            for media_type, media in body.get("content", {}).items():
                for example_name, example in media.get("examples", {}).items():
                    yield (
                        f"{kind}/{name}/{media_type}/{example_name}",
                        media["schema"],
                        resolve(spec, example)["value"],
                    )
    for name, parameter in components["parameters"].items():
        for example_name, example in parameter.get("examples", {}).items():
            yield (
                f"parameters/{name}/{example_name}",
                parameter["schema"],
                resolve(spec, example)["value"],
            )
    for name, schema in components["schemas"].items():
        for index, value in enumerate(schema.get("examples", [])):
            yield f"schemas/{name}/examples/{index}", schema, value


def test_openapi_spec_validator_accepts_the_spec(spec: dict[str, Json]) -> None:
    assert spec["openapi"] == "3.1.0"
    validate_openapi(spec)  # raises OpenAPIValidationError with the offending location


def test_redocly_lint_reports_no_errors_and_no_warnings() -> None:
    result = redocly.lint()
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    findings = [line for line in output.splitlines() if re.search(r"\s(error|warning)\s", line)]
    assert findings == [], output
    assert "Your API description is valid" in output, output


def test_every_example_validates_against_its_schema(spec: dict[str, Json]) -> None:
    checked = 0
    for where, schema, value in media_examples(spec):
        errors = [error.message for error in schema_validator(spec, schema).iter_errors(value)]
        assert errors == [], f"{where}: {errors}"
        checked += 1
    assert checked >= 12  # the docs' samples: requests, successes and failures


def test_the_docs_samples_are_examples(spec: dict[str, Json]) -> None:
    values = [value for _, _, value in media_examples(spec)]
    assert {"access_token": "52900c96-3f60-5307-3719-5948f0191da6"} in values
    assert {
        "status": "ok",
        "token": "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d",
        "control_code": "9403",
    } in values
    assert {
        "status": "error",
        "message": "Session for given token was not found",
        "error_code": 40402,
    } in values
    assert {
        "status": "error",
        "message": "Invalid parameter [country]: This value is not valid.",
        "error_code": 40001,
    } in values


def test_four_post_operations_with_distinct_operation_ids(spec: dict[str, Json]) -> None:
    found = {(path, method, op["operationId"]) for path, method, op in operations(spec)}
    expected = {(path, "post", op_id) for pair in TWINS for op_id, path in pair}
    assert found == expected


@pytest.mark.parametrize(("lt", "en"), TWINS, ids=["initialize", "status"])
def test_locale_twins_have_identical_contracts(
    spec: dict[str, Json], lt: tuple[str, str], en: tuple[str, str]
) -> None:
    def contract(op_id: str, path: str) -> Json:
        item = copy.deepcopy(spec["paths"][path])
        operation = item.pop("post")
        operation["parameters"] = item.pop("parameters", []) + operation.get("parameters", [])
        resolved = deep_resolve(spec, operation)
        for key in ("operationId", "summary", "description"):
            resolved.pop(key)
        for response in resolved["responses"].values():
            # Each locale has examples in its own language (test_examples_speak_...).
            response.pop("description")
            for media in response.get("content", {}).values():
                for example in media.get("examples", {}).values():
                    example.pop("summary", None)
                    example["value"].pop("message", None)
            for link in response.get("links", {}).values():
                # A link points at the status operation of its own locale.
                assert link["operationId"].endswith("En") == op_id.endswith("En")
                link["operationId"] = link["operationId"].removesuffix("En")
        return resolved

    assert contract(*lt) == contract(*en)
    assert en[1] == "/en" + lt[1]


@pytest.mark.parametrize(
    ("initialize", "status"),
    [
        ("initializeHashSigning", "getHashSigningStatus"),
        ("initializeHashSigningEn", "getHashSigningStatusEn"),
    ],
)
def test_initialize_links_its_token_to_the_status_call(
    spec: dict[str, Json], initialize: str, status: str
) -> None:
    operation = next(op for _, _, op in operations(spec) if op["operationId"] == initialize)
    ok = resolve(spec, operation["responses"]["200"])
    links = [resolve(spec, link) for link in ok["links"].values()]
    assert [link["operationId"] for link in links] == [status]
    assert links[0]["parameters"] == {"token": "$response.body#/token"}
    assert links[0]["requestBody"] == {"access_token": "$request.body#/access_token"}


@pytest.mark.parametrize(
    ("token", "valid"),
    [
        ("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d", True),  # the docs' session token
        ("320a35af-19c9-eecd-5f7e-8725393bd955", True),  # not a valid RFC 4122 UUID
        ("52900c96-3f60-5307-3719-5948f0191da6", True),  # the docs' access token shape
        ("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d/../x", False),
        ("ea89b835.c585-3c3c-9ea8-0f1b6ed3e13d", False),
        ("ea89b835-c585-3c3c-9ea8-0f1b6ed3e13", False),
        ("EA89B835-C585-3C3C-9EA8-0F1B6ED3E13D", False),
        ("", False),
    ],
)
def test_token_parameter_is_uuid_shaped_and_cannot_change_the_url(
    spec: dict[str, Json], token: str, valid: bool
) -> None:
    parameter = spec["components"]["parameters"]["SessionToken"]
    assert parameter["in"] == "path"
    assert parameter["required"] is True
    assert schema_validator(spec, parameter["schema"]).is_valid(token) is valid


SHA256_HEX = "ab" * 32
SHA512_HEX = "cd" * 64


@pytest.mark.parametrize(
    ("changes", "valid"),
    [
        ({}, True),
        ({"hash": SHA256_HEX.upper()}, True),
        ({"hash_algorithm": "SHA512", "hash": SHA512_HEX}, True),
        ({"hash_algorithm": "SHA512", "hash": SHA256_HEX}, False),  # length follows algorithm
        ({"hash": SHA512_HEX}, False),
        ({"hash": "zz" * 32}, False),
        ({"hash_algorithm": "MD5"}, False),
        ({"country": "LV"}, False),
        ({"code": "3030303991"}, False),
        ({"certificate_level": "QSCD"}, True),
        ({"certificate_level": "ADVANCED"}, False),
        ({"unknown_key": [1, 2]}, True),  # real clients send extra keys
        ({"hash": None}, False),
    ],
)
def test_initialize_request_constraints(
    spec: dict[str, Json], changes: dict[str, Json], valid: bool
) -> None:
    body = {
        "access_token": "52900c96-3f60-5307-3719-5948f0191da6",
        "hash": SHA256_HEX,
        "hash_algorithm": "SHA256",
        "country": "LT",
        "code": "30303039914",
    }
    body.update(changes)
    schema = spec["components"]["schemas"]["InitializeHashSigningRequest"]
    assert schema_validator(spec, schema).is_valid(body) is valid


@pytest.mark.parametrize("missing", ["access_token", "hash", "hash_algorithm", "country", "code"])
def test_initialize_request_requires_documented_keys(spec: dict[str, Json], missing: str) -> None:
    body = {
        "access_token": "t",
        "hash": SHA256_HEX,
        "hash_algorithm": "SHA256",
        "country": "EE",
        "code": "30303039914",
    }
    del body[missing]
    schema = spec["components"]["schemas"]["InitializeHashSigningRequest"]
    assert not schema_validator(spec, schema).is_valid(body)


def test_every_operation_parses_any_status_into_the_error_model(spec: dict[str, Json]) -> None:
    error_ref = "#/components/schemas/Error"
    for _, _, operation in operations(spec):
        responses = operation["responses"]
        assert {"200", "400", "404", "408", "500", "default"} <= set(responses)
        for status, response in responses.items():
            if status == "200":
                continue
            schema = resolve(spec, response)["content"]["application/json"]["schema"]
            # `default` is Error itself; a listed status bounds it (see the test below).
            assert schema.get("allOf", [schema])[0] == {"$ref": error_ref}, status


def test_status_fields_are_fixed(spec: dict[str, Json]) -> None:
    schemas = spec["components"]["schemas"]
    for name in ("InitializeHashSigningOk", "HashSigningStatusOk"):
        assert schemas[name]["properties"]["status"]["const"] == "ok"
    assert schemas["Error"]["properties"]["status"]["const"] == "error"
    assert schemas["Error"]["properties"]["error_code"]["type"] == "integer"
    for code in ("40001", "40003", "40020", "40021", "40402", "50000"):
        assert code in schemas["Error"]["properties"]["error_code"]["description"]


def test_servers_name_production_and_the_local_simulator(spec: dict[str, Json]) -> None:
    urls = [server["url"] for server in spec["servers"]]
    assert "https://api.marksign.eu" in urls
    assert any(url.startswith("http://127.0.0.1:") for url in urls)


def test_the_http_status_assumption_is_stated_once(spec: dict[str, Json]) -> None:
    text = SPEC_PATH.read_text(encoding="utf-8")
    # the assumption, the default responses (one per locale), error_code
    assert text.count("first three") == 4
    assert "## Assumptions" in spec["info"]["description"]


def error_examples(spec: dict[str, Json], path: str) -> dict[tuple[str, str], Json]:
    """The error examples of the operation at `path`, by (status, example name)."""
    found: dict[tuple[str, str], Json] = {}
    for status, response in spec["paths"][path]["post"]["responses"].items():
        if status == "200":
            continue
        media = resolve(spec, response)["content"]["application/json"]
        for name, example in media["examples"].items():
            found[status, name] = resolve(spec, example)["value"]
    return found


@pytest.mark.parametrize(("lt", "en"), TWINS, ids=["initialize", "status"])
def test_examples_speak_the_language_of_their_locale(
    spec: dict[str, Json], lt: tuple[str, str], en: tuple[str, str]
) -> None:
    """A mock built from the spec answers in the path's language (the LT paths spoke English)."""
    lt_examples, en_examples = error_examples(spec, lt[1]), error_examples(spec, en[1])
    assert lt_examples.keys() == en_examples.keys()
    for where, lt_value in lt_examples.items():
        en_value = en_examples[where]
        assert lt_value["error_code"] == en_value["error_code"], where
        assert lt_value["message"] != en_value["message"], f"{lt[1]} {where} is not Lithuanian"
        known = MESSAGES.get(lt_value["error_code"])
        if known is not None and "{" not in known[0]:  # the simulator's fixed messages
            assert (en_value["message"], lt_value["message"]) == known, where


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/smartid/sign/hash.json", 40401),  # initialize cannot answer 40402 (no token yet)
        ("/smartid/sign/hash/status/{token}.json", 40402),
    ],
)
def test_not_found_examples_are_answers_the_operation_can_give(
    spec: dict[str, Json], path: str, code: int
) -> None:
    for prefix in ("", "/en"):
        codes = {
            value["error_code"]
            for (status, _), value in error_examples(spec, prefix + path).items()
            if status == "404"
        }
        assert codes == {code}, prefix + path


def test_each_error_status_bounds_its_error_code(spec: dict[str, Json]) -> None:
    """The schema says what it can of "the HTTP status is the first three digits".

    A listed status narrows `error_code` to its own hundred (404: 40400..40499) without a
    second error model: `allOf` the one `Error` plus bounds, which the generator folds into
    `Error` (tests/generator checks that no other model appears). Only `default` (any other
    status) cannot say more than `Error` does; the contract check `error_status_matches_code`
    holds every answer to the rule.
    """
    bounded = 0
    for path, _, operation in operations(spec):
        for status, response in operation["responses"].items():
            if status in {"200", "default"}:
                continue
            schema = resolve(spec, response)["content"]["application/json"]["schema"]
            assert schema["allOf"] == [{"$ref": "#/components/schemas/Error"}], (path, status)
            bounds = schema["properties"]["error_code"]
            expected = (int(status) * 100, int(status) * 100 + 99)
            assert (bounds["minimum"], bounds["maximum"]) == expected, (path, status)
            bounded += 1
    assert bounded == 16  # four operations, four listed error statuses each


def test_every_error_example_follows_the_first_three_digits_rule(spec: dict[str, Json]) -> None:
    checked = 0
    for path, _, _ in operations(spec):
        for (status, name), value in error_examples(spec, path).items():
            if status != "default":
                assert str(value["error_code"])[:3] == status, (path, status, name)
                checked += 1
    assert checked >= 20
