"""Fixtures of the client-against-simulator flow tests."""

from __future__ import annotations

import pytest
from marksign_mock import MockConfig


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    # The person answers at once; an unanswered (TIMEOUT identity) session ends in 0.5 s.
    return MockConfig(answer_delay=0.01, session_timeout=0.5, seed=7)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
