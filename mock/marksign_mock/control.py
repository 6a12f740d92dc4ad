"""The control plane under `/_mock/`: how a test programs the simulator and reads its state.

Described by its own OpenAPI document, `control.yaml` beside this module (served at
`/_mock/`), apart from `openapi.yaml`, the gateway's contract. Its request bodies and
parameters are validated against that document with the same validators as the
gateway's (a bad control request is a one-line 40001 in the error shape). Sessions,
scripts and the journal are the store's (`stores.Store`): this process's, or those of
every process that shares a Redis store.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from marksign_spec import Document, Spec, load_document
from starlette.requests import Request
from starlette.responses import Response

from . import crypto
from .exceptions import ApiError
from .journal import JournalQuery
from .models import Session
from .person import Outcome
from .rendering import CONTROL_PREFIX, JSONBytesResponse
from .routing import ExactRoute
from .scripts import ErrorScript, Fault, Scenario, Script, ScriptStore
from .stores import Store, reset_all
from .validation import CheckedOperation, Validator, checked_operations

CONTROL_DOCUMENT: Final = Path(__file__).with_name("control.yaml")

Endpoint = Callable[[Request], Awaitable[Response]]


def control_document() -> Document:
    return load_document(CONTROL_DOCUMENT)


def session_json(session: Session, now: float) -> dict[str, Any]:
    """What a test may see of a session: everything but the access token (never held)."""
    finished = now >= session.finished_at
    outcome = session.outcome(now) if finished else None
    return {
        "token": session.token,
        "personal_code": session.personal_code,
        "country": session.country,
        "hash": session.hash_bytes.hex(),
        "hash_algorithm": session.hash_algorithm,
        "message": session.message,
        "control_code": session.control_code,
        "state": session.state(now),
        "outcome": session.answer.value,
        "result": None if outcome is None else outcome.value,
        "waiting_polls": session.waiting,
    }


def scenario_json(scenario: Scenario) -> dict[str, Any]:
    return {
        "id": scenario.id,
        "personal_code": scenario.personal_code,
        "outcome": None if scenario.outcome is None else scenario.outcome.value,
        "answer_after": scenario.answer_after,
        "remaining": scenario.remaining,
    }


def error_script_json(script: ErrorScript) -> dict[str, Any]:
    return {
        "id": script.id,
        "operation": script.operation,
        "error_code": script.error_code,
        "locale": script.locale,
        "message": script.message,
        "remaining": script.remaining,
    }


def fault_json(fault: Fault) -> dict[str, Any]:
    return {
        "id": fault.id,
        "fault": fault.kind,
        "operation": fault.operation,
        "locale": fault.locale,
        "token": fault.token,
        "seconds": fault.seconds,
        "remaining": fault.remaining,
    }


class ScriptBook:
    """Checks scripts against the gateway's spec before arming them: the one way in, for
    the HTTP control plane and `marksign-mock --scenario FILE` alike.

    `check` validates a request (what `POST /_mock/scenarios`, `/errors`, `/faults` take,
    already matched against control.yaml) without arming it; `arm` arms it in a store."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    def _operations_named(self, name: str) -> list[Any]:
        found = [op for op in self.spec.operations if name in (op.operation_id, op.role)]
        if not found:
            raise ApiError.invalid_parameter("operation", "invalid")
        return found

    def check(self, section: ScriptSection, data: Mapping[str, Any]) -> None:
        """40001 naming the parameter if the script cannot be armed against this spec."""
        if section == "errors":
            code = data["error_code"]
            for op in self._operations_named(data["operation"]):
                if code not in op.error_codes:  # it must be one the operation documents
                    raise ApiError.invalid_parameter("error_code", "invalid")
        elif section == "faults" and data.get("operation") is not None:
            self._operations_named(data["operation"])

    def script(self, section: ScriptSection, data: Mapping[str, Any]) -> Script:
        """The script a request asks for (checked; its id is given when it is armed)."""
        if section == "scenarios":
            return self.scenario(data)
        return self.error(data) if section == "errors" else self.fault(data)

    def scenario(self, data: Mapping[str, Any]) -> Scenario:
        outcome = _outcome(data.get("outcome"))
        times = _whole(data.get("times", 1))
        return Scenario(0, data["personal_code"], outcome, data.get("answer_after"), times)

    def error(self, data: Mapping[str, Any]) -> ErrorScript:
        self.check("errors", data)
        operation, code = data["operation"], _whole(data["error_code"])
        times = _whole(data.get("times", 1))
        return ErrorScript(0, operation, code, data.get("locale"), data.get("message"), times)

    def fault(self, data: Mapping[str, Any]) -> Fault:
        self.check("faults", data)
        seconds = float(data.get("seconds", 0.0))
        where = (data.get("operation"), data.get("locale"), data.get("token"))
        return Fault(0, data["fault"], *where, seconds, _whole(data.get("times", 1)))

    async def arm(self, scripts: ScriptStore, file: ScriptFile) -> int:
        """Arm the scripts of a file read by `read_script_file`; returns how many."""
        for section, item in file.items:
            await scripts.arm(self.script(section, item))
        return len(file.items)


def _whole(value: Any) -> int:
    """An integer of a request as an int: JSON Schema counts 2.0 as an integer (control.yaml
    has checked that it is one), and a script keeps, stores and answers it as 2."""
    return int(value)


ScriptSection = Literal["scenarios", "errors", "faults"]

# The sections of a scenario file (`marksign-mock --scenario FILE`) and the request schema
# of control.yaml that each item must match.
SCRIPT_FILE_SECTIONS: Final[dict[ScriptSection, str]] = {
    "scenarios": "ScenarioRequest",
    "errors": "ErrorScriptRequest",
    "faults": "FaultRequest",
}


@dataclass(frozen=True)
class ScriptFile:
    """The scripts of a scenario file, checked, in the file's order (not armed yet)."""

    path: Path
    items: tuple[tuple[ScriptSection, Mapping[str, Any]], ...]


def read_script_file(spec: Spec, path: Path) -> ScriptFile:
    """Read and check a YAML file of scripts (sections `scenarios`, `errors`, `faults`, each
    a list of what `/_mock/scenarios`, `/_mock/errors`, `/_mock/faults` take). Raises
    ValueError with one line naming the file, the item and the problem."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ValueError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ValueError(f"{path}: not UTF-8 text (byte {error.start})") from None
    except yaml.YAMLError as error:
        raise ValueError(f"{path}: not valid YAML: {' '.join(str(error).split())}") from None
    if data is None:
        return ScriptFile(path, ())
    if not isinstance(data, dict) or not set(data) <= set(SCRIPT_FILE_SECTIONS):
        sections = ", ".join(SCRIPT_FILE_SECTIONS)
        raise ValueError(f"{path}: expected a mapping with the sections {sections}")
    document = control_document()
    book = ScriptBook(spec)
    items: list[tuple[ScriptSection, Mapping[str, Any]]] = []
    for section, listed in data.items():
        if not isinstance(listed, list):
            raise ValueError(f"{path}: {section}: expected a list")
        schema = document.resolve(document.component_schemas()[SCRIPT_FILE_SECTIONS[section]])
        validator = Validator(schema, section)
        for index, item in enumerate(listed):
            if not _finite(item):  # jsonschema-rs would see null, and call it blank
                raise ValueError(
                    f"{path}: {section}[{index}]: not JSON data (.nan and .inf are no JSON numbers)"
                )
            try:
                validator.check(item)
                book.check(section, item)
            except ApiError as error:
                raise ValueError(f"{path}: {section}[{index}]: {error.message('en')}") from None
            except ValueError as error:  # YAML that JSON has no type for (a date, a key)
                raise ValueError(
                    f"{path}: {section}[{index}]: not JSON data ({error}); quote dates"
                ) from None
            items.append((section, item))
    return ScriptFile(path, tuple(items))


def _finite(value: Any) -> bool:
    """Whether no float in `value` (YAML data) is NaN or infinite."""
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(item) for item in value.values())
    if isinstance(value, list):
        return all(_finite(item) for item in value)
    return True


def _outcome(value: str | None) -> Outcome | None:
    return None if value is None else Outcome(value)


class ControlPlane:
    """The `/_mock/` endpoints of one simulator."""

    def __init__(
        self, store: Store, spec: Spec, read_json: Callable[[Request], Awaitable[Any]]
    ) -> None:
        self.store = store
        self.spec = spec
        self.book = ScriptBook(spec)
        self._read_json = read_json
        document = control_document()
        self.document = document
        self._checked = {c.operation.operation_id: c for c in checked_operations(document)}

    def routes(self) -> list[ExactRoute]:
        handlers: dict[str, Endpoint] = {
            "getControlDocument": self.control_document,
            "getGatewaySpec": self.gateway_spec,
            "getCertificate": self.certificate,
            "reset": self.reset,
            "listSessions": self.list_sessions,
            "getSession": self.get_session,
            "answerNow": self.answer_now,
            "scriptSession": self.script_session,
            "addScenario": self.add_scenario,
            "addErrorScript": self.add_error,
            "addFault": self.add_fault,
            "listScripts": self.list_scripts,
            "clearScripts": self.clear_scripts,
            "removeScript": self.remove_script,
            "getJournal": self.get_journal,
            "clearJournal": self.clear_journal,
        }
        by_path: dict[str, dict[str, Endpoint]] = {}
        for op in self.document.operations:
            by_path.setdefault(op.path, {})[op.method] = handlers[op.operation_id]
        routes = []
        for path, methods in by_path.items():

            async def endpoint(
                request: Request, methods: dict[str, Endpoint] = methods
            ) -> Response:
                return await methods[request.method](request)

            name = "control:" + path
            routes.append(ExactRoute(path, endpoint, methods=list(methods), name=name))
        # The document itself is served at /_mock/ too (the control plane's root).
        routes.append(
            ExactRoute(CONTROL_PREFIX, self.control_document, methods=["GET"], name="control:root")
        )
        return routes

    # -- parsing -------------------------------------------------------------------------

    def _checked_op(self, operation_id: str) -> CheckedOperation:
        return self._checked[operation_id]

    async def _body(self, request: Request, operation_id: str, required: bool) -> dict[str, Any]:
        checked = self._checked_op(operation_id)
        if not required and not await _has_body(request):
            data: Any = {}
        else:
            data = await self._read_json(request)
        checked.check(data, request.path_params)
        assert isinstance(data, dict)  # the schemas are objects
        return data

    def _query(self, request: Request, operation_id: str) -> dict[str, Any]:
        checked = self._checked_op(operation_id)
        query: dict[str, Any] = {}
        for name, value in request.query_params.multi_items():
            validator = checked.query_params.get(name)
            if validator is None:
                continue  # unknown parameters are ignored, as the gateway ignores keys
            if name in query:  # given twice: which one was meant is not ours to guess
                raise ApiError.invalid_parameter(name, "invalid")
            schema_type = checked.operation.query_parameters[name].get("type")
            converted: Any = value
            if schema_type == "integer":
                try:
                    converted = int(value)
                except ValueError:
                    raise ApiError.invalid_parameter(name, "type", type="integer") from None
            validator.check(converted)
            query[name] = converted
        return query

    def _session(self, request: Request, operation_id: str) -> str:
        self._checked_op(operation_id).check(None, request.path_params)
        token: str = request.path_params["token"]
        return token

    # -- endpoints -----------------------------------------------------------------------

    async def control_document(self, _: Request) -> Response:
        return Response(self.document.text, media_type="application/yaml")

    async def gateway_spec(self, _: Request) -> Response:
        return Response(self.spec.text, media_type="application/yaml")

    async def certificate(self, _: Request) -> Response:
        return Response(crypto.certificate_pem(), media_type="application/x-pem-file")

    async def reset(self, _: Request) -> Response:
        return _ok(**await reset_all(self.store))

    async def list_sessions(self, request: Request) -> Response:
        query = self._query(request, "listSessions")
        code = query.get("personal_code")
        now = self.store.clock()
        sessions = [
            session_json(s, now)
            for s in await self.store.sessions()
            if code is None or s.personal_code == code
        ]
        return _ok(sessions=sessions)

    async def get_session(self, request: Request) -> Response:
        token = self._session(request, "getSession")
        return _ok(session=session_json(await self.store.get(token), self.store.clock()))

    async def answer_now(self, request: Request) -> Response:
        data = await self._body(request, "answerNow", required=False)
        token = request.path_params["token"]
        session = await self.store.script(token, outcome=_outcome(data.get("outcome")), now_=True)
        return _ok(session=session_json(session, self.store.clock()))

    async def script_session(self, request: Request) -> Response:
        data = await self._body(request, "scriptSession", required=True)
        token = request.path_params["token"]
        session = await self.store.script(
            token, outcome=_outcome(data.get("outcome")), answer_after=data.get("answer_after")
        )
        return _ok(session=session_json(session, self.store.clock()))

    async def add_scenario(self, request: Request) -> Response:
        data = await self._body(request, "addScenario", required=True)
        scenario = await self.store.scripts.arm(self.book.scenario(data))
        return _ok(201, scenario=scenario_json(scenario))

    async def add_error(self, request: Request) -> Response:
        data = await self._body(request, "addErrorScript", required=True)
        error = await self.store.scripts.arm(self.book.error(data))
        return _ok(201, error=error_script_json(error))

    async def add_fault(self, request: Request) -> Response:
        data = await self._body(request, "addFault", required=True)
        fault = await self.store.scripts.arm(self.book.fault(data))
        return _ok(201, fault=fault_json(fault))

    async def list_scripts(self, _: Request) -> Response:
        armed = await self.store.scripts.listing()
        return _ok(
            scenarios=[scenario_json(s) for s in armed.scenarios],
            errors=[error_script_json(s) for s in armed.errors],
            faults=[fault_json(f) for f in armed.faults],
        )

    async def clear_scripts(self, _: Request) -> Response:
        return _ok(cleared=await self.store.scripts.reset())

    async def remove_script(self, request: Request) -> Response:
        raw = request.path_params["id"]
        try:
            script_id = int(raw)
        except ValueError:
            raise ApiError.invalid_parameter("id", "type", type="integer") from None
        self._checked_op("removeScript").path_params["id"].check(script_id)
        if not await self.store.scripts.remove(script_id):
            raise ApiError(40400)
        return _ok(cleared=1)

    async def get_journal(self, request: Request) -> Response:
        query = self._query(request, "getJournal")
        roles = {op.operation_id: op.role for op in self.spec.operations if op.role}
        entries = await self.store.journal.entries(
            JournalQuery(
                operation=query.get("operation"),
                locale=query.get("locale"),
                token=query.get("token"),
                status=query.get("status"),
                error_code=query.get("error_code"),
                roles=roles,
                limit=query.get("limit"),
            )
        )
        return _ok(entries=[entry.as_json() for entry in entries])

    async def clear_journal(self, _: Request) -> Response:
        return _ok(cleared=await self.store.journal.reset())


def _ok(status_code: int = 200, **fields: Any) -> JSONBytesResponse:
    return JSONBytesResponse({"status": "ok", **fields}, status_code=status_code)


async def _has_body(request: Request) -> bool:
    """Whether the request declares or streams a body (an optional one may be left out)."""
    length = request.headers.get("content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return "transfer-encoding" in request.headers
