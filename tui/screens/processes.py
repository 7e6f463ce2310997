"""`p`: bulk over processes from `--pattern processes` — a bar per split and route on one sent/s scale, what
the splits and OpenVINO's settings gained, the numbers behind it, and how to run bulk work here."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.report_view import ReportView, numbers_table

HOW = ("Set the call pattern to processes in the settings (s) and press b, or run qtui bench --pattern processes: "
       "after the rounds fp32 and the int8 route run as P processes × T threads for each split of the threads.")
NAME_WIDTH = 44


def rows(proc: dict) -> list[tuple[str, float]]:
    """(split and group name, median sent/s) of every measured group of every split."""
    from tui.core import processes

    return [(f"{processes.split_text(p['processes'], p['threads'])}  {processes.label(r['id'], p)}",
             r["throughput"]["median"]) for p in proc["points"] for r in p["routes"] if r.get("throughput")]


def name_width(proc: dict) -> int:
    """Wide enough for the longest name ("1 × 2  openvino-int8 THROUGHPUT (2 requests)"), at most NAME_WIDTH."""
    return min(NAME_WIDTH, max(len(name) for name, _ in rows(proc)))


def bars(proc: dict, width: int, names: int = NAME_WIDTH) -> Text:
    """Every measured group of every split, on the scale of the highest median sent/s."""
    found = rows(proc)
    top = max(m for _, m in found)
    out = Text()
    for i, (name, median) in enumerate(found):
        out.append(f"{name[:names]:<{names}} ")
        out.append("█" * max(1, round(median / top * width)), style="bold")
        out.append(f" {median:.0f}" + ("\n" if i < len(found) - 1 else ""))
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
            names = name_width(proc)
            yield Static(bars(proc, max(10, self.app.size.width - names - 18), names), id="processes-bars")
        yield Static("\n".join(processes.conclusions(proc)), id="processes-conclusions", markup=False)
        if measured:
            narrow = self.app.size.width < 120
            yield Static(numbers_table(*processes.table(proc, narrow=narrow)), id="processes-table")
