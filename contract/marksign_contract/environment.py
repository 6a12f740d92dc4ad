"""What the runner (cli.py) and the Schemathesis hooks (hooks.py) share.

The hooks run inside the `schemathesis run` subprocess; the runner tells them what to do
through these environment variables. Kept apart from hooks.py so that the runner does not
import Schemathesis (nor register its hooks) in its own process.
"""

from __future__ import annotations

from typing import Final

ACCESS_TOKEN_ENV: Final = "MARKSIGN_CONTRACT_ACCESS_TOKEN"  # noqa: S105 -- a variable name
MAX_REQUESTS_ENV: Final = "MARKSIGN_CONTRACT_MAX_REQUESTS"
REQUEST_COUNT_FILE_ENV: Final = "MARKSIGN_CONTRACT_REQUEST_COUNT_FILE"
