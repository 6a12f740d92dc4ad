"""Contract facts the tests use, all from the spec layer (never typed here by hand)."""

from __future__ import annotations

from marksign_spec import load_spec

SPEC = load_spec()
DOCS_ACCESS_TOKEN = SPEC.sample_access_token
STATUS_OPERATION_IDS = SPEC.operation_ids("status")
INITIALIZE_OPERATION_IDS = SPEC.operation_ids("initialize")
