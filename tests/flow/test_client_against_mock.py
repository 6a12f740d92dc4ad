"""The generated client completes whole signing sessions against the simulator.

Every Smart-ID demo identity, both locales, sync and async: initialize, check the control
code against the hash, wait on the status long poll, and verify the signature with the
certificate the simulator serves. In process; `test_over_a_real_socket` repeats the flow
through the simulator's HTTP server on 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from marksign_client import Client
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.models import (
    Country,
    Error,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_mock import InProcessTransport

from tests.spec_facts import DOCS_ACCESS_TOKEN

# Smart-ID demo identities and the error code their session ends with (None: signed).
IDENTITIES: dict[str, int | None] = {
    "30303039914": None,
    "40504040001": None,
    "50001029996": None,
    "39901012239": None,
    "30403039917": 40020,  # USER_REFUSED
    "30403039928": 40020,  # refused at the PIN screen
    "30403039939": 40020,  # refused at the code choice
    "30403039946": 40020,  # refused at the confirmation message
    "30403039950": 40020,  # refused at the message with code choice
    "30403039972": 40020,  # WRONG_VC
    "30403039983": 40021,  # TIMEOUT: never answers, the session expires
}


@dataclass(frozen=True)
class Locale:
    name: str
    initialize: ModuleType
    status: ModuleType


LOCALES = [
    Locale("EN", initialize_hash_signing_en, get_hash_signing_status_en),
    Locale("LT", initialize_hash_signing, get_hash_signing_status),
]
HASHES: dict[HashAlgorithm, Callable[[bytes], Any]] = {
    HashAlgorithm.SHA256: hashlib.sha256,
    HashAlgorithm.SHA512: hashlib.sha512,
}


def control_code(digest: bytes) -> str:
    return f"{int.from_bytes(hashlib.sha256(digest).digest()[-2:], 'big') % 10000:04d}"


def request(document: bytes, code: str, algorithm: HashAlgorithm) -> InitializeHashSigningRequest:
    return InitializeHashSigningRequest(
        access_token=DOCS_ACCESS_TOKEN,
        hash_=HASHES[algorithm](document).hexdigest(),
        hash_algorithm=algorithm,
        country=Country.EE if code.startswith(("39", "5")) else Country.LT,
        code=code,
    )


def check_outcome(
    certificate: x509.Certificate,
    document: bytes,
    algorithm: HashAlgorithm,
    started: object,
    result: object,
    expected_error: int | None,
) -> None:
    assert isinstance(started, InitializeHashSigningOk), started
    assert started.control_code == control_code(HASHES[algorithm](document).digest())
    if expected_error is not None:
        assert isinstance(result, Error), result
        assert result.error_code == expected_error
        return
    assert isinstance(result, HashSigningStatusOk), result
    public_key = certificate.public_key()
    assert isinstance(public_key, rsa.RSAPublicKey)
    chosen: hashes.HashAlgorithm = (
        hashes.SHA256() if algorithm is HashAlgorithm.SHA256 else hashes.SHA512()
    )
    # Raises InvalidSignature unless it is a signature of `document` by the test key.
    public_key.verify(
        base64.b64decode(result.signature_value, validate=True),
        document,
        padding.PKCS1v15(),
        chosen,
    )


@pytest.fixture
def client(marksign_mock_client: httpx.Client) -> Client:
    generated = Client(base_url=str(marksign_mock_client.base_url))
    return generated.set_httpx_client(marksign_mock_client)


@pytest.fixture
def certificate(marksign_mock_client: httpx.Client) -> x509.Certificate:
    answer = marksign_mock_client.get("/_mock/certificate.pem")
    assert answer.status_code == 200
    return x509.load_pem_x509_certificate(answer.content)


CASES = [
    pytest.param(locale, code, expected, id=f"{locale.name}-{code}")
    for locale in LOCALES
    for code, expected in IDENTITIES.items()
]


@pytest.mark.parametrize(("locale", "code", "expected_error"), CASES)
def test_sync_flow_for_every_demo_identity(
    client: Client,
    certificate: x509.Certificate,
    locale: Locale,
    code: str,
    expected_error: int | None,
) -> None:
    document = f"contract for {code} in {locale.name}".encode()
    body = request(document, code, HashAlgorithm.SHA256)
    started = locale.initialize.sync(client=client, body=body)
    assert isinstance(started, InitializeHashSigningOk), started
    result = locale.status.sync(
        started.token, client=client, body=HashSigningStatusRequest(DOCS_ACCESS_TOKEN)
    )
    check_outcome(certificate, document, HashAlgorithm.SHA256, started, result, expected_error)


@pytest.mark.anyio
@pytest.mark.parametrize(("locale", "code", "expected_error"), CASES)
async def test_async_flow_for_every_demo_identity(
    marksign_mock_transport: InProcessTransport,
    locale: Locale,
    code: str,
    expected_error: int | None,
) -> None:
    # The plugin's in-process transport serves an httpx.AsyncClient as well.
    async with httpx.AsyncClient(
        transport=marksign_mock_transport, base_url="http://mock.test", timeout=30
    ) as http:
        client = Client(base_url="http://mock.test").set_async_httpx_client(http)
        certificate = x509.load_pem_x509_certificate(
            (await http.get("/_mock/certificate.pem")).content
        )
        document = f"async contract for {code} in {locale.name}".encode()
        body = request(document, code, HashAlgorithm.SHA512)
        started = await locale.initialize.asyncio(client=client, body=body)
        assert isinstance(started, InitializeHashSigningOk), started
        result = await locale.status.asyncio(
            started.token, client=client, body=HashSigningStatusRequest(DOCS_ACCESS_TOKEN)
        )
        check_outcome(certificate, document, HashAlgorithm.SHA512, started, result, expected_error)


@pytest.mark.parametrize("locale", LOCALES, ids=lambda locale: locale.name)
def test_a_code_without_an_account_is_refused_at_initialize(client: Client, locale: Locale) -> None:
    answer = locale.initialize.sync(
        client=client, body=request(b"x", "38001010000", HashAlgorithm.SHA256)
    )
    assert isinstance(answer, Error)
    assert answer.error_code == 40401


@pytest.mark.parametrize("locale", LOCALES, ids=lambda locale: locale.name)
def test_an_unknown_token_is_not_found(client: Client, locale: Locale) -> None:
    answer = locale.status.sync_detailed(
        "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d",
        client=client,
        body=HashSigningStatusRequest(DOCS_ACCESS_TOKEN),
    )
    assert answer.status_code == 404
    assert isinstance(answer.parsed, Error)
    assert answer.parsed.error_code == 40402
    english = locale.name == "EN"
    assert (answer.parsed.message == "Session for given token was not found") is english


@pytest.mark.socket
@pytest.mark.parametrize("locale", LOCALES, ids=lambda locale: locale.name)
def test_over_a_real_socket(marksign_mock_server: Any, locale: Locale) -> None:
    timeout = httpx.Timeout(10.0, read=250.0)
    with Client(base_url=marksign_mock_server.base_url, timeout=timeout) as client:
        pem = client.get_httpx_client().get("/_mock/certificate.pem").content
        document = b"signed over a real socket"
        started = locale.initialize.sync(
            client=client, body=request(document, "30303039914", HashAlgorithm.SHA256)
        )
        assert isinstance(started, InitializeHashSigningOk), started
        result = locale.status.sync(
            started.token, client=client, body=HashSigningStatusRequest(DOCS_ACCESS_TOKEN)
        )
        check_outcome(
            x509.load_pem_x509_certificate(pem),
            document,
            HashAlgorithm.SHA256,
            started,
            result,
            None,
        )
