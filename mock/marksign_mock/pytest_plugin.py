"""pytest plugin (auto-loaded through the `pytest11` entry point): a simulator per test.

Fixtures; each test gets a fresh simulator with an empty store:

- `marksign_mock_config`: the MockConfig (fast answers); override it in a conftest.py.
- `marksign_mock_app`: the ASGI app; `app.store` holds its sessions.
- `marksign_mock_transport`: an httpx transport calling that app in process.
- `marksign_mock_client`: an `httpx.Client` on that transport (base URL
  `http://marksign-mock.test`), ready for the generated client's `set_httpx_client()`;
  its read timeout (`IN_PROCESS_TIMEOUT`) outlasts the default session timeout, so that a
  long poll gets its answer (an `httpx.AsyncClient` on the same transport works too).
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
# The in-process client's timeouts, in seconds: a read outlasts MockConfig's default
# session_timeout (120), so that a long poll gets its answer (httpx's default read is 5).
IN_PROCESS_TIMEOUT = {"timeout": 10.0, "read": 130.0}


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    """Settings for a test: the person answers after 50 ms, unanswered sessions end in 5 s."""
    from .config import MockConfig

    return MockConfig(answer_delay=0.05, session_timeout=5.0)


@pytest.fixture
def marksign_mock_app(marksign_mock_config: MockConfig) -> MockApp:
    from .app import create_app

    return create_app(_checked(marksign_mock_config))


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

    with httpx.Client(
        transport=marksign_mock_transport,
        base_url=IN_PROCESS_BASE_URL,
        timeout=httpx.Timeout(**IN_PROCESS_TIMEOUT),
    ) as client:
        yield client


@pytest.fixture
def marksign_mock_control(marksign_mock_client: httpx.Client) -> MockController:
    from .controller import MockController

    return MockController(marksign_mock_client)


@pytest.fixture
def marksign_mock_server(marksign_mock_config: MockConfig) -> Iterator[BackgroundServer]:
    from .app import create_app
    from .launcher import BackgroundServer

    with BackgroundServer(create_app(_checked(marksign_mock_config))) as server:
        yield server


def _checked(config: object) -> MockConfig:
    """The config a test gave (an override of `marksign_mock_config`), if it is one."""
    from .config import MockConfig

    if not isinstance(config, MockConfig):
        raise TypeError(
            f"marksign_mock_config must return a MockConfig, not {type(config).__name__}"
        )
    return config
