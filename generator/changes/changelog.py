"""generated_client/CHANGELOG.md: one entry per version, newest first, from the report.

Writing is idempotent: the entry of the current version is replaced by the fresh one (the
same bytes when nothing changed), the others are kept as they are (hand-written notes
included). The drift check of `python -m generator --check` ignores this file, since it
holds history that the spec alone cannot reproduce.
"""

from __future__ import annotations

import re
from pathlib import Path

from generator.generate import OUTPUT

NAME = "CHANGELOG.md"
PATH = OUTPUT / NAME
HEADER = (
    "# Changelog of marksign-client\n\n"
    "The client's version is `info.version` of openapi.yaml. `make generate` writes the entry"
    " of each\nnew version from the change report (`make api-diff`); the newest comes first.\n"
)
HEADING = re.compile(r"^## (\S+)\s*$", re.MULTILINE)


def entry(version: str, compared_with: str, reason: str, lines: list[str]) -> str:
    body = "\n".join(lines)
    return f"## {version}\n\nCompared with {compared_with}: {reason}.\n\n```\n{body}\n```\n"


def versions(text: str) -> list[str]:
    return HEADING.findall(text)


def with_entry(text: str, version: str, new_entry: str) -> str:
    """`text` (a changelog, or "") with `new_entry` as the entry of `version`."""
    if not text:
        text = HEADER
    matches = list(HEADING.finditer(text))
    for index, match in enumerate(matches):
        if match.group(1) == version:
            end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
            return (
                text[: match.start()] + new_entry + ("\n" if end < len(text) else "") + text[end:]
            )
    if matches:
        first = matches[0].start()
        return text[:first] + new_entry + "\n" + text[first:]
    return text.rstrip("\n") + "\n\n" + new_entry


def write(version: str, new_entry: str, path: Path = PATH) -> bool:
    """Put the entry of `version` into the changelog; True if the file changed."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    new = with_entry(old, version, new_entry)
    if new == old:
        return False
    path.write_bytes(new.encode())
    return True


def has_entry(version: str, path: Path = PATH) -> bool:
    return path.exists() and version in versions(path.read_text(encoding="utf-8"))
