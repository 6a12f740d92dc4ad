"""Fixtures of the client tests: every test runs against each operation and each variant."""

import pytest

from tests.client.fake_gateway import OPERATIONS, VARIANTS, FakeGateway, Operation


@pytest.fixture
def gateway() -> FakeGateway:
    return FakeGateway()


@pytest.fixture(params=OPERATIONS, ids=lambda operation: operation.operation_id)
def operation(request: pytest.FixtureRequest) -> Operation:
    chosen: Operation = request.param
    return chosen


@pytest.fixture(params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    chosen: str = request.param
    return chosen
