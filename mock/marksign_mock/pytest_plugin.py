"""pytest plugin (auto-loaded through the `pytest11` entry point): a simulator per test.

Fixtures; each test gets a fresh simulator with an empty store:

- `marksign_mock_config`: the MockConfig (fast answers); override it in a conftest.py.
- `marksign_mock_app`: the ASGI app; `app.store` holds its sessions.
- `marksign_mock_transport`: an httpx transport calling that app in process.
- `marksign_mock_client`: an `httpx.Client` on that transport (base URL
  `http://marksign-mock.test`), ready for the generated client's `set_httpx_client()`.
- `marksign_mock_control`: a `MockController` of the in-process simulator (the one
  `marksign_mock_client` calls): scenarios, error codes, faults, "answer now", sessions,
  the journal.
- `marksign_mock_server`: the simulator on a real socket (127.0.0.1, a free port) in a
  background thread, with `.base_url`, `.store`, `.reset()` and `.control` (a
  `MockController` over the socket).

At load time this module imports only pytest: it is loaded into every pytest run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx

    from .app import MockApp
    from .config import MockConfig
    from .controller import MockController
    from .launcher import BackgroundServer, InProcessTransport

IN_PROCESS_BASE_URL = "http://marksign-mock.test"


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    """Settings for a test: the person answers after 50 ms, unanswered sessions end in 5 s."""
    from .config import MockConfig

    return MockConfig(answer_delay=0.05, session_timeout=5.0)


@pytest.fixture
def marksign_mock_app(marksign_mock_config: MockConfig) -> MockApp:
    from .app import create_app

    return create_app(marksign_mock_config)


@pytest.fixture
def marksign_mock_transport(marksign_mock_app: MockApp) -> Iterator[InProcessTransport]:
    from .launcher import InProcessTransport

    transport = InProcessTransport(marksign_mock_app)
    try:
        yield transport
    finally:
        transport.close()


@pytest.fixture
def marksign_mock_client(
    marksign_mock_transport: InProcessTransport,
) -> Iterator[httpx.Client]:
    import httpx

    with httpx.Client(transport=marksign_mock_transport, base_url=IN_PROCESS_BASE_URL) as client:
        yield client


@pytest.fixture
def marksign_mock_control(marksign_mock_client: httpx.Client) -> MockController:
    from .controller import MockController

    return MockController(marksign_mock_client)


@pytest.fixture
def marksign_mock_server(marksign_mock_config: MockConfig) -> Iterator[BackgroundServer]:
    from .app import create_app
    from .launcher import BackgroundServer

    with BackgroundServer(create_app(marksign_mock_config)) as server:
        yield server
