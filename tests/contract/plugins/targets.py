"""The simulator as the contract suite tests it: in process, and over a real socket.

`contract_target` is parametrized over the two targets: `asgi` (the app in process, a fresh
one per test) and `socket` (the `marksign-mock` console script as a subprocess on
127.0.0.1, one per session). `contract_schema` is the spec as that target serves it at
`/_mock/openapi.yaml`, with the settings of schemathesis.toml; its cases are counted.
Nothing leaves 127.0.0.1. Needs the `tally` plugin (the `case_tally` fixture).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from marksign_contract._process import SIMULATOR_OPTIONS
from marksign_mock import SimulatorProcess, create_app
from schemathesis import BaseSchema

from tests.spec_facts import DOCS_ACCESS_TOKEN

from ..suite import CONTRACT_MOCK_CONFIG, CaseTally, ContractTarget


@pytest.fixture(scope="session")
def simulator_process() -> Iterator[SimulatorProcess]:
    """`marksign-mock` on a free loopback port, answering at once, for the whole session."""
    with SimulatorProcess(SIMULATOR_OPTIONS, access_token=DOCS_ACCESS_TOKEN) as process:
        yield process


@pytest.fixture(params=["asgi", pytest.param("socket", marks=pytest.mark.socket)])
def contract_target(request: pytest.FixtureRequest) -> ContractTarget:
    if request.param == "asgi":
        return ContractTarget("asgi", app=create_app(CONTRACT_MOCK_CONFIG), base_url="")
    process: SimulatorProcess = request.getfixturevalue("simulator_process")
    return ContractTarget("socket", app=None, base_url=process.base_url)


@pytest.fixture
def contract_schema(contract_target: ContractTarget, case_tally: CaseTally) -> BaseSchema:
    schema = contract_target.load_schema()
    case_tally.count_schema_cases(schema, contract_target.name)
    return schema
