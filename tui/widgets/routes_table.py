"""The routes side by side: status, live progress, sentences/s, speedup with CI, verdict, speedup over the
fastest fp32 route ("vs best": torch fp32 eager is a weak baseline), cosine."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import events
from textual.widgets import DataTable

if TYPE_CHECKING:  # (types only: the first frame does not import the core's events)
    from tui.core.events import RoundDone, RouteFailed, RoutePhase, RouteReady, RunStarted

# (label, key, width): fixed widths, because DataTable otherwise sizes a column by its first content.
COLUMNS = [("route", "route", 29), ("status", "status", 11), ("progress", "progress", 11), ("sent/s", "tp", 6),
           ("speedup [95% CI]", "speedup", 18), ("verdict", "verdict", 12), ("vs best", "vsbest", 7),
           ("cosine", "cos", 6)]
# Narrower than that (80×24 over SSH): no bar or size, short statuses and labels, so speedups stay in view.
COMPACT_COLUMNS = [("route", "route", 24), ("state", "status", 6), ("sent/s", "tp", 6),
                   ("speedup [95% CI]", "speedup", 17), ("result", "verdict", 6), ("cos", "cos", 5)]
# The full columns need their widths plus 2 cells of padding each; with the table's border and the screen's
# scrollbar (2 cells each) that is a 120-column terminal. Decided on the terminal's width, not the table's, so
# a scrollbar coming and going does not flip the layout.
COMPACT_BELOW = sum(width + 2 for *_, width in COLUMNS) + 2 + 2
# With --task: the share of fp32's task score kept (and, in the full layout, the score itself), shown from 100
# columns; the full layout then needs its width too.
TASK_COLUMN, COMPACT_TASK_COLUMN = ("task kept · score", "task", 17), ("task", "task", 6)
TASK_FROM = 100
SHORT_STATUS = {"queued": "·", "loading": "load", "preparing": "prep", "ready": "ready", "profiling": "prof",
                "rebatching": "batch", "inspecting": "layer", "calibrating": "calib", "sweeping": "sweep",
                "kernels": "kern", "ok": "ok", "failed": "FAIL", "unavailable": "n/a", "measuring": "run",
                "scoring": "task", "waiting": "wait", "paused": "pause"}
SHORT_VERDICT = {"inconclusive": "unsure"}
BAR_WIDTH = 8
VERDICT_COLOUR = {"faster": "success", "slower": "error", "inconclusive": "warning"}


def route_label(rid: str, compact: bool) -> str:
    """The route column: a peer (fastembed, sentence-transformers' recipes) says so, it is not one of qtui's."""
    from tui.core.routes import ROUTES

    name = rid.removeprefix("torch-") if compact else rid
    return f"{name} (peer)" if getattr(ROUTES.get(rid), "peer", False) else name


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = max(0, min(width, round(fraction * width)))
    return "█" * filled + "░" * (width - filled)


class RoutesTable(DataTable):
    """Fed with core events; knows nothing about how they are produced. Keeps each route's values, so a
    resize across COMPACT_BELOW re-lays the table out mid-run with nothing lost."""

    def on_mount(self) -> None:
        self.cursor_type = "row"
        self.zebra_stripes = True
        self.max_rounds = 1
        self.texts = 1
        self.values: dict[str, dict] = {}  # route id → status, round, tp, speedup, verdict, vsbest, cos, task
        self.task_name: str | None = None  # the run's task, when it has one: a column of its own
        self._layout()

    def _wants_compact(self) -> bool:
        return self.app.size.width < COMPACT_BELOW + (TASK_COLUMN[2] + 2 if self.task_name else 0)

    def _columns(self) -> list[tuple[str, str, int]]:
        if not self.compact:
            return COLUMNS + ([TASK_COLUMN] if self.task_name else [])
        return COMPACT_COLUMNS + ([COMPACT_TASK_COLUMN] if self.task_name and self.app.size.width >= TASK_FROM else [])

    def on_resize(self, event: events.Resize) -> None:
        if self._wants_compact() != self.compact or len(self._columns()) != len(self.columns):
            self._layout()

    def _layout(self) -> None:
        self.compact = self._wants_compact()
        self.clear(columns=True)
        keys = []
        for label, key, width in self._columns():
            self.add_column(label, key=key, width=width)
            keys.append(key)
        for rid in self.values:
            self.add_row(*(self._cell(rid, key) for key in keys), key=rid)

    def _cell(self, rid: str, key: str):
        """What the cell shows, in the current layout, from the route's values."""
        v = self.values[rid]
        status = v["status"]
        if key == "route":
            return route_label(rid, self.compact)
        if key == "status":
            if status in ("failed", "unavailable"):
                label = SHORT_STATUS[status] if self.compact else status
                return Text(label, style=self.theme_style("error", "bold") if status == "failed" else "dim")
            if self.compact and status == "measuring":
                # fp32 and the early routes run on while late ones catch up: past the per-route limit, the count
                return f"{v['round']}/{self.max_rounds}" if v["round"] <= self.max_rounds else str(v["round"])
            return SHORT_STATUS.get(status, status) if self.compact else status
        if key == "progress":
            if status in ("failed", "unavailable"):
                return ""
            return bar(v["round"] / max(self.max_rounds, 1)) + (f" {v['round']}" if v["round"] else "")
        if key == "verdict":
            return self.verdict_text(v["verdict"]) if v.get("verdict") else ""
        if key == "cos":
            cos = v.get("cos")
            return f"{cos:.{3 if self.compact else 4}f}" if isinstance(cos, float) else (cos or "")
        if key == "task":
            kept, score = v.get("kept"), v.get("score")
            text = "ref" if kept == "ref" else f"{100 * kept:.1f}%" if isinstance(kept, float) else ""
            return f"{text:<6} {score:.3f}" if score is not None and not self.compact else text
        return v.get(key) or ""

    def _update(self, rid: str, **values) -> None:
        if rid not in self.values:
            return
        self.values[rid].update(values)
        for key in self.columns:  # a new round or status changes several cells (status, bar, round count)
            self.update_cell(rid, key, self._cell(rid, key.value))

    def start(self, event: RunStarted) -> None:
        self.max_rounds, self.texts, self.task_name = event.max_rounds, event.texts, event.task
        self.values = {rid: {"status": "queued", "round": 0} for rid in event.route_ids}
        self._layout()

    def add(self, route_id: str) -> None:
        """A route the run added after it started (the rescue's mixed routes): a row of its own."""
        if route_id not in self.values:
            self.values[route_id] = {"status": "queued", "round": 0}
            self.add_row(*(self._cell(route_id, key.value) for key in self.columns), key=route_id)

    def phase(self, event: RoutePhase) -> None:
        if event.phase in ("loading", "preparing", "profiling", "rebatching", "inspecting", "calibrating",
                           "sweeping", "kernels", "scoring", "waiting"):
            self._update(event.route_id, status=event.phase)

    def ready(self, event: RouteReady) -> None:
        from tui.core.routes import ROUTES

        values: dict = {"status": "ready"}
        if event.accuracy is not None:
            values["cos"] = float(event.accuracy.cosine_mean)
        elif event.route_id == "torch-fp32":
            values["cos"] = "ref"
        elif getattr(ROUTES.get(event.route_id), "own_space", False):
            values["cos"] = "n/a"  # a static model's vectors live in another space: the task judges it
        self._update(event.route_id, **values)

    def first_answer(self, measured) -> None:
        """The routes that answered rest while the others build: their rows say so, not "measuring"."""
        for rid in measured:
            self._update(rid, status="paused")

    def failed(self, event: RouteFailed) -> None:
        self._update(event.route_id, status=event.status)

    def round_done(self, event: RoundDone) -> None:
        from tui.core.report import speedup_text

        for rid, seconds in event.seconds.items():  # a route's own rounds: one that joined late has fewer
            own = self.values.get(rid, {}).get("round", 0) + 1
            self._update(rid, status="measuring", round=own, tp=f"{self.texts / seconds:.0f}")
        for rid, s in event.speedups.items():
            self._update(rid, speedup=speedup_text(s.point, s.ci95), verdict=s.verdict)
        self._show_vs_best_fp32({rid: s.point for rid, s in event.speedups.items()})

    def _show_vs_best_fp32(self, points: dict[str, float]) -> None:
        """Each route against the fastest fp32 route so far (the baseline counts as 1.0)."""
        from tui.core.routes import BASELINE, ROUTES

        fp32 = {rid: p for rid, p in points.items()
                if rid in ROUTES and ROUTES[rid].dtype == "fp32" and not ROUTES[rid].aside}
        fp32[BASELINE] = 1.0
        best = max(fp32, key=fp32.get)
        for rid, point in {**points, BASELINE: 1.0}.items():
            self._update(rid, vsbest="best" if rid == best else f"{point / fp32[best]:.2f}×")

    def show_kernels(self) -> None:
        """The kernels view of the route under the cursor (the app's `k`), from the finished run's report."""
        from tui.screens.kernels import KernelsScreen

        document = getattr(self.app, "document", None)
        if not self.values or self.cursor_row < 0:
            self.notify("No routes yet: run a benchmark first (b).", severity="warning")
            return
        rid = list(self.values)[min(self.cursor_row, len(self.values) - 1)]
        route = next((r for r in (document or {}).get("routes", []) if r.get("id") == rid), None)
        if route is None:
            self.notify("Kernels are captured after the timed rounds: wait for the run to finish.", severity="warning")
            return
        self.app.push_screen(KernelsScreen(route))

    def theme_style(self, variable: str, extra: str = "") -> str:
        """A Rich style in the current theme's colour (DataTable cells are Rich, not Textual CSS)."""
        colour = self.app.theme_variables.get(variable)
        return f"{extra} {colour}".strip() if colour else extra

    def verdict_text(self, verdict: str) -> Text:
        label = SHORT_VERDICT.get(verdict, verdict) if self.compact else verdict
        return Text(label, style=self.theme_style(VERDICT_COLOUR.get(verdict, "warning"), "bold"))

    def finish(self, document: dict) -> None:
        """Final numbers from the report (medians over all rounds)."""
        from tui.core.report import speedup_text

        self.max_rounds = max(document["rounds"], 1)
        for r in document["routes"]:
            if r["status"] != "ok":
                continue
            values: dict = {"status": "ok", "round": r.get("rounds", document["rounds"])}  # its own rounds
            if r.get("throughput"):
                values["tp"] = f"{r['throughput']['median']:.0f}"
            if r.get("speedup"):
                s = r["speedup"]
                values.update(speedup=speedup_text(s["point"], s["ci95"]), verdict=s["verdict"])
            best = (document.get("best_fp32") or {}).get("route")
            if r["id"] == best:
                values["vsbest"] = "best"
            elif r.get("vs_best_fp32"):
                values["vsbest"] = f"{r['vs_best_fp32']['point']:.2f}×"
            task = r.get("task") or {}
            if task.get("score") is not None:
                values["score"] = task["score"]
                values["kept"] = task["kept"]["point"] if task.get("kept") else "ref"
            self._update(r["id"], **values)
