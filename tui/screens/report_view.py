"""What the views of one report field share (`o` latency, `n` threads, `p` processes, `a` frontier): a scrolling
box with the field's widgets, or a line saying there was no run or the field is not in this run (`absent`) and how
to get it, and the key that closes it. `numbers_table` is the plain table of figures each of them shows."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def numbers_table(headers: list[str], rows: list[list[str]]) -> Table:
    table = Table(box=None, show_header=True, header_style="bold", pad_edge=False)
    for h in headers:
        table.add_column(h, no_wrap=True)
    for row in rows:
        table.add_row(*row)
    return table


class ReportView(ModalScreen):
    """Subclasses set NAME (bold, first), FIELD (the report's key), HOW (how to get it), KEY (which also closes
    the view, beside esc and q), BOX_ID, their BINDINGS, and `widgets(doc)` for a report that has the field."""

    NAME = FIELD = HOW = KEY = BOX_ID = ""

    def __init__(self, document: dict | None) -> None:
        super().__init__()
        self.document = document

    def compose(self) -> ComposeResult:
        doc = self.document
        with VerticalScroll(id=self.BOX_ID):
            if doc is None:
                yield Static(f"[b]{self.NAME}[/b]: no run yet.\n" + self.HOW)
            elif (missing := self.absent(doc)) is not None:
                yield Static(f"[b]{self.NAME}[/b]: {missing}\n" + self.HOW)
            else:
                yield from self.widgets(doc)
            yield Static(f"esc, q or {self.KEY} closes this view.", classes="placeholder")

    def absent(self, doc: dict) -> str | None:
        """Why `doc` has nothing for this view (markup), or None when it has the field."""
        return None if doc.get(self.FIELD) else "not in this run."

    def widgets(self, doc: dict):
        raise NotImplementedError
