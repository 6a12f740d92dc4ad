"""Optic's diff of two OpenAPI files, as data: what changed and which changes break.

Optic (npm `@useoptic/optic`, pinned) comes into the ignored folder `.tools/optic/` on first
use. Two choices:

- **Loose validation.** Optic's default strict mode refuses our spec: it reads a link's
  `requestBody` as a runtime expression string, while OpenAPI 3.1 allows any value, and
  our links send `{"access_token": "$request.body#/access_token"}` (Schemathesis follows
  them in its stateful phase). openapi-spec-validator and Redocly already hold the spec to
  3.1 (make lint-spec, tests/spec), so Optic only diffs; loose mode still parses and
  resolves everything.
- **One ajv.** Optic 1.0.9's dependency ranges resolve to two copies of ajv (8.17.1 for
  Optic, a newer one for Spectral) with one ajv-errors between them, and the CLI then dies
  while compiling a schema; `overrides` keeps one ajv, the one Optic pins.

Usage: python -m tools.optic OLD.yaml NEW.yaml (prints the JSON of tools/optic_diff.js)
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tools.npm import NpmTool, ToolError, ensure

OPTIC = NpmTool(
    folder="optic",
    package="@useoptic/optic",
    version="1.0.9",
    binary="optic",
    overrides={"ajv": "8.17.1"},
    ignore_scripts=True,  # only a telemetry ping (@scarf/scarf) and a banner (es5-ext)
)
SCRIPT = Path(__file__).resolve().parent / "optic_diff.js"
# No telemetry (Segment, Sentry) and no update notices.
ENVIRONMENT = {"OPTIC_TELEMETRY_LEVEL": "off", "NO_COLOR": "1"}


def diff(base: Path, head: Path) -> dict[str, Any]:
    """Optic's changelog of `base` -> `head` and its failed breaking-change rules."""
    ensure(OPTIC)
    node = shutil.which("node")
    if node is None:
        raise ToolError("node is not on PATH: install Node.js to diff openapi.yaml")
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [node, str(SCRIPT), str(base), str(head)],
        capture_output=True,
        text=True,
        check=False,
        cwd=base.parent,  # Optic looks for an optic.yml beside the files, never ours
        env={**os.environ, **ENVIRONMENT},
    )
    if result.returncode != 0:
        lines = [line for line in result.stderr.splitlines() if line.startswith("optic:")]
        raise ToolError((lines or ["optic: failed without a message"])[-1])
    try:
        parsed = json.loads(result.stdout)
    except ValueError:
        raise ToolError("optic: printed something that is not JSON") from None
    if not isinstance(parsed, dict):
        raise ToolError("optic: printed something that is not a JSON object")
    return parsed


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m tools.optic OLD.yaml NEW.yaml", file=sys.stderr)
        return 2
    try:
        print(json.dumps(diff(Path(args[0]).resolve(), Path(args[1]).resolve()), indent=2))
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
