"""`qtui fleet` headless against three real sshd on 127.0.0.1 (throwaway keys, an ssh_config and a known_hosts
of the test's own, nothing in ~/.ssh read or changed): every host finishes; one host's sshd dies mid-run; Ctrl-C;
and the hosts that cannot run (unknown host key, wrong user, no qtui) fail in one line each.

The remote qtui is this checkout's (beside sys.executable), given its environment through --remote-qtui since
sshd passes none. Each remote process carries the test's own QTUI_CACHE_DIR in its environment, which is how the
tests find any qtui process (or worker) a fleet might leave behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.ssh_server import SSHServer, SSHServerError
from tui.core.report import load_report

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
QTUI = Path(sys.executable).parent / "qtui"
TINY = ["--num-texts", "8", "--rounds", "2", "--threads", "1", "--no-rescue", "--no-kernels"]
TWO_ROUTES = ["--routes", "torch-fp32,torch-qint8-x86"]
FP32_ONLY = ["--routes", "torch-fp32"]  # where the test is about the fleet, not the comparison: fewer workers


@dataclass
class Fleet:
    servers: list[SSHServer]
    config: Path
    known_hosts: Path
    cache: Path
    tmp: Path

    @property
    def remote_qtui(self) -> str:
        return f"env QTUI_CACHE_DIR={self.cache} HF_HUB_OFFLINE=1 TZ=UTC {QTUI}"

    def add_host(self, alias: str, server: SSHServer) -> None:
        with self.known_hosts.open("a") as f:
            f.write(server.known_hosts_line())
        with self.config.open("a") as f:
            f.write(server.config_block(alias) + f"  UserKnownHostsFile {self.known_hosts}\n")

    def argv(self, *hosts: str, out: Path, remote: str | None = None, routes=FP32_ONLY) -> list[str]:
        return [sys.executable, "-m", "tui", "fleet", *hosts, "-F", str(self.config), "--out", str(out),
                "--remote-qtui", remote or self.remote_qtui, "--connect-timeout", "20", *routes, *TINY]

    def leftovers(self) -> list[str]:
        """Processes that carry this fleet's cache dir in their environment: remote qtui runs and their workers."""
        mark = f"QTUI_CACHE_DIR={self.cache}".encode()
        found = []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if mark in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                    found.append(Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:120])
            except OSError:
                pass
        return found

    def wait_no_leftovers(self, timeout: float = 10) -> list[str]:
        deadline = time.monotonic() + timeout
        while (left := self.leftovers()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fleet")
    servers = []
    try:
        servers = [SSHServer(tmp, f"sshd-{i}") for i in range(3)]
    except SSHServerError as exc:
        pytest.fail(str(exc))
    (tmp / "empty_known_hosts").write_text("")
    f = Fleet(servers, tmp / "ssh_config", tmp / "known_hosts", tmp / "cache", tmp)
    for alias, server in zip(("host-a", "host-b", "host-c"), servers, strict=True):
        f.add_host(alias, server)
    with f.config.open("a") as cfg:  # the same servers, reached in ways that must fail
        cfg.write(servers[0].config_block("stranger") + f"  UserKnownHostsFile {tmp / 'empty_known_hosts'}\n")
        cfg.write(servers[1].config_block("wrong-user", user="nosuchuser") + f"  UserKnownHostsFile {f.known_hosts}\n")
    yield f
    for server in servers:
        server.stop()


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
    result = subprocess.run(fleet.argv("stranger", "wrong-user", out=out), capture_output=True, text=True,
                            timeout=60, cwd=ROOT)
    missing = subprocess.run(fleet.argv("host-a", out=out, remote="/nonexistent/bin/qtui"), capture_output=True,
                             text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 3 and missing.returncode == 3, result.stderr + missing.stderr
    lines = failure_lines(result.stderr) | failure_lines(missing.stderr)
    assert "host key refused" in lines["stranger"] and "ssh-keyscan -p" in lines["stranger"]
    assert "permission denied for user nosuchuser" in lines["wrong-user"]
    assert "qtui is not installed on host-a" in lines["host-a"] and "pip install qtui-bench" in lines["host-a"]
    assert "Traceback" not in result.stderr + missing.stderr
    assert not list(out.glob("*.json"))


def _wait_for_line(proc: subprocess.Popen, needle: str, timeout: float, seen: list[str]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        seen.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not seen in {timeout} s; stderr:\n{''.join(seen)}")


def test_a_host_dying_mid_run_fails_alone(fleet, tmp_path):
    victim = SSHServer(tmp_path, "victim")
    fleet.add_host("host-d", victim)
    out = fleet.tmp / "dying"
    proc = subprocess.Popen(fleet.argv("host-a", "host-d", "host-b", out=out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen: list[str] = []
    try:
        _wait_for_line(proc, "host-d │ torch-fp32", 120, seen)  # its qtui bench is preparing its routes
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
    proc = subprocess.Popen(fleet.argv("host-a", "host-b", "host-c", out=out), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=ROOT)
    seen: list[str] = []
    try:
        for host in ("host-a", "host-b", "host-c"):
            _wait_for_line(proc, f"{host} │ benchmarking", 60, seen)
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
