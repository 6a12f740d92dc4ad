"""Overhead of the generated client over a hand-written httpx call doing the same work.

Both make the status call with the same reused ``httpx.Client`` / ``httpx.AsyncClient``:
the generated ``get_hash_signing_status_en.sync_detailed`` / ``asyncio_detailed`` (which
builds the body model, sends it and parses the answer into a model) against
``client.post(..., json=...)`` followed by ``response.json()``. Each round times the same
number of calls of each, the order flipping every round; the figures are medians per call.

Two transports: our simulator over loopback (what a user sees), and an in-process
``httpx.MockTransport`` with a canned answer (the client's own cost, nothing else).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from marksign_client import Client
from marksign_client.api.hash_signing import get_hash_signing_status_en
from marksign_client.models import HashSigningStatusOk, HashSigningStatusRequest

from bench import quiet
from bench.ours import ACCESS_TOKEN, describe, finished_session, mock_options, status_path
from bench.servers import run_ours
from bench.settings import Settings
from bench.table import Measure, Row

SECTION = "client overhead per status call (generated client vs raw httpx)"
ROUND_QUIET_WAIT = 10.0  # seconds a round waits at most for the machine to be idle
# The peer of the generated client (its column in the table).
RAW = "raw httpx"
CANNED = b'{"status":"ok","signature_value":"c2lnbmF0dXJl"}'


def _canned(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, content=CANNED, headers={"Content-Type": "application/json"})


def _sync_pair(http: httpx.Client, token: str) -> tuple[Callable[[], Any], Callable[[], Any]]:
    client = Client(base_url=str(http.base_url)).set_httpx_client(http)

    def generated() -> Any:
        response = get_hash_signing_status_en.sync_detailed(
            token, client=client, body=HashSigningStatusRequest(access_token=ACCESS_TOKEN)
        )
        parsed = response.parsed
        return parsed.signature_value if isinstance(parsed, HashSigningStatusOk) else None

    def raw() -> Any:
        response = http.post(status_path(token), json={"access_token": ACCESS_TOKEN})
        data = response.json()
        return data["signature_value"] if response.status_code == 200 else None

    return generated, raw


def _async_pair(
    http: httpx.AsyncClient, token: str
) -> tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]]:
    client = Client(base_url=str(http.base_url)).set_async_httpx_client(http)

    async def generated() -> Any:
        response = await get_hash_signing_status_en.asyncio_detailed(
            token, client=client, body=HashSigningStatusRequest(access_token=ACCESS_TOKEN)
        )
        parsed = response.parsed
        return parsed.signature_value if isinstance(parsed, HashSigningStatusOk) else None

    async def raw() -> Any:
        response = await http.post(status_path(token), json={"access_token": ACCESS_TOKEN})
        data = response.json()
        return data["signature_value"] if response.status_code == 200 else None

    return generated, raw


def _time_sync(
    pair: tuple[Callable[[], Any], Callable[[], Any]],
    settings: Settings,
    pids: list[int],
    others: list[float],
) -> tuple[Measure, Measure]:
    generated, raw = pair
    if generated() != raw() or generated() is None:
        raise RuntimeError("the generated client and raw httpx disagree on the answer")
    per_call: list[list[float]] = [[], []]
    for round_index in range(settings.client_rounds):
        order = [0, 1] if round_index % 2 == 0 else [1, 0]
        quiet.wait_for_quiet(min(ROUND_QUIET_WAIT, settings.quiet_wait))
        for which in order:
            call = pair[which]
            with quiet.watch(pids) as watch:
                started = time.perf_counter()
                for _ in range(settings.client_calls):
                    call()
                per_call[which].append(
                    (time.perf_counter() - started) / settings.client_calls * 1e6
                )
            others.append(watch.others)
    return Measure.of(per_call[0]), Measure.of(per_call[1])


async def _time_async(
    pair: tuple[Callable[[], Awaitable[Any]], Callable[[], Awaitable[Any]]],
    settings: Settings,
    pids: list[int],
    others: list[float],
) -> tuple[Measure, Measure]:
    generated, raw = pair
    if await generated() != await raw() or await generated() is None:
        raise RuntimeError("the generated client and raw httpx disagree on the answer")
    per_call: list[list[float]] = [[], []]
    for round_index in range(settings.client_rounds):
        order = [0, 1] if round_index % 2 == 0 else [1, 0]
        quiet.wait_for_quiet(min(ROUND_QUIET_WAIT, settings.quiet_wait))
        for which in order:
            call = pair[which]
            with quiet.watch(pids) as watch:
                started = time.perf_counter()
                for _ in range(settings.client_calls):
                    await call()
                per_call[which].append(
                    (time.perf_counter() - started) / settings.client_calls * 1e6
                )
            others.append(watch.others)
    return Measure.of(per_call[0]), Measure.of(per_call[1])


def _measure_transport(
    label: str, settings: Settings, base_url: str, token: str, pids: list[int]
) -> list[Row]:
    """Time both variants; ``pids`` empty means the in-process transport (no server)."""
    in_process = not pids
    others: list[float] = []
    sync_transport = httpx.MockTransport(_canned) if in_process else None
    with httpx.Client(base_url=base_url, timeout=30, transport=sync_transport) as http:
        sync_gen, sync_raw = _time_sync(_sync_pair(http, token), settings, pids, others)

    async def run_async() -> tuple[Measure, Measure]:
        async_transport = httpx.MockTransport(_canned) if in_process else None
        async with httpx.AsyncClient(
            base_url=base_url, timeout=30, transport=async_transport
        ) as http:
            return await _time_async(_async_pair(http, token), settings, pids, others)

    async_gen, async_raw = asyncio.run(run_async())
    goal = "" if in_process else f"<= 1.15x {RAW}"
    disturbed = any(value > quiet.DISTURBED for value in others)
    sync_peer, async_peer = {RAW: sync_raw}, {RAW: async_raw}
    return [
        Row(SECTION, f"sync, {label}: time per call", "µs", sync_gen, sync_peer, goal, disturbed),
        Row(
            SECTION, f"async, {label}: time per call", "µs", async_gen, async_peer, goal, disturbed
        ),
    ]


def measure(settings: Settings, server_cpus: set[int]) -> tuple[list[Row], list[str]]:
    rows: list[Row] = []
    with run_ours("ours-client", mock_options(0), server_cpus) as server:
        token = finished_session(server.base_url)
        rows += _measure_transport(
            "loopback to ours", settings, server.base_url, token, [server.pid]
        )
    rows += _measure_transport("in-process transport", settings, "http://127.0.0.1:9", token, [])
    notes = [
        f"client overhead: {settings.client_rounds} rounds x {settings.client_calls} calls "
        f"each, per-call medians; server: {describe(mock_options(0))}",
    ]
    return rows, notes
