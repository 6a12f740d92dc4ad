"""Fidelity to openapi.yaml: every operation has a route, in both locales, and answers."""

from __future__ import annotations

import re

import httpx
import pytest
from marksign_mock import MockApp
from marksign_mock.exceptions import MESSAGES
from marksign_mock.routing import OperationRoute

from tests.spec_facts import SPEC

OPERATIONS = [(op.operation_id, op.method, op.path) for op in SPEC.operations]
EXAMPLE_TOKEN = "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d"


def test_the_spec_has_the_four_operations() -> None:
    assert len(OPERATIONS) == 4


def test_every_operation_of_the_spec_has_a_route(marksign_mock_app: MockApp) -> None:
    routes = {
        (route.operation.operation_id, route.operation.method, route.path)
        for route in marksign_mock_app.routes
        if isinstance(route, OperationRoute)
    }
    assert routes == set(OPERATIONS)
    assert {op.role for op in SPEC.operations} == {"initialize", "status"}


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
    error_code = SPEC.component_schemas()["Error"]["properties"]["error_code"]
    named = {int(code) for code in re.findall(r"\b\d{5}\b", error_code["description"])}
    assert set(MESSAGES) <= named
