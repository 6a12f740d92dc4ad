"""Optic's diff of two specs as changes by operation and by component schema.

Optic (tools/optic.py) diffs the resolved specs operation by operation and runs its
breaking-change rules. Each change it lists is placed here: under the component schema it
lies in (found by following the change's JSON pointer through the raw spec's `$ref`s), or
else under its operation; a change is breaking when one of Optic's failed rules points at
it (or into it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tools import optic

# Keys that document the contract without changing it: a change only there is a patch.
DOCUMENTATION_KEYS = frozenset(
    {"description", "summary", "title", "example", "examples", "externalDocs"}
)
SCHEMA_REF = "#/components/schemas/"


@dataclass(frozen=True)
class Change:
    """One change Optic found."""

    operation: str  # "POST /smartid/sign/hash.json"
    where: str  # "request body", "response 200", "parameter token", "" (the operation)
    what: str  # "removed property control_code", "changed type: string -> integer"
    breaking: bool
    schema: str | None = None  # the component schema the change lies in, if any
    rule: str | None = None  # Optic's rule that failed, for breaking changes


def strip_documentation(node: Any) -> Any:
    """The spec without descriptions, summaries, examples and info (version included)."""
    if isinstance(node, dict):
        return {
            key: strip_documentation(value)
            for key, value in node.items()
            if key not in DOCUMENTATION_KEYS and key != "info"
        }
    if isinstance(node, list):
        return [strip_documentation(item) for item in node]
    return node


def is_documentation_only(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return bool(strip_documentation(old) == strip_documentation(new))


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _split(pointer: str) -> list[str]:
    return [p.replace("~1", "/").replace("~0", "~") for p in pointer.lstrip("/").split("/")]


def owner_of(document: dict[str, Any], pointer: str) -> tuple[str | None, list[str]]:
    """The component schema that `pointer` (into the resolved spec) ends in, and the rest.

    Walks the raw spec along the pointer, following `$ref`s and looking into `allOf`
    members where Optic has merged them.
    """
    node: Any = document
    owner: str | None = None
    rest: list[str] = []
    for part in _split(pointer) if pointer else []:
        node = _follow(document, node)
        if isinstance(node, dict) and isinstance(node.get("$owner"), str):
            owner, rest = node["$owner"], []
        # A key that an allOf member defines belongs to it, even where the schema beside
        # the allOf narrows it (our error responses bound Error's error_code).
        if isinstance(node, dict) and isinstance(node.get("allOf"), list):
            for member in node["allOf"]:
                member = _follow(document, member)
                if isinstance(member, dict) and part in member:
                    if isinstance(member.get("$owner"), str):
                        owner, rest = member["$owner"], []
                    node = member
                    break
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return owner, [*rest, part]
        rest.append(part)
    node = _follow(document, node)
    if isinstance(node, dict) and isinstance(node.get("$owner"), str):
        owner, rest = node["$owner"], []
    return owner, rest


def _follow(document: dict[str, Any], node: Any) -> Any:
    """Resolve local `$ref`s; a component schema comes back tagged with its `$owner`."""
    seen = 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and seen < 32:
        ref: str = node["$ref"]
        target: Any = document
        for part in _split(ref[1:]) if ref.startswith("#/") else []:
            target = target.get(part) if isinstance(target, dict) else None
        if ref.startswith(SCHEMA_REF) and isinstance(target, dict):
            target = {**target, "$owner": ref.removeprefix(SCHEMA_REF)}
        node, seen = target, seen + 1
    return node


def _describe_rest(rest: list[str]) -> str:
    """`properties/a/items/properties/b` -> `a.b`; a keyword stays as it is."""
    names = [rest[i + 1] for i, part in enumerate(rest[:-1]) if part == "properties"]
    if names:
        return ".".join(names)
    return "/".join(rest)


def _value(value: Any) -> str:
    text = str(value) if not isinstance(value, str) else value
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def _what(attribute: dict[str, Any], subject: str) -> str:
    change = attribute.get("change", "changed")
    before, after = attribute.get("before"), attribute.get("after")
    if change != "changed" or not isinstance(before, dict) or not isinstance(after, dict):
        return f"{change} {subject}".strip()
    keys = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    details = [
        k
        if k in DOCUMENTATION_KEYS
        else f"{k}: {_value(before.get(k, '-'))} -> {_value(after.get(k, '-'))}"
        for k in keys
    ]
    if not subject:
        return f"changed {'; '.join(details)}"
    return f"changed {subject}" + (f" ({'; '.join(details)})" if details else "")


@dataclass(frozen=True)
class _Raw:
    operation: str
    where: str
    pointer: str
    attribute: dict[str, Any]


def _walk(operation: dict[str, Any]) -> Iterator[_Raw]:
    name: str = operation["name"]
    method, _, path = name.partition(" ")
    base = f"/paths/{_escape(path)}/{method.lower()}"
    if operation.get("change") in {"added", "removed"}:
        yield _Raw(name, "", base, {"change": operation["change"], "key": "operation"})
        return
    for attribute in operation.get("attributes", []):
        yield _Raw(name, "", f"{base}/{attribute.get('key', '')}", attribute)
    for parameter in operation.get("parameters", []):
        where = f"parameter {parameter.get('name', '?')}"
        if parameter.get("change") in {"added", "removed"}:
            yield _Raw(name, where, f"{base}/parameters", {"change": parameter["change"]})
        for attribute in parameter.get("attributes", []):
            yield _Raw(name, where, f"{base}/parameters", attribute)
    bodies: list[tuple[str, str, dict[str, Any]]] = []
    if operation.get("requestBody"):
        bodies.append(("request body", f"{base}/requestBody", operation["requestBody"]))
    for response in operation.get("responses", []):
        status = str(response.get("name", "")).removesuffix(" response")
        bodies.append((f"response {status}", f"{base}/responses/{status}", response))
    for where, pointer, body in bodies:
        if body.get("change") in {"added", "removed"}:
            yield _Raw(name, where, pointer, {"change": body["change"], "key": ""})
            continue
        for attribute in body.get("attributes", []):
            yield _Raw(name, where, f"{pointer}/{attribute.get('key', '')}", attribute)
        for content in body.get("contentTypes", []):
            content_pointer = f"{pointer}/content/{_escape(str(content.get('name', '')))}"
            if content.get("change") in {"added", "removed"}:
                yield _Raw(name, where, content_pointer, {"change": content["change"]})
            for attribute in content.get("attributes", []):
                key = str(attribute.get("key", ""))
                yield _Raw(name, where, content_pointer + key, attribute)
        for header in body.get("headers", []):
            yield _Raw(name, where, f"{pointer}/headers", {"change": header.get("change")})


def _related(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/")


def changes(old: dict[str, Any], new: dict[str, Any], optic_result: dict[str, Any]) -> list[Change]:
    """Optic's changelog and failed rules (tools.optic.diff) as a list of changes."""
    failed = [rule for rule in optic_result.get("failed", []) if rule.get("severity", 2) >= 2]
    used: set[int] = set()
    found: list[Change] = []
    for operation in optic_result.get("changelog", {}).get("operations", []):
        for raw in _walk(operation):
            removed = raw.attribute.get("change") == "removed"
            owner, rest = owner_of(old if removed else new, raw.pointer)
            rules = [
                index
                for index, rule in enumerate(failed)
                if isinstance(rule.get("pointer"), str) and _related(rule["pointer"], raw.pointer)
            ]
            used.update(rules)
            key = str(raw.attribute.get("key", ""))
            if owner is not None:
                subject = _subject(rest)
            elif key == "operation":
                subject = "operation"
            else:
                subject = key.lstrip("/").replace("/schema/properties/", " ")
            found.append(
                Change(
                    operation=raw.operation,
                    where=raw.where,
                    what=_what(raw.attribute, subject),
                    breaking=bool(rules),
                    schema=owner,
                    rule=failed[rules[0]]["rule"] if rules else None,
                )
            )
    for index, rule in enumerate(failed):
        if index not in used:  # a rule that points at nothing Optic listed as changed
            where = str(rule.get("where", ""))
            method_path = " ".join(where.split()[:2])
            found.append(
                Change(method_path, "", str(rule.get("error", "")), True, None, rule["rule"])
            )
    return found


def _subject(rest: list[str]) -> str:
    if len(rest) >= 2 and rest[-2] == "properties":
        return f"property {_describe_rest(rest)}"
    return _describe_rest(rest)


CONDITIONAL_KEYS = frozenset({"if", "then", "else"})
OPTIC_VERSION = "1.0.0"  # the info.version both sides get


def for_optic(node: Any) -> Any:
    """The spec without the `allOf` members that are only `if`/`then`/`else`.

    Optic cannot merge a conditional into its schema ("invalid allOf variant") and then
    diffs nothing of that schema at all: our initialize request ties the hash's length to
    its algorithm that way. Without them Optic sees every property; a change of the
    conditionals themselves still counts (not documentation: at least minor).
    """
    if isinstance(node, list):
        return [for_optic(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: for_optic(value) for key, value in node.items()}
    members = result.get("allOf")
    if isinstance(members, list):
        kept = [m for m in members if not (isinstance(m, dict) and m.keys() <= CONDITIONAL_KEYS)]
        if kept:
            result["allOf"] = kept
        else:
            del result["allOf"]
    return result


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Run Optic on the two specs (as parsed documents) and place its changes."""
    with tempfile.TemporaryDirectory(prefix="marksign-optic-") as tmp:
        paths = []
        for name, document in (("base", old), ("head", new)):
            prepared = for_optic(document)
            # Optic waives its breaking-change rules when the major version went up; the
            # report must say what breaks whatever the version says (the rule checks that).
            prepared["info"] = {**prepared.get("info", {}), "version": OPTIC_VERSION}
            path = Path(tmp) / f"{name}.openapi.json"
            path.write_text(json.dumps(prepared), encoding="utf-8")
            paths.append(path)
        return changes(old, new, optic.diff(*paths))
