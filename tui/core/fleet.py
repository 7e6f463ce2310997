"""`qtui fleet`: on every host at once, over SSH, `qtui detect --json` then `qtui bench … --json -`; each host
measures only itself and its report comes back as qtui.report/1, saved as <host>.json.

SSH is asyncssh (asyncio, so the dashboard runs this in Textual's own event loop): it reads ~/.ssh/config (or
-F), the agent and known_hosts. A host key that is unknown or changed is refused, never accepted; a host whose
ssh config turns the check off (`UserKnownHostsFile none`, which asyncssh reads as "accept anything") is refused
too. A connect timeout and keep-alives make a dead host fail instead of hanging the fleet: a host that stops
answering with its connection still open (frozen, swamped, cut off) fails as "no answer for N s" once
`silence_limit` has passed without a byte from it, while the others go on.

The output folder is made with the first report saved, so a fleet in which every host failed leaves none behind.

A remote command without a pty is not signalled when its channel closes, so every command runs under a small sh
wrapper: qtui in the background, and a watcher that sends it SIGTERM as soon as the channel's stdin closes —
when we cancel (we send EOF), when our connection drops, or when the server side of the session dies. qtui
stops its workers on SIGTERM, so no qtui process is left on any host.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tui.core.ssh_errors import HostError, missing_qtui, no_answer, reason

ROUND = re.compile(r"^round\s+(\d+)/(\d+)")
MISSING_COMMAND = (126, 127)  # sh: found but not executable / not found
STOP_WAIT_S = 15.0  # after EOF, how long the remote qtui gets to stop its workers before we hang up anyway


@dataclass(frozen=True)
class FleetPlan:
    hosts: tuple[str, ...]
    out_dir: Path
    bench_args: tuple[str, ...] = ()  # run options for the remote `qtui bench`
    remote_qtui: str = "qtui"  # a command prefix, e.g. `~/venv/bin/qtui` or `env QTUI_CACHE_DIR=/x qtui`
    ssh_config: tuple[str, ...] | None = None  # -F files; None: ~/.ssh/config as ssh reads it
    connect_timeout: float = 15.0
    keepalive_interval: float = 15.0  # seconds of silence from a host before asyncssh sends it a keep-alive
    keepalive_count_max: int = 3  # unanswered keep-alives before the host is given up (see silence_limit)
    task_file: Path | None = None  # a user's --task file or BEIR folder: copied to each host, --task points there


def silence_limit(plan: FleetPlan) -> float:
    """Seconds without a byte from a host before its connection is dropped: asyncssh sends a keep-alive after each
    interval of silence (any data received restarts the clock) and gives up one interval after the last unanswered
    one, so interval × (count + 1)."""
    return plan.keepalive_interval * (plan.keepalive_count_max + 1)


def task_path(path: str | None) -> Path | None:
    """The local file or folder a --task names (None for the built-in `stsb`, which travels with qtui)."""
    from tui.core.tasks import STSB

    return None if not path or path.strip().lower() == STSB else Path(path).expanduser()


# ------------------------------------------------------------------------------------------ events


@dataclass(frozen=True)
class HostStage:
    host: str
    stage: str  # connecting | detecting | benchmarking | stopping


@dataclass(frozen=True)
class HostDetected:
    host: str
    detection: dict  # qtui.detect/1


@dataclass(frozen=True)
class HostProgress:
    host: str
    line: str  # the remote `qtui bench` progress line, as it printed it on stderr
    round: int | None = None
    max_rounds: int | None = None


@dataclass(frozen=True)
class HostFinished:
    host: str
    path: str
    report: dict


@dataclass(frozen=True)
class HostFailed:
    host: str
    reason: str
    silent_s: float | None = None  # set when the host stopped answering (keep-alives unanswered): for how long


# ------------------------------------------------------------------------------------------ commands


def report_name(host: str) -> str:
    """<host>.json with anything a file name should not hold replaced by _."""
    return re.sub(r"[^A-Za-z0-9._@-]", "_", host).lstrip(".") or "host"


def wrapped(command: str) -> str:
    """`sh -c` around command: it runs in the background with stdin from /dev/null, a watcher holds the channel's
    stdin (saved as fd 3: sh gives background jobs /dev/null) and sends SIGTERM when it reaches EOF; the wrapper
    exits with the command's status. The watcher's output goes to /dev/null so it never holds the channel open."""
    script = (f"exec 3<&0; {command} </dev/null 3<&- & q=$!; "
              "(cat <&3 >/dev/null 2>&1; kill -TERM $q 2>/dev/null) >/dev/null 2>&1 & w=$!; "
              "exec 3<&-; wait $q; s=$?; kill $w 2>/dev/null; exit $s")
    return "sh -c " + shlex.quote(script)


def bench_command(plan: FleetPlan, bench_args: tuple[str, ...] | None = None) -> str:
    args = plan.bench_args if bench_args is None else bench_args
    return " ".join([plan.remote_qtui, "bench", *map(shlex.quote, args), "--json", "-"])


def with_task_at(bench_args: tuple[str, ...], remote: str) -> tuple[str, ...]:
    """The run options with --task naming the copy on the host."""
    args = list(bench_args)
    args[args.index("--task") + 1] = remote
    return tuple(args)


async def _send_task(conn, plan: FleetPlan, host: str) -> tuple[tuple[str, ...], str | None]:
    """(the run options for this host, the remote folder to remove afterwards): a user's task file or folder is
    copied into a fresh temporary folder there, and --task names the copy."""
    if plan.task_file is None:
        return plan.bench_args, None
    status, stdout, stderr = await _run(conn, "mktemp -d", host, timeout=30)
    if status != 0 or not stdout.strip():
        raise HostError(f"could not make a folder for the --task file there (mktemp -d: {_last_line(stderr)})")
    remote_dir = stdout.strip()
    import asyncssh

    try:
        async with conn.start_sftp_client() as sftp:
            await sftp.put(str(plan.task_file), remote_dir, recurse=True)
    except (asyncssh.Error, OSError) as exc:
        raise HostError(f"could not copy the --task file there over SFTP ({exc}); enable sshd's sftp Subsystem, or "
                        "copy it yourself and give --task its path on the host") from None
    return with_task_at(plan.bench_args, f"{remote_dir}/{plan.task_file.name}"), remote_dir


def _last_line(text: str) -> str:
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


# ------------------------------------------------------------------------------------------ running


async def run_fleet(plan: FleetPlan, emit: Callable[[object], None]) -> dict[str, str | None]:
    """Every host at once; {host: None when finished, else why it failed}. Cancelling this coroutine stops every
    remote run before it returns (the CancelledError is re-raised)."""
    outcomes = await asyncio.gather(*(run_host(plan, host, emit) for host in plan.hosts))
    return dict(zip(plan.hosts, outcomes, strict=True))


async def run_host(plan: FleetPlan, host: str, emit: Callable[[object], None]) -> str | None:
    """One host from connect to saved report; None when it finished, else the one-line reason it failed (also
    emitted as HostFailed). Never raises, except CancelledError after the remote run is stopped."""
    import asyncssh

    config = list(plan.ssh_config) if plan.ssh_config is not None else ()
    login, _, target = host.rpartition("@")  # user@host, as ssh takes it; asyncssh wants them apart
    username = login or ()  # (): the ssh config's User, else the local user
    hostname = port = user = None
    client = _watched_client()
    try:
        emit(HostStage(host, "connecting"))
        options = asyncssh.SSHClientConnectionOptions(config=config, host=target, username=username)
        hostname, port, user = _resolved(options, target)
        if options.known_hosts is None:
            raise HostError(f"the ssh config for {host} turns host key checking off (UserKnownHostsFile none); qtui "
                            "never accepts a host key unchecked: point UserKnownHostsFile at a known_hosts file")
        async with asyncssh.connect(target, username=username, config=config, connect_timeout=plan.connect_timeout,
                                    keepalive_interval=plan.keepalive_interval,
                                    keepalive_count_max=plan.keepalive_count_max,
                                    client_factory=lambda: client) as conn:
            emit(HostStage(host, "detecting"))
            detection = await _detect(conn, plan, host)
            emit(HostDetected(host, detection))
            bench_args, remote_dir = await _send_task(conn, plan, host)
            emit(HostStage(host, "benchmarking"))
            try:
                report = await _bench(conn, plan, host, emit, bench_args)
            finally:
                if remote_dir:  # the copy of the user's task is theirs: leave nothing behind on the host
                    with contextlib.suppress(Exception):
                        await _run(conn, f"rm -rf {shlex.quote(remote_dir)}", host, timeout=30)
        path = _save(plan.out_dir, host, report)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # every failure of one host is a line for that host; the others go on
        if went_silent(client.lost):  # whichever layer noticed first (a read, SFTP, our own checks), this is why
            silent = silence_limit(plan)
            why = no_answer(silent, plan.keepalive_interval, plan.keepalive_count_max)
        else:
            silent, why = None, reason(exc, host, hostname, port, user, plan.connect_timeout)
        emit(HostFailed(host, why, silent))
        return why
    emit(HostFinished(host, str(path), report))
    return None


def _watched_client():
    """An asyncssh client that keeps the exception its connection closed with: a channel read, SFTP and our own
    messages each rewrap it, and only the original says whether the keep-alives went unanswered."""
    import asyncssh

    class Watched(asyncssh.SSHClient):
        lost: Exception | None = None

        def connection_lost(self, exc: Exception | None) -> None:
            self.lost = exc

    return Watched()


def went_silent(lost: BaseException | None) -> bool:
    """True when asyncssh dropped the connection because its keep-alives went unanswered: it says so only in the
    reason of a ConnectionLost (`Server not responding to keepalive`), the type it also uses for a closed socket."""
    import asyncssh

    return isinstance(lost, asyncssh.ConnectionLost) and "keepalive" in (lost.reason or "")


def _resolved(options, host: str) -> tuple[str | None, int | None, str | None]:
    """(HostName, Port, User) the connection will use, for error messages."""
    try:
        cfg = options.config
        return cfg.get("Hostname", host), cfg.get("Port", None), options.username or cfg.get("User", None)
    except Exception:  # asyncssh internals moved: the messages fall back to the alias
        return None, None, None


def _reads(*reads):
    """gather() of a process's reads whose outcome is always retrieved: cancelled as the dashboard quits, the
    gather can finish after its awaiting task is gone, and asyncio then prints "_GatheringFuture exception was
    never retrieved" with a traceback over the user's shell."""
    together = asyncio.gather(*reads)
    together.add_done_callback(lambda f: f.cancelled() or f.exception())
    return together


async def _run(conn, command: str, host: str, timeout: float) -> tuple[int | None, str, str]:
    process = await conn.create_process(wrapped(command), encoding="utf-8")
    try:
        stdout, stderr = await asyncio.wait_for(_reads(process.stdout.read(), process.stderr.read()),
                                                timeout)
        await process.wait()
    except BaseException:
        await _stop(process)
        raise
    return process.exit_status, stdout, stderr


async def _detect(conn, plan: FleetPlan, host: str) -> dict:
    command = f"{plan.remote_qtui} detect --json"
    status, stdout, stderr = await _run(conn, command, host, timeout=120)
    if status in MISSING_COMMAND:
        raise HostError(missing_qtui(host, plan.remote_qtui))
    if status != 0:
        raise HostError(f"`qtui detect` failed there (exit {status}): {_last_line(stderr)}")
    try:
        detection = json.loads(stdout)
    except json.JSONDecodeError:
        raise HostError(f"`{command}` printed no JSON (an old qtui? upgrade it: `pip install -U qtui-bench`)") from None
    if not isinstance(detection, dict) or detection.get("schema") != "qtui.detect/1":
        raise HostError(f"`{command}` printed no qtui.detect/1 document")
    return detection


async def _bench(conn, plan: FleetPlan, host: str, emit, bench_args: tuple[str, ...]) -> dict:
    from tui.core.report import ReportError, check_report

    process = await conn.create_process(wrapped(bench_command(plan, bench_args)), encoding="utf-8")
    tail: list[str] = []
    last_round = ""

    async def progress() -> None:
        nonlocal last_round
        async for line in process.stderr:
            line = line.rstrip()
            if not line:
                continue
            tail[:] = [*tail[-4:], line]
            match = ROUND.match(line)
            if match:
                last_round = f"round {match.group(1)}/{match.group(2)}"
            emit(HostProgress(host, line, *(int(g) for g in match.groups()) if match else (None, None)))

    try:
        stdout, _ = await _reads(process.stdout.read(), progress())
        await process.wait()
    except asyncio.CancelledError:
        emit(HostStage(host, "stopping"))
        await _stop(process)
        raise
    except Exception as exc:
        await _stop(process)
        raise _lost(exc, host, last_round) from None
    status = process.exit_status
    if status is None:  # no exit status: the session or the connection died under the command
        raise _lost(None, host, last_round)
    if status in MISSING_COMMAND:
        raise HostError(missing_qtui(host, plan.remote_qtui))
    if status != 0:
        raise HostError(f"`qtui bench` failed there (exit {status}): {_last_line(chr(10).join(tail))}")
    try:
        return check_report(json.loads(stdout), host)
    except (json.JSONDecodeError, ReportError) as exc:
        raise HostError(f"`qtui bench` printed no usable report: {exc}") from None


def _lost(exc: BaseException | None, host: str, last_round: str) -> HostError:
    where = f" after {last_round}" if last_round else ""
    detail = getattr(exc, "reason", None) or (str(exc) if exc else "") or "the session ended without an exit status"
    return HostError(f"connection lost mid-run{where}: {detail}")


async def _stop(process) -> None:
    """EOF to the wrapper's watcher, which SIGTERMs qtui; wait for it to stop its workers, then hang up."""
    try:
        process.stdin.write_eof()
        await asyncio.wait_for(process.wait(), STOP_WAIT_S)
    except (Exception, asyncio.CancelledError):  # the connection is already gone: its sshd session ends qtui
        pass
    finally:
        process.close()


def _save(out_dir: Path, host: str, report: dict) -> Path:
    """The report as <host>.json, written whole; the folder is made here, with the first report, so a fleet that
    saves nothing leaves no empty folder."""
    from tui.core.report import write_atomic

    path = out_dir / f"{report_name(host)}.json"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_atomic(str(path), json.dumps(report, indent=2) + "\n")
    except OSError as exc:  # a local failure: `reason` would call any OSError the host's fault ("unreachable")
        raise HostError(f"finished, but its report could not be saved as {path}: {exc.strerror or exc}") from None
    return path
