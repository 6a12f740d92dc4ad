"""The suite fails against simulators that break the contract, each in one way.

A check that never fails proves nothing: each variant in `broken.py` breaks one promise of
the contract, and the whole suite (every phase and check of schemathesis.toml, run as
`schemathesis run` runs it) must stop at a failure of the check that guards that promise.
The failures are collected as data, not read from a pytest outcome.
"""

from __future__ import annotations

import pytest
from marksign_mock import create_app

from .broken import CAUGHT_BY, BrokenSimulator, Rewrite
from .suite import (
    CONTRACT_MOCK_CONFIG,
    CaseTally,
    ContractTarget,
    RunOutcome,
    contract_config,
    run_all_phases,
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
    assert failed == [CAUGHT_BY[rewrite]], f"{rewrite.__doc__} Failing checks: {failed}"


def test_suite_passes_the_simulator_it_wraps(case_tally: CaseTally) -> None:
    """The control: the same run against the simulator itself finds nothing."""
    outcome = run_against(create_app(CONTRACT_MOCK_CONFIG), max_failures=None)
    case_tally.add("broken simulators", "control (unbroken)", outcome.cases)
    assert dict(outcome.failures) == {}
