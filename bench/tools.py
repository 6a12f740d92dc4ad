"""The outside programs the benchmarks use, installed on first use, and CPU/fd plumbing."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "openapi.yaml"
TOOLS = REPO / ".tools"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"
_results = DEFAULT_RESULTS

# The CPUs this process may use before it pins itself to the load generator's share.
ALL_CPUS = frozenset(os.sched_getaffinity(0))

PRISM_PACKAGE = "@stoplight/prism-cli@5.16.0"
PRISM_VERSION = "5.16.0"


def set_results_dir(path: Path) -> None:
    """Where results and server logs go (bench/results/ unless told otherwise)."""
    global _results
    _results = path


def results_dir() -> Path:
    _results.mkdir(parents=True, exist_ok=True)
    return _results


def log(message: str) -> None:
    """Progress goes to stderr so that stdout carries only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def venv_script(name: str) -> str | None:
    """A console script installed beside this interpreter (the project's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    return shutil.which(name)


def ensure_wrk() -> str | None:
    """wrk from Debian's packages; installed with apt-get when missing and we are root."""
    found = shutil.which("wrk")
    if found or os.geteuid() != 0 or not shutil.which("apt-get"):
        return found
    log("wrk is missing: apt-get install -y wrk")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", "wrk"]
    if subprocess.run(install, env=env, capture_output=True, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        subprocess.run(install, env=env, capture_output=True, timeout=600)
    return shutil.which("wrk")


def ensure_prism() -> str | None:
    """Stoplight Prism, pinned, installed from npm into the ignored .tools/ folder if missing."""
    prism = TOOLS / "node_modules" / ".bin" / "prism"
    if _prism_version(prism) == PRISM_VERSION:
        return str(prism)
    npm = shutil.which("npm")
    if npm is None:
        log("npm is missing: Prism is skipped")
        return None
    log(f"installing {PRISM_PACKAGE} into .tools/")
    TOOLS.mkdir(exist_ok=True)
    command = [npm, "install", "--prefix", str(TOOLS), "--no-save", "--no-audit", "--no-fund"]
    command.append(PRISM_PACKAGE)
    env = {**os.environ, "SCARF_ANALYTICS": "false"}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        log(f"npm install failed: {done.stderr.strip()[-500:]}")
        return None
    return str(prism) if prism.exists() else None


def _prism_version(prism: Path) -> str | None:
    if not prism.exists():
        return None
    try:
        done = subprocess.run([str(prism), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() or None


def node_version() -> str:
    node = shutil.which("node")
    if node is None:
        return "absent"
    done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    return done.stdout.strip()


def cpu_split() -> tuple[set[int], set[int]]:
    """CPUs for the server under test and for the load generator (this process).

    The server gets one CPU of its own and the load generator the others, so that neither
    starves the other. On a single CPU both share it.
    """
    cpus = sorted(ALL_CPUS)
    if len(cpus) < 2:
        return set(cpus), set(cpus)
    return {cpus[0]}, set(cpus[1:])


def raise_fd_limit() -> int:
    """Raise this process's open-file limit to its hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = max(soft, 1 << 20)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
        return hard
    return soft


def child_setup(cpus: set[int] | None, raise_fds: bool) -> Callable[[], None]:
    """A ``preexec_fn`` that pins a server to its CPUs and raises its open-file limit.

    Both survive ``exec``, so the server runs as its own console script, one process, and
    its PID is the one whose memory we read.
    """

    def setup() -> None:
        if cpus:
            os.sched_setaffinity(0, cpus)
        if raise_fds:
            raise_fd_limit()

    return setup
