"""The version rule: `info.version` of openapi.yaml is the client's semantic version.

A breaking change needs a new major version, an addition (anything that is not only
documentation) a new minor version, a change of descriptions and examples a new patch
version; any change at least a bump.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

SEMVER = re.compile(r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)")


class Bump(IntEnum):
    """What a change needs, from least to most."""

    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @property
    def reason(self) -> str:
        return {
            Bump.PATCH: "patch: documentation and examples only",
            Bump.MINOR: "minor: additions, nothing breaking",
            Bump.MAJOR: "major: breaking changes",
        }[self]


class VersionError(ValueError):
    """`info.version` is not MAJOR.MINOR.PATCH."""


@dataclass(frozen=True, order=True)
class Version:
    major: int
    minor: int
    patch: int

    @classmethod
    def parse(cls, text: str) -> Version:
        match = SEMVER.fullmatch(text)
        if match is None:
            raise VersionError(f"info.version {text!r} is not MAJOR.MINOR.PATCH")
        return cls(*(int(part) for part in match.groups()))

    def bumped(self, bump: Bump) -> Version:
        if bump is Bump.MAJOR:
            return Version(self.major + 1, 0, 0)
        if bump is Bump.MINOR:
            return Version(self.major, self.minor + 1, 0)
        return Version(self.major, self.minor, self.patch + 1)

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}.{self.patch}"


def is_enough(old: Version, new: Version, bump: Bump) -> bool:
    """Whether `new` is a version `old` may become after a change that needs `bump`."""
    if bump is Bump.MAJOR:
        return new.major > old.major
    if bump is Bump.MINOR:
        return (new.major, new.minor) > (old.major, old.minor)
    return new > old


def suggest(old: Version, bump: Bump) -> Version:
    return old.bumped(bump)
