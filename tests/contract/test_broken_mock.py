"""The suite fails against simulators that break the contract, each in one way.

A check that never fails proves nothing: each variant in `broken.py` breaks one promise of
the contract, and the whole suite (every phase and check of schemathesis.toml, run as
`schemathesis run` runs it) must stop at a failure of the check that guards that promise.
The failures are collected as data, not read from a pytest outcome.
"""

from __future__ import annotations

from typing import Any

import pytest
from marksign_contract import hooks
from marksign_mock import create_app
from schemathesis.checks import CheckFunction
from schemathesis.core.failures import FailureGroup

from tests.spec_facts import DOCS_ACCESS_TOKEN

from .broken import CAUGHT_BY, BrokenSimulator, Rewrite, signs_unknown_sessions
from .suite import (
    CONTRACT_MOCK_CONFIG,
    CaseTally,
    ContractTarget,
    RunOutcome,
    contract_config,
    run_all_phases,
    spec_file_schema,
)

pytest_plugins = [
    "tests.contract.plugins.tally",
]

# Every variant breaks on most requests it touches: a few examples find it.
MAX_EXAMPLES = 5


def run_against(app: object, *, max_failures: int | None) -> RunOutcome:
    config = contract_config(max_failures=max_failures)
    schema = ContractTarget("broken", app=app, base_url="").load_schema(config)
    schema.config.generation.update(max_examples=MAX_EXAMPLES)
    outcome = run_all_phases(schema)
    assert not outcome.errors, outcome.errors
    assert outcome.cases > 0
    return outcome


@pytest.mark.parametrize("rewrite", list(CAUGHT_BY), ids=lambda rewrite: rewrite.__name__)
def test_suite_catches_a_broken_simulator(rewrite: Rewrite, case_tally: CaseTally) -> None:
    # Stopping at the first failure keeps this fast, and that failure must be the right one.
    outcome = run_against(BrokenSimulator(rewrite), max_failures=1)
    case_tally.add("broken simulators", rewrite.__name__, outcome.cases)
    failed = sorted(outcome.failures)
    assert failed == sorted(CAUGHT_BY[rewrite]), f"{rewrite.__doc__} Failing checks: {failed}"


def test_suite_passes_the_simulator_it_wraps(case_tally: CaseTally) -> None:
    """The control: the same run against the simulator itself finds nothing."""
    outcome = run_against(create_app(CONTRACT_MOCK_CONFIG), max_failures=None)
    case_tally.add("broken simulators", "control (unbroken)", outcome.cases)
    assert dict(outcome.failures) == {}


def test_a_session_issued_by_one_server_is_unknown_to_another() -> None:
    """One process may test several servers (this suite: in process and over a socket).

    A token that one server issued is not a session of another: a 200 for it there breaks
    the contract as much as a 200 for a token nobody issued.
    """
    schema = spec_file_schema()
    initialize = schema.find_operation_by_label("POST /smartid/sign/hash.json")
    status = schema.find_operation_by_label("POST /smartid/sign/hash/status/{token}.json")
    assert initialize is not None
    assert status is not None
    issuer, liar = create_app(CONTRACT_MOCK_CONFIG), BrokenSimulator(signs_unknown_sessions)
    body: dict[str, Any] = {
        "access_token": DOCS_ACCESS_TOKEN,
        "hash": "4e7a9ec2d9a7e4d3ed3c0d10b1a15bd4c56b81f7df6f8bc8e3a0dd7b4e5a7bbf",
        "hash_algorithm": "SHA256",
        "country": "LT",
        "code": "30303039914",
    }
    started = initialize.Case(body=body).call(app=issuer, base_url="http://issuer.test")
    assert started.status_code == 200, started.text
    token = started.json()["token"]

    def ask(app: object, base_url: str) -> None:
        case = status.Case(path_parameters={"token": token}, body={"access_token": "valid"})
        checks: list[CheckFunction] = [hooks.unknown_session_not_found]
        case.call_and_validate(app=app, base_url=base_url, checks=checks)

    ask(issuer, "http://issuer.test")  # its own session: found, and the check agrees
    with pytest.raises(FailureGroup, match="unknown_session_not_found"):
        ask(liar, "http://liar.test")  # signs a session it never started
