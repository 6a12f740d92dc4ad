"""Hypothesis strategies for openapi.yaml's JSON schemas, driven by the schemas themselves.

Schemathesis 4 generates whole requests but exposes no generator for an arbitrary schema
(and hypothesis-jsonschema is not installed), so this module covers the keywords the spec
uses and fails loudly on any other, so that a new keyword cannot pass unnoticed. Every value
is checked against the schema with `jsonschema` before it is used: conditions this module
only approximates (`allOf` with `if`/`then`) are enforced by that filter.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from . import openapi

Json = Any

# Keywords that describe and do not constrain.
# (x-error-code says which code a wrong value answers: nothing to draw.)
ANNOTATIONS = frozenset(
    {"description", "examples", "title", "contentEncoding", "summary", "x-error-code"}
)
# Keywords drawn from here; `allOf` is left to the validating filter.
SUPPORTED = ANNOTATIONS | {
    "$ref",
    "type",
    "enum",
    "const",
    "pattern",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
    "properties",
    "required",
    "additionalProperties",
    "allOf",
}

json_values: st.SearchStrategy[Json] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=6,
)


def from_schema(schema: Json) -> st.SearchStrategy[Json]:
    """Values valid for `schema` (an openapi.yaml schema, `$ref`s allowed)."""
    check = openapi.validator(schema)
    return _draw(schema).filter(lambda value: check.is_valid(value))


def _draw(schema: Json) -> st.SearchStrategy[Json]:
    schema = openapi.resolve(schema)
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise NotImplementedError(f"strategies.py does not draw {sorted(unknown)}: {schema}")
    if "const" in schema:
        return st.just(schema["const"])
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    kind = schema.get("type")
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return st.integers(schema.get("minimum"), schema.get("maximum"))
    if kind == "object":
        return _object(schema)
    raise NotImplementedError(f"strategies.py does not draw type {kind!r}: {schema}")


def _string(schema: Json) -> st.SearchStrategy[str]:
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    if "pattern" not in schema:
        return st.text(min_size=low, max_size=high)
    drawn = st.from_regex(schema["pattern"], fullmatch=True)
    return drawn.filter(lambda text: low <= len(text) and (high is None or len(text) <= high))


def _object(schema: Json) -> st.SearchStrategy[dict[str, Json]]:
    properties: dict[str, Json] = schema.get("properties", {})
    required = set(schema.get("required", []))
    declared = st.fixed_dictionaries(
        {name: _draw(sub) for name, sub in properties.items() if name in required},
        optional={name: _draw(sub) for name, sub in properties.items() if name not in required},
    )
    if schema.get("additionalProperties", True) is not True:
        raise NotImplementedError(f"strategies.py draws additionalProperties: true only: {schema}")
    extra = st.dictionaries(
        st.text(max_size=12).filter(lambda name: name not in properties), json_values, max_size=3
    )
    return st.builds(lambda known, more: {**more, **known}, declared, extra)
