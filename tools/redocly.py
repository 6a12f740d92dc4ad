"""Run Redocly CLI's linter on openapi.yaml, installing the pinned version on first use.

Redocly comes from npm into the ignored folder `.tools/redocly/`. Any failure to install
or run it is an error, never a skip: a spec check that silently did not run is no check.

Usage: python -m tools.redocly [extra redocly lint arguments]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tools.npm import ROOT, NpmTool, ToolError, ensure

REDOCLY = NpmTool(folder="redocly", package="@redocly/cli", version="2.77.0", binary="redocly")


def ensure_redocly() -> Path:
    """Return the path of the pinned Redocly CLI, installing it from npm when missing."""
    return ensure(REDOCLY)


def lint(spec: Path = ROOT / "openapi.yaml", *extra: str) -> subprocess.CompletedProcess[str]:
    """Run `redocly lint` with the repository's redocly.yaml; never raises on lint errors."""
    binary = ensure_redocly()
    return subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [
            str(binary),
            "lint",
            "--config",
            str(ROOT / "redocly.yaml"),
            "--format",
            "stylish",
            *extra,
            str(spec),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        result = lint(ROOT / "openapi.yaml", *args)
    except ToolError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # Redocly prints its findings on stderr; the banner about Node.js versions is noise.
    print(result.stdout, end="")
    print(result.stderr, end="", file=sys.stderr)
    return result.returncode


if __name__ == "__main__":
    raise SystemExit(main())
