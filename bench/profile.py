"""Where our simulator spends its time per request: py-spy samples it under wrk load.

py-spy attaches to the running ``marksign-mock`` process (no change to how it runs) while
the load generator keeps it busy on its one CPU. The server's CPU time per request is read
from /proc; a function's share of the (non-idle) samples times it is its cost per request.
Raw stacks are kept in ``bench/results/profile-*.txt``.
"""

from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from pathlib import Path

from bench.load import Target, run_load
from bench.ours import (
    STATUS_BODY,
    UNKNOWN_TOKEN,
    describe,
    finished_session,
    mock_options,
    status_path,
)
from bench.servers import run_ours
from bench.settings import Settings
from bench.tools import log, results_dir, venv_script

SAMPLE_RATE = 500  # per second
TOP = 14
_LINE = re.compile(r"^(?P<name>.*) \((?P<file>[^()]*?)(?::\d+)?\)$")


def _frame(frame: str) -> tuple[str, str]:
    """``function (path/to/pkg/module.py:12)`` -> (``function (pkg/module.py)``, module)."""
    match = _LINE.match(frame)
    if match is None:
        return frame, frame
    parts = Path(match["file"]).parts
    module = "/".join(parts[-2:]) if len(parts) > 1 else match["file"]
    return f"{match['name']} ({module})", module


def _layer(function: str, module: str) -> str:
    if function.startswith("Runner.run "):
        return "event loop itself (C code: sockets, httptools parsing)"
    if module == "marksign_mock/server.py":
        return "our HTTP server (marksign_mock/server.py)"
    return module


def summarize(raw: str, cpu_us: float, rps: float) -> list[str]:
    """Own time by module and by function, and our functions' inclusive time, per request."""
    own: Counter[str] = Counter()
    layers: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        frames = [_frame(f) for f in stack.split(";") if "(" in f]
        if not frames:
            continue
        count = int(count_text)
        total += count
        own[frames[-1][0]] += count
        layers[_layer(*frames[-1])] += count
        # Our app's frames (the cli.py entry point only wraps everything: left out).
        app_frames = {name for name, module in frames if module.startswith("marksign_mock/")}
        for name in app_frames - {"main (marksign_mock/cli.py)"}:
            ours[name] += count
    if total == 0:
        return ["(no samples)"]
    out = [f"{total} samples at {rps:,.0f} req/s; the server used {cpu_us:.0f} µs CPU per request"]
    for title, counter, top in (
        ("own time by module", layers, 8),
        ("own time by function", own, TOP),
        ("time inside our simulator's functions (inclusive)", ours, 8),
    ):
        out.append(f"{title} (share of samples, µs per request):")
        for name, count in counter.most_common(top):
            share = count / total
            out.append(f"  {share:6.1%} {share * cpu_us:6.1f} µs  {name}")
    return out


def measure(settings: Settings, wrk: str | None, server_cpus: set[int]) -> list[str]:
    py_spy = venv_script("py-spy")
    if py_spy is None:
        return ["profile: py-spy is not installed (.venv/bin/pip install py-spy)"]
    options = mock_options(0)
    lines = [f"profile of {describe(options)} under 50 connections, py-spy {SAMPLE_RATE}/s"]
    with run_ours("ours-profile", options, server_cpus) as server:
        port = server.port
        token = finished_session(server.base_url)
        scenarios = {
            "404-unknown-token": Target(port, status_path(UNKNOWN_TOKEN), STATUS_BODY, 404),
            "200-signed": Target(port, status_path(token), STATUS_BODY, 200),
        }
        for name, target in scenarios.items():
            run_load(wrk, target, 50, settings.warmup)
            output = results_dir() / f"profile-{name}.txt"
            log(f"profiling the {name} status call for {settings.profile_seconds:g} s")
            spy = subprocess.Popen(
                [
                    py_spy,
                    "record",
                    "--pid",
                    str(server.pid),
                    "--rate",
                    str(SAMPLE_RATE),
                    "--format",
                    "raw",
                    "--nonblocking",
                    "--duration",
                    f"{settings.profile_seconds:.0f}",
                    "--output",
                    str(output),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)  # let py-spy attach before the load starts
            cpu_before = server.cpu_seconds()
            result = run_load(wrk, target, 50, settings.profile_seconds)
            cpu_us = (server.cpu_seconds() - cpu_before) / max(1, result.requests) * 1e6
            try:
                spy.wait(timeout=settings.profile_seconds + 60)
            except subprocess.TimeoutExpired:
                spy.kill()
                spy.wait(timeout=10)
            raw = output.read_text() if output.exists() else ""
            lines.append(f"[{name}]")
            lines += summarize(raw, cpu_us, result.rps)
    return lines
