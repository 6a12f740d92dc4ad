"""The command's log: one line per request in LOG_FORMAT, the same text logging would write."""

from __future__ import annotations

import logging
import re
import time
from pathlib import Path

import httpx
from marksign_mock.launcher import LOG_FORMAT, SimulatorProcess, _LogFormatter

UNKNOWN_STATUS = "/en/smartid/sign/hash/status/00000000-0000-4000-8000-000000000000.json"
LINE = re.compile(
    r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3} INFO marksign_mock: "
    r"POST (?P<path>\S+) (?P<status>\d{3}) \d+\.\dms$"
)


def record_at(created: float) -> logging.LogRecord:
    record = logging.LogRecord("marksign_mock", logging.INFO, __file__, 1, "%s", ("x",), None)
    record.created = created
    record.msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes it
    return record


def test_the_time_made_once_a_second_is_the_text_logging_writes() -> None:
    ours, standard = _LogFormatter(LOG_FORMAT), logging.Formatter(LOG_FORMAT)
    start = 1_780_000_000.0
    # The same second again, the next one, a jump back and forward: the cached text follows.
    for created in (
        start,
        start + 0.25,
        start + 0.999,
        start + 1.0,
        start + 1.5,
        start - 3601.7,
        start + 86400.004,
        start + 86400.9,
    ):
        record = record_at(created)
        assert ours.format(record) == standard.format(record)
    record = record_at(start)
    assert ours.formatTime(record, "%H") == standard.formatTime(record, "%H")


def test_the_command_logs_a_line_per_request_with_its_time(tmp_path: Path) -> None:
    log_path = tmp_path / "mock.log"
    before = time.time()
    with (
        SimulatorProcess(log_path=log_path, log_level="info") as simulator,
        httpx.Client(base_url=simulator.base_url) as client,
    ):
        for _ in range(2):
            answer = client.post(UNKNOWN_STATUS, json={"access_token": "not-accepted"})
            assert answer.status_code == 400
    after = time.time()
    lines = [LINE.match(line) for line in log_path.read_text().splitlines() if " POST " in line]
    assert len(lines) == 2, log_path.read_text()
    for match in lines:
        assert match is not None
        assert match["path"] == UNKNOWN_STATUS
        assert match["status"] == "400"
        logged = time.mktime(time.strptime(match["at"], "%Y-%m-%d %H:%M:%S"))
        assert int(before) <= logged <= after
