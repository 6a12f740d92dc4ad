"""The spec layer: the one reader of the contract facts in `openapi.yaml`, Mark Sign's API.

    from marksign_spec import load_spec
    spec = load_spec()                        # the packaged copy, else the repository's
    spec.operation("getHashSigningStatusEn")  # path, method, locale, role, schemas
    spec.operations_in("status")              # both locales of the status call
    spec.limits.access_token_max_length       # 256, read from the document

Everything of this project that needs a contract fact (the simulator, the contract runner,
the tests, the benchmarks) asks this package. The file itself goes only to the tools that
take one (openapi-python-client, Redocly, Optic, Prism, Mockoon), to the change report,
which diffs two versions of it, and to the spec's own tests. It imports nothing else of
the project.
"""

from __future__ import annotations

from ._document import SpecError, default_spec_path, ref_target, resolve_refs
from ._spec import (
    Document,
    Limits,
    Locale,
    Operation,
    Role,
    Spec,
    load_document,
    load_spec,
    locale_of,
)

__all__ = [
    "Document",
    "Limits",
    "Locale",
    "Operation",
    "Role",
    "Spec",
    "SpecError",
    "default_spec_path",
    "load_document",
    "load_spec",
    "locale_of",
    "ref_target",
    "resolve_refs",
]
