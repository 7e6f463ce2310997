"""The fleet screen (`qtui fleet HOST…` in a terminal, or f in the dashboard): a row per host — CPU, int8/bf16
badges, live progress, the recommended route with its speed-up and sentences/s — then the hosts × routes
comparison of the hosts that finished. The SSH runs are coroutines in Textual's own event loop (an async worker);
x or Ctrl-C cancels every remote run, and quitting waits until they are stopped."""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import ScrollableContainer
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Static

from tui.core.fleet_view import HEADERS, HostRow, summary, update, where_saved

WAITING = "The hosts × routes comparison appears here as hosts finish."


class FleetEvent(Message):
    """A fleet core event (HostStage, HostDetected, HostProgress, HostFinished, HostFailed)."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


def plan_from_settings(hosts: list[str], settings: argparse.Namespace):
    """A fleet plan for hosts typed on the screen: the dashboard's run settings, ~/.ssh/config, qtui on the PATH."""
    from tui.core.fleet import FleetPlan, task_path
    from tui.options import run_options_argv

    options = argparse.Namespace(**vars(settings))
    if isinstance(options.routes, list):
        options.routes = ",".join(options.routes)
    out = Path(time.strftime("qtui-fleet-%Y%m%d-%H%M%S"))
    return FleetPlan(hosts=tuple(hosts), out_dir=out, bench_args=tuple(run_options_argv(options)),
                     task_file=task_path(getattr(options, "task", None)))


class FleetScreen(Screen):
    BINDINGS = [
        Binding("x", "cancel", "Cancel", id="fleet.cancel", tooltip="Stop every remote run (no qtui is left running)"),
        Binding("escape", "close", "Back", id="fleet.close", tooltip="Back to the dashboard (cancels a run first)"),
    ]

    def __init__(self, plan=None, settings: argparse.Namespace | None = None) -> None:
        super().__init__()
        self.plan = plan
        self.settings = settings
        self.rows: dict[str, HostRow] = {}
        self.reports: dict[str, dict] = {}
        self.running = False
        self.cancelled = False
        self.finished = asyncio.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("", id="fleet-status")
        if self.plan is None:
            yield Input(placeholder="hosts, space-separated (ssh config aliases, host or user@host), then Enter",
                        id="fleet-hosts")
        yield DataTable(id="fleet-table", cursor_type="row", zebra_stripes=True)
        with ScrollableContainer(id="fleet-compare-box"):
            yield Static(WAITING, id="fleet-compare", markup=False)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for header in HEADERS:
            table.add_column(header, key=header)
        if self.plan is not None:
            self.start(self.plan)
        else:
            self.query_one("#fleet-status", Static).update(
                "Benchmark servers over SSH with the dashboard's settings; each reports back its own numbers.")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        hosts = event.value.split()
        if self.running or not hosts:
            return
        if len(set(hosts)) != len(hosts):
            self.notify("A host is listed twice.", severity="warning")
            return
        self.start(plan_from_settings(hosts, self.settings))

    # ------------------------------------------------------------------------------------ running

    def start(self, plan) -> None:  # the core makes plan.out_dir with the first report: no empty folder if all fail
        self.plan = plan
        self.rows = {h: HostRow(h) for h in plan.hosts}
        self.reports = {}
        table = self.query_one(DataTable)
        table.clear()
        for host, row in self.rows.items():
            table.add_row(*row.cells(), key=host)
        self.running, self.cancelled = True, False
        self.finished.clear()
        table.focus()  # off the hosts field, so x cancels instead of typing an x
        self._status(f"{len(plan.hosts)} hosts · reports go to {plan.out_dir} · x cancels")
        self.run_worker(self._run(plan), exclusive=True, group="fleet", exit_on_error=False)

    async def _run(self, plan) -> None:
        from tui.core.fleet import run_fleet

        try:
            await run_fleet(plan, lambda event: self.post_message(FleetEvent(event)))
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        finally:
            self.running = False
            self.finished.set()
            self.call_later(self._show_summary)

    def on_fleet_event(self, message: FleetEvent) -> None:
        from tui.core.fleet import HostFinished

        event = message.event
        row = self.rows[event.host] = update(self.rows[event.host], event)
        if isinstance(event, HostFinished):
            self.reports[event.host] = event.report
        table = self.query_one(DataTable)
        for header, value in zip(HEADERS, row.cells(), strict=True):
            table.update_cell(event.host, header, value, update_width=True)
        if row.failed:
            self.notify(f"{event.host}: {row.failed}", severity="error", timeout=15)
        self._show_summary()

    def _show_summary(self) -> None:
        failed = [r for r in self.rows.values() if r.failed]
        done = sum(r.done for r in self.rows.values())
        if not self.running and self.plan is not None:
            head = "cancelled — every remote run stopped" if self.cancelled else "finished"
            self._status(f"{head}: {done} of {len(self.rows)} hosts done, {len(failed)} failed · "
                         f"{where_saved(self.plan.out_dir, len(self.reports))} · esc back, q quits")
        text = summary(list(self.rows.values()), self.reports).split("\n\n", 1)
        self._compare(text[1] if len(text) > 1 else WAITING)

    def _compare(self, text: str) -> None:
        """The comparison, as wide as its longest line (the box scrolls sideways): set here because an auto-width
        Static kept the width of its first text after updates in a real terminal (Textual 8.2)."""
        from rich.cells import cell_len

        widget = self.query_one("#fleet-compare", Static)
        widget.styles.width = max(cell_len(line) for line in text.splitlines())
        widget.update(text)

    def _status(self, text: str) -> None:
        self.query_one("#fleet-status", Static).update(text)

    @property
    def exit_code(self) -> int:
        """As the headless `qtui fleet`: 0 every host finished, 3 some failed (or never ran), 130 cancelled."""
        from tui.errors import EXIT_INTERRUPTED, EXIT_SOME_HOSTS_FAILED

        if self.cancelled:
            return EXIT_INTERRUPTED
        return 0 if self.rows and all(r.done for r in self.rows.values()) else EXIT_SOME_HOSTS_FAILED

    async def stop(self) -> None:
        """Cancel every remote run and wait until each has stopped (bounded: a dead connection cannot hang us)."""
        if not self.running:
            return
        self._status("cancelling: stopping every remote run…")
        for worker in self.app.workers:
            if worker.group == "fleet":
                worker.cancel()
        try:
            await asyncio.wait_for(self.finished.wait(), 30)
        except asyncio.TimeoutError:
            pass

    async def action_cancel(self) -> None:
        if self.running:
            await self.stop()
        else:
            self.notify("Nothing to cancel. esc goes back, q quits.")

    async def action_close(self) -> None:
        await self.stop()
        if len(self.app.screen_stack) > 2 or not getattr(self.app, "fleet_only", False):
            self.app.pop_screen()
        else:
            self.app.exit(return_code=self.exit_code)
