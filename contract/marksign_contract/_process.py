"""Running `schemathesis run`: its command line, its output (redacted), Ctrl+C, the simulator."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from marksign_mock import SimulatorProcess

from . import environment
from ._plan import ACCESS_TOKEN_ENV, PROBE_REQUESTS, Plan, spec
from ._redaction import redact, secret_forms
from ._summary import REPORT_FILES
from .target import UsageError

CONFIG_FILE: Final = Path(__file__).with_name("schemathesis.toml")
SIMULATOR_LOG: Final = "simulator.log"
# Answers at once and lets any well-formed personal code sign: generated requests succeed fast.
SIMULATOR_OPTIONS: Final = ("--answer-delay", "0", "--allow-any-code")


def console_script(name: str) -> Path:
    """A console script of this environment: it sits next to the running interpreter."""
    return Path(sys.executable).parent / name


def schemathesis_command(plan: Plan, base_url: str) -> list[str]:
    """The `schemathesis run` command line of a plan (the token is not in it)."""
    reports = {kind: plan.report_dir / name for kind, name in REPORT_FILES.items()}
    command = [
        str(console_script("schemathesis")),
        *("--config-file", str(CONFIG_FILE)),
        "--no-color",
        "run",
        str(spec().path),
        *("--url", base_url),
        *("--max-examples", str(plan.bounds.max_examples)),
        *("--workers", str(plan.bounds.workers)),
        *("--request-timeout", f"{plan.request_timeout:g}"),
        *("--generation-database", "none"),  # no replay of earlier runs' examples
        *("--report", ",".join(REPORT_FILES)),
        *(arg for kind, path in reports.items() for arg in (f"--report-{kind}-path", str(path))),
    ]
    if plan.bounds.rate_limit is not None:
        command += ["--rate-limit", plan.bounds.rate_limit]
    if plan.seed is not None:
        command += ["--seed", str(plan.seed)]
    if plan.operation_ids is not None:
        for operation_id in plan.operation_ids:
            command += ["--include-operation-id", operation_id]
        # The stateful phase follows links from initialize, which is left out.
        command += ["--phases", "examples,coverage,fuzzing"]
    return command


def _copy_output(process: subprocess.Popen[str], forms: Sequence[str]) -> None:
    """Schemathesis's output, redacted, to ours, until it closes it."""
    assert process.stdout is not None
    for line in process.stdout:
        sys.stdout.write(redact(line, forms))
    sys.stdout.flush()


def _run_schemathesis(command: Sequence[str], env: Mapping[str, str], forms: Sequence[str]) -> int:
    """Run it and copy its output; on Ctrl+C, let it stop and write its reports, then re-raise.

    It runs in a process group of its own, so that a Ctrl+C at the terminal reaches it once,
    from here: then it stops the way the request budget stops it, with its reports written. A
    second Ctrl+C kills it.
    """
    with subprocess.Popen(  # noqa: S603 -- our own console script, no shell
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        errors="replace",
        process_group=0,
    ) as process:
        try:
            _copy_output(process, forms)
        except KeyboardInterrupt:
            try:
                if process.poll() is None:
                    process.send_signal(signal.SIGINT)
                _copy_output(process, forms)
                process.wait()
            except KeyboardInterrupt:
                process.kill()
                process.wait()
            raise
        return process.wait()


def _target_url(plan: Plan) -> str:
    assert plan.target is not None
    return plan.target.base_url


def prepare_report_dir(report_dir: Path) -> None:
    """The report directory, created, without the files of an earlier run; raises UsageError."""
    try:
        report_dir.mkdir(parents=True, exist_ok=True)
        for name in (*REPORT_FILES.values(), SIMULATOR_LOG):
            (report_dir / name).unlink(missing_ok=True)
    except (FileExistsError, NotADirectoryError):  # it, or a parent, is a file
        raise UsageError(f"--report-dir {report_dir}: not a directory") from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise UsageError(f"--report-dir {report_dir}: {reason}") from None


@dataclass(frozen=True)
class Finished:
    base_url: str
    returncode: int
    sent: int | None  # requests the hook let through; None: unknown


def execute(plan: Plan) -> Finished:
    simulator = None
    if plan.target is None:
        simulator = SimulatorProcess(
            SIMULATOR_OPTIONS,
            access_token=plan.access_token,
            log_path=plan.report_dir / SIMULATOR_LOG,
        )
    with tempfile.TemporaryDirectory(prefix="marksign-contract-") as scratch:
        count_file = Path(scratch, "requests-sent")
        try:
            base_url = simulator.start() if simulator is not None else _target_url(plan)
            env = {
                **os.environ,
                environment.ACCESS_TOKEN_ENV: plan.access_token,
                environment.REQUEST_COUNT_FILE_ENV: str(count_file),
            }
            env.pop(ACCESS_TOKEN_ENV, None)  # the child needs it under the hook's name only
            env.pop(environment.MAX_REQUESTS_ENV, None)
            if plan.bounds.max_requests is not None:
                env[environment.MAX_REQUESTS_ENV] = str(plan.bounds.max_requests - PROBE_REQUESTS)
            command = schemathesis_command(plan, base_url)
            returncode = _run_schemathesis(command, env, secret_forms(plan.access_token))
        finally:
            if simulator is not None:
                simulator.stop()
        sent = int(count_file.read_text()) if count_file.is_file() else None
    return Finished(base_url, returncode, sent)
