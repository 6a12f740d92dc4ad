"""Hypothesis profiles of the contract suite: `dev` (the default, fast) and `ci` (deeper).

`CONTRACT_SETTINGS` is the selected one: HYPOTHESIS_PROFILE=dev or =ci picks it by name;
otherwise CI=true (which .ci/run sets) picks `ci`. Contract tests apply it with
`@settings(CONTRACT_SETTINGS)` rather than loading it for the whole session, so other
suites keep their own settings; it sets how many examples every property test and every
Schemathesis operation test draws, and how many scenarios the stateful test runs.
(Registered as `contract-dev` and `contract-ci`: Hypothesis loads a `ci` profile of its own
in CI, which a profile of that name would replace for every suite.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from hypothesis import HealthCheck, settings

PROFILE_ENV = "HYPOTHESIS_PROFILE"
PROFILES = {"dev": "contract-dev", "ci": "contract-ci"}

_common = settings(
    settings.get_profile("default"),  # the same everywhere, whatever profile is loaded
    deadline=None,  # a request's time depends on the machine, not on the input
    print_blob=True,  # a failure prints @reproduce_failure(...) to replay it
    # One simulator serves all the examples of a test, on purpose; drawing 128-digit hashes
    # from a pattern is slow on its own.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
settings.register_profile(PROFILES["dev"], _common, max_examples=25)
settings.register_profile(PROFILES["ci"], _common, max_examples=150)


def selected_profile(environ: Mapping[str, str]) -> str:
    named = environ.get(PROFILE_ENV)
    if named in PROFILES:
        return named
    return "ci" if environ.get("CI", "").lower() in ("1", "true", "yes") else "dev"


PROFILE = selected_profile(os.environ)
CONTRACT_SETTINGS = settings.get_profile(PROFILES[PROFILE])
