"""The machine the figures come from."""

from __future__ import annotations

import os
import platform
from pathlib import Path

from bench.tools import java_version, node_version


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram_gib() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def describe() -> dict[str, str]:
    return {
        "cpus": str(os.cpu_count()),
        "cpu model": _cpu_model(),
        "ram": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "node": node_version(),
        "java": java_version(),
    }
