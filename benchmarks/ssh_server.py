"""A throwaway OpenSSH server on 127.0.0.1 for qtui's SSH tests and the fleet benchmark. It lives here, not under
tests/, because benchmarks import nothing from tests/ (nor need pytest); the tests import it as
`benchmarks.ssh_server`. Nothing in /etc/ssh or ~/.ssh is read or changed: keys and config live in `tmp`."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

INSTALL = "`make test` installs it (the Makefile's tmux target: apt-get install openssh-server openssh-client)"


class SSHServerError(RuntimeError):
    """sshd is missing or would not start; the message says why."""


def program(name: str, *fallbacks: str) -> str:
    found = shutil.which(name) or next((f for f in fallbacks if os.access(f, os.X_OK)), None)
    if found is None:
        raise SSHServerError(f"{name} is missing: {INSTALL}")
    return found


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


class SSHServer:
    """`sshd -D -e` on a free port of 127.0.0.1 that lets exactly one throwaway key in as the current user."""

    def __init__(self, tmp: Path, name: str = "sshd") -> None:
        sshd = program("sshd", "/usr/sbin/sshd")  # sshd re-executes itself, so it needs its absolute path
        self.ssh = program("ssh", "/usr/bin/ssh")
        keygen = program("ssh-keygen", "/usr/bin/ssh-keygen")
        self.dir = tmp / name
        self.dir.mkdir()
        self.host_key, self.key = self.dir / "host_ed25519", self.dir / "client_ed25519"
        for key in (self.host_key, self.key):
            subprocess.run([keygen, "-q", "-N", "", "-t", "ed25519", "-f", str(key)], check=True)
        (self.dir / "authorized_keys").write_text(self.key.with_suffix(".pub").read_text())
        # Privilege separation: sshd refuses to start ("Missing privilege separation directory: /run/sshd")
        # without this root-owned, non-writable-by-others directory; slim images have no /run/sshd.
        try:
            os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
        except PermissionError:  # not root: `sshd -t` below says what is missing
            pass
        self.log = self.dir / "sshd.log"
        self.user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
        for _attempt in range(3):  # the free port can be taken between probing it and sshd binding it
            self.port = free_port()
            config = self.dir / "sshd_config"
            config.write_text("\n".join([
                f"Port {self.port}", "ListenAddress 127.0.0.1", "AddressFamily inet",
                f"HostKey {self.host_key}", f"PidFile {self.dir / 'sshd.pid'}",
                f"AuthorizedKeysFile {self.dir / 'authorized_keys'}", f"AllowUsers {self.user}",
                "PubkeyAuthentication yes", "PermitRootLogin prohibit-password", "StrictModes no",
                "PasswordAuthentication no", "KbdInteractiveAuthentication no", "UsePAM no",
                "PrintMotd no", "PrintLastLog no", "UseDNS no", "PermitUserEnvironment no",
                "Subsystem sftp internal-sftp",  # qtui fleet copies a user's --task file over SFTP
                "X11Forwarding no", "AllowTcpForwarding no", "AllowAgentForwarding no", "LogLevel INFO",
                "MaxStartups 30", ""]))
            check = subprocess.run([sshd, "-t", "-f", str(config)], capture_output=True, text=True)
            if check.returncode != 0:
                raise SSHServerError(f"sshd rejects its test config: {check.stderr}")
            with self.log.open("wb") as log:  # sshd keeps its own copy of the descriptor
                self.proc = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdin=subprocess.DEVNULL,
                                             stdout=log, stderr=subprocess.STDOUT)
            if self._listening(timeout=20):
                return
            self.stop()
            if "Address already in use" not in self.log.read_text(errors="replace"):
                break
        raise SSHServerError(f"sshd did not start on 127.0.0.1:{self.port}; its log:\n"
                             f"{self.log.read_text(errors='replace')}")

    def _listening(self, timeout: float) -> bool:
        """True once the port answers with an SSH banner; False as soon as sshd has exited."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
                    if s.recv(64).startswith(b"SSH-2.0-"):
                        return True
            except OSError:
                pass
            time.sleep(0.2)
        return False

    def command(self, remote: str, tty: bool = True) -> list[str]:
        return [self.ssh, *(["-tt"] if tty else []), "-F", "/dev/null", "-i", str(self.key), "-p", str(self.port),
                "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR",
                f"{self.user}@127.0.0.1", remote]

    def known_hosts_line(self) -> str:
        """This server's entry for a known_hosts file (a non-default port is written `[host]:port`)."""
        key_type, key = self.host_key.with_suffix(".pub").read_text().split()[:2]
        return f"[127.0.0.1]:{self.port} {key_type} {key}\n"

    def config_block(self, alias: str, user: str | None = None) -> str:
        """An ssh_config `Host` entry that reaches this server as `alias` with the throwaway key."""
        return "\n".join([f"Host {alias}", "  HostName 127.0.0.1", f"  Port {self.port}", f"  User {user or self.user}",
                          f"  IdentityFile {self.key}", "  IdentitiesOnly yes", ""]) + "\n"

    def stop(self) -> None:
        sessions = children(self.proc.pid)  # one sshd per connection, started by the listener
        self.proc.terminate()
        for pid in sessions:
            try:
                os.kill(pid, 15)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)
