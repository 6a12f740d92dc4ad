"""The contract as the rest of the project reads it: operations, their roles, the limits."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Final, Literal

from ._document import SpecError, default_spec_path, one_line, parse, resolve_refs

# The language of messages: English on `/en/...` paths, Lithuanian on bare paths (the
# document's description says so).
Locale = Literal["en", "lt"]
# What an operation does in a signing session. Read from the document's links: an
# operation whose answer links to another starts the session ("initialize"); the linked
# one reads its outcome ("status").
Role = Literal["initialize", "status"]

HTTP_METHODS: Final = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAMETER: Final = re.compile(r"{([^}]*)}")
_PLAIN_NAME: Final = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")


def locale_of(path: str) -> Locale:
    """The locale of a path: `/en/...` is English, anything else Lithuanian."""
    return "en" if path.startswith("/en/") else "lt"


@dataclass(frozen=True)
class Operation:
    """One operation of the spec, its `$ref`s resolved."""

    operation_id: str
    method: str  # upper case
    path: str  # the path template, e.g. /smartid/sign/hash/status/{token}.json
    locale: Locale
    role: Role | None  # None: an operation this project has no use for yet
    # The JSON schema of an application/json request body; None when it takes none.
    request_schema: Mapping[str, Any] | None
    # name -> JSON schema, for each path parameter, in the order of the template.
    path_parameters: Mapping[str, Mapping[str, Any]]
    # name -> JSON schema, for each query parameter.
    query_parameters: Mapping[str, Mapping[str, Any]]
    definition: Mapping[str, Any] = field(repr=False)  # the operation object itself
    # The documented error codes it can answer (`x-error-codes`), besides the HTTP-level
    # ones every operation shares.
    error_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class Limits:
    """Sizes the spec states (in `components/schemas` and `info`)."""

    session_token_length: int  # SessionToken: min = max length
    access_token_min_length: int  # AccessToken
    access_token_max_length: int
    request_body_max_bytes: int  # info.x-max-request-body-bytes


@dataclass(frozen=True, eq=False)  # one object per file version: compared by identity
class Document:
    """An OpenAPI document of this project: the gateway's contract, or the simulator's
    control plane (`marksign_mock/control.yaml`)."""

    path: Path
    text: bytes = field(repr=False)  # the file as written
    document: Mapping[str, Any] = field(repr=False)  # as parsed, `$ref`s in place
    operations: tuple[Operation, ...]

    def operation(self, operation_id: str) -> Operation:
        for op in self.operations:
            if op.operation_id == operation_id:
                return op
        raise KeyError(operation_id)

    def operations_in(self, role: Role) -> tuple[Operation, ...]:
        """The operations with `role`, in the document's order (one per locale)."""
        return tuple(op for op in self.operations if op.role == role)

    def operation_ids(self, role: Role) -> tuple[str, ...]:
        return tuple(op.operation_id for op in self.operations_in(role))

    def resolve(self, node: Any) -> Any:
        """`node` (any part of the document) with its local `$ref`s resolved."""
        return resolve_refs(node, self.document)

    def component_schemas(self) -> Mapping[str, Any]:
        schemas: Mapping[str, Any] = self.document["components"]["schemas"]
        return schemas


@dataclass(frozen=True, eq=False)
class Spec(Document):
    """openapi.yaml: the gateway's contract, with the facts the project reads from it."""

    limits: Limits
    sample_access_token: str  # components/schemas/AccessToken examples[0] (the docs')
    version: str  # info.version


def load_document(path: Path) -> Document:
    """Any OpenAPI document of this project (cached like `load_spec`); raises OSError or
    SpecError (one line)."""
    path = path.resolve()
    return _load_document(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load_document(path: Path, mtime_ns: int) -> Document:
    text, raw = parse(path)
    try:
        document = resolve_refs(raw)
    except (ValueError, RecursionError) as error:
        raise SpecError(f"{path}: {_problem(error)}") from None
    return Document(
        path=path, text=text, document=raw, operations=tuple(_operations(document, path))
    )


def load_spec(path: Path | None = None) -> Spec:
    """Read openapi.yaml (`path`, else the packaged or repository copy).

    Cached per file and modification time: the simulator and the tests ask often. Raises
    OSError if the file cannot be read, SpecError (one line) if it cannot be used.
    """
    path = (default_spec_path() if path is None else path).resolve()
    return _load(path, path.stat().st_mtime_ns)


@lru_cache(maxsize=16)
def _load(path: Path, mtime_ns: int) -> Spec:
    base = _load_document(path, mtime_ns)
    document = base.document
    try:
        limits = _limits(document)
        sample = document["components"]["schemas"]["AccessToken"]["examples"][0]
        version = document["info"]["version"]
    except (KeyError, IndexError, TypeError, ValueError) as error:
        raise SpecError(f"{path}: {_problem(error)}") from None
    return Spec(
        path=path,
        text=base.text,
        document=document,
        operations=base.operations,
        limits=limits,
        sample_access_token=str(sample),
        version=str(version),
    )


def _problem(error: Exception) -> str:
    if isinstance(error, KeyError):
        return f"{error.args[0]!r} is missing"
    return one_line(str(error)) or type(error).__name__


def _limits(document: Mapping[str, Any]) -> Limits:
    schemas = document["components"]["schemas"]
    token, access_token = schemas["SessionToken"], schemas["AccessToken"]
    if token["minLength"] != token["maxLength"]:
        raise ValueError("SessionToken: minLength and maxLength differ")
    return Limits(
        session_token_length=int(token["maxLength"]),
        access_token_min_length=int(access_token["minLength"]),
        access_token_max_length=int(access_token["maxLength"]),
        request_body_max_bytes=int(document["info"]["x-max-request-body-bytes"]),
    )


def _operations(document: Mapping[str, Any], path: Path) -> Iterator[Operation]:
    found: list[tuple[str, str, str, Mapping[str, Any], Mapping[str, Any]]] = []
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
            found.append((template, method, operation_id, item, op))
    roles = _roles(op for *_, op in found)
    for template, method, operation_id, item, op in found:
        where = f"{path}: {method.upper()} {template} ({operation_id})"
        try:
            yield _operation(template, method, operation_id, item, op, roles.get(operation_id))
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            raise SpecError(f"{where}: {_problem(error)}") from None


def _roles(operations: Iterator[Mapping[str, Any]]) -> dict[str, Role]:
    """initialize: its 200 answer links to another operation; status: the one linked to."""
    roles: dict[str, Role] = {}
    for op in operations:
        answer = op.get("responses", {}).get("200", {})
        links = answer.get("links", {}) if isinstance(answer, dict) else {}
        for link in links.values() if isinstance(links, dict) else ():
            target = link.get("operationId") if isinstance(link, dict) else None
            if isinstance(target, str):
                roles[op["operationId"]] = "initialize"
                roles.setdefault(target, "status")
    return roles


def _operation(
    template: str,
    method: str,
    operation_id: str,
    item: Mapping[str, Any],
    op: Mapping[str, Any],
    role: Role | None,
) -> Operation:
    shared = item.get("parameters", [])
    params = {(p["name"], p["in"]): p for p in [*shared, *op.get("parameters", [])]}
    content = op.get("requestBody", {}).get("content", {})
    body = content["application/json"].get("schema", {}) if "application/json" in content else None
    declared = {name: p.get("schema", {}) for (name, where), p in params.items() if where == "path"}
    names = _PARAMETER.findall(template)
    for name in names:
        if not _PLAIN_NAME.fullmatch(name):
            raise ValueError(f"the path parameter {{{name}}} is not a plain name")
        if names.count(name) > 1:
            raise ValueError(f"the path parameter {{{name}}} appears twice")
        if name not in declared:
            raise ValueError(f"the path parameter {{{name}}} is not declared")
    return Operation(
        operation_id=operation_id,
        method=method.upper(),
        path=template,
        locale=locale_of(template),
        role=role,
        request_schema=body,
        path_parameters={name: declared[name] for name in names},
        query_parameters={
            name: p.get("schema", {}) for (name, where), p in params.items() if where == "query"
        },
        definition=op,
        error_codes=tuple(int(code) for code in op.get("x-error-codes", [])),
    )
