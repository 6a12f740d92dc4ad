"""A fake Mark Sign gateway on `httpx.MockTransport`, and the catalog of the four operations.

The gateway answers every request with one canned response and records the requests, so a
test can check what the generated client sends and how it reads any answer, without a
network or the simulator.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import httpx
from marksign_client import Client
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.models import (
    CertificateLevel,
    Country,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_client.types import Response

BASE_URL = "https://gateway.test"
# The docs' sample values.
ACCESS_TOKEN = "52900c96-3f60-5307-3719-5948f0191da6"
SESSION_TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"
HASH_HEX = "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf"

# The four functions that openapi-python-client writes for every operation.
VARIANTS = ("sync", "sync_detailed", "asyncio", "asyncio_detailed")


@dataclass
class FakeGateway:
    """Answers every request with the same response and records each request."""

    status_code: int = 200
    content: bytes = b""
    content_type: str = "application/json"
    requests: list[httpx.Request] = field(default_factory=list)

    def answer(self, status_code: int, content: bytes, content_type: str) -> None:
        self.status_code, self.content, self.content_type = status_code, content, content_type

    def answer_json(self, status_code: int, body: object) -> None:
        self.answer(status_code, json.dumps(body).encode(), "application/json")

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        headers = {"Content-Type": self.content_type}
        return httpx.Response(self.status_code, content=self.content, headers=headers)

    def client(self, **client_args: Any) -> Client:
        """A fresh generated client whose sync and async httpx clients reach this gateway."""
        transport = httpx.MockTransport(self.handle)
        return Client(base_url=BASE_URL, httpx_args={"transport": transport}, **client_args)


@dataclass(frozen=True)
class Result:
    """What one call returned: the parsed model, and the `Response` of detailed variants."""

    parsed: object
    response: Response[Any] | None


@dataclass(frozen=True)
class Operation:
    """One operation of the spec as the generated client exposes it."""

    operation_id: str
    module: ModuleType
    path: str  # the exact URL path that the call must hit
    path_args: tuple[str, ...]
    body: InitializeHashSigningRequest | HashSigningStatusRequest
    sent_json: dict[str, object]  # what `body` must become on the wire
    ok_model: type[InitializeHashSigningOk] | type[HashSigningStatusOk]
    ok_json: dict[str, object]  # a 200 body that fits `ok_model`

    def call(self, client: Client, variant: str) -> Result:
        """Call one of the module's four functions, closing the client afterwards."""
        function: Callable[..., Any] = getattr(self.module, variant)
        if variant.startswith("asyncio"):

            async def run() -> object:
                async with client:
                    return await function(*self.path_args, client=client, body=self.body)

            returned = asyncio.run(run())
        else:
            with client:
                returned = function(*self.path_args, client=client, body=self.body)
        if variant.endswith("_detailed"):
            assert isinstance(returned, Response)
            return Result(parsed=returned.parsed, response=returned)
        return Result(parsed=returned, response=None)


_INITIALIZE_BODY = InitializeHashSigningRequest(
    access_token=ACCESS_TOKEN,
    hash_=HASH_HEX,
    hash_algorithm=HashAlgorithm.SHA256,
    country=Country.LT,
    code="30303039914",
    message="Sign the contract no. 1",
    certificate_level=CertificateLevel.QUALIFIED,
)
_INITIALIZE_JSON: dict[str, object] = {
    "access_token": ACCESS_TOKEN,
    "hash": HASH_HEX,
    "hash_algorithm": "SHA256",
    "country": "LT",
    "code": "30303039914",
    "message": "Sign the contract no. 1",
    "certificate_level": "QUALIFIED",
}
_INITIALIZE_OK: dict[str, object] = {
    "status": "ok",
    "token": SESSION_TOKEN,
    "control_code": "9403",
}
_STATUS_BODY = HashSigningStatusRequest(access_token=ACCESS_TOKEN)
_STATUS_JSON: dict[str, object] = {"access_token": ACCESS_TOKEN}
_STATUS_OK: dict[str, object] = {"status": "ok", "signature_value": "T2RKYUlGL1dxUUJj"}

OPERATIONS = (
    Operation(
        operation_id="initializeHashSigning",
        module=initialize_hash_signing,
        path="/smartid/sign/hash.json",
        path_args=(),
        body=_INITIALIZE_BODY,
        sent_json=_INITIALIZE_JSON,
        ok_model=InitializeHashSigningOk,
        ok_json=_INITIALIZE_OK,
    ),
    Operation(
        operation_id="initializeHashSigningEn",
        module=initialize_hash_signing_en,
        path="/en/smartid/sign/hash.json",
        path_args=(),
        body=_INITIALIZE_BODY,
        sent_json=_INITIALIZE_JSON,
        ok_model=InitializeHashSigningOk,
        ok_json=_INITIALIZE_OK,
    ),
    Operation(
        operation_id="getHashSigningStatus",
        module=get_hash_signing_status,
        path=f"/smartid/sign/hash/status/{SESSION_TOKEN}.json",
        path_args=(SESSION_TOKEN,),
        body=_STATUS_BODY,
        sent_json=_STATUS_JSON,
        ok_model=HashSigningStatusOk,
        ok_json=_STATUS_OK,
    ),
    Operation(
        operation_id="getHashSigningStatusEn",
        module=get_hash_signing_status_en,
        path=f"/en/smartid/sign/hash/status/{SESSION_TOKEN}.json",
        path_args=(SESSION_TOKEN,),
        body=_STATUS_BODY,
        sent_json=_STATUS_JSON,
        ok_model=HashSigningStatusOk,
        ok_json=_STATUS_OK,
    ),
)
