"""Fixtures of the test-double tests: the generated client on the simulator, both locales,
in process (the plugin's `marksign_mock_client` and `marksign_mock_control`) and over a
real socket (`marksign_mock_server` and its `.control`), each on both stores: in memory and
in a real Redis (`tests.stores`, which each test module names in `pytest_plugins`)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType
from typing import Literal

import httpx
import pytest
from marksign_client import Client
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.models import (
    Country,
    HashAlgorithm,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_mock import BackgroundServer, MockApp, MockConfig

from tests.spec_facts import DOCS_ACCESS_TOKEN
from tests.stores import STORES, app_with_store

SIGNS = "30303039914"  # a demo identity that confirms
# Long enough that a test which does not release the person would wait visibly.
ANSWER_DELAY = 30.0


@dataclass(frozen=True)
class Locale:
    name: Literal["en", "lt"]
    initialize: ModuleType
    status: ModuleType


EN = Locale("en", initialize_hash_signing_en, get_hash_signing_status_en)
LT = Locale("lt", initialize_hash_signing, get_hash_signing_status)
LOCALES = [pytest.param(EN, id="en"), pytest.param(LT, id="lt")]


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    return MockConfig(answer_delay=ANSWER_DELAY, session_timeout=60.0)


@pytest.fixture(params=STORES)
def store_kind(request: pytest.FixtureRequest) -> str:
    """Where the simulator keeps sessions, scripts and the journal: every test runs on both."""
    kind: str = request.param
    return kind


@pytest.fixture
def marksign_mock_app(
    marksign_mock_config: MockConfig, store_kind: str, request: pytest.FixtureRequest
) -> MockApp:
    return app_with_store(marksign_mock_config, store_kind, request)


@pytest.fixture
def marksign_mock_server(
    marksign_mock_config: MockConfig, store_kind: str, request: pytest.FixtureRequest
) -> Iterator[BackgroundServer]:
    with BackgroundServer(app_with_store(marksign_mock_config, store_kind, request)) as server:
        yield server


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def client(marksign_mock_client: httpx.Client) -> Client:
    """The generated client, calling the simulator in process."""
    return Client(base_url=str(marksign_mock_client.base_url)).set_httpx_client(
        marksign_mock_client
    )


def request(code: str = SIGNS, document: bytes = b"a document") -> InitializeHashSigningRequest:
    return InitializeHashSigningRequest(
        access_token=DOCS_ACCESS_TOKEN,
        hash_=hashlib.sha256(document).hexdigest(),
        hash_algorithm=HashAlgorithm.SHA256,
        country=Country.LT,
        code=code,
        message="Sign the test contract",
    )


def status_body() -> HashSigningStatusRequest:
    return HashSigningStatusRequest(access_token=DOCS_ACCESS_TOKEN)


def start(client: Client, locale: Locale, code: str = SIGNS) -> str:
    """Initialize a session; its token."""
    started = locale.initialize.sync(client=client, body=request(code))
    assert isinstance(started, InitializeHashSigningOk), started
    token: str = started.token
    return token
