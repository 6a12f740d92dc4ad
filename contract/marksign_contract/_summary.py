"""The summary of a run, read from Schemathesis's JSON report, and its exit code."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ._plan import PROBE_REQUESTS, Plan

EXIT_PASS: Final = 0
EXIT_FAILURES: Final = 1
EXIT_USAGE: Final = 2
EXIT_INTERRUPTED: Final = 130

REPORT_FILES: Final = {"junit": "junit.xml", "har": "requests.har", "json": "report.json"}


@dataclass(frozen=True)
class Outcome:
    exit_code: int
    lines: list[str]


def summarise(
    plan: Plan, base_url: str, returncode: int, report: dict[str, Any] | None, sent: int | None
) -> Outcome:
    limit = plan.bounds.max_requests
    lines = [f"Contract run against {plan.description}: {base_url}"]
    if report is None:
        lines.append(f"FAILED: Schemathesis exited with code {returncode} and wrote no report.")
        return Outcome(EXIT_FAILURES, lines)
    operations = report["operations"]
    phases = "  ".join(
        f"{name} {_PHASE_MARKS.get(phase['status'], phase['status'])}"
        for name, phase in report["phases"].items()
    )
    cases = report["test_cases"]
    budget_spent = (
        limit is not None
        and sent is not None
        and sent >= limit - PROBE_REQUESTS
        and report["stop_reason"] == "interrupted"
    )
    sent_text = "unknown" if sent is None else str(sent + PROBE_REQUESTS)
    limits = f"limit {limit}" if limit is not None else "no limit"
    rate = plan.bounds.rate_limit or "no rate limit"
    lines += [
        f"  operations: {operations['tested']} tested of {operations['selected']} selected"
        + ("" if plan.operation_ids is None else " (status only: pass --enable-initialize)"),
        f"  phases: {phases}",
        f"  test cases: {cases['generated']} generated, {cases['with_failures']} with failures",
        f"  requests sent: {sent_text} ({limits}, {rate}; includes {PROBE_REQUESTS} probes)",
        f"  seed: {report['seed']} (repeat with --seed {report['seed']})",
        "  reports: " + ", ".join(str(plan.report_dir / name) for name in REPORT_FILES.values()),
    ]
    for failure in report["failures"]:
        where = ", ".join(failure["operations"])
        lines.append(f"  {failure['code']} {failure['title']} x{failure['count']}: {where}")
    for error in report["errors"]:
        lines.append(f"  error: {_describe_error(error)}")
    if budget_spent:
        lines.append(
            f"  stopped at the request limit ({limit}); raise --max-requests for a fuller run"
        )
    if cases["with_failures"] or report["failures"]:
        lines.append("FAILED: the server breaks the contract (details above and in the reports)")
        return Outcome(EXIT_FAILURES, lines)
    # Whatever the budget: a run with errors, or that tested nothing, proves nothing.
    unproven = []
    if report["errors"]:
        count = sum(_error_count(error) for error in report["errors"])
        titles = ", ".join(dict.fromkeys(_describe_error(error) for error in report["errors"]))
        unproven.append(f"{count} error{'' if count == 1 else 's'} ({titles})")
    if not operations["tested"]:
        unproven.append("no operation was tested")
    if unproven:
        lines.append(
            f"FAILED: the run proves nothing: {'; '.join(unproven)} (details above and in the "
            "reports)"
        )
        return Outcome(EXIT_FAILURES, lines)
    if returncode == 0:
        lines.append("PASSED: no contract failures")
        return Outcome(EXIT_PASS, lines)
    if budget_spent:
        tested = f"{operations['tested']} of {operations['selected']} operations"
        lines.append(
            f"PASSED, partly: no contract failures in the {tested} tested before the run "
            f"stopped at the request limit ({limit})"
        )
        return Outcome(EXIT_PASS, lines)
    lines.append(f"FAILED: the run did not complete (Schemathesis exit code {returncode})")
    return Outcome(EXIT_FAILURES, lines)


_PHASE_MARKS: Final = {"success": "ok", "failure": "FAILED", "error": "ERROR", "skip": "skipped"}


def _describe_error(error: object) -> str:
    if isinstance(error, dict):
        return str(error.get("title") or error.get("message") or error)
    return str(error)


def _error_count(error: object) -> int:
    count = error.get("count") if isinstance(error, dict) else None
    return count if isinstance(count, int) and count > 0 else 1
