"""The peers of the throughput section, without starting them (no JVM, no Node.js).

WireMock's stubs must answer what our simulator answers to the same call (asked in process
here), and match the request that the load generators send; a tool that is missing must be
one readable line, and its figures a 'missing' cell.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from bench import cli, peers, throughput, tools, wiremock
from bench.load import LUA_SCRIPT, LoadResult, Target
from bench.ours import STATUS_BODY
from bench.rawhttp import post_request
from bench.settings import PEERS
from bench.table import Measure, Row, render


@pytest.fixture(scope="module")
def ours() -> dict[str, httpx.Response]:
    return wiremock.ours_answers()


def _stub(scenario: str) -> dict[str, Any]:
    stub: dict[str, Any] = json.loads(wiremock.mapping_file(scenario).read_text())
    return stub


def test_there_is_one_stub_per_measured_call_and_no_other() -> None:
    files = sorted(path.name for path in wiremock.MAPPINGS.glob("*"))
    assert files == sorted(wiremock.mapping_file(s).name for s in wiremock.SCENARIOS)
    assert set(wiremock.CALLS) == set(wiremock.SCENARIOS)


@pytest.mark.parametrize("scenario", wiremock.SCENARIOS)
def test_a_stub_answers_the_bytes_status_and_content_type_of_ours(
    scenario: str, ours: dict[str, httpx.Response]
) -> None:
    answer = ours[scenario]
    response = _stub(scenario)["response"]
    assert answer.status_code == wiremock.CALLS[scenario].expected
    assert response["status"] == answer.status_code
    assert response["headers"] == {"Content-Type": answer.headers["content-type"]}
    assert response["headers"]["Content-Type"] == "application/json"
    assert response["body"].encode() == answer.content, "run: python -m bench.wiremock"


def test_the_signed_stub_carries_a_signature_and_the_unknown_one_the_error(
    ours: dict[str, httpx.Response],
) -> None:
    assert ours[wiremock.UNKNOWN].content == (
        b'{"status":"error","message":"Session for given token was not found","error_code":40402}'
    )
    signed = json.loads(ours[wiremock.SIGNED].content)
    assert signed["status"] == "ok"
    assert len(signed["signature_value"]) == 684  # RSA-4096, base64


@pytest.mark.parametrize("scenario", wiremock.SCENARIOS)
def test_a_stub_matches_the_request_both_load_generators_send(scenario: str) -> None:
    request = _stub(scenario)["request"]
    call = wiremock.CALLS[scenario]
    assert request["method"] == "POST"
    assert request["url"] == call.path
    assert request["bodyPatterns"] == [{"equalToJson": json.loads(STATUS_BODY)}]
    content_type = request["headers"]["Content-Type"]["equalTo"]
    # wrk (bench/post.lua) and the asyncio fallback (bench/rawhttp.py) both send it.
    assert f'wrk.headers["Content-Type"] = "{content_type}"' in LUA_SCRIPT.read_text()
    sent = post_request(8000, call.path, STATUS_BODY, call.headers)
    assert f"Content-Type: {content_type}\r\n".encode() in sent
    assert sent.startswith(f"POST {call.path} HTTP/1.1\r\n".encode())


def test_every_peer_is_asked_every_scenario_or_says_why_not(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "build").mkdir()
    (tmp_path / "build" / "wiremock-standalone-3.13.2.jar").touch()
    monkeypatch.setattr(peers, "ensure_npm", lambda tool: tmp_path)  # installs nothing
    monkeypatch.setattr(tools, "_results", tmp_path / "results")
    built = {name: build("/usr/bin/java", 15.0) for name, build in peers.BUILDERS.items()}
    assert tuple(built) == PEERS
    for peer in built.values():
        assert set(peer.calls) == set(wiremock.SCENARIOS), peer.name
    assert built["mockoon"].calls[wiremock.UNKNOWN] == (
        "its import of openapi.yaml answers 200 (the first response) to every call"
    )
    command = built["wiremock"].command(1234)
    assert command[:2] == ["/usr/bin/java", "-jar"]
    assert {"--no-request-journal", "--disable-gzip"} <= set(command)
    assert built["wiremock"].warmup == 15.0
    assert sorted(p.name for p in (tmp_path / "results" / "wiremock" / "mappings").iterdir()) == [
        wiremock.mapping_file(s).name for s in sorted(wiremock.SCENARIOS)
    ]
    assert [peer.label for peer in built.values()] == [
        "prism 5.16.0",
        "wiremock 3.13.2",
        "mockoon 9.9.0",
    ]


def test_a_user_who_is_not_root_gets_one_line_with_the_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "bench.tools.shutil.which", lambda name: "/bin/x" if name == "apt-get" else None
    )
    monkeypatch.setattr("bench.tools.os.geteuid", lambda: 1000)

    def no_apt(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"ran {args}")

    monkeypatch.setattr("bench.tools.subprocess.run", no_apt)
    found = tools.ensure_commands(["wrk", "java"])
    assert found == {"wrk": None, "java": None}
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert "`sudo apt-get install wrk default-jre-headless`" in lines[0]


def test_nothing_is_installed_when_everything_is_there(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("bench.tools.shutil.which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr("bench.tools.os.geteuid", lambda: 1000)
    assert tools.ensure_commands(["wrk"]) == {"wrk": "/usr/bin/wrk"}
    assert capsys.readouterr().err == ""


def test_a_missing_peer_is_one_line_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "TOOLS", tmp_path)  # nothing installed there
    monkeypatch.setattr("bench.tools.shutil.which", lambda name: None)  # no npm
    ready, missing = peers.prepare(["prism", "wiremock"], None, 15.0)
    assert ready == []
    assert missing == {
        "prism": "npm is not installed (Node.js): @stoplight/prism-cli@5.16.0 cannot be installed",
        "wiremock": "java is not installed (sudo apt-get install default-jre-headless)",
    }
    lines = capsys.readouterr().err.splitlines()
    assert lines == [f"[bench] peer {name} is missing: {why}" for name, why in missing.items()]


def test_a_failed_npm_install_is_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(tools, "TOOLS", tmp_path)
    monkeypatch.setattr("bench.tools.shutil.which", lambda name: "/usr/bin/npm")

    def failing(*args: object, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess([], 1, "", "npm error code E404\nnpm error 404 gone\n")

    monkeypatch.setattr("bench.tools.subprocess.run", failing)
    with pytest.raises(
        tools.ToolMissing, match=r"^npm install wiremock@3.13.2 failed: npm error 404 gone$"
    ):
        tools.ensure_npm(tools.WIREMOCK)


def _run(rps: float) -> throughput.Run:
    load = LoadResult(int(rps), 1.0, 1.0, 2.0, 0, 0)
    return throughput.Run(load, cpu_us=100.0, others=0.0, idle_servers=0.0)


def test_the_table_has_a_column_and_a_ratio_per_peer_and_shows_missing_ones() -> None:
    cells_of_peers: dict[str, Target | str] = {
        "prism": throughput.MISSING,
        "wiremock": Target(1, "/", b"", 404),
        "mockoon": throughput.NOT_SERVED,
    }
    scenario = throughput.Scenario(
        "404 unknown token", lambda: pytest.fail("unused"), cells_of_peers
    )
    rows = throughput._rows(scenario, 50, {"ours": [_run(3000)], "wiremock": [_run(1500)]})
    table = render(rows).splitlines()
    header = [cell.strip() for cell in table[0].split("|")]
    assert header == [
        "metric", "ours", "prism", "ours/prism", "wiremock", "ours/wiremock",
        "mockoon", "ours/mockoon", "goal",
    ]  # fmt: skip
    rps = next(line for line in table if "50 conn: requests/s" in line)
    cells = [cell.strip() for cell in rps.split("|")]
    assert cells[1:8] == [
        "3,000 req/s", "missing", "-", "1,500 req/s", "2.00x", "not served", "-",
    ]  # fmt: skip
    assert cells[8] == throughput.RPS_GOAL


def test_ratios_are_ours_over_each_peer() -> None:
    row = Row("s", "m", "ms", Measure.once(4.0), {"a": Measure.once(2.0), "b": Measure.once(8)})
    assert (row.ratio("a"), row.ratio("b"), row.ratio("c")) == (2.0, 0.5, None)
    assert row.as_json()["ratios"] == {"a": 2.0, "b": 0.5}


def test_each_round_starts_one_server_later() -> None:
    servers = ["ours", "prism", "wiremock", "mockoon"]
    orders = [throughput.rotated(servers, i) for i in range(4)]
    assert orders[1] == ["prism", "wiremock", "mockoon", "ours"]
    assert [order.index("ours") for order in orders] == [0, 3, 2, 1]
    assert throughput.rotated(servers, 4) == servers


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--rounds", "0"], "give at least 1: '0'"),
        (["--rounds", "-3"], "give at least 1"),
        (["--longpoll-n", "-5"], "give at least 1"),
        (["--client-rounds", "0"], "give at least 1"),
        (["--client-calls", "many"], "not a whole number"),
        (["--duration", "0"], "give seconds above 0"),
        (["--duration", "-1"], "give seconds above 0"),
        (["--duration", "nan"], "give seconds above 0"),
        (["--warmup", "-1"], "give seconds 0 or more"),
        (["--jvm-warmup", "inf"], "give seconds 0 or more"),
        (["--quiet-wait", "soon"], "not a number of seconds"),
        (["--connections", "1,,2"], "not a list of numbers"),
        (["--connections", "0"], "give positive numbers"),
    ],
)
def test_bad_numbers_stop_the_bench_before_it_starts(
    capsys: pytest.CaptureFixture[str], args: list[str], complaint: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli._parser().parse_args(args)
    assert exited.value.code == 2
    last_line = capsys.readouterr().err.strip().splitlines()[-1]
    assert last_line.startswith(f"python -m bench: error: argument {args[0]}: ")
    assert complaint in last_line


def test_good_numbers_are_taken() -> None:
    args = ["--rounds", "2", "--duration", "0.3", "--warmup", "0", "--connections", "1,50"]
    settings = cli.settings_from(cli._parser().parse_args(args))
    assert (settings.rounds, settings.duration, settings.warmup) == (2, 0.3, 0.0)
    assert settings.connections == (1, 50)


def test_peers_are_chosen_by_name() -> None:
    assert cli._peers("none") == ()
    assert cli._peers("wiremock, prism") == ("wiremock", "prism")
    assert cli.settings_from(cli._parser().parse_args([])).peers == PEERS
    with pytest.raises(SystemExit):
        cli._parser().parse_args(["--peers", "karate"])


def test_commands_are_shown_without_machine_paths() -> None:
    jar = tools.REPO / ".tools" / "wiremock" / "w.jar"
    shown = peers.shown(["/usr/bin/java", "-jar", str(jar), "--port", "1"])
    assert shown == "java -jar .tools/wiremock/w.jar --port 1"


@pytest.mark.socket
def test_a_peer_that_does_not_start_is_one_line_and_missing_cells_in_column_order(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(tools, "_results", tmp_path)
    broken = peers.Peer(
        "prism",
        tools.PRISM.version,
        lambda port: [sys.executable, "-c", "import sys; sys.exit('no such data file')"],
        {wiremock.UNKNOWN: "unused", wiremock.SIGNED: "unused"},
        "exits at once",
    )
    notes: list[str] = []
    missing = {"mockoon": "npm is not installed"}
    off = throughput.JOURNAL_OFF  # ours again, with its journal off: always there
    with throughput._servers([broken], missing, set(), notes) as lineup:
        assert list(lineup.peers) == [off]
        assert lineup.missing == {"mockoon": "missing", "prism": "missing"}
        scenarios = throughput._scenarios(lineup)
    assert [list(s.peers) for s in scenarios] == [[off, "prism", "mockoon"]] * 2  # as PEERS
    assert [s.peers["prism"] for s in scenarios] == ["missing"] * 2
    assert notes[1].startswith(f"{off}: marksign-mock ")
    assert "--journal-size 0" in notes[1]
    assert notes[2] == "mockoon: missing: npm is not installed"
    assert re.fullmatch(r"prism: missing: prism did not start listening on port \d+", notes[3])
    assert len(notes) == 4
    errors = [line for line in capsys.readouterr().err.splitlines() if "missing" in line]
    assert len(errors) == 1
    assert re.fullmatch(r"\[bench\] peer prism is missing: .* \d+ \(see prism\.log\)", errors[0])
    assert "no such data file" in (tmp_path / "prism.log").read_text()
