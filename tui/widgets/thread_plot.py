"""Throughput against threads for `--threads-sweep`: one curve per route (fp32 and the int8 route), each count's
95 % CI as an error bar. Drawn by textual-plot's PlotWidget (braille lines, half-block error bars), so it scales
with the terminal; the numbers it draws come from the report, never from this widget."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plot import HiResMode, PlotWidget

# Theme variables, so every theme (and NO_COLOR) works; fp32 first, then the int8 route.
SERIES_COLOURS = ("primary", "warning")


def curves(sweep: dict) -> dict[str, list[tuple[int, float, float | None, float | None]]]:
    """Route id → [(threads, median, ci low, ci high)] for the counts where the route was measured."""
    from tui.core.thread_sweep import route_ids

    out: dict[str, list] = {}
    for rid in route_ids(sweep):
        for p in sweep.get("points", []):
            entry = next((r for r in p["routes"] if r["id"] == rid), None)
            tp = entry.get("throughput") if entry else None
            if tp:
                out.setdefault(rid, []).append((p["threads"], tp["median"], *tp["ci95"]))
    return out


class ThreadPlot(Vertical):
    """The key line (which colour is which route) above the plot."""

    def __init__(self, sweep: dict, **kwargs) -> None:
        super().__init__(**kwargs)
        self.sweep = sweep

    def compose(self) -> ComposeResult:
        yield Static(id="thread-plot-key")
        yield PlotWidget(allow_pan_and_zoom=False, id="thread-plot-canvas")

    def on_mount(self) -> None:
        plot = self.query_one(PlotWidget)
        plot.margin_top = 1  # (2 by default) one more row for the curves at 80×24
        self.call_after_refresh(self.draw)  # the PlotWidget must have mounted its canvases first

    def colour(self, index: int) -> str:
        return self.app.theme_variables.get(SERIES_COLOURS[index % len(SERIES_COLOURS)], "white")

    def draw(self) -> None:
        plot = self.query_one(PlotWidget)
        plot.clear()
        data = curves(self.sweep)
        key = Text()
        counts = self.sweep.get("counts") or [p["threads"] for p in self.sweep.get("points", [])]
        for i, (rid, points) in enumerate(data.items()):
            style = self.colour(i)
            xs = [t for t, *_ in points]
            medians = [m for _, m, _, _ in points]
            plot.plot(xs, medians, line_style=style, hires_mode=HiResMode.BRAILLE, label=rid)
            # An error bar spans the CI exactly: drawn about the CI's middle, the median marked on top.
            with_ci = [(t, lo, hi) for t, _, lo, hi in points if lo is not None and hi is not None]
            if with_ci:
                plot.errorbar([t for t, _, _ in with_ci], [(lo + hi) / 2 for _, lo, hi in with_ci],
                              yerr=[(hi - lo) / 2 for _, lo, hi in with_ci], marker_style=style)
            plot.scatter(xs, medians, marker="●", marker_style=style)
            key.append("  ● " if i else "● ", style=style)
            key.append(rid)
        key.append("   (bars: 95 % CI)", style="dim")
        self.query_one("#thread-plot-key", Static).update(key)
        tops = [hi if hi is not None else m for points in data.values() for _, m, _, hi in points]
        lo_x, hi_x = min(counts), max(counts)
        pad = max(0.5, (hi_x - lo_x) * 0.08)
        plot.set_xlimits(lo_x - pad, hi_x + pad)
        plot.set_ylimits(0, max(tops) * 1.15 if tops else 1)  # from zero: heights compare as ratios
        plot.set_xticks(counts)
        plot.set_xlabel("threads")
        plot.set_ylabel("sent/s")
