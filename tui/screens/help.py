"""`?`: every key and what it does, from the app's own bindings (so help cannot drift from the code)."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

ABOUT = ("qtui measures fp32 against int8 routes on this CPU and explains the difference with numbers "
         "measured here. Every action is also in the command palette (ctrl+p).")


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, bindings: list[tuple[str, str, str]]) -> None:
        super().__init__()
        self.rows = bindings

    def compose(self) -> ComposeResult:
        table = Table(box=None, show_header=True, header_style="bold", expand=True)
        table.add_column("key", no_wrap=True)
        table.add_column("action", no_wrap=True)
        table.add_column("what it does")
        for key, description, tooltip in self.rows:
            table.add_row(key, description, tooltip)
        with VerticalScroll(id="help-box"):
            yield Static(ABOUT, id="help-about")
            yield Static(table)
            yield Static("esc or q closes this help.", classes="placeholder")
