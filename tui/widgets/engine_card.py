"""The engine card: which quantized engine to use on this CPU, whether int8 should help, and why."""

from __future__ import annotations

from rich.text import Text
from textual.binding import Binding
from textual.reactive import reactive
from textual.widgets import Static

from tui.clipboard import copy_with_notice
from tui.core.engines import Recommendation

EXPECTED_STYLE = {"faster": "bold", "uncertain": "italic", "slower": "bold reverse"}


class EngineCard(Static, can_focus=True):
    """Shows a Recommendation; set `.recommendation` to update. `y` copies the recipe for that engine."""

    BINDINGS = [Binding("y", "copy_recipe", "Copy recipe", id="copy_engine_recipe",
                        tooltip="Copy Python that quantizes the model with this engine (OSC 52)")]
    recommendation: reactive[Recommendation | None] = reactive(None)

    def __init__(self, recommendation: Recommendation | None = None, model: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = model  # the recipe loads this model (the app updates it when settings change)
        self.border_title = "Quantized engine"
        self.set_reactive(EngineCard.recommendation, recommendation)

    def render(self) -> Text:
        rec = self.recommendation
        if rec is None:
            return Text("…")
        text = Text()
        text.append(f"engine = {rec.engine or 'none'!s}", style="bold")
        text.append("   int8 expected: ")
        text.append(rec.expected_int8, style=EXPECTED_STYLE.get(rec.expected_int8, ""))
        for reason in rec.reasons:
            text.append(f"\n• {reason}")
        ranked = "  ".join(f"{v.rank}.{v.name}{'' if v.suitable else '✗'}" for v in rec.engines)
        text.append(f"\nranking: {ranked}", style="dim")
        return text

    def action_copy_recipe(self) -> None:
        rec = self.recommendation
        if rec is None or rec.engine is None:
            self.notify("No quantized engine suits this CPU: nothing to copy.", severity="warning")
            return
        from tui.core.recipes import recipe_for

        copy_with_notice(self, recipe_for(f"torch-qint8-{rec.engine}", self.model), f"Recipe for engine {rec.engine}")
