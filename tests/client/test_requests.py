"""What the generated client sends: method, exact URL path and JSON body, in every variant."""

import json
from pathlib import Path
from types import ModuleType

import pytest
import yaml
from marksign_client.api.hash_signing import get_hash_signing_status, get_hash_signing_status_en
from marksign_client.models import HashSigningStatusRequest

from tests.client.fake_gateway import (
    ACCESS_TOKEN,
    OPERATIONS,
    SESSION_TOKEN,
    FakeGateway,
    Operation,
)

SPEC = Path(__file__).resolve().parents[2] / "openapi.yaml"


def test_the_catalog_covers_every_operation_of_the_spec() -> None:
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    in_spec = {
        operation["operationId"]: path.replace("{token}", SESSION_TOKEN)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method == "post"
    }
    assert {operation.operation_id: operation.path for operation in OPERATIONS} == in_spec


def test_sends_a_post_with_json_to_the_exact_path(
    gateway: FakeGateway, operation: Operation, variant: str
) -> None:
    gateway.answer_json(200, operation.ok_json)

    operation.call(gateway.client(), variant)

    [request] = gateway.requests
    assert request.method == "POST"
    assert request.url.host == "gateway.test"
    assert request.url.raw_path == operation.path.encode()
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == operation.sent_json


@pytest.mark.parametrize("module", [get_hash_signing_status, get_hash_signing_status_en])
def test_a_token_cannot_change_which_url_is_called(
    gateway: FakeGateway, module: ModuleType
) -> None:
    gateway.answer_json(404, {"status": "error", "message": "Not found", "error_code": 40402})
    body = HashSigningStatusRequest(access_token=ACCESS_TOKEN)

    with gateway.client() as client:
        module.sync("../../x?y#z", client=client, body=body)

    [request] = gateway.requests
    assert request.url.raw_path.endswith(b"/smartid/sign/hash/status/..%2F..%2Fx%3Fy%23z.json")
    assert request.url.query == b""
