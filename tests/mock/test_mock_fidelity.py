"""Fidelity to openapi.yaml: every operation has a route, in both locales, and answers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from marksign_mock import MockApp
from marksign_mock.app import HANDLERS, OperationRoute
from marksign_mock.errors import MESSAGES

SPEC_FILE = Path(__file__).resolve().parents[2] / "openapi.yaml"
SPEC: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
OPERATIONS = [
    (operation["operationId"], method.upper(), path)
    for path, item in SPEC["paths"].items()
    for method, operation in item.items()
    if isinstance(operation, dict) and "operationId" in operation
]
EXAMPLE_TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"


def test_the_spec_has_the_four_operations() -> None:
    assert len(OPERATIONS) == 4


def test_every_operation_of_the_spec_has_a_route(marksign_mock_app: MockApp) -> None:
    routes = {
        (operation.operation_id, method, route.path)
        for route in marksign_mock_app.routes
        if isinstance(route, OperationRoute)
        for method, operation in route.operations.items()
    }
    assert set(OPERATIONS) <= routes
    assert set(HANDLERS) == {operation_id for operation_id, _, _ in OPERATIONS}


def test_every_operation_exists_in_both_locales() -> None:
    paths = {path for _, _, path in OPERATIONS}
    bare = {path for path in paths if not path.startswith("/en/")}
    assert paths == bare | {"/en" + path for path in bare}
    for route_id, _, path in OPERATIONS:
        assert route_id.endswith("En") == path.startswith("/en/")


@pytest.mark.parametrize(("operation_id", "method", "path"), OPERATIONS)
def test_every_route_answers_in_its_locale(
    marksign_mock_client: httpx.Client, operation_id: str, method: str, path: str
) -> None:
    url = path.replace("{token}", EXAMPLE_TOKEN)
    response = marksign_mock_client.request(method, url, json={})
    assert response.status_code == 400  # routed and validated: not 404/40400 or 405
    message = response.json()["message"]
    english = path.startswith("/en/")
    assert message.startswith("Invalid parameter" if english else "Neteisingas parametras")


def test_every_error_code_of_the_simulator_is_one_the_spec_names() -> None:
    error_code = SPEC["components"]["schemas"]["Error"]["properties"]["error_code"]
    named = {int(code) for code in re.findall(r"\b\d{5}\b", error_code["description"])}
    assert set(MESSAGES) <= named
