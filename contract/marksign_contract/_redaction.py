"""Keeping the access token out of what a run shows: its output and its reports."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Final

REDACTED: Final = "[access token]"


def secret_forms(token: str) -> list[str]:
    """The token as it may appear in text: raw, and escaped inside JSON strings."""
    forms = {token, json.dumps(token)[1:-1], json.dumps(token, ensure_ascii=False)[1:-1]}
    return sorted(forms, key=len, reverse=True)


def redact(text: str, forms: Sequence[str]) -> str:
    for form in forms:
        text = text.replace(form, REDACTED)
    return text


def scrub_files(paths: Iterable[Path], forms: Sequence[str]) -> list[Path]:
    """The run's files that contained the token, redacted in place (there should be none)."""
    leaked = []
    for path in paths:
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="surrogateescape")
        if any(form in text for form in forms):
            path.write_text(redact(text, forms), encoding="utf-8", errors="surrogateescape")
            leaked.append(path)
    return leaked
