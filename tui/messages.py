"""The one adapter from core events (plain dataclasses, emitted on a worker thread) to Textual messages."""

from __future__ import annotations

from textual.message import Message


class CoreEvent(Message):
    """A bench event (RunStarted, RoutePhase, RouteReady, RouteFailed, RoundDone, FirstAnswer, SweepCell, RunDone)."""

    def __init__(self, event: object) -> None:
        super().__init__()
        self.event = event


class RunFinished(Message):
    """The run ended (done or cancelled) and its report document is ready."""

    def __init__(self, document: dict, cancelled: bool, cache_note: str | None = None) -> None:
        super().__init__()
        self.document = document
        self.cancelled = cancelled
        self.cache_note = cache_note  # what pruning the cache to its cap removed, in one line, or None


class RunError(Message):
    """The run could not start or broke: one line for the user."""

    def __init__(self, message: str) -> None:
        super().__init__()
        self.message = message


class ExportProgress(Message):
    """A line from an export in progress, or its end (`done` with the folder, or `error`)."""

    def __init__(self, line: str, done: str | None = None, error: str | None = None) -> None:
        super().__init__()
        self.line, self.done, self.error = line, done, error
