"""The advice panel: what the run found, then the advice ranked for it, each item with its evidence, fix and
effect (measured or estimated); Enter shows the recipe, y copies it."""

from __future__ import annotations

from rich.console import Group
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.reactive import reactive
from textual.widget import AwaitMount, Widget
from textual.widgets import Static

from tui.clipboard import copy_with_notice

SEVERITY_COLOUR = {"high": "error", "medium": "warning", "low": "primary", "info": "secondary"}


class AdviceItem(Static, can_focus=True):
    BINDINGS = [
        Binding("enter", "toggle_recipe", "Recipe", id="advice.recipe", tooltip="Show or hide the Python recipe"),
        Binding("y", "copy_recipe", "Copy recipe", id="advice.copy",
                tooltip="Copy the recipe to the clipboard (OSC 52: works over SSH)"),
    ]
    expanded: reactive[bool] = reactive(False, layout=True)

    def __init__(self, advice: dict, rank: int) -> None:
        super().__init__(classes=f"advice {advice['severity']}")
        self.advice = advice
        self.rank = rank

    def render(self):
        a = self.advice
        colour = self.app.theme_variables.get(SEVERITY_COLOUR.get(a["severity"], "primary"), "")
        head = Text()
        head.append(f"{self.rank}. ")
        head.append(f"[{a['severity']}]", style=f"bold {colour}".strip())
        head.append(f" {a['title']}", style="bold")
        head.append(f"  {a['code']}", style="dim")
        basis = a.get("basis")
        body = Text(f"Evidence: {a['evidence']}\nFix: {a['fix']}\n")
        body.append("Effect")
        body.append(f" ({basis})" if basis else "", style="italic")
        body.append(f": {a.get('effect', '')}")
        parts = [head, body]
        if a.get("recipe"):
            if self.expanded:
                from rich.syntax import Syntax  # pygments: loaded on the first expanded recipe, not at startup

                parts.append(Syntax(a["recipe"].rstrip(), "python", theme="ansi_dark", word_wrap=True))
            else:
                parts.append(Text("⏎ recipe · y copy", style="dim"))
        return Group(*parts)

    def action_toggle_recipe(self) -> None:
        self.expanded = not self.expanded

    def action_copy_recipe(self) -> None:
        recipe = self.advice.get("recipe")
        if not recipe:
            self.notify("This advice has no recipe.", severity="warning")
            return
        copy_with_notice(self, recipe, f"Recipe for {self.advice['code']}")


class AdvicePanel(VerticalScroll):
    """Shows the advice of a finished run; empty and explaining itself before that."""

    def on_mount(self) -> None:
        self.border_title = "Advice"
        self.show_placeholder("Press b to benchmark: advice appears when the run ends, each backed by a number "
                              "measured here.")

    def show_placeholder(self, text: str) -> None:
        self.remove_children()
        self.mount(Static(text, classes="placeholder"))

    def show(self, advice: list[dict], finding: dict | None = None) -> AwaitMount:
        """Mount the finding and the items; the caller awaits the result to scroll to their final height."""
        self.remove_children()
        widgets: list[Widget] = []
        if finding:  # the answer to the user's question comes before the reasons
            widgets.append(Static(Text(finding["headline"], style="bold"), classes="finding"))
        if advice:
            widgets.extend(AdviceItem(a, i) for i, a in enumerate(advice, 1))
        else:
            widgets.append(Static("No advice: nothing in this run points at a problem.", classes="placeholder"))
        return self.mount_all(widgets)
