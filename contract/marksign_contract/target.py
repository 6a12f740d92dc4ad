"""Which server a run points at, decided from the URL's text alone: no DNS, no traffic.

A target is local only when its host is `localhost` or a loopback IP literal (127.0.0.0/8,
::1). Any other name counts as remote without being resolved, even one that would resolve
to 127.0.0.1: the check must hold before anything touches the network.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

ALLOW_REMOTE_ENV = "MARKSIGN_CONTRACT_ALLOW_REMOTE"


class UsageError(Exception):
    """The command line cannot be run as given (exit code 2)."""


@dataclass(frozen=True)
class Target:
    base_url: str  # without a trailing slash
    host: str
    is_loopback: bool


def is_loopback_host(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name, not an IP literal: never resolved here
        return False


def parse_target(base_url: str) -> Target:
    try:
        parts = urlsplit(base_url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a port that is not a number
    except ValueError as error:
        raise UsageError(f"--base-url {base_url!r} is not a valid URL: {error}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise UsageError(
            f"--base-url {base_url!r} must be an http:// or https:// URL with a host, "
            "e.g. http://127.0.0.1:8000"
        )
    if parts.query or parts.fragment or parts.username or parts.password:
        raise UsageError(f"--base-url {base_url!r}: give no credentials, query or fragment")
    return Target(base_url=base_url.rstrip("/"), host=host, is_loopback=is_loopback_host(host))


def refusal(target: Target) -> str:
    return (
        f"Refusing to test {target.base_url}: {target.host} is not a loopback address, and "
        "contract tests send many requests (initialize starts real signing on real phones).\n"
        "To test it anyway, opt in explicitly with --allow-remote or "
        f"{ALLOW_REMOTE_ENV}=1; only the status operations run unless you also pass "
        "--enable-initialize."
    )
