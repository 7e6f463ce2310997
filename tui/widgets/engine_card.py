"""The engine card: which quantized engine to use on this CPU, whether int8 should help, and why."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tui.core.engines import Recommendation

EXPECTED_STYLE = {"faster": "bold", "uncertain": "italic", "slower": "bold reverse"}


class EngineCard(Static):
    """Shows a Recommendation; set `.recommendation` to update."""

    recommendation: reactive[Recommendation | None] = reactive(None)

    def __init__(self, recommendation: Recommendation | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
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
