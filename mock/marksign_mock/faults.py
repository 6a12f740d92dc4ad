"""Faults on the wire: what a proxy or a broken network sends instead of the answer.

`fault_response(kind, answer)` is the ASGI response of a fault. The answers a gateway or
proxy might send (`html_502`, `empty_520`, `not_json`, `off_schema`) are plain HTTP. The
transport faults (`close`, `reset`, `truncated`) act on the connection itself: the
simulator's HTTP server (`server`) puts the connection's asyncio transport into the
request's scope (`TRANSPORT_EXTENSION`) for that. Without one (the in-process transport), the
response says which fault it is in a 599 answer with `FAULT_HEADER`, and
`launcher.InProcessTransport` raises what httpx raises on a real socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import Any, Final

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from .rendering import JSON, JSONBytesResponse
from .scripts import FaultKind

TRANSPORT_EXTENSION: Final = "marksign_mock.transport"
FAULT_HEADER: Final = "x-marksign-mock-fault"
STATUS_HEADER: Final = "x-marksign-mock-status"  # in process: the status a truncated answer had
IN_PROCESS_FAULT_STATUS: Final = 599

# An nginx-style gateway error page, as a reverse proxy in front of the gateway sends it.
BAD_GATEWAY_PAGE: Final = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
NOT_JSON: Final = b"Service temporarily unavailable, please try again later"
TRANSPORT_FAULTS: Final = frozenset({"close", "reset", "truncated"})


def fault_response(kind: FaultKind, answer: Response | None = None) -> Response:
    """The response of a fault; `truncated` cuts `answer` (the operation's own) in half."""
    if kind == "html_502":
        return Response(BAD_GATEWAY_PAGE, status_code=502, media_type="text/html")
    if kind == "empty_520":
        return Response(b"", status_code=520)
    if kind == "not_json":
        return Response(NOT_JSON, status_code=200, media_type=JSON)
    if kind == "off_schema":
        return JSONBytesResponse({"status": "waiting"})
    if kind in TRANSPORT_FAULTS:
        return TransportFault(kind, answer)
    raise ValueError(f"{kind} is not a fault that replaces the answer")


class TransportFault(Response):
    """A fault of the connection: closed without an answer, reset, or a truncated body."""

    def __init__(self, kind: FaultKind, answer: Response | None) -> None:
        super().__init__(b"" if answer is None else answer.body)
        self.kind = kind
        self.answer = answer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transport: Any = scope.get("extensions", {}).get(TRANSPORT_EXTENSION)
        if transport is None:
            await self._in_process(send)
            return
        if self.kind == "reset":
            sock = transport.get_extra_info("socket")
            if sock is not None:  # SO_LINGER 0: closing sends RST, not FIN
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
        elif self.kind == "close":
            transport.close()
        else:  # truncated: the headers promise the whole body, half of it comes
            answer = self.answer
            body = b"" if answer is None else answer.body
            status = 200 if answer is None else answer.status_code
            headers = [] if answer is None else answer.raw_headers
            await send({"type": "http.response.start", "status": status, "headers": headers})
            await send(
                {"type": "http.response.body", "body": body[: len(body) // 2], "more_body": True}
            )
            transport.close()
        # Until the server has seen the connection go: then it neither logs a missing
        # answer nor sends one.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(5):
                while (await receive())["type"] != "http.disconnect":
                    pass

    async def _in_process(self, send: Send) -> None:
        headers = [(FAULT_HEADER.encode(), self.kind.encode())]
        if self.answer is not None:
            headers.append((STATUS_HEADER.encode(), b"%d" % self.answer.status_code))
        await send(
            {"type": "http.response.start", "status": IN_PROCESS_FAULT_STATUS, "headers": headers}
        )
        body = self.body if self.kind == "truncated" else b""  # the whole body: it is cut there
        await send({"type": "http.response.body", "body": body})
