"""Why a fleet host failed, in one line that says what to do: SSH and socket errors mapped to their fix.

asyncssh is imported only inside `reason` (it is needed only once a fleet runs)."""

from __future__ import annotations

import asyncio
import socket

INSTALL_QTUI = "pip install qtui-bench"


class HostError(Exception):
    """A host-side failure already phrased for the user (missing qtui, a failed remote command, a bad report)."""


def known_hosts_fix(host: str, hostname: str | None = None, port: int | None = None) -> str:
    """The commands that trust a server's key: scan it into known_hosts (after checking it out of band)."""
    target = hostname or host
    p = f"-p {port} " if port and port != 22 else ""
    return (f"if {host} is the server you expect, add its key: `ssh-keyscan {p}-H {target} >> ~/.ssh/known_hosts` "
            f"(or connect once with `ssh {host}`); if its key changed, remove the old one first: "
            f"`ssh-keygen -R {'[' + target + ']:' + str(port) if p else target}`")


def missing_qtui(host: str, command: str) -> str:
    return (f"qtui is not installed on {host} (`{command}` not found in a non-interactive ssh session): install it "
            f"there with `{INSTALL_QTUI}`, or pass --remote-qtui /path/to/qtui")


def no_answer(seconds: float, interval: float, count: int) -> str:
    """A host that went silent with its connection open: frozen, swamped, or the network to it dropped."""
    return (f"no answer for {seconds:g} s ({count} keep-alives {interval:g} s apart unanswered): the host froze or is "
            f"overloaded, or the network to it dropped; check it, or give a slow host a longer --keepalive-interval")


def reason(exc: BaseException, host: str, hostname: str | None = None, port: int | None = None,
           user: str | None = None, timeout: float | None = None) -> str:
    """One line for a connection that failed; never a traceback."""
    import asyncssh

    where = f"{hostname or host}" + (f":{port}" if port else "")
    if isinstance(exc, HostError):
        return str(exc)
    if isinstance(exc, asyncssh.HostKeyNotVerifiable):
        return f"host key refused (not in known_hosts, or changed): {known_hosts_fix(host, hostname, port)}"
    if isinstance(exc, asyncssh.PermissionDenied):
        who = f"user {user}" if user else "the user"
        return (f"permission denied for {who} on {where}: check User for {host} in the ssh config, and that the key "
                f"(IdentityFile, or the ssh agent) is in that user's authorized_keys")
    if isinstance(exc, asyncssh.ConnectionLost):
        return f"connection to {where} lost: {exc.reason or 'the server went away'}"
    if isinstance(exc, asyncssh.DisconnectError):
        return f"{where} disconnected: {exc.reason}"
    if isinstance(exc, asyncssh.ChannelOpenError):
        return f"{where} refused to run a command: {exc.reason}"
    if isinstance(exc, socket.gaierror):
        return f"cannot resolve {hostname or host}: check the name, or its HostName in the ssh config"
    if isinstance(exc, ConnectionRefusedError):
        return f"unreachable: connection refused by {where} (no sshd listening there?)"
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        limit = f" within {timeout:.0f} s" if timeout else ""
        return f"unreachable: {where} did not answer{limit} (host down, or a firewall)"
    if isinstance(exc, OSError):
        return f"unreachable: {where}: {exc.strerror or exc}"
    if isinstance(exc, asyncssh.Error):
        return f"ssh error with {where}: {exc.reason}"
    return f"{exc.__class__.__name__}: {exc}"
