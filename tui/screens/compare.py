"""`c`: compare the current run with a saved report (another machine, or before/after)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.core.compare import compare_text
from tui.core.report import ReportError, load_report


class CompareScreen(ModalScreen):
    AUTO_FOCUS = "#compare-path"
    BINDINGS = [Binding("escape", "dismiss", "Close", id="compare.close")]

    def __init__(self, current: dict | None, initial_path: str = "") -> None:
        super().__init__()
        self.current = current
        self.initial_path = initial_path

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare-box"):
            yield Static("Compare with a saved report (qtui bench --json, or e here). Path, then Enter:")
            yield Input(value=self.initial_path, placeholder="path/to/report.json", id="compare-path")
            yield Static("", id="compare-result")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        out = self.query_one("#compare-result", Static)
        try:
            saved = load_report(event.value.strip())
        except ReportError as exc:
            out.update(f"[b]Cannot compare:[/b] {exc}")
            return
        if self.current is None:
            out.update("No run in this session yet: the saved report alone —\n\n" + compare_text([saved], ["saved"]))
            return
        out.update(compare_text([saved, self.current], ["saved", "now"]))
