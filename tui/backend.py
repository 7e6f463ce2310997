"""What the dashboard needs from the core, behind one small interface so tests can script it.

`LiveBackend` is the real thing (detect, plan from settings, bench.run in worker processes, report);
tests pass a fake that emits recorded or scripted events, like a replay.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Protocol

from tui.core.detect import Detection, run_detect


class Backend(Protocol):
    def detect(self) -> Detection: ...

    def plan(self, settings: argparse.Namespace): ...

    def run(self, plan, emit: Callable[[object], None], cancel: Callable[[], bool]): ...

    def document(self, result) -> dict: ...

    def export(self, request, say: Callable[[str], None]): ...

    def prune_cache(self) -> str | None: ...


class LiveBackend:
    def detect(self) -> Detection:
        return run_detect()

    def plan(self, settings: argparse.Namespace):
        from tui.options import build_plan

        return build_plan(settings)  # raises UserError with a one-line message

    def run(self, plan, emit, cancel):
        from tui.core import bench

        return bench.run(plan, emit, cancel)

    def document(self, result) -> dict:
        from tui.core.report import build_document
        from tui.core.report_history import remember

        document = build_document(result)
        remember(document)  # for `qtui export`, which quotes the latest measurement of a route
        return document

    def export(self, request, say):
        """`qtui export` for the dashboard: check (ExportError → UserError, one line), then write the folder."""
        from tui.core.export import ExportError, check, write
        from tui.errors import UserError

        try:
            return write(check(request), say)
        except ExportError as exc:
            raise UserError(str(exc)) from None

    def prune_cache(self) -> str | None:
        """After a finished run: the cache pruned to its cap (QTUI_CACHE_MAX_SIZE); one line when it removed some."""
        from tui.cache_cli import prune_after_run

        return prune_after_run()
