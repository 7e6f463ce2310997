"""`qtui fleet` headless against three real sshd on 127.0.0.1 (tests/e2e/fleet_hosts.py): every host finishes;
one host's sshd dies mid-run; one freezes mid-run with its connection open; Ctrl-C; and the hosts that cannot run
(unknown host key, wrong user, no qtui) fail in one line each."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from benchmarks.ssh_server import SSHServer, children
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


def session_sshd(server: SSHServer) -> list[int]:
    """The sshd processes serving server's connections: the listener's descendants that are sshd (sshd-session on
    newer OpenSSH), not the commands they run."""
    found, todo = [], children(server.proc.pid)
    while todo:
        pid = todo.pop()
        todo += children(pid)
        with contextlib.suppress(OSError):
            if Path(f"/proc/{pid}/comm").read_text().startswith("sshd"):
                found.append(pid)
    return found


def signal_all(pids: list[int], signum: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)


def test_a_host_that_stops_answering_ends_as_no_answer_while_the_other_finishes(fleet, tmp_path):
    """SIGSTOP on a host's sshd mid-run: its connection stays open and says nothing, as a frozen or cut-off host.
    With keep-alives 1 s apart it fails after 4 s of silence (3 unanswered, then one more interval); the other
    host's report is complete, and once the sshd runs again the remote qtui it served is stopped."""
    victim = SSHServer(tmp_path, "frozen")
    fleet.add_host("host-f", victim)
    out = fleet.tmp / "frozen"
    frozen: list[int] = []
    seen: list[str] = []
    try:
        proc = subprocess.Popen([*fleet.argv("host-a", "host-f", out=out), "--keepalive-interval", "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        try:
            _wait_for_lines(proc, {"host-f │ torch-fp32"}, 120, seen)  # connected, and its qtui bench is running
            frozen = session_sshd(victim)
            assert frozen, "no sshd session found to freeze: the test would prove nothing"
            signal_all(frozen, signal.SIGSTOP)
            rest, err = proc.communicate(timeout=240)
        finally:
            signal_all(frozen, signal.SIGCONT)  # never leave a process stopped
            proc.kill() if proc.poll() is None else None
        stderr = "".join(seen) + err
        assert proc.returncode == 3, stderr
        failures = failure_lines(stderr)
        assert list(failures) == ["host-f"], stderr
        assert "failed: no answer for 4 s (3 keep-alives 1 s apart unanswered)" in failures["host-f"]
        doc = load_report(str(out / "host-a.json"))  # the other host: a whole, valid report
        assert doc["rounds"] == 2 and [r["id"] for r in doc["routes"]] == ["torch-fp32"]
        assert sorted(p.name for p in out.iterdir()) == ["host-a.json"]
        row = next(line for line in rest.splitlines() if line.startswith("host-f "))  # its row in the hosts table
        assert "no answer for 4 s" in row and "host-f: failed — no answer for 4 s" in rest
        assert "Traceback" not in stderr
        assert not fleet.wait_no_leftovers(), "a qtui process outlived its frozen, then resumed, ssh session"
    finally:
        victim.stop()


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


def test_a_users_task_file_travels_to_the_host_and_leaves_nothing_there(fleet):
    from tests.task_files import write_pairs

    pairs = write_pairs(fleet.tmp / "my-pairs.csv")
    out = fleet.tmp / "task"
    result = subprocess.run([*fleet.argv("host-a", out=out), "--task", str(pairs)], capture_output=True, text=True,
                            timeout=240, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    doc = load_report(str(out / "host-a.json"))
    assert doc["task"]["name"] == "my-pairs.csv" and doc["task"]["n"] == 40
    remote_copy = doc["task"]["source"]
    assert remote_copy != str(pairs) and remote_copy.endswith("/my-pairs.csv")  # the host read its own copy
    assert doc["routes"][0]["task"]["score"] is not None
    assert not Path(remote_copy).parent.exists()  # and the copy is gone (the host is this machine)
