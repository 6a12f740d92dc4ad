"""The outside programs the benchmarks use, installed on first use, and CPU/fd plumbing."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SPEC = REPO / "openapi.yaml"
TOOLS = REPO / ".tools"
DEFAULT_RESULTS = Path(__file__).resolve().parent / "results"
_results = DEFAULT_RESULTS

# The CPUs this process may use before it pins itself to the load generator's share.
ALL_CPUS = frozenset(os.sched_getaffinity(0))


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


class ToolMissing(Exception):
    """A program the benchmarks want is absent and could not be installed (one line)."""


def run_checked(command: list[str]) -> None:
    """Run an install step; ToolMissing with its last line of errors if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=900)
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolMissing(f"{' '.join(Path(command[0]).name.split())} failed: {last}")


# The Debian package of each outside program, installed with apt-get when run as root.
APT_PACKAGES = {"wrk": "wrk", "java": "default-jre-headless"}


def ensure_commands(names: Sequence[str]) -> dict[str, str | None]:
    """Each program's path on PATH, None if absent; missing ones are installed if we can.

    As root, the missing ones are installed from Debian's packages with one apt-get call.
    Otherwise one line tells the user the command to run, and the caller does without.
    """
    found = {name: shutil.which(name) for name in names}
    missing = [name for name, path in found.items() if path is None]
    if not missing:
        return found
    packages = " ".join(APT_PACKAGES[name] for name in missing)
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        log(
            f"{' and '.join(missing)} not installed (only root may install them here): "
            f"run `sudo apt-get install {packages}` and make bench again"
        )
        return found
    log(f"{' and '.join(missing)} missing: apt-get install -y {packages}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-qq", *packages.split()]
    done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:  # a stale package list: update it once and try again
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, timeout=600)
        done = subprocess.run(install, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        log(f"apt-get install {packages} failed: {_last_line(done.stderr)}")
    return {name: shutil.which(name) for name in names}


@dataclass(frozen=True)
class NpmTool:
    """An npm package at an exact version, installed in its own folder under ``.tools/``.

    Each gets its own folder: ``npm install --no-save`` removes what an earlier
    ``--no-save`` install put in the same folder.
    """

    package: str
    version: str
    folder: str

    @property
    def spec(self) -> str:
        return f"{self.package}@{self.version}"

    @property
    def prefix(self) -> Path:
        return TOOLS / self.folder

    @property
    def package_dir(self) -> Path:
        return self.prefix / "node_modules" / self.package

    def bin(self, name: str) -> Path:
        return self.prefix / "node_modules" / ".bin" / name

    def installed_version(self) -> str | None:
        try:
            version = json.loads((self.package_dir / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return None
        return str(version)


PRISM = NpmTool("@stoplight/prism-cli", "5.16.0", "prism")
# The npm package `wiremock` carries WireMock's standalone jar; we run the jar with java.
WIREMOCK = NpmTool("wiremock", "3.13.2", "wiremock")
MOCKOON = NpmTool("@mockoon/cli", "9.9.0", "mockoon")


def ensure_npm(tool: NpmTool) -> Path:
    """The tool's package folder, installed from npm at its pinned version if missing."""
    if tool.installed_version() == tool.version:
        return tool.package_dir
    npm = shutil.which("npm")
    if npm is None:
        raise ToolMissing(f"npm is not installed (Node.js): {tool.spec} cannot be installed")
    log(f"installing {tool.spec} into .tools/{tool.folder}/")
    tool.prefix.mkdir(parents=True, exist_ok=True)
    command = [npm, "install", "--prefix", str(tool.prefix), "--no-save", "--no-audit"]
    command += ["--no-fund", "--loglevel=error", tool.spec]
    env = {**os.environ, "SCARF_ANALYTICS": "false"}
    started = time.monotonic()
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        raise ToolMissing(f"npm install {tool.spec} failed: {_last_line(done.stderr)}")
    if tool.installed_version() != tool.version:
        raise ToolMissing(f"npm install {tool.spec} left version {tool.installed_version()}")
    log(f"installed {tool.spec} in {time.monotonic() - started:.0f} s")
    return tool.package_dir


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no output"


def _version_line(program: str, flag: str) -> str:
    """The first line a program prints about its version (java prints it on stderr)."""
    path = shutil.which(program)
    if path is None:
        return "absent"
    done = subprocess.run([path, flag], capture_output=True, text=True, timeout=30)
    return ((done.stdout + done.stderr).strip().splitlines() or ["unknown"])[0]


def node_version() -> str:
    return _version_line("node", "--version")


def java_version() -> str:
    # e.g. 'openjdk version "17.0.15" 2025-04-15' -> 17.0.15
    first = _version_line("java", "-version")
    return first.split('"')[1] if first.count('"') >= 2 else first


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


def pin_threads(pid: int, cpus: set[int]) -> None:
    """Pin every thread a running process has now (threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            os.sched_setaffinity(int(task.name), cpus)
        except ProcessLookupError:  # a thread that has just ended
            continue


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
