"""Request validation compiled from the spec layer: one validator per body and path parameter.

No schema is typed here by hand: `marksign_spec` gives each operation's schemas, their
`$ref`s resolved, and they are compiled with jsonschema-rs (Draft 2020-12). A failure is
reported as 40001 naming the parameter, worded like the gateway's Symfony validator.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

import jsonschema_rs
from marksign_spec import Document, Operation, SpecError

from .exceptions import ApiError

# The name a 40001 message gives to the body itself when it is not an object.
BODY: Final = "body"


# Which problem of one value is named first (others follow, in no particular order).
_DETAIL_RANK: Final = {"blank": 0, "type": 1, "invalid": 2, "unexpected": 3}


class Validator:
    """A compiled schema that reports a failure as 40001 naming the parameter."""

    __slots__ = ("_codes", "_compiled", "_order", "name")

    def __init__(self, schema: Mapping[str, Any], name: str) -> None:
        self.name = name  # the parameter named when the value as a whole is wrong
        self._compiled = jsonschema_rs.Draft202012Validator(dict(schema))
        properties: Mapping[str, Any] = schema.get("properties", {})
        self._order = {key: i for i, key in enumerate(properties)}
        # A property whose value is present but wrong answers its own code (x-error-code).
        self._codes: dict[str, int] = {
            key: int(sub["x-error-code"])
            for key, sub in properties.items()
            if isinstance(sub, dict) and "x-error-code" in sub
        }

    def check(self, instance: Any) -> None:
        """Raise ApiError(40001) if `instance` does not match the schema.

        Of several problems, the one named is the value as a whole, else the first
        parameter in the schema's order; of several problems of one parameter, a wrong
        value ("not valid") comes before a wrong length: the same input always gets the
        same message.
        """
        if self._compiled.is_valid(instance):
            return
        errors = [self._to_api_error(e) for e in self._compiled.iter_errors(instance)]
        if not errors:  # is_valid and iter_errors disagree: name the value as a whole
            raise ApiError.invalid_parameter(self.name, "invalid")

        def rank(error: ApiError) -> tuple[int, int, str, int]:
            param = str(error.params["param"])
            detail = _DETAIL_RANK.get(str(error.params.get("detail")), len(_DETAIL_RANK))
            if param == self.name:
                return (0, 0, param, detail)
            return (1, self._order.get(param, len(self._order)), param, detail)

        raise min(errors, key=rank)

    def _to_api_error(self, error: jsonschema_rs.ValidationError) -> ApiError:
        kind = error.kind
        path = error.instance_path
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
            return ApiError.invalid_parameter(kind.property, "blank")
        if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
            return ApiError.invalid_parameter(str(min(kind.unexpected)), "unexpected")
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
        if param in self._codes and isinstance(value, str):
            return ApiError(self._codes[param], param=param)
        return ApiError.invalid_parameter(param, "invalid")


@dataclass(frozen=True)
class CheckedOperation:
    """An operation of the spec with its compiled validators."""

    operation: Operation
    body: Validator | None
    path_params: Mapping[str, Validator]
    query_params: Mapping[str, Validator]

    def check(self, body: Any, path_params: Mapping[str, str]) -> None:
        """40001 for the first problem: the body first (the same input, the same 40001)."""
        if self.body is not None:
            self.body.check(body)
        for name, value in path_params.items():
            validator = self.path_params.get(name)
            if validator is not None:
                validator.check(value)


@lru_cache(maxsize=16)
def checked_operations(spec: Document) -> tuple[CheckedOperation, ...]:
    """Every operation of `spec`, compiled (once per loaded spec: a suite creates many apps).

    Raises SpecError (one line) if a schema does not compile.
    """
    return tuple(_checked(spec, op) for op in spec.operations)


def _checked(spec: Document, op: Operation) -> CheckedOperation:
    try:
        body = None
        if op.request_schema is not None:
            body = Validator(spec.resolve(op.request_schema), BODY)
        params = {
            name: Validator(spec.resolve(schema), name)
            for name, schema in op.path_parameters.items()
        }
        query = {
            name: Validator(spec.resolve(schema), name)
            for name, schema in op.query_parameters.items()
        }
    except (ValueError, jsonschema_rs.ValidationError) as error:
        problem = " ".join(str(error).split())
        raise SpecError(
            f"{spec.path}: {op.method} {op.path} ({op.operation_id}): invalid schema: {problem}"
        ) from None
    return CheckedOperation(operation=op, body=body, path_params=params, query_params=query)
