"""`r`: choose which routes the next run measures."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import SelectionList, Static

from tui.core.routes import BASELINE, ROUTES, static_unavailability


class RouteChooser(ModalScreen[list[str] | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="routes.cancel"),
                Binding("enter", "accept", "Use these", id="routes.accept", priority=True)]

    def __init__(self, selected: list[str], cpu) -> None:
        super().__init__()
        self.selected = set(selected)
        self.cpu = cpu
        # Every route, and the length caps given with --routes (derived, so not in the registry's listing).
        self.ids = [*ROUTES, *(rid for rid in selected if rid in ROUTES and rid not in dict.keys(ROUTES))]

    def compose(self) -> ComposeResult:
        options = []
        for rid in self.ids:
            spec = ROUTES[rid]
            why = static_unavailability(spec, self.cpu)
            label = f"{rid:<31} {'(unavailable here) ' if why else ''}{spec.summary}"
            options.append((label, rid, rid in self.selected or rid == BASELINE))
        with Vertical(id="routes-box"):
            yield Static("Routes to measure (space toggles, enter accepts; torch-fp32 is always the baseline):")
            yield SelectionList[str](*options, id="route-list")

    def action_accept(self) -> None:
        chosen = self.query_one(SelectionList).selected
        self.dismiss([BASELINE] + [r for r in self.ids if r in chosen and r != BASELINE])

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
