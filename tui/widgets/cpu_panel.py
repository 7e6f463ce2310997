"""The CPU panel: model, cores, and a ✓/✗ badge for each int8/bf16 feature that matters on this architecture."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from tui.core.cpu import CpuProfile
from tui.core.detect import badges, describe_cpu


class CpuPanel(Static):
    """Shows a CpuProfile; set `.cpu` to update."""

    cpu: reactive[CpuProfile | None] = reactive(None)

    def __init__(self, cpu: CpuProfile | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = "CPU"
        self.set_reactive(CpuPanel.cpu, cpu)

    def render(self) -> Text:
        cpu = self.cpu
        if cpu is None:
            return Text("detecting…")
        text = Text(describe_cpu(cpu) + "\n")
        for label, present in badges(cpu):
            text.append(f" {label} {'✓' if present else '✗'} ", style="bold" if present else "dim")
        for note in cpu.notes:
            text.append(f"\n{note}", style="italic")
        return text
