"""Stateful simulator of Mark Sign's Smart-ID hash-signing API.

    from marksign_mock import MockConfig, create_app
    app = create_app(MockConfig(answer_delay=0.1))   # an ASGI app; app.store holds sessions

One job per module, in moto's shape; ARCHITECTURE.md says what each one does. In short:
`config` (the settings), `exceptions` (error codes and messages), `models` (sessions in
memory, no HTTP), `person` (the simulated Smart-ID user), `crypto` (verification code,
signature), `scripts`, `journal` and `polls` (what tests arm, record and await), `stores`
and `redis_store` (where all of that is kept: memory or Redis), `validation` (request
schemas compiled from the spec layer, `marksign_spec`), `responses` (request -> model ->
answer), `routing` (spec operations to handlers), `rendering` (HTTP answers and the error
shape), `faults` and `recording`, `control` (the `/_mock/` control plane) and
`controller` (it, from Python), `app` (the Starlette app), `server` (the HTTP server),
`launcher` (the one way to start it: in process, in a thread, as a subprocess, in the
foreground, as several workers), `cli` and `pytest_plugin`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import MockConfig

if TYPE_CHECKING:
    from .app import MockApp, create_app
    from .controller import MockControlError, MockController
    from .launcher import BackgroundServer, InProcessTransport, SimulatorProcess
    from .models import SessionStore

__all__ = [
    "BackgroundServer",
    "InProcessTransport",
    "MockApp",
    "MockConfig",
    "MockControlError",
    "MockController",
    "SessionStore",
    "SimulatorProcess",
    "create_app",
]

# Imported on first use, so that loading the pytest plugin (which imports this package)
# does not load the web stack and cryptography into every test run.
_LAZY = {
    "MockApp": "app",
    "create_app": "app",
    "SessionStore": "models",
    "BackgroundServer": "launcher",
    "InProcessTransport": "launcher",
    "SimulatorProcess": "launcher",
    "MockController": "controller",
    "MockControlError": "controller",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(f".{module}", __name__), name)
