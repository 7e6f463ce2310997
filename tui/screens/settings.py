"""`s`: run settings (model, texts, batch size, threads, time budget), validated like the CLI's flags."""

from __future__ import annotations

import argparse

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from tui.options import pattern_name, positive_float, positive_int, task_loss_percent, thread_counts

FIELDS = [  # (attribute, label, parser)
    ("model", "model (directory or cached hub name; empty: packaged all-MiniLM-L6-v2)", None),
    ("texts", "texts file (.txt/.jsonl/.csv; empty: the built-in corpus)", None),
    ("num_texts", "texts per round", positive_int),
    ("batch_size", "batch size", positive_int),
    ("threads", "threads (empty: physical cores)", positive_int),
    ("time_budget", "time budget for the rounds, seconds", positive_float),
    ("threads_sweep", "thread sweep after the rounds (e.g. 1,2,4 or auto; empty: none)", thread_counts),
    ("task", "task to score (stsb, a pairs .csv/.tsv/.jsonl or a BEIR folder; empty: none, judge by cosine)", None),
    ("max_task_loss", "with a task: most % of fp32's task score to give up (empty: 1)", task_loss_percent),
    ("pattern", "how the model is called: bulk (batches), online (+ single-text calls), processes (+ P × T splits) "
                "or all", pattern_name),
    ("latency_calls", "online: single-text calls per route (empty: 1000)", positive_int),
]
# Empty means the default.
OPTIONAL = ("model", "texts", "threads", "threads_sweep", "task", "max_task_loss", "latency_calls")


def shown(value) -> str:
    """A setting as typed: the thread sweep's (1, 2, 4) is "1,2,4"."""
    if value is None:
        return ""
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


class SettingsScreen(ModalScreen[argparse.Namespace | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel", id="settings.cancel")]

    def __init__(self, settings: argparse.Namespace) -> None:
        super().__init__()
        self.settings = settings

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="settings-box"):  # 9 fields do not fit in 24 rows: tab scrolls to each
            yield Static("Run settings — Enter in any field applies, Esc cancels.")
            for attr, label, _ in FIELDS:
                value = getattr(self.settings, attr, None)
                yield Label(label)
                yield Input(value=shown(value), id=f"set-{attr}")
            yield Static("", id="settings-error")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        updated = argparse.Namespace(**vars(self.settings))
        for attr, label, parse in FIELDS:
            raw = self.query_one(f"#set-{attr}", Input).value.strip()
            if not raw:
                if attr in OPTIONAL:
                    setattr(updated, attr, None)
                    continue
                self.query_one("#settings-error", Static).update(f"{label}: needs a value")
                return
            try:
                setattr(updated, attr, parse(raw) if parse else raw)
            except argparse.ArgumentTypeError as exc:
                self.query_one("#settings-error", Static).update(f"{label}: {exc}")
                return
        self.dismiss(updated)

    def action_dismiss_none(self) -> None:
        self.dismiss(None)
