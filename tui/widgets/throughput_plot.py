"""Per-round throughput of each route as sparklines: drift or noise is visible at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

if TYPE_CHECKING:  # (types only: the first frame does not import the core's events)
    from tui.core.events import RoundDone, RunStarted

BLOCKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float], width: int) -> str:
    values = values[-width:]
    if not values:
        return ""
    lo, hi = min(values), max(values)
    span = hi - lo or 1.0
    return "".join(BLOCKS[min(len(BLOCKS) - 1, int((v - lo) / span * (len(BLOCKS) - 1)))] for v in values)


class ThroughputPlot(Static):
    """One line per route: a sparkline of sentences/s per round, and the latest value."""

    series: reactive[dict] = reactive(dict, always_update=True)

    def on_mount(self) -> None:
        self.border_title = "Throughput per round (sent/s)"
        self.texts = 1

    def start(self, event: RunStarted) -> None:
        self.texts = event.texts
        self.series = {rid: [] for rid in event.route_ids}

    def round_done(self, event: RoundDone) -> None:
        for rid, seconds in event.seconds.items():
            self.series.setdefault(rid, []).append(self.texts / seconds)
        self.series = self.series

    def render(self) -> Text:
        if not any(self.series.values()):
            return Text("no rounds yet", style="dim")
        name_width = max(len(r) for r in self.series)
        width = max(8, self.size.width - name_width - 12)
        text = Text()
        for rid, values in self.series.items():
            if values:
                text.append(f"{rid:<{name_width}} {sparkline(values, width)} {values[-1]:7.0f}\n")
        return text
