"""The fleet's pure parts: the remote command and its wrapper, the run options passed on, the per-host rows and
badges, and the one-line reasons for SSH failures (real asyncssh exception types, no network)."""

import asyncio
import socket
import subprocess
from pathlib import Path

import asyncssh
import pytest

from tests.conftest import FIXTURES
from tui.core.fleet import (
    FleetPlan,
    HostDetected,
    HostFailed,
    HostFinished,
    HostProgress,
    HostStage,
    bench_command,
    report_name,
    silence_limit,
    went_silent,
    wrapped,
)
from tui.core.fleet_view import HostRow, bf16_badge, int8_badge, summary, update
from tui.core.ssh_errors import HostError, no_answer, reason
from tui.options import QuietParser, add_run_options, run_options_argv

REPORT = FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"


def test_only_the_options_the_user_changed_are_passed_on():
    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    args = parser.parse_args(["--routes", "torch-fp32,torch-qint8-x86", "--rounds", "2", "--no-rescue",
                              "--no-kernels", "--threads-sweep", "1,2"])
    argv = run_options_argv(args)
    assert argv == ["--routes", "torch-fp32,torch-qint8-x86", "--rounds", "2", "--no-rescue", "--threads-sweep",
                    "1,2", "--no-kernels"]
    assert parser.parse_args(argv) == args  # the remote qtui reads back exactly the same options
    assert run_options_argv(parser.parse_args([])) == []
    splits = parser.parse_args(["--pattern", "processes", "--processes", "1x2,2x1"])
    assert run_options_argv(splits) == ["--pattern", "processes", "--processes", "1x2,2x1"]


def test_the_bench_command_quotes_options_and_asks_for_json_on_stdout():
    plan = FleetPlan(hosts=("h",), out_dir=Path("."), bench_args=("--texts", "my texts.txt"),
                     remote_qtui="env X=1 /opt/q/bin/qtui")
    assert bench_command(plan) == "env X=1 /opt/q/bin/qtui bench --texts 'my texts.txt' --json -"


def run_wrapped(command: str) -> tuple[int, str, str]:
    """The wrapper with its stdin held open, as the fleet holds its channel's stdin while a command runs (EOF means
    stop)."""
    proc = subprocess.Popen(["sh", "-c", wrapped(command)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        code = proc.wait(10)
        return code, proc.stdout.read(), proc.stderr.read()
    finally:
        proc.stdin.close()
        proc.kill()


def test_the_wrapper_passes_the_exit_status_and_output_through():
    assert run_wrapped("sh -c 'echo out; echo err >&2; exit 7'") == (7, "out\n", "err\n")
    assert run_wrapped("/nonexistent/qtui detect --json")[0] == 127  # what the fleet reads as "qtui is missing"


def test_the_wrapper_stops_the_command_when_its_stdin_closes():
    """What happens when the fleet cancels (EOF) or the connection drops: the command gets SIGTERM at once."""
    proc = subprocess.Popen(["sh", "-c", wrapped("sleep 60")], stdin=subprocess.PIPE)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(1)  # an open stdin keeps it running
        proc.stdin.close()
        assert proc.wait(10) == 128 + 15  # sleep was terminated
    finally:
        proc.kill()


def test_report_names_are_safe_file_names():
    assert report_name("user@db-1.example.com") == "user@db-1.example.com"
    assert report_name("../etc/x") == "_etc_x" and report_name("h:22") == "h_22"


def test_badges_name_the_best_int8_and_bf16_instructions():
    assert int8_badge(["avx2", "avx512_vnni", "amx_int8"]) == "AMX"
    assert int8_badge(["avx2", "avx_vnni"]) == "AVX-VNNI" and int8_badge(["avx2", "fma"]) == "AVX2, no VNNI"
    assert int8_badge(["neon", "dotprod", "i8mm"]) == "i8mm" and int8_badge(["neon"]) == "none"
    assert bf16_badge(["avx512_bf16"]) == "AVX512-BF16" and bf16_badge(["avx2"]) == "no"


def test_a_row_follows_its_host_from_connecting_to_the_recommendation():
    import json

    report = json.loads(REPORT.read_text())
    row = update(HostRow("h"), HostStage("h", "connecting"))
    assert row.progress == "connecting…"
    row = update(row, HostDetected("h", {"cpu": {"model": "AMD EPYC", "features": report["env"]["cpu"]["features"]}}))
    assert (row.cpu, row.int8, row.bf16) == ("AMD EPYC", "AVX512-VNNI", "AVX512-BF16")
    row = update(row, HostProgress("h", "round  3/30  1.0 s  x 1.0×", 3, 30))
    assert row.progress == "round 3/30"
    row = update(row, HostProgress("h", "batch invariance: re-encoding…"))
    assert row.progress == "round 3/30"  # the rounds are the progress; later passes don't hide them
    row = update(row, HostFinished("h", "out/h.json", report))
    assert row.done and row.recommended == "openvino-int8" and row.speedup.startswith("5.51×")
    assert row.sent_s == "1352.6"
    failed = update(HostRow("g"), HostFailed("g", "unreachable"))
    text = summary([row, failed], {"h": report})
    assert "g: failed — unreachable" in text and "h sent/s (ref)" in text and "g sent/s" not in text


def test_a_host_that_went_silent_says_for_how_long_in_its_row():
    row = update(HostRow("g", progress="round 3/30"), HostFailed("g", "no answer for 60 s (…)", 60.0))
    assert row.progress == "no answer for 60 s" and row.failed == "no answer for 60 s (…)"
    assert update(HostRow("g"), HostFailed("g", "unreachable")).progress == "failed"  # an error, not a silence


def test_only_unanswered_keepalives_count_as_silence():
    """asyncssh raises the same ConnectionLost for a closed socket and for unanswered keep-alives; only its
    reason tells them apart (the end-to-end test in tests/e2e/test_fleet.py freezes a real sshd)."""
    assert went_silent(asyncssh.ConnectionLost("Server not responding to keepalive"))
    assert not went_silent(asyncssh.ConnectionLost("Connection lost")) and not went_silent(None)
    assert silence_limit(FleetPlan(hosts=("h",), out_dir=Path("."), keepalive_interval=15)) == 60
    line = no_answer(4, 1, 3)
    assert line.startswith("no answer for 4 s (3 keep-alives 1 s apart unanswered)") and "\n" not in line


@pytest.mark.parametrize("exc, phrase", [
    (asyncssh.HostKeyNotVerifiable("Host key is not trusted for host 10.0.0.5"),
     "ssh-keyscan -p 2222 -H 10.0.0.5 >> ~/.ssh/known_hosts"),
    (asyncssh.PermissionDenied("Permission denied for user bob"), "permission denied for user bob on 10.0.0.5:2222"),
    (ConnectionRefusedError(111, "refused"), "connection refused by 10.0.0.5:2222"),
    (socket.gaierror(-2, "Name or service not known"), "cannot resolve 10.0.0.5"),
    (asyncio.TimeoutError(), "did not answer within 15 s"),
    (asyncssh.ConnectionLost("Connection lost"), "connection to 10.0.0.5:2222 lost"),
    (HostError("qtui is not installed on db"), "qtui is not installed on db"),
])
def test_ssh_failures_become_one_line_with_the_fix(exc, phrase):
    line = reason(exc, "db", "10.0.0.5", 2222, "bob", 15)
    assert phrase in line and "\n" not in line
