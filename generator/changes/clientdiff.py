"""The Python API of two generated clients, compared with griffe.

The spec diff sees HTTP; this sees what code written against `marksign_client` imports and
calls. A change harmless on the wire can still rename a Python name (a new `title`, an
operationId, a schema name): griffe's API-breakage check (`griffe check`'s engine) finds
removed objects, removed or newly required parameters, changed kinds and incompatible
types.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import griffe

PACKAGE = "marksign_client"
# One load at a time in a process: griffe parses with `compile(..., ast.PyCF_ONLY_AST)`,
# and CPython 3.11's conversion of a parse tree into `ast` objects keeps its recursion
# count per interpreter, not per thread, so two threads loading at once can fail with
# "SystemError: AST constructor recursion depth mismatch" (seen in `make test`, whose
# change drills build their reports two at a time in threads).
_LOADING = threading.Lock()


@dataclass(frozen=True)
class ClientChange:
    path: str  # marksign_client.models.Error.message
    what: str  # "Public object was removed"
    breaking: bool


def _load(client: Path) -> griffe.Module:
    with _LOADING:
        loaded = griffe.load(
            PACKAGE, search_paths=[str(client)], allow_inspection=False, resolve_aliases=False
        )
    assert isinstance(loaded, griffe.Module)
    return loaded


def _public(obj: griffe.Object | griffe.Alias, into: set[str]) -> None:
    for name, member in obj.members.items():
        if name.startswith("_") or member.is_alias:
            continue
        into.add(member.path)
        if member.is_module or member.is_class:
            _public(member, into)


def public_names(client: Path) -> set[str]:
    """The dotted paths of the public modules, classes, functions and attributes."""
    names: set[str] = set()
    _public(_load(client), names)
    return names


def compare(old_client: Path | None, new_client: Path) -> list[ClientChange]:
    """Breakages (griffe) and additions of `new_client` against `old_client`.

    Both are folders that hold the package (generated_client/); with no old client every
    public name is new.
    """
    new = _load(new_client)
    if old_client is None:
        return [ClientChange(name, "added", False) for name in sorted(public_names(new_client))]
    old = _load(old_client)
    found = [
        ClientChange(breakage.obj.path, _explain(breakage), True)
        for breakage in griffe.find_breaking_changes(old, new)
    ]
    reported = {change.path for change in found}
    found += [c for c in _attribute_changes(old, new) if c.path not in reported]
    return found


def _attributes(obj: griffe.Object | griffe.Alias, into: dict[str, griffe.Object]) -> None:
    for name, member in obj.members.items():
        if name.startswith("_") or member.is_alias:
            continue
        if isinstance(member, griffe.Object):
            into[member.path] = member
            if member.is_module or member.is_class:
                _attributes(member, into)


def _attribute_changes(old: griffe.Module, new: griffe.Module) -> list[ClientChange]:
    """Additions, and what griffe does not check on attrs models: their fields' types and
    new fields without a default (the model's constructor then needs them)."""
    before: dict[str, griffe.Object] = {}
    after: dict[str, griffe.Object] = {}
    _attributes(old, before)
    _attributes(new, after)
    found: list[ClientChange] = []
    for path in sorted(after.keys() - before.keys()):
        member = after[path]
        parent = member.parent
        field = isinstance(member, griffe.Attribute) and parent is not None and parent.is_class
        if field and isinstance(member, griffe.Attribute) and member.value is None:
            found.append(ClientChange(path, "added as a required field of the model", True))
        else:
            found.append(ClientChange(path, "added", False))
    for path in sorted(after.keys() & before.keys()):
        old_member, new_member = before[path], after[path]
        if not (
            isinstance(old_member, griffe.Attribute) and isinstance(new_member, griffe.Attribute)
        ):
            continue
        old_type, new_type = str(old_member.annotation), str(new_member.annotation)
        if old_type != new_type:
            found.append(ClientChange(path, f"type changed: {old_type} -> {new_type}", True))
    return found


def _explain(breakage: griffe.Breakage) -> str:
    what = breakage.kind.value
    old, new = breakage.old_value, breakage.new_value
    if isinstance(old, griffe.Parameter) or isinstance(new, griffe.Parameter):
        name = (old or new).name
        return f"{what}: {name}"
    if old is not None and new is not None and not isinstance(old, griffe.Object):
        return f"{what}: {old} -> {new}"
    return what
