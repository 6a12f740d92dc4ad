"""The control plane under `/_mock/`: what a test asks of the simulator itself.

Not part of openapi.yaml (the gateway's contract): the test certificate, the spec the
simulator validates against, and a reset of every session.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from . import crypto
from .models import SessionStore
from .rendering import JSONBytesResponse
from .routing import ExactRoute

PREFIX = "/_mock"


def control_routes(store: SessionStore, spec_text: bytes) -> list[ExactRoute]:
    async def certificate(_: Request) -> Response:
        return Response(crypto.certificate_pem(), media_type="application/x-pem-file")

    async def openapi(_: Request) -> Response:
        return Response(spec_text, media_type="application/yaml")

    async def reset(_: Request) -> Response:
        return JSONBytesResponse({"status": "ok", "sessions_cleared": store.reset()})

    return [
        ExactRoute(f"{PREFIX}/certificate.pem", certificate, methods=["GET"], name="certificate"),
        ExactRoute(f"{PREFIX}/openapi.yaml", openapi, methods=["GET"], name="openapi"),
        ExactRoute(f"{PREFIX}/reset", reset, methods=["POST"], name="reset"),
    ]
