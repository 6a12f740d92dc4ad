"""Build hook: put the repository's openapi.yaml into the wheel and sdist as package data.

The spec layer (`marksign_spec`) reads `marksign_spec/openapi.yaml` when installed; in a
checkout it reads the repository's root file, which is the only copy anybody edits. A
build from the repository copies that file in; a build from an sdist finds it already in
place. Editable installs read the repository's file, so they get no copy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

TARGET = "marksign_spec/openapi.yaml"


class SpecFileHook(BuildHookInterface):  # type: ignore[misc]  # hatchling has no types
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        repository_spec = Path(self.root).parent / "openapi.yaml"
        if repository_spec.is_file():
            build_data["force_include"][str(repository_spec)] = TARGET
        elif not (Path(self.root) / TARGET).is_file():
            raise FileNotFoundError(f"openapi.yaml not found beside {self.root} nor in {TARGET}")
