"""The change report: the spec's changes (Optic), the client's (griffe), the version rule."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from generator import generate
from generator.changes import clientdiff, history, specdiff
from generator.changes.versioning import Bump, Version, is_enough, suggest


@dataclass(frozen=True)
class Report:
    base_name: str  # how the base was named: "HEAD", "HEAD~1", a commit
    old_version: str
    new_version: str
    spec_changes: list[specdiff.Change]
    client_changes: list[clientdiff.ClientChange]
    documentation_only: bool
    unchanged: bool  # the specs are equal as parsed YAML
    operation_ids: dict[str, str]  # "POST /path" -> operationId

    @property
    def breaking(self) -> int:
        return sum(c.breaking for c in self.spec_changes) + sum(
            c.breaking for c in self.client_changes
        )

    @property
    def non_breaking(self) -> int:
        return sum(not c.breaking for c in self.spec_changes) + sum(
            not c.breaking for c in self.client_changes
        )

    @property
    def bump(self) -> Bump | None:
        """What the change needs; None when the spec did not change."""
        if self.unchanged:
            return None
        if self.breaking:
            return Bump.MAJOR
        return Bump.PATCH if self.documentation_only else Bump.MINOR

    @property
    def suggested(self) -> str:
        bump = self.bump
        return (
            self.old_version
            if bump is None
            else str(suggest(Version.parse(self.old_version), bump))
        )

    def version_problem(self) -> str | None:
        """Why `new_version` does not fit the change, or None if it does."""
        bump = self.bump
        old, new = Version.parse(self.old_version), Version.parse(self.new_version)
        if bump is None or is_enough(old, new, bump):
            return None
        return (
            f"openapi.yaml changed since {self.old_version} ({self.base_name}) with"
            f" {self.summary()}, which needs a {bump.name.lower()} bump, but info.version is"
            f" {self.new_version}: set info.version to {self.suggested} and run make generate"
        )

    def summary(self) -> str:
        """`2 breaking changes (...), 3 non-breaking`."""
        names = sorted({_short(c) for c in self._breaking_items()})
        shown = ", ".join(names[:3]) + (f", and {len(names) - 3} more" if len(names) > 3 else "")
        breaking = f"{self.breaking} breaking change{'s' * (self.breaking != 1)}"
        if self.breaking:
            breaking += f" ({shown})"
        return f"{breaking} and {self.non_breaking} non-breaking"

    def _breaking_items(self) -> Iterator[specdiff.Change | clientdiff.ClientChange]:
        yield from (c for c in self.spec_changes if c.breaking)
        yield from (c for c in self.client_changes if c.breaking)

    def version_line(self) -> str:
        bump = self.bump
        if bump is None:
            return f"version: {self.new_version} (openapi.yaml unchanged since {self.base_name})"
        verdict = "ok" if self.version_problem() is None else "NOT ENOUGH"
        return (
            f"version: {self.old_version} -> {self.new_version} ({verdict}); suggested"
            f" {self.suggested} ({bump.reason})"
        )

    def body_lines(self) -> list[str]:
        """The report without its title: operations, schemas, client."""
        lines = ["Operations (Optic):"]
        by_operation: dict[str, list[specdiff.Change]] = defaultdict(list)
        by_schema: dict[str, dict[tuple[str, str, bool], set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )
        for change in self.spec_changes:
            by_operation[change.operation].append(change)
            if change.schema is not None:
                key = (change.where.split(" ")[0], change.what, change.breaking)
                by_schema[change.schema][key].add(change.operation)
        for operation in sorted(by_operation):
            changes = by_operation[operation]
            label = self.operation_ids.get(operation)
            lines.append(f"  {operation}" + (f" ({label})" if label else ""))
            for change in changes:
                if change.schema is None:
                    where = f"{change.where}: " if change.where else ""
                    lines.append(f"    {_mark(change.breaking)}  {where}{change.what}")
            schemas = sorted({c.schema for c in changes if c.schema is not None})
            if schemas:
                lines.append(f"    schemas changed: {', '.join(schemas)} (below)")
        if not by_operation:
            lines.append("  no change Optic lists")
        if not self.documentation_only and all(_is_documentation(c) for c in self.spec_changes):
            # Optic does not list every keyword (e.g. bounds merged in from an allOf).
            lines.append("  and changes beyond descriptions and examples that Optic does not list")
        lines.append("Schemas:")
        for schema in sorted(by_schema):
            lines.append(f"  {schema}")
            for (side, what, breaking), operations in sorted(by_schema[schema].items()):
                count = len(operations)
                used = f"{side}, {count} operation{'s' * (count != 1)}"
                lines.append(f"    {_mark(breaking)}  {what} ({used})")
        if not by_schema:
            lines.append("  no component schema changed")
        lines.append("Client (griffe, marksign_client):")
        for client_change in self.client_changes:
            lines.append(
                f"    {_mark(client_change.breaking)}  {client_change.path}: {client_change.what}"
            )
        if not self.client_changes:
            lines.append("  no change of the Python API")
        return lines

    def text(self) -> str:
        title = (
            f"Change report: openapi.yaml {self.old_version} at {self.base_name}"
            f" -> {self.new_version} in the working tree"
        )
        return "\n".join([title, *self.body_lines(), self.version_line()]) + "\n"


def _is_documentation(change: specdiff.Change) -> bool:
    return any(word in change.what for word in ("description", "summary", "example"))


def _mark(breaking: bool) -> str:
    return "BREAKING    " if breaking else "non-breaking"


def _short(change: specdiff.Change | clientdiff.ClientChange) -> str:
    if isinstance(change, clientdiff.ClientChange):
        return f"{change.path.rsplit('.', 1)[-1]} {change.what.lower()}"
    subject = change.schema or change.operation
    return f"{subject}: {change.what}"


def operation_ids(*documents: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for document in documents:
        for path, item in (document.get("paths") or {}).items():
            for method, operation in (item or {}).items():
                if isinstance(operation, dict) and "operationId" in operation:
                    found.setdefault(f"{method.upper()} {path}", operation["operationId"])
    return found


def build(
    base: history.Revision,
    head_spec: Path = generate.SPEC,
    head_client: Path | None = None,
    base_client: Path | None = None,
) -> Report:
    """Compare openapi.yaml at `base` with `head_spec` (and their clients).

    `head_client` is a fresh generation of `head_spec`; without one, one is made.
    `base_client` is the client of `base`; without one, generated_client/ of the commit.
    """
    new_document = history.load(head_spec.read_bytes())
    old_document = base.document
    unchanged = old_document == new_document
    spec_changes = [] if unchanged else specdiff.diff(old_document, new_document)
    with tempfile.TemporaryDirectory(prefix="marksign-changes-") as tmp:
        folder = Path(tmp)
        old_client = base_client or history.client_at(base.commit, folder / "old")
        if head_client is None:
            head_client = folder / "new" / generate.OUTPUT.name
            generate.generate(head_client, head_spec)
        client_changes = clientdiff.compare(old_client, head_client)
    return Report(
        base_name=base.name,
        old_version=base.version,
        new_version=history.version_of(new_document),
        spec_changes=spec_changes,
        client_changes=client_changes,
        documentation_only=specdiff.is_documentation_only(old_document, new_document),
        unchanged=unchanged,
        operation_ids=operation_ids(new_document, old_document),
    )
