"""An integrator's own test: the simulator's pytest fixtures and the typed client.

This file is copied into a project outside the repository and run by the pytest of a
fresh virtual environment that has only the wheels installed (tests/distributions).
"""

import hashlib

import httpx
import pytest
from marksign_client import Client
from marksign_client.api.hash_signing import get_hash_signing_status_en, initialize_hash_signing
from marksign_client.models import (
    Country,
    Error,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_mock import BackgroundServer, MockConfig

ACCESS_TOKEN = "integrator-secret-token"


@pytest.fixture
def marksign_mock_config() -> MockConfig:
    return MockConfig(answer_delay=0.05, access_tokens=frozenset({ACCESS_TOKEN}))


def sign(client: Client, code: str) -> object:
    started = initialize_hash_signing.sync(
        client=client,
        body=InitializeHashSigningRequest(
            access_token=ACCESS_TOKEN,
            hash_=hashlib.sha256(b"integrator document").hexdigest(),
            hash_algorithm=HashAlgorithm.SHA256,
            country=Country.LT,
            code=code,
        ),
    )
    assert isinstance(started, InitializeHashSigningOk), started
    return get_hash_signing_status_en.sync(
        started.token, client=client, body=HashSigningStatusRequest(access_token=ACCESS_TOKEN)
    )


def test_a_whole_signing_in_process(marksign_mock_client: httpx.Client) -> None:
    client = Client(base_url=str(marksign_mock_client.base_url))
    client.set_httpx_client(marksign_mock_client)
    result = sign(client, "30303039914")
    assert isinstance(result, HashSigningStatusOk), result
    assert len(result.signature_value) > 600  # base64 of a 512-byte RSA signature


def test_a_refusal_over_a_socket(marksign_mock_server: BackgroundServer) -> None:
    client = Client(base_url=marksign_mock_server.base_url, timeout=httpx.Timeout(10, read=30))
    result = sign(client, "30403039917")
    assert isinstance(result, Error), result
    assert result.error_code == 40020
