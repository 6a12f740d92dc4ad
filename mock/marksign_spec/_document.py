"""Where openapi.yaml is, parsing it, and the one `$ref` resolver of the project."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

SPEC_FILE_NAME = "openapi.yaml"


class SpecError(ValueError):
    """openapi.yaml cannot be used; the message names the file and the problem, on one line."""


def default_spec_path() -> Path:
    """The packaged copy of openapi.yaml (in a wheel), else the repository's root file.

    In a repository checkout this package lives in `mock/marksign_spec/`, two levels below
    the root; an installed wheel carries the file beside this module.
    """
    here = Path(__file__).resolve().parent
    packaged = here / SPEC_FILE_NAME
    if packaged.is_file():
        return packaged
    return here.parents[1] / SPEC_FILE_NAME


def parse(path: Path) -> tuple[bytes, dict[str, Any]]:
    """The file's bytes and its YAML document. Raises OSError, or SpecError (one line)."""
    text = path.read_bytes()
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        raw = yaml.load(text, Loader=loader)  # noqa: S506 -- a safe loader, C or Python
    except yaml.YAMLError as error:
        raise SpecError(f"{path}: not valid YAML: {_yaml_problem(error)}") from None
    if not isinstance(raw, dict) or not isinstance(raw.get("paths"), dict):
        raise SpecError(f"{path}: not an OpenAPI document with paths")
    return text, raw


def resolve_refs(node: Any, document: Mapping[str, Any] | None = None) -> Any:
    """A copy of `node` with every local `$ref` (`#/...`) replaced by its target in
    `document` (by default `node` itself is the document).

    A `$ref` with sibling `summary`/`description` keeps them; other siblings are combined
    with the target through `allOf`. Raises ValueError for a ref that points to nothing,
    is not local, or is circular.
    """
    root: Any = node if document is None else document

    def pointer(ref: str) -> Any:
        return ref_target(root, ref)

    def walk(item: Any, seen: tuple[str, ...]) -> Any:
        if isinstance(item, list):
            return [walk(value, seen) for value in item]
        if not isinstance(item, dict):
            return item
        ref = item.get("$ref")
        if isinstance(ref, str):
            if not ref.startswith("#"):
                raise ValueError(f"only local $refs are supported, not {ref!r}")
            if ref in seen:
                raise ValueError(f"circular $ref {ref!r}")
            target = walk(pointer(ref), (*seen, ref))
            siblings = {k: walk(v, seen) for k, v in item.items() if k != "$ref"}
            if not siblings:
                return target
            if set(siblings) <= {"summary", "description"} and isinstance(target, dict):
                return {**target, **siblings}
            return {"allOf": [target], **siblings}
        return {key: walk(value, seen) for key, value in item.items()}

    return walk(node, ())


def ref_target(document: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/...`) points to in `document`, as written (its own
    `$ref`s left in place). Raises ValueError if it points to nothing."""
    target: Any = document
    for part in ref[2:].split("/") if ref != "#" else []:
        key = part.replace("~1", "/").replace("~0", "~")
        try:
            target = target[int(key)] if isinstance(target, list) else target[key]
        except (KeyError, IndexError, TypeError, ValueError):
            raise ValueError(f"$ref {ref!r} points to nothing") from None
    return target


def one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_problem(error: yaml.YAMLError) -> str:
    if isinstance(error, yaml.MarkedYAMLError) and error.problem:
        mark = error.problem_mark
        where = "" if mark is None else f" (line {mark.line + 1}, column {mark.column + 1})"
        return one_line(error.problem) + where
    return one_line(str(error)) or type(error).__name__
