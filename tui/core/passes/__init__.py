"""The pass registry: every pass the coordinator runs around the timed rounds, in the order it runs them.

A pass is one module here with a `PASS` (base.Pass); adding one is that module, a line in `PASSES` and, if it asks
the workers something new, one verb in `tui.core.worker.VERBS`. See docs/ARCHITECTURE.md, "Passes".
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from tui.core.passes import ceilings, invariance, kernels, latency, processes, profile, rescue, sweep, task, threads
from tui.core.passes.base import Pass, RunState

if TYPE_CHECKING:
    from tui.core.results import Plan

PASSES: tuple[Pass, ...] = (
    rescue.PASS,  # prepare: the layers and the -mixed routes, measured in the rounds
    profile.PASS,
    invariance.PASS,
    kernels.PASS,
    ceilings.PASS,
    sweep.PASS,
    latency.PASS,
    task.PASS,
    processes.PASS,  # these two last: they start workers of their own
    threads.PASS,
)

def enabled(stage: str, plan: Plan) -> Iterator[Pass]:
    """The passes of `stage` that `plan` turns on, in run order."""
    return (p for p in PASSES if p.stage == stage and p.enabled(plan))


__all__ = ["PASSES", "Pass", "RunState", "enabled"]
