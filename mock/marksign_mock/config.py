"""Settings of the simulator, in one frozen dataclass (change one with `dataclasses.replace`)."""

from __future__ import annotations

import math
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit

from marksign_spec import load_spec

# Accepted access tokens, comma-separated, for `marksign-mock` (keeps them off `ps`).
ENV_ACCESS_TOKENS = "MARKSIGN_MOCK_ACCESS_TOKENS"

# A count (sessions, journal entries, ...) above this is a typo, not a test's need.
MAX_COUNT: Final = 1_000_000_000
_COUNTS: Final = ("max_sessions", "max_retained", "max_body_bytes", "journal_size")

# The URL schemes of a shared store (redis-py's: TCP, TLS, a Unix socket).
STORE_SCHEMES: Final = ("redis", "rediss", "unix")


def docs_access_token() -> str:
    """The access token of Mark Sign's documentation samples (openapi.yaml's example)."""
    return load_spec().sample_access_token


@dataclass(frozen=True)
class MockConfig:
    """Settings of one simulator instance. Times are in seconds."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Access tokens the simulator accepts; compared in constant time, never logged.
    access_tokens: frozenset[str] = field(default_factory=lambda: frozenset({docs_access_token()}))
    # How long the simulated person takes to answer on the phone.
    answer_delay: float = 1.0
    # A session nobody answers ends after this long (status answers 40021).
    session_timeout: float = 120.0
    # A finished session's result stays fetchable this long, then its token is unknown.
    retention: float = 300.0
    # Seed of the token generator: the same seed gives the same tokens. None: random.
    seed: int | None = None
    # Let every well-formed personal code sign (otherwise only Smart-ID demo identities).
    allow_any_code: bool = False
    # Sessions whose outcome is not known yet; one more is refused with 42900.
    max_sessions: int = 50_000
    # Finished sessions kept for `retention`; beyond this the oldest are dropped early.
    max_retained: int = 100_000
    # Largest request body accepted; a larger one is refused with 41300. None: the spec's
    # limit (info.x-max-request-body-bytes).
    max_body_bytes: int | None = None
    # Requests the journal keeps (the oldest are dropped beyond this).
    journal_size: int = 1000
    # openapi.yaml to serve and validate against; None: the packaged or repository copy.
    spec_path: Path | None = None
    # Where sessions, scripts and the journal are kept. None: this process's memory; a
    # redis:// URL: a Redis server, shared by every simulator process that names it.
    store_url: str | None = None

    def __post_init__(self) -> None:
        self._check_types()
        if not self.access_tokens:
            raise ValueError("access_tokens: give at least one access token")
        if any(not token for token in self.access_tokens):
            raise ValueError("access_tokens: an access token cannot be empty")
        for name in ("answer_delay", "retention"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} cannot be negative")
        if self.session_timeout <= 0:
            raise ValueError("session_timeout must be positive")
        if self.journal_size < 0:
            raise ValueError("journal_size cannot be negative")
        if self.max_sessions < 1:
            raise ValueError("max_sessions must be at least 1")
        if self.max_body_bytes is not None and self.max_body_bytes < 1:
            raise ValueError("max_body_bytes must be at least 1")
        if self.max_retained < 0:
            raise ValueError("max_retained cannot be negative")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")
        if self.store_url is not None and urlsplit(self.store_url).scheme not in STORE_SCHEMES:
            schemes = ", ".join(f"{scheme}://" for scheme in STORE_SCHEMES)
            raise ValueError(
                f"store: a URL that starts with {schemes}, not {redacted_url(self.store_url)!r}"
            )

    def _check_types(self) -> None:
        """TypeError for a setting of the wrong type, ValueError for a number that is not
        finite; a collection of access tokens (a set, a list) is kept as a frozenset."""
        tokens: object = self.access_tokens
        if isinstance(tokens, str | bytes) or not isinstance(tokens, Collection):
            raise TypeError(
                f"access_tokens: a set of tokens, not a {type(tokens).__name__} "
                "(a string would make each of its characters a token)"
            )
        if not all(isinstance(token, str) for token in tokens):
            raise TypeError("access_tokens: every access token must be a str")
        object.__setattr__(self, "access_tokens", frozenset(tokens))
        for name in ("answer_delay", "session_timeout", "retention"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise TypeError(f"{name}: a number of seconds, not {type(value).__name__}")
            if not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number of seconds, not {value}")
        for name in ("port", "seed", *_COUNTS):
            value = getattr(self, name)
            if value is None and name in ("seed", "max_body_bytes"):
                continue
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"{name}: a whole number, not {type(value).__name__}")
            if name in _COUNTS and value > MAX_COUNT:
                raise ValueError(f"{name} must be at most {MAX_COUNT:,}")
        if not isinstance(self.host, str) or not isinstance(self.allow_any_code, bool):
            raise TypeError("host is a str and allow_any_code a bool")
        if self.spec_path is not None:
            if not isinstance(self.spec_path, str | os.PathLike):
                raise TypeError(f"spec_path: a path, not {type(self.spec_path).__name__}")
            object.__setattr__(self, "spec_path", Path(self.spec_path))
        if self.store_url is not None and not isinstance(self.store_url, str):
            raise TypeError(f"store_url: a str, not {type(self.store_url).__name__}")

    def __repr__(self) -> str:
        # Never show the access tokens (they end up in logs and test reports).
        shown = {
            name: getattr(self, name)
            for name in self.__dataclass_fields__
            if name != "access_tokens"
        }
        if self.store_url is not None:
            shown["store_url"] = redacted_url(self.store_url)
        fields = ", ".join(f"{name}={value!r}" for name, value in shown.items())
        return f"MockConfig({fields}, access_tokens=<{len(self.access_tokens)} hidden>)"


def redacted_url(url: str) -> str:
    """`url` with the password it carries (redis://user:password@host) hidden, for logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{user}:***@{host}").geturl()
