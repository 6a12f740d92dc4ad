"""Counts the cases the contract suite runs and prints the counts at the end of the session.

Schemathesis cases are counted on every schema the `targets` plugin loads (one per request
checked, by target and phase); other tests add theirs through the `case_tally` fixture.
"""

from __future__ import annotations

import pytest

from ..profiles import PROFILE
from ..suite import CaseTally

TALLY = pytest.StashKey[CaseTally]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[TALLY] = CaseTally()


@pytest.fixture(scope="session")
def case_tally(pytestconfig: pytest.Config) -> CaseTally:
    return pytestconfig.stash[TALLY]


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    tally = config.stash.get(TALLY, None)
    if tally is None or not tally.counts:
        return
    total = sum(tally.counts.values())
    terminalreporter.write_sep(
        "-", f"contract suite: {total} cases, Hypothesis profile {PROFILE!r}"
    )
    for line in tally.lines():
        terminalreporter.write_line(f"  {line}")
