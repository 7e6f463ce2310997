"""The speed–accuracy frontier of a run with a task: every route a numbered point (x the speed-up over torch fp32
on a log scale, y the kept share of fp32's task score), its 95 % CIs as error bars, the Pareto-optimal routes
joined by a line, the budget's floor (kept ≥ 100 − budget %) across the plot and the pick at that budget in
reverse. Drawn by textual-plot's PlotWidget, which has no log axis: x is log10 of the speed-up, its ticks labelled
with the speed-ups (1×, 2×, 5×, …). Every number it draws comes from the report's `frontier` field."""

from __future__ import annotations

import math

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.reactive import reactive
from textual.widgets import Static
from textual_plot import HiResMode, PlotWidget
from textual_plot.axis_formatter import AxisFormatter

# Theme variables, so every theme (and NO_COLOR: the pick is also reversed) works.
FRONTIER, DOMINATED, PICK, FLOOR = "primary", "foreground", "warning", "error"
STEPS = (1, 2, 5)  # speed-up ticks per decade
FINE_STEPS = (1, 1.5, 2, 3, 4, 5, 7)  # when fewer than three of STEPS fall in the range


def numbered(front: dict) -> list[tuple[str, dict]]:
    """(marker, point) for every point, numbered from the slowest to the fastest (left to right on the plot)."""
    pts = sorted(front.get("points", []), key=lambda p: (p["speedup"], p["route"]))
    return [(str(i) if i < 10 else chr(ord("a") + i - 10), p) for i, p in enumerate(pts, 1)]


def speedup_ticks(lo: float, hi: float) -> list[float]:
    """Speed-ups between lo and hi to label: 1, 2, 5 per decade (finer over a short range)."""
    def within(steps) -> list[float]:
        out = []
        for decade in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1):
            out += [round(s * 10 ** decade, 10) for s in steps if lo <= s * 10 ** decade <= hi]
        return out

    ticks = within(STEPS)
    return ticks if len(ticks) >= 3 else within(FINE_STEPS)


class TimesFormatter(AxisFormatter):
    """Ticks of a log10 axis labelled with the speed-ups themselves: "0.5×", "1×", "20×"."""

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        return [math.log10(t) for t in speedup_ticks(10 ** min_, 10 ** max_)][:max_ticks]

    def get_labels_for_ticks(self, ticks) -> list[str]:
        return [f"{round(10 ** t, 6):g}×" for t in ticks]


PERCENT_STEPS = (0.1, 0.2, 0.5, 1, 2, 2.5, 5, 10, 20, 25, 50)


class PercentFormatter(AxisFormatter):
    """Kept-share ticks at least two rows apart: textual-plot's own ticks would share a row (and overwrite each
    other's labels) on a short plot. `rows` tells the plot's height in rows, asked at every render."""

    def __init__(self, rows) -> None:
        self.rows = rows

    def get_ticks(self, min_: float, max_: float, max_ticks: int = 8) -> list[float]:
        per_row = (max_ - min_) / max(1, self.rows())
        step = next((s for s in PERCENT_STEPS if s >= 2 * per_row and (max_ - min_) / s < max_ticks), 100)
        return [round(k * step, 6) for k in range(math.ceil(min_ / step), math.floor(max_ / step) + 1)]

    def get_labels_for_ticks(self, ticks) -> list[str]:
        return [f"{t:g}" for t in ticks]  # 97.5 stays 97.5 (textual-plot rounds by the spacing's power of ten)


def limits(front: dict) -> tuple[tuple[float, float], tuple[float, float]]:
    """((x min, x max) in log10 of the speed-up, (y min, y max) in % kept): every point and CI, padded."""
    pts = front["points"]
    xs = [math.log10(v) for p in pts for v in (p["speedup"], *p["ci95"]) if v]
    ys = [100 * v for p in pts for v in (p["kept"], *p["kept_ci95"]) if v is not None]
    x_pad = max(0.05, (max(xs) - min(xs)) * 0.05)
    y_pad = max(0.5, (max(ys) - min(ys)) * 0.1)
    return (min(xs) - x_pad, max(xs) + x_pad), (min(ys) - y_pad, max(ys) + y_pad)


def marker_style(point: dict, pick: str | None, theme: dict) -> str:
    """A point's marker: the pick reversed, the frontier's bold, the others dim (`theme`: the theme's variables)."""
    if point["route"] == pick:
        return f"bold reverse {theme.get(PICK, 'white')}"
    if point.get("on_frontier"):
        return f"bold {theme.get(FRONTIER, 'white')}"
    return f"dim {theme.get(DOMINATED, 'white')}"


class FrontierPlot(Vertical):
    """The key (marker → route) above the plot. `pick` (a route id) and `floor` (% kept) follow the budget."""

    pick: reactive[str | None] = reactive(None)
    floor: reactive[float | None] = reactive(None)

    def __init__(self, front: dict, pick: str | None, floor: float | None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.front = front
        self.set_reactive(FrontierPlot.pick, pick)
        self.set_reactive(FrontierPlot.floor, floor)
        self.drawn = False

    def compose(self) -> ComposeResult:
        yield Static(id="frontier-plot-key")
        yield PlotWidget(allow_pan_and_zoom=False, id="frontier-plot-canvas")

    def on_mount(self) -> None:
        plot = self.query_one(PlotWidget)
        plot.margin_top = 1  # (2 by default) one more row for the points at 80×24
        plot.margin_left = 7  # "100" and "99.5" fit; the rest goes to the points
        plot.margin_bottom = 1  # the ticks (3 by default, for an axis label: the title names the axes)
        self.call_after_refresh(self.draw)  # the PlotWidget must have mounted its canvases first
        self.watch(self.app, "theme", self.on_theme, init=False)  # t: the markers take the new theme's colours

    def on_theme(self) -> None:
        if self.drawn:
            self.draw()

    def watch_pick(self) -> None:
        if self.drawn:
            self.draw()

    def watch_floor(self) -> None:
        if self.drawn:
            self.draw()

    def colour(self, name: str) -> str:
        return self.app.theme_variables.get(name, "white")

    def style(self, point: dict) -> str:
        return marker_style(point, self.pick, self.app.theme_variables)

    def key(self, width: int) -> Text:
        """Each marker with its route, then what the lines and bars are, packed into lines of `width` (an item is
        never split from its marker)."""
        items = []
        for marker, p in numbered(self.front):
            name = "" if p.get("on_frontier") or p["route"] == self.pick else "dim"
            items.append(Text.assemble((marker, self.style(p)), " ", (p["route"], name)))
        floor = "budget floor"
        if self.floor is not None:
            (_, _), (y0, y1) = limits(self.front)
            floor += f": kept ≥ {self.floor:g} %" + ("" if y0 <= self.floor <= y1 else " (off the plot)")
        for sample, style, words in (("⠒⠒", self.colour(FRONTIER), "Pareto frontier"), ("│─", "", "95 % CIs"),
                                     ("N", f"bold reverse {self.colour(PICK)}", "pick"),
                                     ("⠤⠤", self.colour(FLOOR), floor)):
            items.append(Text.assemble((sample, style), f" {words}"))
        key, used = Text(), 0
        for item in items:
            if used and used + 2 + len(item) > width:
                key.append("\n")
                used = 0
            elif used:
                key.append("  ")
                used += 2
            key.append_text(item)
            used += len(item)
        return key

    def rows(self) -> int:
        """The plot's height in rows inside its frame."""
        return max(1, self.query_one("#plot").size.height - 2)

    def columns(self) -> int:
        """The plot's width in columns inside its frame."""
        return max(1, self.query_one("#plot").size.width - 2)

    def on_resize(self) -> None:
        if self.drawn:
            self.call_after_refresh(self.draw)  # the ticks' spacing follows the height

    def draw(self) -> None:
        plot = self.query_one(PlotWidget)
        plot.clear()
        self.query_one("#frontier-plot-key", Static).update(self.key(self.size.width or self.app.size.width))
        (x0, x1), (y0, y1) = limits(self.front)
        shown = numbered(self.front)
        by_id = {p["route"]: p for _, p in shown}
        line = sorted((by_id[r] for r in self.front.get("routes", []) if r in by_id), key=lambda p: p["speedup"])
        if self.floor is not None and y0 <= self.floor <= y1:  # first: the frontier's line crosses it on top
            plot.plot([x0, x1], [self.floor, self.floor], line_style=self.colour(FLOOR), hires_mode=HiResMode.BRAILLE)
        if len(line) > 1:
            plot.plot([math.log10(p["speedup"]) for p in line], [100 * p["kept"] for p in line],
                      line_style=self.colour(FRONTIER), hires_mode=HiResMode.BRAILLE)
        cells = (self.columns() / (x1 - x0), self.rows() / (y1 - y0))
        for marker, p in shown:
            self.error_bars(plot, p, cells)
            plot.scatter([math.log10(p["speedup"])], [100 * p["kept"]], marker=marker, marker_style=self.style(p))
        plot.set_x_formatter(TimesFormatter())
        plot.set_y_formatter(PercentFormatter(self.rows))
        plot.set_xlimits(x0, x1)
        plot.set_ylimits(y0, y1)
        plot.set_ylabel("kept %")
        self.drawn = True

    def error_bars(self, plot: PlotWidget, p: dict, cells: tuple[float, float]) -> None:
        """The point's two CIs, each drawn as two halves (textual-plot's bars are symmetric, a CI need not be):
        from the point to each bound, so the bars span the CIs exactly and meet at the point. A half shorter than
        half a cell (`cells`: cells per unit of x and y) is left out: it would land beside the point, or on it."""
        style = self.style(p).replace("reverse ", "")
        x, y = math.log10(p["speedup"]), 100 * p["kept"]
        (lo, hi), (klo, khi) = p["ci95"], p["kept_ci95"]
        nan = [math.nan]
        for bound in (lo, hi):
            if bound and abs(math.log10(bound) - x) * cells[0] >= 0.5:
                b = math.log10(bound)
                plot.errorbar([(x + b) / 2], [y], xerr=[abs(x - b) / 2], yerr=nan, marker="─", marker_style=style)
        for bound in (klo, khi):
            if bound is not None and abs(100 * bound - y) * cells[1] >= 0.5:
                b = 100 * bound
                plot.errorbar([x], [(y + b) / 2], xerr=nan, yerr=[abs(y - b) / 2], marker="│", marker_style=style)
