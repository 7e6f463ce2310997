"""`n`: thread scaling from `--threads-sweep` — the plot of throughput against threads for fp32 and the int8
route, the numbers behind it, and where adding threads stops paying. Whatever is missing says why."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Static

from tui.screens.report_view import ReportView, numbers_table

HOW = ("Start qtui with --threads-sweep (e.g. qtui --threads-sweep 1,2,4) and press b, or run "
       "qtui bench --threads-sweep: fp32 and the recommended int8 route are then timed at each thread count.")


class ThreadsScreen(ReportView):
    NAME, FIELD, HOW, KEY, BOX_ID = "Thread scaling", "threads_sweep", HOW, "n", "threads-box"
    BINDINGS = [Binding("escape,q,n", "dismiss", "Close", id="threads.close")]

    def widgets(self, doc: dict):
        from tui.core import thread_sweep
        from tui.widgets.thread_plot import ThreadPlot, curves

        sweep = doc["threads_sweep"]
        yield Static(f"[b]{thread_sweep.title(sweep)}[/b]", id="threads-title", markup=True)
        plotted = sweep.get("available") and curves(sweep)
        if plotted:
            yield ThreadPlot(sweep, id="thread-plot")
        # Where threads stop paying comes right under the plot; the numbers behind both follow.
        yield Static("\n".join(thread_sweep.conclusions(sweep)), id="threads-conclusions", markup=False)
        if plotted:
            yield Static(numbers_table(*thread_sweep.table(sweep)), id="threads-table")
