"""Three throwaway sshd on 127.0.0.1 as a fleet of hosts, shared by the fleet tests (headless and tmux): an
ssh_config and a known_hosts of the tests' own, nothing in ~/.ssh read or changed. The remote qtui is this
checkout's (beside sys.executable), given its environment through --remote-qtui since sshd passes none; every
remote process carries the fleet's own QTUI_CACHE_DIR, which is how the tests find any qtui process (or worker)
a fleet might leave behind."""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks.ssh_server import SSHServer, SSHServerError

ROOT = Path(__file__).resolve().parents[2]
QTUI = Path(sys.executable).parent / "qtui"
TINY = ["--num-texts", "8", "--rounds", "2", "--threads", "1", "--quick"]  # the numbers are what the fleet moves
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


@pytest.fixture(scope="session")
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


