"""Schemathesis against the simulator, in process (`asgi`) and over a real socket (`socket`).

All four operations, every phase (the spec's examples, coverage of each schema keyword,
fuzzing with valid and invalid data, and stateful initialize → status chains through the
spec's links), every built-in check and ours, as schemathesis.toml sets them. A failure
prints Schemathesis's report of the request and the response with a curl line that replays
it; the seed is printed at the end of the session.
"""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, settings
from marksign_spec import default_spec_path as spec_path
from schemathesis import BaseSchema, Case, Response
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from .profiles import CONTRACT_SETTINGS
from .suite import CaseTally, ContractTarget, phase_of, spec_file_schema

pytest_plugins = [
    "tests.contract.plugins.tally",
    "tests.contract.plugins.targets",
]

STATUS_OPERATION_IDS = {"getHashSigningStatus", "getHashSigningStatusEn"}

# Built at import time, so Schemathesis can make one test per operation. (Its lazy
# `schemathesis.pytest.from_fixture` loader does not work with pytest 9.2: it sets the
# removed `Node._nodeid`.) The targets serve the same file, as the next test shows.
schema = spec_file_schema()


def test_simulator_serves_the_spec(contract_schema: BaseSchema) -> None:
    assert contract_schema.raw_schema == yaml.safe_load(spec_path().read_text(encoding="utf-8"))


@schema.parametrize()
@settings(CONTRACT_SETTINGS)
def test_every_operation_conforms(
    case: Case[Any], contract_target: ContractTarget, case_tally: CaseTally
) -> None:
    """Examples, coverage and fuzzing phases: one test per operation and target."""
    case_tally.add(contract_target.name, phase_of(case))
    case.call_and_validate(**contract_target.call_kwargs)


def test_initialize_then_status_conforms(contract_schema: BaseSchema) -> None:
    """Stateful phase: the links carry initialize's `token` and `access_token` into status."""
    signed: list[Response] = []
    linked: set[tuple[ParameterLocation, str | None]] = set()

    class Workflows(contract_schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: StepInput) -> StepOutput:
            output: StepOutput = super().step(input)
            operation = input.case.operation
            if operation.schema.get_operation_id(operation) in STATUS_OPERATION_IDS:
                if input.transition is not None:
                    linked.update(input.applied_parameters)
                if output.response.status_code == 200:
                    signed.append(output.response)
            return output

    # Schemathesis's state machine discards the draws of transitions it cannot take (a
    # status step before any session exists); on a short run that sometimes trips
    # Hypothesis's filter_too_much health check, which says nothing about the API.
    # Derandomized: the chains are the same on every run (the fuzzing tests above explore
    # at random), so whether one reaches a signature is decided by the code, not by luck.
    stateful = settings(
        CONTRACT_SETTINGS,
        stateful_step_count=4,
        derandomize=True,
        database=None,
        suppress_health_check=[
            *CONTRACT_SETTINGS.suppress_health_check,
            HealthCheck.filter_too_much,
        ],
    )
    Workflows.run(settings=stateful)

    # The link applied both of its halves: the path parameter and the request body's key...
    assert (ParameterLocation.PATH, "token") in linked, linked
    assert (ParameterLocation.BODY, "access_token") in linked, linked
    # ...and chains got through to a signature.
    assert signed, "no status call answered with a signature"
