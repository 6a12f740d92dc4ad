"""Install a pinned npm package into an ignored folder under `.tools/`, once.

The folder gets a `package.json` of its own that names the exact version (and, where a
package's own dependency ranges resolve to a broken tree, `overrides` that pin the
offending dependency), so `npm install` there is the same wherever it runs. A marker file
records what was installed; a different pin reinstalls.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOOLS_DIR = ROOT / ".tools"
# Threads that need a tool at once (the change drills) install it once, not side by side.
_INSTALLING = threading.Lock()


class ToolError(RuntimeError):
    """An external tool could not be installed or run."""


@dataclass(frozen=True)
class NpmTool:
    """A pinned npm package and the command it installs (`node_modules/.bin/<binary>`)."""

    folder: str  # below .tools/
    package: str
    version: str
    binary: str
    overrides: dict[str, str] = field(default_factory=dict)
    # Lifecycle scripts of the dependency tree (telemetry pings, banners) are skipped when
    # the tool does not need them.
    ignore_scripts: bool = False

    @property
    def prefix(self) -> Path:
        return TOOLS_DIR / self.folder

    @property
    def executable(self) -> Path:
        return self.prefix / "node_modules" / ".bin" / self.binary

    def manifest(self) -> str:
        document: dict[str, object] = {
            "private": True,
            "dependencies": {self.package: self.version},
        }
        if self.overrides:
            document["overrides"] = self.overrides
        return json.dumps(document, indent=2, sort_keys=True) + "\n"


def ensure(tool: NpmTool) -> Path:
    """Return the path of the tool's command, installing it from npm when missing."""
    with _INSTALLING:
        return _ensure(tool)


def _ensure(tool: NpmTool) -> Path:
    marker = tool.prefix / "installed-version"
    manifest = tool.manifest()
    if tool.executable.exists() and marker.exists() and marker.read_text() == manifest:
        return tool.executable
    npm = shutil.which("npm")
    if npm is None:
        raise ToolError(f"npm is not on PATH: install Node.js and npm to run {tool.package}")
    tool.prefix.mkdir(parents=True, exist_ok=True)
    (tool.prefix / "package.json").write_text(manifest)
    command = [npm, "install", "--prefix", str(tool.prefix), "--no-audit", "--no-fund"]
    command += ["--loglevel=error", "--no-package-lock"]
    if tool.ignore_scripts:
        command.append("--ignore-scripts")
    result = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        command, capture_output=True, text=True, check=False
    )
    if result.returncode != 0 or not tool.executable.exists():
        raise ToolError(
            f"could not install {tool.package}@{tool.version} from npm: "
            + (result.stderr.strip().splitlines() or ["no output"])[-1]
        )
    marker.write_text(manifest)
    return tool.executable
