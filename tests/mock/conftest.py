"""Fixtures of the simulator's own tests. The simulator fixtures (`marksign_mock_app`,
`marksign_mock_client`, `marksign_mock_server`, ...) come from the package's pytest plugin;
this file only makes them fast and adds a fake clock. A test that needs other settings
parametrizes `marksign_mock_config` directly."""

from __future__ import annotations

import pytest
from marksign_mock import MockConfig
from marksign_mock.models import ManualClock

# The person answers at once and unanswered sessions end within a second.
FAST = MockConfig(answer_delay=0.0, session_timeout=1.0)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake_clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    return FAST
