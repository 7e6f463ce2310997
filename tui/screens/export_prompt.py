"""`d`: where to export a route (the one under the cursor in the routes table, or the recommendation)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static


class ExportPrompt(ModalScreen[str | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="export.cancel")]

    def __init__(self, route_id: str, default_path: str, why: str) -> None:
        super().__init__()
        self.route_id, self.default_path, self.why = route_id, default_path, why

    def compose(self) -> ComposeResult:
        with Vertical(id="export-box"):
            yield Static(f"Export {self.route_id} ({self.why}) as a folder a service loads without qtui: the model "
                         f"file, tokenizer, encode.py, qtui-export.json, README.md.")
            yield Static("Folder to create (absent or empty) — Enter exports, Esc cancels:")
            yield Input(value=self.default_path, id="export-path")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        path = event.value.strip()
        if path:
            self.dismiss(path)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
