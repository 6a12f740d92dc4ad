"""What the contract suite tests and how it counts: shared by its plugins and test modules.

(Plugin modules hold only fixtures and hooks: pytest must import them itself to rewrite
their asserts, so test modules import from here instead.)
"""

from __future__ import annotations

import os
import random
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from marksign_contract.cli import CONFIG_FILE
from marksign_mock import MockConfig
from marksign_spec import default_spec_path as spec_path
from schemathesis import BaseSchema, Case, HookContext, Response
from schemathesis.checks import CheckResult
from schemathesis.engine import events, from_schema

from tests.spec_facts import DOCS_ACCESS_TOKEN

SEED_ENV = "MARKSIGN_CONTRACT_SEED"
SERVED_SPEC = "/_mock/openapi.yaml"

# Answers at once and lets every well-formed personal code sign, so generated requests reach
# the end of a session quickly; the docs' sample token is the accepted one (hooks.py sends it).
CONTRACT_MOCK_CONFIG = MockConfig(
    answer_delay=0.0, allow_any_code=True, access_tokens=frozenset({DOCS_ACCESS_TOKEN})
)

# One Schemathesis seed per session, printed at its end; set SEED_ENV to repeat a session.
SEED = int(os.environ.get(SEED_ENV) or random.SystemRandom().getrandbits(64))


def contract_config(*, max_failures: int | None = None) -> schemathesis.Config:
    """schemathesis.toml (the one `make contract` uses too), with this session's seed."""
    config = schemathesis.Config.from_path(CONFIG_FILE)
    config.update(seed=SEED, max_failures=max_failures)
    return config


def spec_file_schema() -> BaseSchema:
    """openapi.yaml from the repository, for tests that Schemathesis builds at import time.

    The simulators serve this very file (test_schemathesis.py checks it).
    """
    return schemathesis.openapi.from_path(spec_path(), config=contract_config())


@dataclass(frozen=True)
class ContractTarget:
    """A simulator to test: the app in process, or a server on a loopback socket."""

    name: str
    app: Any  # the ASGI app in process, or None over the socket
    base_url: str  # "" in process

    @property
    def call_kwargs(self) -> dict[str, Any]:
        """What `case.call_and_validate(...)` needs to reach this target."""
        return {"app": self.app} if self.app is not None else {"base_url": self.base_url}

    def load_schema(self, config: schemathesis.Config | None = None) -> BaseSchema:
        """The spec as this target serves it, with the suite's settings (or `config`)."""
        config = contract_config() if config is None else config
        if self.app is not None:
            return schemathesis.openapi.from_asgi(SERVED_SPEC, self.app, config=config)
        url = self.base_url + SERVED_SPEC
        schema = schemathesis.openapi.from_url(url, config=config)
        schema.config.update(base_url=self.base_url)  # never a `servers` entry of the spec
        return schema


class CaseTally:
    """How many cases the suite ran, by source (target, property test) and kind (phase...)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()
        self.notes: dict[str, str] = {}  # printed under the counts, one per key

    def add(self, source: str, kind: str, count: int = 1) -> None:
        with self._lock:
            self.counts[source, kind] += count

    def count_schema_cases(self, schema: BaseSchema, source: str) -> None:
        """Count every case checked with `schema`, by phase."""

        def after_validate(
            context: HookContext, case: Case[Any], response: Response, results: list[CheckResult]
        ) -> None:
            self.add(source, phase_of(case))

        schema.hooks.register_hook_with_name(after_validate, "after_validate")
        self.notes["seed"] = f"Schemathesis seed {SEED} (repeat with {SEED_ENV}={SEED})"

    def lines(self) -> list[str]:
        totals: Counter[str] = Counter()
        kinds: dict[str, list[str]] = {}
        for (source, kind), count in sorted(self.counts.items()):
            totals[source] += count
            kinds.setdefault(source, []).append(f"{kind} {count}")
        counted = [f"{source}: {totals[source]} ({', '.join(kinds[source])})" for source in kinds]
        return [*counted, *self.notes.values()]


def phase_of(case: Case[Any]) -> str:
    return case.meta.phase.name.value if case.meta is not None else "other"


@dataclass
class RunOutcome:
    """What a Schemathesis run found, as data."""

    cases: int = 0
    failures: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)


def run_all_phases(schema: BaseSchema) -> RunOutcome:
    """Run every phase and check as `schemathesis run` does (its engine), collecting failures.

    `failures` maps a check's name to its reports (each with a curl line to replay).
    """
    outcome = RunOutcome()
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            outcome.cases += len(event.recorder.cases)
            for checks in event.recorder.checks.values():
                for check in checks:
                    if check.failure_info is not None:
                        info = check.failure_info
                        report = f"{info.failure.title}: {info.failure.message}\n{info.code_sample}"
                        outcome.failures[check.name].append(report)
        elif isinstance(event, events.NonFatalError):
            outcome.errors.append(f"{event.label}: {event.info.title}: {event.info.message}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return outcome
