"""`p`: bulk over processes from `--pattern processes` — a bar per split and route on one sent/s scale, what
the splits and OpenVINO's settings gained, the numbers behind it, and how to run bulk work here."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.report_view import ReportView, numbers_table

HOW = ("Set the call pattern to processes in the settings (s) and press b, or run qtui bench --pattern processes: "
       "after the rounds fp32 and the int8 route run as P processes × T threads for each split of the threads.")
NAME_WIDTH = 30


def bars(proc: dict, width: int) -> Text:
    """Every measured group of every split, on the scale of the highest median sent/s."""
    from tui.core import processes

    rows = [(f"{processes.split_text(p['processes'], p['threads'])}  {processes.label(r['id'], p)}",
             r["throughput"]["median"]) for p in proc["points"] for r in p["routes"] if r.get("throughput")]
    top = max(m for _, m in rows)
    out = Text()
    for i, (name, median) in enumerate(rows):
        out.append(f"{name[:NAME_WIDTH]:<{NAME_WIDTH}} ")
        out.append("█" * max(1, round(median / top * width)), style="bold")
        out.append(f" {median:.0f}" + ("\n" if i < len(rows) - 1 else ""))
    return out


class ProcessesScreen(ReportView):
    NAME, FIELD, HOW, KEY, BOX_ID = "Bulk over processes", "processes", HOW, "p", "processes-box"
    BINDINGS = [Binding("escape,q,p", "dismiss", "Close", id="processes.close")]

    def widgets(self, doc: dict):
        from tui.core import processes

        proc = doc["processes"]
        yield Static(Text(processes.title(proc), style="bold"), id="processes-title")
        measured = any(r.get("throughput") for p in proc["points"] for r in p["routes"])
        if measured:
            yield Static(bars(proc, max(10, self.app.size.width - NAME_WIDTH - 22)), id="processes-bars")
        yield Static("\n".join(processes.conclusions(proc)), id="processes-conclusions", markup=False)
        if measured:
            narrow = self.app.size.width < 120
            yield Static(numbers_table(*processes.table(proc, narrow=narrow)), id="processes-table")
