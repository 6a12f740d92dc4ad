"""Change drills: realistic API changes, each applied to a copy of openapi.yaml.

For every drill the change report (Optic + griffe, as `make api-diff` builds it) must
classify the change as the catalogue says, the client regenerated from the changed spec
must pass `mypy --strict`, and for each non-breaking change the *committed* client
(marksign_client, as code written today uses it) must still parse the answers of a
simulator started from the changed spec.

Generation, Optic and mypy of the drills run two at a time in threads (each is a
subprocess); mypy starts from a cache warmed on the committed client, so it rechecks only
what the change touched.
"""

from __future__ import annotations

import copy
import hashlib
import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from marksign_client import Client
from marksign_client.api.hash_signing import (
    get_hash_signing_status,
    get_hash_signing_status_en,
    initialize_hash_signing,
    initialize_hash_signing_en,
)
from marksign_client.models import (
    Country,
    Error,
    HashAlgorithm,
    HashSigningStatusOk,
    HashSigningStatusRequest,
    InitializeHashSigningOk,
    InitializeHashSigningRequest,
)
from marksign_mock import InProcessTransport, MockConfig, create_app

from generator import generate
from generator.changes import history, report
from generator.changes.versioning import Bump
from tests.spec_facts import DOCS_ACCESS_TOKEN

Spec = dict[str, Any]
Body = dict[str, Any]
# Given the request and the simulator's JSON answer: the answer a server of the changed
# API would give instead (it knows what the simulator's code does not), or None.
Serve = Callable[[httpx.Request, int, Body], tuple[int, Body] | None]

SIGNING_CODE = "30303039914"  # a demo identity that signs
NOT_QUALIFIED_CODE = "30303039903"  # the new server's account that is not qualified


def _schemas(spec: Spec) -> Spec:
    schemas: Spec = spec["components"]["schemas"]
    return schemas


def new_optional_response_key(spec: Spec) -> None:
    _schemas(spec)["InitializeHashSigningOk"]["properties"]["expires_in"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Seconds until the session expires.",
    }


def serve_expires_in(request: httpx.Request, status: int, body: Body) -> tuple[int, Body] | None:
    if status == 200 and "token" in body and "control_code" in body:
        return 200, {**body, "expires_in": 120}
    return None


def new_documented_error_code(spec: Spec) -> None:
    error_code = _schemas(spec)["Error"]["properties"]["error_code"]
    error_code["description"] += "\n40404 (new): the account is not qualified for hash signing.\n"
    for locale, message in (("En", "Account is not qualified"), ("Lt", "Paskyra nekvalifikuota")):
        response = spec["components"]["responses"][f"InitializeNotFound{locale}"]
        response["content"]["application/json"]["examples"]["notQualified"] = {
            "summary": "The account is not qualified",
            "value": {"status": "error", "message": message, "error_code": 40404},
        }


def serve_not_qualified(request: httpx.Request, status: int, body: Body) -> tuple[int, Body] | None:
    if request.content and json.loads(request.content).get("code") == NOT_QUALIFIED_CODE:
        return 404, {"status": "error", "message": "Account is not qualified", "error_code": 40404}
    return None


def new_optional_request_key(spec: Spec) -> None:
    _schemas(spec)["InitializeHashSigningRequest"]["properties"]["nonce"] = {
        "type": "string",
        "maxLength": 30,
        "description": "A random value Smart-ID repeats in the signature's session.",
    }


def new_required_request_key(spec: Spec) -> None:
    request = _schemas(spec)["InitializeHashSigningRequest"]
    request["properties"]["relying_party_name"] = {"type": "string", "minLength": 1}
    request["required"].append("relying_party_name")


def removed_response_key(spec: Spec) -> None:
    ok = _schemas(spec)["InitializeHashSigningOk"]
    del ok["properties"]["control_code"]
    ok["required"].remove("control_code")


def renamed_path(spec: Spec) -> None:
    paths = spec["paths"]
    for old in ("/smartid/sign/hash.json", "/en/smartid/sign/hash.json"):
        paths[old.replace("hash.json", "hash/init.json")] = paths.pop(old)


def changed_type(spec: Spec) -> None:
    control_code = _schemas(spec)["InitializeHashSigningOk"]["properties"]["control_code"]
    del control_code["pattern"]
    control_code.update(type="integer", minimum=0, maximum=9999)


def new_request_enum_value(spec: Spec) -> None:
    _schemas(spec)["Country"]["enum"].append("LV")


def renamed_schema(spec: Spec) -> None:
    """Harmless on the wire (the same JSON), but the client's class gets the new name."""
    schemas = _schemas(spec)
    schemas["InitializeHashSigningStarted"] = schemas.pop("InitializeHashSigningOk")
    renamed = json.dumps(spec).replace(
        '"#/components/schemas/InitializeHashSigningOk"',
        '"#/components/schemas/InitializeHashSigningStarted"',
    )
    spec.update(json.loads(renamed))


def new_operation(spec: Spec) -> None:
    status = spec["paths"]["/en/smartid/sign/hash/status/{token}.json"]
    cancel = copy.deepcopy(status)
    cancel["post"].update(
        operationId="cancelHashSigningEn",
        summary="Cancel hash signing (locale EN)",
        description="Ends the signing session before the person answers.",
    )
    spec["paths"]["/en/smartid/sign/hash/cancel/{token}.json"] = cancel


@dataclass(frozen=True)
class Drill:
    change: Callable[[Spec], None]
    breaking: bool
    bump: Bump
    serve: Serve | None = None  # what the changed server says that the simulator cannot
    spec_breaking: bool | None = None  # whether Optic sees the break (default: `breaking`)

    @property
    def name(self) -> str:
        return self.change.__name__

    @property
    def breaks_on_the_wire(self) -> bool:
        return self.breaking if self.spec_breaking is None else self.spec_breaking


DRILLS = [
    Drill(new_optional_response_key, False, Bump.MINOR, serve_expires_in),
    Drill(new_documented_error_code, False, Bump.PATCH, serve_not_qualified),
    Drill(new_optional_request_key, False, Bump.MINOR),
    Drill(new_required_request_key, True, Bump.MAJOR),
    Drill(removed_response_key, True, Bump.MAJOR),
    Drill(renamed_path, True, Bump.MAJOR),
    Drill(changed_type, True, Bump.MAJOR),
    Drill(new_request_enum_value, False, Bump.MINOR),
    # Only griffe sees this one: the JSON is the same, the Python class name is not.
    Drill(renamed_schema, True, Bump.MAJOR, spec_breaking=False),
    # The simulator has no handler for the new operation: it serves the old four (and
    # logs that one is missing); the old client has no function for it either.
    Drill(new_operation, False, Bump.MINOR),
]


@dataclass(frozen=True)
class Result:
    spec: Path
    report: report.Report
    mypy: subprocess.CompletedProcess[str]


def _mypy(client: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache), "marksign_client"],
        cwd=client,
        capture_output=True,
        text=True,
        check=False,
    )


def _run(drill: Drill, folder: Path, base: history.Revision, warm_cache: Path) -> Result:
    spec = history.load(base.text)
    drill.change(spec)
    folder.mkdir()
    spec_path = folder / "openapi.yaml"
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")
    client = folder / generate.OUTPUT.name
    generate.generate(client, spec_path)
    found = report.build(base, spec_path, head_client=client, base_client=generate.OUTPUT)
    cache = shutil.copytree(warm_cache, folder / "mypy-cache")
    return Result(spec_path, found, _mypy(client, cache))


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    folder = tmp_path_factory.mktemp("drills")
    # The base is the working tree's spec with the committed client beside it (the same in
    # CI; test_generator checks that the client is up to date).
    base = history.Revision(commit="HEAD", name="HEAD", text=generate.SPEC.read_bytes())
    warm = shutil.copytree(generate.OUTPUT, folder / "warm" / generate.OUTPUT.name)
    warmed = _mypy(warm, folder / "warm-cache")
    assert warmed.returncode == 0, warmed.stdout
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            drill.name: pool.submit(_run, drill, folder / drill.name, base, folder / "warm-cache")
            for drill in DRILLS
        }
        return {name: future.result() for name, future in futures.items()}


def _ids(drill: Drill) -> str:
    return drill.name


@pytest.mark.slow
@pytest.mark.parametrize("drill", DRILLS, ids=_ids)
def test_the_report_classifies_the_change(drill: Drill, results: dict[str, Result]) -> None:
    found = results[drill.name].report
    text = found.text()

    assert found.bump is drill.bump, text
    assert (found.breaking > 0) is drill.breaking, text
    assert ("BREAKING" in text) is drill.breaking, text
    assert any(c.breaking for c in found.spec_changes) is drill.breaks_on_the_wire, text
    assert found.spec_changes or found.client_changes or drill.bump is Bump.PATCH, text
    # The version was not bumped, so the rule names the version to use.
    problem = found.version_problem()
    assert problem is not None
    assert f"set info.version to {found.suggested}" in problem


@pytest.mark.slow
@pytest.mark.parametrize("drill", DRILLS, ids=_ids)
def test_the_regenerated_client_passes_mypy_strict(
    drill: Drill, results: dict[str, Result]
) -> None:
    mypy = results[drill.name].mypy
    assert mypy.returncode == 0, mypy.stdout + mypy.stderr


class ServedAsChanged(httpx.BaseTransport):
    """The simulator's answers, as a server of the changed API would give them."""

    def __init__(self, inner: httpx.BaseTransport, serve: Serve | None) -> None:
        self.inner, self.serve, self.served = inner, serve, 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        response.read()
        served = (
            None
            if self.serve is None
            else self.serve(request, response.status_code, response.json())
        )
        if served is None:
            return response
        self.served += 1
        return httpx.Response(served[0], json=served[1], request=request)


@pytest.fixture
def new_simulator(
    request: pytest.FixtureRequest, results: dict[str, Result]
) -> Iterator[tuple[Client, ServedAsChanged]]:
    drill: Drill = request.param
    config = MockConfig(answer_delay=0.0, spec_path=results[drill.name].spec)
    transport = InProcessTransport(create_app(config))
    served = ServedAsChanged(transport, drill.serve)
    client = Client(base_url="http://new-simulator.test")
    client.set_httpx_client(httpx.Client(base_url="http://new-simulator.test", transport=served))
    try:
        yield client, served
    finally:
        transport.close()


NON_BREAKING = [drill for drill in DRILLS if not drill.breaking]


@pytest.mark.slow
@pytest.mark.parametrize("new_simulator", NON_BREAKING, ids=_ids, indirect=True)
def test_the_old_client_parses_the_new_simulators_answers(
    new_simulator: tuple[Client, ServedAsChanged],
) -> None:
    client, served = new_simulator
    digest = hashlib.sha256(b"a document").hexdigest()

    def body(code: str) -> InitializeHashSigningRequest:
        return InitializeHashSigningRequest(
            access_token=DOCS_ACCESS_TOKEN,
            hash_=digest,
            hash_algorithm=HashAlgorithm.SHA256,
            country=Country.LT,
            code=code,
        )

    status_body = HashSigningStatusRequest(access_token=DOCS_ACCESS_TOKEN)
    for initialize, status in (
        (initialize_hash_signing, get_hash_signing_status),
        (initialize_hash_signing_en, get_hash_signing_status_en),
    ):
        started = initialize.sync(client=client, body=body(SIGNING_CODE))
        assert isinstance(started, InitializeHashSigningOk), started
        assert len(started.control_code) == 4
        signed = status.sync(started.token, client=client, body=status_body)
        assert isinstance(signed, HashSigningStatusOk), signed
        unknown = status.sync(
            "ea89b835-c585-3c3c-9ea8-0f1b6ed3e13d", client=client, body=status_body
        )
        assert isinstance(unknown, Error), unknown
        assert unknown.error_code == 40402
        refused = initialize.sync(client=client, body=body(NOT_QUALIFIED_CODE))
        assert isinstance(refused, Error), refused
        assert refused.error_code in {40401, 40404}
        if served.serve is serve_expires_in:  # the new key is kept, not lost
            assert started.additional_properties == {"expires_in": 120}
        if served.serve is serve_not_qualified:
            assert refused.error_code == 40404
    assert (served.served > 0) is (served.serve is not None)
