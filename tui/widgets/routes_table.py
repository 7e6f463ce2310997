"""The routes side by side: status, live progress, sentences/s, speedup with CI, verdict, cosine, size."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from tui.core.events import RoundDone, RouteFailed, RoutePhase, RouteReady, RunStarted
from tui.core.report import speedup_text

# (label, key, width): fixed widths, because DataTable otherwise sizes a column by its first content.
COLUMNS = [("route", "route", 30), ("status", "status", 11), ("progress", "progress", 13), ("sent/s", "tp", 6),
           ("speedup [95% CI]", "speedup", 18), ("verdict", "verdict", 12), ("cosine", "cos", 6), ("MB", "mb", 4)]
# Narrower than that (80×24 over SSH): no bar or size, short statuses and labels, so speedups stay in view.
COMPACT_COLUMNS = [("route", "route", 24), ("state", "status", 6), ("sent/s", "tp", 6),
                   ("speedup [95% CI]", "speedup", 17), ("result", "verdict", 6), ("cos", "cos", 5)]
COMPACT_WIDTH = 118  # what the full columns need, padding included
SHORT_STATUS = {"queued": "·", "loading": "load", "preparing": "prep", "ready": "ready", "profiling": "prof",
                "sweeping": "sweep", "ok": "ok", "failed": "FAIL", "unavailable": "n/a", "measuring": "run"}
SHORT_VERDICT = {"inconclusive": "unsure"}
BAR_WIDTH = 10
VERDICT_COLOUR = {"faster": "success", "slower": "error", "inconclusive": "warning"}


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = max(0, min(width, round(fraction * width)))
    return "█" * filled + "░" * (width - filled)


class RoutesTable(DataTable):
    """Fed with core events; knows nothing about how they are produced."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.max_rounds = 1
        self.texts = 1
        self.compact = False
        self._add_columns()

    def _add_columns(self) -> None:
        self.clear(columns=True)
        self.compact = (self.size.width or self.app.size.width) < COMPACT_WIDTH
        for label, key, width in COMPACT_COLUMNS if self.compact else COLUMNS:
            self.add_column(label, key=key, width=width)

    def start(self, event: RunStarted) -> None:
        self._add_columns()  # the terminal may have been resized since the last run
        self.max_rounds, self.texts = event.max_rounds, event.texts
        for rid in event.route_ids:
            label = rid.removeprefix("torch-") if self.compact else rid
            self.add_row(label, *[""] * (len(self.columns) - 1), key=rid)
            self._set(rid, "status", "queued")
            self._set(rid, "progress", bar(0))

    def _set(self, rid: str, column: str, value) -> None:
        if rid not in self.rows or column not in self.columns:
            return
        if self.compact and column == "status" and isinstance(value, str):
            value = SHORT_STATUS.get(value, value)
        self.update_cell(rid, column, value)

    def phase(self, event: RoutePhase) -> None:
        if event.phase in ("loading", "preparing", "profiling", "sweeping"):
            self._set(event.route_id, "status", event.phase)

    def ready(self, event: RouteReady) -> None:
        self._set(event.route_id, "status", "ready")
        if event.size_mb:
            self._set(event.route_id, "mb", f"{event.size_mb:.0f}")
        if event.accuracy is not None:
            self._set(event.route_id, "cos", f"{event.accuracy.cosine_mean:.{3 if self.compact else 4}f}")
        elif event.route_id == "torch-fp32":
            self._set(event.route_id, "cos", "ref")

    def failed(self, event: RouteFailed) -> None:
        label = SHORT_STATUS[event.status] if self.compact else event.status
        self._set(event.route_id, "status", Text(label, style=self.theme_style("error", "bold")
                                                 if event.status == "failed" else "dim"))
        self._set(event.route_id, "progress", "")

    def round_done(self, event: RoundDone) -> None:
        for rid, seconds in event.seconds.items():
            self._set(rid, "status", f"{event.round}/{event.max_rounds}" if self.compact else "measuring")
            self._set(rid, "progress", bar(event.round / max(event.max_rounds, 1)) + f" {event.round}")
            self._set(rid, "tp", f"{self.texts / seconds:.0f}")
        for rid, s in event.speedups.items():
            self._set(rid, "speedup", speedup_text(s.point, s.ci95))
            self._set(rid, "verdict", self.verdict_text(s.verdict))

    def theme_style(self, variable: str, extra: str = "") -> str:
        """A Rich style in the current theme's colour (DataTable cells are Rich, not Textual CSS)."""
        colour = self.app.theme_variables.get(variable)
        return f"{extra} {colour}".strip() if colour else extra

    def verdict_text(self, verdict: str) -> Text:
        label = SHORT_VERDICT.get(verdict, verdict) if self.compact else verdict
        return Text(label, style=self.theme_style(VERDICT_COLOUR.get(verdict, "warning"), "bold"))

    def finish(self, document: dict) -> None:
        """Final numbers from the report (medians over all rounds)."""
        for r in document["routes"]:
            rid = r["id"]
            if r["status"] == "ok":
                self._set(rid, "status", "ok")
                self._set(rid, "progress", bar(1.0) + f" {document['rounds']}")
                if r.get("throughput"):
                    self._set(rid, "tp", f"{r['throughput']['median']:.0f}")
                if r.get("speedup"):
                    s = r["speedup"]
                    self._set(rid, "speedup", speedup_text(s["point"], s["ci95"]))
                    self._set(rid, "verdict", self.verdict_text(s["verdict"]))
