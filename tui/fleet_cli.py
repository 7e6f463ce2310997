"""`qtui fleet`: its options, the checks made before connecting anywhere, and the headless run (progress on stderr,
the hosts table and the hosts × routes comparison on stdout). In a terminal the dashboard's fleet screen runs the
same core (tui/core/fleet.py) instead."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import time
from pathlib import Path

from tui.errors import EXIT_OK, EXIT_SOME_HOSTS_FAILED, UserError
from tui.options import add_run_options, positive_float, run_options_argv

KEEPALIVE_S = 15.0  # --keepalive-interval's default, a common ServerAliveInterval
KEEPALIVE_COUNT = 3  # unanswered keep-alives before a silent host is given up, as ssh's ServerAliveCountMax

EPILOG = ("Each host needs sshd and qtui (`pip install qtui-bench`); run options such as --model and --texts name "
          "paths on the host. Host keys are checked against known_hosts (as ssh_config says: UserKnownHostsFile); "
          "an unknown or changed key fails that host with the command that trusts it, never silently. "
          "Exit codes: 0 every host finished, 2 bad input (nothing started), 3 some hosts failed (the others' reports "
          "are saved; each failure is one line on stderr), 129/130/143 hung up/interrupted/terminated (every remote "
          "run is stopped).")


def add_fleet_parser(sub) -> argparse.ArgumentParser:
    p = sub.add_parser(
        "fleet", help="benchmark many servers at once over SSH and compare them (hosts × routes)",
        description="Run `qtui detect --json` then `qtui bench … --json -` on every HOST at once over SSH (each "
        "host measures only itself) and save each report as DIR/<host>.json; then compare them: a row per host "
        "(CPU, int8/bf16 features, the recommended route, its speed-up and sentences/s) and a hosts × routes table "
        "with CIs as `qtui compare` prints it (the first host that finished is the reference). In a terminal this "
        "opens the dashboard's fleet screen (x cancels); otherwise progress goes to stderr and the tables to stdout. "
        "SSH reads ~/.ssh/config (or -F), the agent and known_hosts, like ssh.",
        epilog=EPILOG)
    p.add_argument("hosts", nargs="*", metavar="HOST", help="ssh destinations: a Host alias of the ssh config, "
                                                            "a hostname, or user@host")
    p.add_argument("-F", dest="ssh_config", metavar="SSH_CONFIG",
                   help="ssh client config file to read instead of ~/.ssh/config (as `ssh -F`)")
    p.add_argument("--hosts-file", metavar="FILE", help="more hosts, one per line (# starts a comment)")
    p.add_argument("--remote-qtui", default="qtui", metavar="CMD",
                   help="the command that runs qtui on the hosts (default: qtui on the login PATH), e.g. "
                        "~/venv/bin/qtui or 'env QTUI_CACHE_DIR=/scratch/qtui qtui'; one simple command (no ; or "
                        "&&), since the stop signal goes to the process it starts")
    p.add_argument("--out", metavar="DIR", help="where the <host>.json reports go (default "
                                                "./qtui-fleet-YYYYmmdd-HHMMSS); created with the first report, so "
                                                "a fleet in which every host failed leaves no empty folder")
    p.add_argument("--connect-timeout", type=positive_float, default=15.0, metavar="SECONDS",
                   help="give up on a host that does not complete the SSH handshake in time (default 15)")
    p.add_argument("--keepalive-interval", type=positive_float, default=KEEPALIVE_S, metavar="SECONDS",
                   help=f"after SECONDS without a byte from a host, send it an SSH keep-alive (as ssh's "
                        f"ServerAliveInterval); {KEEPALIVE_COUNT} unanswered in a row and the host fails as "
                        f"`no answer for N s` (N = {KEEPALIVE_COUNT + 1} × SECONDS) while the others go on, so a "
                        f"frozen or cut-off host cannot hang the fleet (default {KEEPALIVE_S:g}, so "
                        f"{(KEEPALIVE_COUNT + 1) * KEEPALIVE_S:g} s of silence)")
    add_run_options(p)
    return p


def _hosts(args: argparse.Namespace) -> tuple[str, ...]:
    hosts = list(args.hosts)
    if args.hosts_file:
        try:
            text = Path(args.hosts_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UserError(f"--hosts-file {args.hosts_file}: {getattr(exc, 'strerror', None) or exc}") from None
        hosts += [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]
    if not hosts:
        raise UserError("fleet needs at least one HOST (or --hosts-file)")
    repeated = sorted({h for h in hosts if hosts.count(h) > 1})
    if repeated:
        raise UserError(f"host given more than once: {', '.join(repeated)}")
    bad = [h for h in hosts if h.startswith("-") or any(c.isspace() for c in h)]
    if bad:
        raise UserError(f"not an ssh destination: {bad[0]!r}")
    return tuple(hosts)


def build_fleet_plan(args: argparse.Namespace):
    """Everything checked before any connection: hosts, -F, the output folder, the route ids."""
    from tui.core.fleet import FleetPlan, report_name, task_path
    from tui.core.routes import RouteError, parse_routes
    from tui.core.tasks import TaskError, load_task

    hosts = _hosts(args)
    names = [report_name(h) for h in hosts]
    if len(set(names)) != len(names):
        raise UserError("two hosts would write the same report file; give them distinct names (Host aliases)")
    if args.ssh_config and not os.access(args.ssh_config, os.R_OK):
        raise UserError(f"-F {args.ssh_config}: not a readable file")
    try:
        parse_routes(args.routes)
        if args.task:  # checked here, so a bad file stops the fleet before any connection
            load_task(args.task)
    except (RouteError, TaskError) as exc:
        raise UserError(str(exc)) from None
    out = Path(args.out or time.strftime("qtui-fleet-%Y%m%d-%H%M%S"))
    check_out_dir(out)
    return FleetPlan(hosts=hosts, out_dir=out, bench_args=tuple(run_options_argv(args)),
                     remote_qtui=args.remote_qtui, ssh_config=(args.ssh_config,) if args.ssh_config else None,
                     connect_timeout=args.connect_timeout, keepalive_interval=args.keepalive_interval,
                     keepalive_count_max=KEEPALIVE_COUNT, task_file=task_path(args.task))


def check_out_dir(out: Path) -> None:
    """Before any connection, that --out can hold the reports. The fleet makes the folder with its first report (so
    one in which every host failed leaves nothing), so a missing folder is made here only to prove it can be, then
    removed again with any parents made for it."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        if not os.access(out, os.W_OK):
            raise UserError(f"--out {out}: not writable")
        return
    missing = [p for p in (out, *out.parents) if not p.exists()]  # deepest first: the order to remove them in
    try:
        out.mkdir(parents=True)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot create it ({exc.strerror})") from None
    for made in missing:
        with contextlib.suppress(OSError):  # something else put a file there meanwhile: then it is not ours to remove
            made.rmdir()


class FleetPrinter:
    """Headless progress: one line per event, prefixed with its host; the rows kept for the final table."""

    def __init__(self, hosts: tuple[str, ...]) -> None:
        from tui.core.fleet_view import HostRow

        self.rows = {h: HostRow(h) for h in hosts}
        self.reports: dict[str, dict] = {}
        self.started: dict[str, float] = {}
        self.width = max(len(h) for h in hosts)

    def __call__(self, event) -> None:
        from tui.core.fleet import HostDetected, HostFailed, HostFinished, HostProgress, HostStage
        from tui.core.fleet_view import update

        host = event.host
        self.rows[host] = row = update(self.rows[host], event)
        if isinstance(event, HostStage) and event.stage == "connecting":
            self.started[host] = time.monotonic()
            line = "connecting…"
        elif isinstance(event, HostStage) and event.stage == "benchmarking":  # what the fleet adds before the run
            line = f"benchmarking… (connected and detected in {time.monotonic() - self.started[host]:.2f} s)"
        elif isinstance(event, HostStage):
            line = f"{event.stage}…"
        elif isinstance(event, HostDetected):
            line = f"{row.cpu} · int8: {row.int8} · bf16: {row.bf16}"
        elif isinstance(event, HostProgress):
            line = event.line.strip()
        elif isinstance(event, HostFinished):
            self.reports[host] = event.report
            line = f"done: recommends {row.recommended} ({row.speedup}, {row.sent_s} sent/s) → {event.path}"
        elif isinstance(event, HostFailed):
            line = f"failed: {event.reason}"
        else:
            return
        try:
            print(f"{host:<{self.width}} │ {line}", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # stderr went away (a hang-up): the run still finishes or stops cleanly
            pass


def run_headless(plan) -> int:
    import asyncio  # here, not at the top: `qtui --help` builds this parser and stays instant

    from tui.core.fleet import run_fleet
    from tui.core.fleet_view import summary, where_saved
    from tui.stop_signals import STOP_SIGNALS, exit_code, say, stopped_line

    printer = FleetPrinter(plan.hosts)
    stopped: list[int] = []

    async def main() -> dict:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()

        def stop(signum: int) -> None:
            if not stopped:
                stopped.append(signum)
                say(f"qtui fleet: {signal.Signals(signum).name}: stopping every remote run…")
                task.cancel()

        for sig in STOP_SIGNALS:
            if signal.getsignal(sig) is not signal.SIG_IGN:
                loop.add_signal_handler(sig, stop, sig)
        try:
            return await run_fleet(plan, printer)
        finally:
            for sig in STOP_SIGNALS:
                loop.remove_signal_handler(sig)

    try:
        outcomes = asyncio.run(main())
    except asyncio.CancelledError:
        signum = stopped[0] if stopped else signal.SIGINT
        saved = f"reports already saved stay in {plan.out_dir}" if printer.reports else "no report saved"
        say(stopped_line(signum, f"every remote run stopped; {saved}"))
        return exit_code(signum)
    print(summary(list(printer.rows.values()), printer.reports))
    failed = [h for h, why in outcomes.items() if why]
    print(f"qtui fleet: {len(plan.hosts) - len(failed)} of {len(plan.hosts)} hosts finished; "
          f"{where_saved(plan.out_dir, len(printer.reports))}" + (f"; failed: {', '.join(failed)}" if failed else ""),
          file=sys.stderr)
    return EXIT_SOME_HOSTS_FAILED if failed else EXIT_OK
