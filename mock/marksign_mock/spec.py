"""openapi.yaml as the simulator uses it: routes and validators, compiled from the spec.

No schema is typed here by hand: the request-body and path-parameter schemas are read from
the spec, their `$ref`s resolved, and compiled with jsonschema-rs (Draft 2020-12).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import jsonschema_rs
import yaml

from .errors import ApiError, Locale, locale_of

HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The name a 40001 message gives to the body itself when it is not an object.
BODY: Final = "body"

# A parameter of a path template, `{token}` (as Starlette's routes read them).
TEMPLATE_PARAMETER: Final = re.compile(r"{([a-zA-Z_][a-zA-Z0-9_]*)}")


def default_spec_path() -> Path:
    """The packaged copy of openapi.yaml (in a wheel), else the repository's root file."""
    packaged = Path(__file__).resolve().parent / "openapi.yaml"
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "openapi.yaml"


class SpecError(ValueError):
    """openapi.yaml cannot be used; the message names the file and the problem, on one line."""


def resolve_refs(document: Mapping[str, Any]) -> Any:
    """A copy of `document` with every local `$ref` (`#/...`) replaced by its target."""

    def pointer(ref: str) -> Any:
        node: Any = document
        for part in ref[2:].split("/") if ref != "#" else []:
            key = part.replace("~1", "/").replace("~0", "~")
            try:
                node = node[int(key)] if isinstance(node, list) else node[key]
            except (KeyError, IndexError, TypeError, ValueError):
                raise ValueError(f"$ref {ref!r} points to nothing") from None
        return node

    def walk(node: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(node, list):
            return [walk(item, seen) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#"):
                raise ValueError(f"only local $refs are supported, not {ref!r}")
            if ref in seen:
                raise ValueError(f"circular $ref {ref!r}")
            target = walk(pointer(ref), (*seen, ref))
            siblings = {k: walk(v, seen) for k, v in node.items() if k != "$ref"}
            if not siblings:
                return target
            if set(siblings) <= {"summary", "description"} and isinstance(target, dict):
                return {**target, **siblings}
            return {"allOf": [target], **siblings}
        return {key: walk(value, seen) for key, value in node.items()}

    return walk(document, ())


class Validator:
    """A compiled schema that reports a failure as 40001 naming the parameter."""

    __slots__ = ("_compiled", "_order", "name")

    def __init__(self, schema: Mapping[str, Any], name: str) -> None:
        self.name = name  # the parameter named when the value as a whole is wrong
        self._compiled = jsonschema_rs.Draft202012Validator(dict(schema))
        self._order = {key: i for i, key in enumerate(schema.get("properties", {}))}

    def check(self, instance: Any) -> None:
        """Raise ApiError(40001) if `instance` does not match the schema.

        Of several problems, the one named is the value as a whole, else the first
        parameter in the schema's order: the same input always gets the same message.
        """
        if self._compiled.is_valid(instance):
            return
        errors = [self._to_api_error(e) for e in self._compiled.iter_errors(instance)]
        if not errors:  # is_valid and iter_errors disagree: name the value as a whole
            raise ApiError.invalid_parameter(self.name, "invalid")

        def rank(error: ApiError) -> tuple[int, int, str]:
            param = str(error.params["param"])
            if param == self.name:
                return (0, 0, param)
            return (1, self._order.get(param, len(self._order)), param)

        raise min(errors, key=rank)

    def _to_api_error(self, error: jsonschema_rs.ValidationError) -> ApiError:
        kind = error.kind
        path = error.instance_path
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            return ApiError.invalid_parameter(kind.property, "blank")
        param = str(path[0]) if path else self.name
        value = error.instance
        if value is None or value == "":
            return ApiError.invalid_parameter(param, "blank")
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
            return ApiError.invalid_parameter(param, "type", type="|".join(kind.types))
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.MaxLength):
            return ApiError.invalid_parameter(param, "too_long", limit=kind.limit)
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinLength):
            return ApiError.invalid_parameter(param, "too_short", limit=kind.limit)
        return ApiError.invalid_parameter(param, "invalid")


@dataclass(frozen=True)
class Operation:
    """One operation of the spec: where it lives and how its input is validated."""

    operation_id: str
    method: str  # upper case
    path: str  # the path template, e.g. /smartid/sign/hash/status/{token}.json
    locale: Locale
    body: Validator | None
    path_params: Mapping[str, Validator]


@dataclass(frozen=True)
class Spec:
    path: Path
    text: bytes  # the file as written, for GET /_mock/openapi.yaml
    operations: tuple[Operation, ...]

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)


def load_spec(path: Path | None = None) -> Spec:
    """Read and compile openapi.yaml (`path`, else the packaged or repository copy).

    Raises OSError if the file cannot be read, SpecError if it cannot be used.
    """
    path = default_spec_path() if path is None else path
    text = path.read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(text, Loader=loader)  # noqa: S506 -- a safe loader, C or Python
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
        raise SpecError(f"{path}: not an OpenAPI document with paths")
    try:
        document = resolve_refs(raw)
    except (ValueError, RecursionError) as error:
        raise SpecError(f"{path}: {_problem(error)}") from None
    operations = tuple(_operations(document, path))
    return Spec(path=path, text=text, operations=operations)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem:
        mark = error.problem_mark
        where = "" if mark is None else f" (line {mark.line + 1}, column {mark.column + 1})"
        return _one_line(error.problem) + where
    return _one_line(str(error)) or type(error).__name__


def _problem(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"{error.args[0]!r} is missing"
    if isinstance(error, jsonschema_rs.ValidationError):
        return f"invalid schema: {_one_line(str(error))}"
    return _one_line(str(error)) or type(error).__name__


def _operations(document: Mapping[str, Any], path: Path) -> Iterator[Operation]:
    seen: dict[str, str] = {}
    for template, item in document["paths"].items():
        if not isinstance(template, str) or not template.startswith("/"):
            raise SpecError(f"{path}: the path {template!r} does not start with '/'")
        if not isinstance(item, dict):
            raise SpecError(f"{path}: the path {template} is not an object")
        for method in HTTP_METHODS:
            op = item.get(method)
            if op is None:
                continue
            where = f"{path}: {method.upper()} {template}"
            if not isinstance(op, dict):
                raise SpecError(f"{where}: not an object")
            operation_id = op.get("operationId")
            if not isinstance(operation_id, str) or not operation_id:
                raise SpecError(f"{where}: no operationId")
            if operation_id in seen:
                raise SpecError(
                    f"{where}: operationId {operation_id} is taken by {seen[operation_id]}"
                )
            seen[operation_id] = f"{method.upper()} {template}"
            try:
                operation = _operation(template, method, operation_id, item, op)
            except (KeyError, TypeError, AttributeError, ValueError) as error:
                raise SpecError(f"{where} ({operation_id}): {_problem(error)}") from None
            yield operation


def _operation(
    template: str, method: str, operation_id: str, item: Mapping[str, Any], op: Mapping[str, Any]
) -> Operation:
    shared = item.get("parameters", [])
    params = {(p["name"], p["in"]): p for p in [*shared, *op.get("parameters", [])]}
    body = None
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        body = Validator(content["application/json"].get("schema", {}), BODY)
    path_params = {
        name: Validator(p.get("schema", {}), name)
        for (name, where), p in params.items()
        if where == "path"
    }
    names = re.findall(r"{([^}]*)}", template)
    for name in names:
        if not TEMPLATE_PARAMETER.fullmatch(f"{{{name}}}"):
            raise ValueError(f"the path parameter {{{name}}} is not a plain name")
        if names.count(name) > 1:
            raise ValueError(f"the path parameter {{{name}}} appears twice")
        if name not in path_params:
            raise ValueError(f"the path parameter {{{name}}} is not declared")
    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=template,
        locale=locale_of(template),
        body=body,
        path_params=path_params,
    )
