"""`n`: thread scaling from `--threads-sweep` — the plot of throughput against threads for fp32 and the int8
route, the numbers behind it, and where adding threads stops paying. Whatever is missing says why."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

HOW = ("Start qtui with --threads-sweep (e.g. qtui --threads-sweep 1,2,4) and press b, or run "
       "qtui bench --threads-sweep: fp32 and the recommended int8 route are then timed at each thread count.")


class ThreadsScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,n", "dismiss", "Close", id="threads.close")]

    def __init__(self, document: dict | None) -> None:
        super().__init__()
        self.document = document

    def compose(self) -> ComposeResult:
        sweep = (self.document or {}).get("threads_sweep")
        with VerticalScroll(id="threads-box"):
            if self.document is None:
                yield Static("[b]Thread scaling[/b]: no run yet.\n" + HOW)
            elif not sweep:
                yield Static("[b]Thread scaling[/b]: not in this run.\n" + HOW)
            else:
                yield from self.sweep_widgets(sweep)
            yield Static("esc, q or n closes this view.", classes="placeholder")

    def sweep_widgets(self, sweep: dict):
        from tui.core import thread_sweep
        from tui.widgets.thread_plot import ThreadPlot, curves

        yield Static(f"[b]{thread_sweep.title(sweep)}[/b]", id="threads-title", markup=True)
        plotted = sweep.get("available") and curves(sweep)
        if plotted:
            yield ThreadPlot(sweep, id="thread-plot")
        # Where threads stop paying comes right under the plot; the numbers behind both follow.
        yield Static("\n".join(thread_sweep.conclusions(sweep)), id="threads-conclusions", markup=False)
        if plotted:
            headers, rows = thread_sweep.table(sweep)
            table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
            for h in headers:
                table.add_column(h, no_wrap=True)
            for row in rows:
                table.add_row(*row)
            yield Static(table, id="threads-table")
