"""The control plane's own OpenAPI document (mock/marksign_mock/control.yaml): held to the
same validators as openapi.yaml, served at /_mock/, and fuzzed by Schemathesis with every
check (no 5xx, every answer fits the document). Bad control requests: one line, the error
shape, never a 5xx."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, settings
from marksign_mock import MockConfig, create_app
from marksign_mock.control import CONTROL_DOCUMENT
from openapi_spec_validator import validate as validate_openapi
from schemathesis import Case

from tests.contract.profiles import CONTRACT_SETTINGS
from tests.contract.suite import CaseTally, contract_config, phase_of
from tools import redocly

pytest_plugins = ["tests.contract.plugins.tally"]

DOCUMENT: dict[str, Any] = yaml.safe_load(CONTROL_DOCUMENT.read_text(encoding="utf-8"))


def test_openapi_spec_validator_accepts_the_control_document() -> None:
    assert DOCUMENT["openapi"] == "3.1.0"
    validate_openapi(DOCUMENT)


def test_redocly_lint_reports_no_errors_and_no_warnings() -> None:
    result = redocly.lint(CONTROL_DOCUMENT)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    findings = [line for line in output.splitlines() if re.search(r"\s(error|warning)\s", line)]
    assert findings == [], output
    assert "Your API description is valid" in output, output


@pytest.mark.parametrize("path", ["/_mock/", "/_mock"])
def test_the_document_is_served_at_the_control_root(
    marksign_mock_client: httpx.Client, path: str
) -> None:
    served = marksign_mock_client.get(path)
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/yaml")
    assert served.content == CONTROL_DOCUMENT.read_bytes()


def test_every_operation_of_the_document_is_routed(marksign_mock_client: httpx.Client) -> None:
    for path, item in DOCUMENT["paths"].items():
        for method in item:
            if method == "parameters":
                continue
            url = path.replace("{token}", "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d")
            url = url.replace("{id}", "999")
            answer = marksign_mock_client.request(method.upper(), url)
            assert answer.status_code not in (405, 500), (method, path, answer.text)
            if answer.status_code == 404:  # the resource, not the route, is unknown
                assert answer.json()["error_code"] in (40402, 40400), (path, answer.text)


BAD_REQUESTS = [
    ("POST", "/_mock/scenarios", {"personal_code": "123"}, "personal_code"),
    ("POST", "/_mock/scenarios", {"personal_code": "30303039914", "outcome": "MAYBE"}, "outcome"),
    (
        "POST",
        "/_mock/scenarios",
        {"personal_code": "30303039914", "outcome": "OK", "times": 0},
        "times",
    ),
    ("POST", "/_mock/errors", {"operation": "initialize"}, "error_code"),
    ("POST", "/_mock/errors", {"operation": "initialize", "error_code": "x"}, "error_code"),
    ("POST", "/_mock/faults", {"fault": "explode"}, "fault"),
    ("POST", "/_mock/faults", {"fault": "delay", "seconds": -1}, "seconds"),
    ("POST", "/_mock/faults", {"fault": "close", "operation": "nothing"}, "operation"),
    ("POST", "/_mock/faults", [1, 2], "body"),
    ("POST", "/_mock/sessions/not-a-token/answer", {}, "token"),
    ("GET", "/_mock/journal?status=abc", None, "status"),
    ("GET", "/_mock/journal?locale=de", None, "locale"),
    ("GET", "/_mock/journal?limit=1&limit=2", None, "limit"),  # given twice
    ("GET", "/_mock/journal?status=404&status=200", None, "status"),
    ("DELETE", "/_mock/scripts/x", None, "id"),
]


@pytest.mark.parametrize(("method", "path", "body", "param"), BAD_REQUESTS)
def test_a_bad_control_request_is_a_one_line_error_naming_the_parameter(
    marksign_mock_client: httpx.Client, method: str, path: str, body: Any, param: str
) -> None:
    answer = marksign_mock_client.request(method, path, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"] == "application/json"
    error = answer.json()
    assert set(error) == {"status", "message", "error_code"}
    assert error["error_code"] == 40001
    assert error["message"].startswith(f"Invalid parameter [{param}]: ")
    assert "\n" not in error["message"]


def test_a_control_body_that_is_not_json_is_refused(marksign_mock_client: httpx.Client) -> None:
    answer = marksign_mock_client.post(
        "/_mock/faults", content=b"{", headers={"content-type": "application/json"}
    )
    assert (answer.status_code, answer.json()["error_code"]) == (400, 40001)
    answer = marksign_mock_client.post("/_mock/faults", content=b"fault=close")
    assert (answer.status_code, answer.json()["error_code"]) == (415, 41500)


# -- Schemathesis over the control document -----------------------------------------------


schema = schemathesis.openapi.from_path(CONTROL_DOCUMENT, config=contract_config())
FUZZ_SETTINGS = settings(
    CONTRACT_SETTINGS,
    suppress_health_check=[*CONTRACT_SETTINGS.suppress_health_check, HealthCheck.filter_too_much],
)
# One simulator for the whole fuzzing run: scripts it arms pile up as a user's would.
APP = create_app(MockConfig(answer_delay=0.0, allow_any_code=True))


@schema.parametrize()
@FUZZ_SETTINGS
def test_the_control_plane_conforms_to_its_document(case: Case[Any], case_tally: CaseTally) -> None:
    """Examples, coverage and fuzzing, every check: no 5xx, every answer fits the document."""
    case_tally.add("control plane", phase_of(case))
    case.call_and_validate(app=APP)


def test_the_documents_fault_and_outcome_names_are_the_simulators() -> None:
    from marksign_mock.person import Outcome
    from marksign_mock.scripts import FAULT_KINDS

    schemas = DOCUMENT["components"]["schemas"]
    assert tuple(schemas["FaultKind"]["enum"]) == FAULT_KINDS
    assert schemas["Outcome"]["enum"] == [outcome.value for outcome in Outcome]
