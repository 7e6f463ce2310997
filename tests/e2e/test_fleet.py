"""`qtui fleet` headless against three real sshd on 127.0.0.1 (tests/e2e/fleet_hosts.py): every host finishes;
one host's sshd dies mid-run; Ctrl-C; and the hosts that cannot run (unknown host key, wrong user, no qtui) fail
in one line each."""

from __future__ import annotations

import signal
import subprocess
import time

import pytest

from benchmarks.ssh_server import SSHServer
from tests.e2e.fleet_hosts import ROOT, TWO_ROUTES
from tui.core.report import load_report

pytestmark = pytest.mark.slow

def failure_lines(stderr: str) -> dict[str, str]:
    return {line.split(" │ ")[0].strip(): line for line in stderr.splitlines() if " │ failed: " in line}


def test_three_hosts_finish_with_reports_and_an_n_way_table(fleet):
    out = fleet.tmp / "all"
    result = subprocess.run(fleet.argv("host-a", "host-b", "host-c", out=out, routes=TWO_ROUTES),
                            capture_output=True, text=True, timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    for host in ("host-a", "host-b", "host-c"):
        doc = load_report(str(out / f"{host}.json"))  # a valid qtui.report/1, saved whole
        assert {r["id"] for r in doc["routes"]} >= {"torch-fp32", "torch-qint8-x86"}
        assert doc["rounds"] == 2
    assert sorted(p.name for p in out.iterdir()) == ["host-a.json", "host-b.json", "host-c.json"]  # no temp files
    table = result.stdout
    assert "host-a sent/s (ref)" in table and "host-c sent/s" in table and "geometric mean" in table
    assert all(f"{h} " in table.split("Hosts × routes")[0] for h in ("host-a", "host-b", "host-c"))
    assert "Traceback" not in result.stderr and "int8:" in result.stderr  # the detected CPU, per host
    assert not fleet.wait_no_leftovers()


def test_unknown_key_wrong_user_and_missing_qtui_fail_in_one_line_each(fleet):
    out = fleet.tmp / "bad"
    result = subprocess.run(fleet.argv("stranger", "wrong-user", "nosuchuser@host-c", out=out), capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    missing = subprocess.run(fleet.argv("host-a", out=out, remote="/nonexistent/bin/qtui"), capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 3 and missing.returncode == 3, result.stderr + missing.stderr
    lines = failure_lines(result.stderr) | failure_lines(missing.stderr)
    assert "host key refused" in lines["stranger"] and "ssh-keyscan -p" in lines["stranger"]
    assert "permission denied for user nosuchuser" in lines["wrong-user"]  # User in the ssh config
    assert "permission denied for user nosuchuser" in lines["nosuchuser@host-c"]  # user@host on the command line
    assert "qtui is not installed on host-a" in lines["host-a"] and "pip install qtui-bench" in lines["host-a"]
    assert "Traceback" not in result.stderr + missing.stderr
    assert not list(out.glob("*.json"))


def _wait_for_lines(proc: subprocess.Popen, needles: set[str], timeout: float, seen: list[str]) -> None:
    """Read stderr until every needle has appeared, in any order (hosts run at once)."""
    missing = set(needles)
    deadline = time.monotonic() + timeout
    while missing and time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        missing = {n for n in missing if n not in line}
    if missing:
        raise AssertionError(f"{sorted(missing)} not seen in {timeout} s; stderr:\n{''.join(seen)}")


def test_a_host_dying_mid_run_fails_alone(fleet, tmp_path):
    victim = SSHServer(tmp_path, "victim")
    fleet.add_host("host-d", victim)
    out = fleet.tmp / "dying"
    proc = subprocess.Popen(fleet.argv("host-a", "host-d", "host-b", out=out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen: list[str] = []
    try:
        _wait_for_lines(proc, {"host-d │ torch-fp32"}, 120, seen)  # its qtui bench is preparing its routes
        victim.stop()
        rest, err = proc.communicate(timeout=240)
    finally:
        victim.stop() if victim.proc.poll() is None else None
        proc.kill() if proc.poll() is None else None
    stderr = "".join(seen) + err
    assert proc.returncode == 3, stderr
    assert "connection lost" in failure_lines(stderr)["host-d"] or "disconnected" in failure_lines(stderr)["host-d"]
    assert sorted(p.name for p in out.iterdir()) == ["host-a.json", "host-b.json"]
    assert "host-d: failed" in rest and "host-a sent/s (ref)" in rest
    assert not fleet.wait_no_leftovers(), "a qtui process outlived its dead ssh session"


def test_ctrl_c_stops_every_remote_run(fleet):
    out = fleet.tmp / "interrupted"
    # As in a terminal: a test run started in the background (`make test &`, nohup) inherits SIGINT ignored, and
    # qtui keeps a signal its starter ignored.
    proc = subprocess.Popen(fleet.argv("host-a", "host-b", "host-c", out=out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen: list[str] = []
    try:
        _wait_for_lines(proc, {f"{host} │ benchmarking" for host in ("host-a", "host-b", "host-c")}, 60, seen)
        time.sleep(1.0)  # the remote qtui bench processes have started
        assert fleet.leftovers(), "no remote qtui found to interrupt: the test would prove nothing"
        proc.send_signal(signal.SIGINT)
        rest, err = proc.communicate(timeout=60)
    finally:
        proc.kill() if proc.poll() is None else None
    assert proc.returncode == 130, "".join(seen) + err
    assert "interrupted (SIGINT); every remote run stopped" in err and "Traceback" not in err
    assert not fleet.wait_no_leftovers(timeout=3), "qtui still running on a host after Ctrl-C"
    assert not list(out.glob("*.json"))
