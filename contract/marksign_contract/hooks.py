"""Schemathesis hooks of the contract suite; `hooks` in schemathesis.toml loads this module.

The access token. The server accepts one token, but Schemathesis generates a random one for
every request. Before each call, a body's `access_token` that is schema-valid (a string of
1 to 256 characters) becomes `TOKEN_STAND_IN`; a deliberately invalid one (missing, empty,
too long, not a string) stays as generated, so negative testing still reaches it. The real
token replaces the stand-in only in the bytes that go on the wire (a `requests` auth hook),
and the stand-in is put back on the recorded request as soon as the answer (or a network
error) comes back. JUnit, HAR, the JSON report and Schemathesis's cache therefore only ever
see the stand-in (curl lines not even that: sanitisation filters `access_token`). The token
comes from `ACCESS_TOKEN_ENV`, else it is the docs' sample token, which the simulator
accepts by default. Loading schemathesis.toml registers these hooks for the whole process.

The request budget. With `MAX_REQUESTS_ENV` set, the hook refuses to send more than that many
requests: the one over the budget stops the run (as Ctrl+C would) before anything is sent.
With `REQUEST_COUNT_FILE_ENV` set, the number sent so far is written to that file after
each request (so it is right however the process ends).

State. Schemathesis calls hooks and checks as plain functions with no object of the run to
keep things on (its schema and case classes have `__slots__`), so what a run remembers (the
request count, the issued tokens) lives in one `RunState`, created when Schemathesis loads
this module, i.e. once per `schemathesis run` process; there is no other module state.
Contract facts (the status operations, the access token's length limits, the docs' sample
token) come from the spec layer.

Two checks of our own hold the status call to its token. The built-in checks accept any
documented, schema-valid answer, so they see nothing wrong in a 200 for a token nobody
issued, nor in a 404 for the session just started; `ensure_resource_availability` would
catch the latter, but only for URLs nested under the creating one, which ours are not
(`/smartid/sign/hash.json` then `/smartid/sign/hash/status/{token}.json`).

- `unknown_session_not_found`: a token that no initialize answer of the same server has
  carried does not answer 200 (the contract: 404 with error_code 40402). Every token an
  initialize answer carries is remembered, per server (the scheme, host and port requests go
  to): Schemathesis reuses values from earlier answers in later cases, even against another
  server when one process tests several (the contract suite: in process and over a socket);
- `issued_session_found`: a token that initialize issued earlier in the same stateful
  scenario (so: on the same server, moments ago) does not answer 40402.

A third holds every error answer to the spec's assumption, `error_status_matches_code`:
the HTTP status is the first three digits of `error_code`. The schema bounds `error_code`
only for the statuses it lists, so an answer such as 410 / 40402 passes every other check.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import schemathesis
from marksign_spec import Spec, load_spec
from requests.auth import AuthBase

from .environment import ACCESS_TOKEN_ENV, MAX_REQUESTS_ENV, REQUEST_COUNT_FILE_ENV

# What requests carry until they are sent, and all that reports show.
TOKEN_STAND_IN = "access-token-added-when-sent"  # noqa: S105

_STAND_IN_JSON = json.dumps(TOKEN_STAND_IN).encode()
_SHOWN = "_marksign_contract_shown"  # attribute of a PreparedRequest: its body before the token


class RequestBudgetExhausted(KeyboardInterrupt):
    """The request budget is spent: stop the run the way Ctrl+C does, reports included."""


class RunState:
    """What one `schemathesis run` remembers: requests sent, session tokens issued."""

    def __init__(self, spec: Spec) -> None:
        self.status_operation_ids = frozenset(spec.operation_ids("status"))
        limits = spec.limits
        self.access_token_lengths = (limits.access_token_min_length, limits.access_token_max_length)
        self.default_access_token = spec.sample_access_token
        self._lock = threading.Lock()
        self.sent = 0
        self._tokens: dict[str, set[str]] = {}  # by server (`origin`)

    def take_request(self) -> None:
        """Count one request; RequestBudgetExhausted once the budget is spent."""
        limit = os.environ.get(MAX_REQUESTS_ENV)
        count_file = os.environ.get(REQUEST_COUNT_FILE_ENV)
        with self._lock:
            if limit is not None and self.sent >= int(limit):
                raise RequestBudgetExhausted(f"the request budget of {limit} is spent")
            self.sent += 1
            if count_file:
                Path(count_file).write_text(f"{self.sent}\n", encoding="utf-8")

    def is_schema_valid_access_token(self, value: object) -> bool:
        low, high = self.access_token_lengths
        return isinstance(value, str) and low <= len(value) <= high

    def add_issued(self, origin: str, token: str) -> None:
        with self._lock:
            self._tokens.setdefault(origin, set()).add(token)

    def issued(self, origin: str, token: object) -> bool:
        with self._lock:
            return token in self._tokens.get(origin, ())


_run = RunState(load_spec())


class _AddAccessToken(AuthBase):
    """Swap the stand-in for the real token in the bytes sent; restore it once answered."""

    def __init__(self, token: str) -> None:
        self._token_json = json.dumps(token).encode()

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        if isinstance(body, str):
            body = body.encode()
        if not isinstance(body, bytes) or _STAND_IN_JSON not in body:
            return request
        setattr(request, _SHOWN, (request.body, request.headers.get("Content-Length")))
        sent = body.replace(_STAND_IN_JSON, self._token_json)
        request.body = sent
        request.headers["Content-Length"] = str(len(sent))
        request.register_hook("response", _restore_on_response)
        return request


def _restore(request: requests.PreparedRequest) -> None:
    shown = getattr(request, _SHOWN, None)
    if shown is None:
        return
    body, length = shown
    request.body = body
    if length is not None:
        request.headers["Content-Length"] = length
    delattr(request, _SHOWN)


def _restore_on_response(response: requests.Response, **_: Any) -> requests.Response:
    _restore(response.request)
    return response


@schemathesis.hook
def before_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], kwargs: dict[str, Any]
) -> None:
    _run.take_request()
    body = case.body
    if isinstance(body, dict) and _run.is_schema_valid_access_token(body.get("access_token")):
        body["access_token"] = TOKEN_STAND_IN
        token = os.environ.get(ACCESS_TOKEN_ENV) or _run.default_access_token
        kwargs["auth"] = _AddAccessToken(token)


@schemathesis.hook
def after_call(
    context: schemathesis.HookContext, case: schemathesis.Case[Any], response: schemathesis.Response
) -> None:
    if response.status_code == 200 and not _is_status_call(case):
        token = _json_field(response, "token")
        if isinstance(token, str):
            _run.add_issued(_origin(response), token)


@schemathesis.hook
def after_network_error(
    context: schemathesis.HookContext,
    case: schemathesis.Case[Any],
    request: requests.PreparedRequest,
) -> None:
    # No answer, so no response hook ran: take the token out before the request is recorded.
    _restore(request)


@schemathesis.check
def unknown_session_not_found(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    if response.status_code != 200 or not _is_status_call(case):
        return None
    token = case.path_parameters.get("token")
    if _run.issued(_origin(response), token) or _issued_earlier(ctx, case, token):
        return None
    raise AssertionError(
        f"The status call answered {response.status_code} for the session token {token!r}, "
        "which no initialize answer carried; an unknown token must answer 404 with error_code "
        "40402."
    )


@schemathesis.check
def issued_session_found(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    if response.status_code != 404 or not _is_status_call(case):
        return None
    token = case.path_parameters.get("token")
    if _json_field(response, "error_code") != 40402 or not _issued_earlier(ctx, case, token):
        return None
    raise AssertionError(
        f"The status call answered 404 (40402, session not found) for the session token "
        f"{token!r}, which initialize issued earlier in this scenario."
    )


def _is_status_call(case: schemathesis.Case[Any]) -> bool:
    operation = case.operation
    return operation.schema.get_operation_id(operation) in _run.status_operation_ids


def _origin(response: schemathesis.Response) -> str:
    """The server that answered: scheme, host and port of the request (the ASGI app's too)."""
    parts = urlsplit(response.request.url or "")
    return f"{parts.scheme}://{parts.netloc}".lower()


def _issued_earlier(
    ctx: schemathesis.CheckContext, case: schemathesis.Case[Any], token: object
) -> bool:
    """Whether an earlier answer of this scenario (a stateful chain) issued `token`."""
    ancestor = ctx.internals.find_parent(case_id=case.id)
    while ancestor is not None:
        answer = ctx.internals.find_response(case_id=ancestor.id)
        if answer is not None and _json_field(answer, "token") == token:
            return True
        ancestor = ctx.internals.find_parent(case_id=ancestor.id)
    return False


def _json_field(response: schemathesis.Response, name: str) -> object:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


@schemathesis.check
def error_status_matches_code(
    ctx: schemathesis.CheckContext, response: schemathesis.Response, case: schemathesis.Case[Any]
) -> bool | None:
    """An answer with an integer `error_code` has that code's first three digits as status."""
    try:
        body = response.json()
    except ValueError:
        return None
    code = body.get("error_code") if isinstance(body, dict) else None
    if not isinstance(code, int) or isinstance(code, bool):
        return None  # not the error shape: response_schema_conformance judges that
    if len(str(code)) == 5 and str(code)[:3] == str(response.status_code):
        return None
    raise AssertionError(
        f"The answer has HTTP status {response.status_code} but error_code {code}; the"
        f" contract (openapi.yaml, Assumptions) makes the status the first three digits of"
        f" error_code: {str(code)[:3]}."
    )
