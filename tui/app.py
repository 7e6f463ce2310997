"""QtuiApp: the terminal dashboard. Paints from the CPU profile at once; torch is never imported here."""

from __future__ import annotations

import argparse
from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Footer, Header

from tui.core.detect import Detection, run_detect
from tui.widgets.cpu_panel import CpuPanel
from tui.widgets.engine_card import EngineCard


class QtuiApp(App):
    CSS_PATH = "app.tcss"
    TITLE = "qtui"
    SUB_TITLE = "why is int8 slow on this CPU?"
    BINDINGS = [Binding("q", "quit", "Quit", id="quit")]

    def __init__(self, detect: Callable[[], Detection] = run_detect) -> None:
        super().__init__()
        self._detect = detect

    def compose(self) -> ComposeResult:
        detection = self._detect()
        yield Header()
        with VerticalScroll(id="main"):
            yield CpuPanel(detection.cpu, id="cpu-panel")
            yield EngineCard(detection.recommendation, id="engine-card")
        yield Footer()


def make_app(detect: Callable[[], Detection] = run_detect) -> QtuiApp:
    """The app factory: tests pass a fake `detect`."""
    return QtuiApp(detect=detect)


def run_app(args: argparse.Namespace) -> int:
    make_app().run()
    return 0
