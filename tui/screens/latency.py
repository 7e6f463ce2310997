"""`o`: single-text latency from `--pattern online` — a box per route on one millisecond scale (p50 to p95 the
box, the whisker to p99), the numbers behind it, and the route to serve single queries with."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.widgets import Static

from tui.screens.report_view import ReportView, numbers_table

HOW = ("Set the call pattern to online in the settings (s) and press b, or run qtui bench --pattern online: "
       "after the rounds every route answers single-text calls, the routes taking turns.")
NAME_WIDTH = 22


def box_row(route_id: str, lat: dict, top_ms: float, width: int) -> Text:
    """One route on a 0…top_ms scale: '·' up to p50, '█' from p50 to p95, '─' on to p99, then the numbers."""
    def col(ms: float) -> int:
        return min(width - 1, max(0, round(ms / top_ms * (width - 1))))

    p50, p95, p99 = (col(lat[q]["ms"]) for q in ("p50", "p95", "p99"))
    line = Text(f"{route_id[:NAME_WIDTH]:<{NAME_WIDTH}} ")
    line.append("·" * p50, style="dim")
    line.append("█" * (p95 - p50 + 1), style="bold")
    line.append("─" * (p99 - p95), style="dim")
    line.append(" " * (width - 1 - p99))
    line.append(f" {lat['p50']['ms']:.1f}/{lat['p95']['ms']:.1f}/{lat['p99']['ms']:.1f} ms")
    return line


def boxes(doc: dict, width: int) -> Text:
    """The box of every route that answered calls, on the scale of the slowest p99."""
    measured = [(r["id"], r["latency"]) for r in doc["routes"] if r.get("latency")]
    top = max(lat["p99"]["ms"] for _, lat in measured)
    end = f"{top:.1f} ms"
    axis = "0" + " " * max(1, width - 1 - len(end)) + end  # the scale above the boxes: 0 … the slowest p99
    out = Text(f"{'':<{NAME_WIDTH}} {axis}  p50/p95/p99\n", style="dim")
    for i, (rid, lat) in enumerate(measured):
        out.append_text(box_row(rid, lat, top, width))
        if i < len(measured) - 1:
            out.append("\n")
    return out


class LatencyScreen(ReportView):
    NAME, FIELD, HOW, KEY, BOX_ID = "Single-text latency", "latency", HOW, "o", "latency-box"
    BINDINGS = [Binding("escape,q,o", "dismiss", "Close", id="latency.close")]

    def widgets(self, doc: dict):
        from tui.core import latency

        yield Static(Text(latency.title(doc), style="bold"), id="latency-title")
        if any(r.get("latency") for r in doc["routes"]):
            width = max(10, self.app.size.width - NAME_WIDTH - 30)
            yield Static(boxes(doc, width), id="latency-boxes")
            yield Static(numbers_table(*latency.table(doc, narrow=self.app.size.width < 120)), id="latency-table")
        yield Static("\n".join(latency.conclusions(doc)), id="latency-conclusions", markup=False)
