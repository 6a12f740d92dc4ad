"""Stateful simulator of Mark Sign's Smart-ID hash-signing API.

    from marksign_mock import MockConfig, create_app
    app = create_app(MockConfig(answer_delay=0.1))   # an ASGI app; app.store holds sessions

Layers, one job per module: `config` (settings), `errors` (codes, statuses, messages),
`person` (the simulated Smart-ID user), `crypto` (verification code, signature),
`models` (sessions and their store, no HTTP), `spec` (openapi.yaml compiled into routes
and validators), `app` (HTTP), `server` and `cli` (running it on a socket), `inprocess`
(an httpx transport without a socket), `pytest_plugin` (fixtures).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import MockConfig

if TYPE_CHECKING:
    from .app import MockApp, create_app
    from .inprocess import InProcessTransport
    from .models import SessionStore
    from .server import BackgroundServer

__all__ = [
    "BackgroundServer",
    "InProcessTransport",
    "MockApp",
    "MockConfig",
    "SessionStore",
    "create_app",
]

# Imported on first use, so that loading the pytest plugin (which imports this package)
# does not load the web stack and cryptography into every test run.
_LAZY = {
    "MockApp": "app",
    "create_app": "app",
    "SessionStore": "models",
    "BackgroundServer": "server",
    "InProcessTransport": "inprocess",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
