"""What every pass shares: the `Pass` record the registry lists, the `RunState` a pass works on, and `ask_each`.

A pass is work the coordinator does around the timed rounds, never during them: "prepare" passes run after the
routes are prepared and before the rounds (their routes are then measured like any other), "after" passes run
once the rounds have stopped, so nothing they do disturbs a timing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tui.core.events import Event, RoutePhase
from tui.core.worker import Worker, WorkerDied

if TYPE_CHECKING:
    from tui.core.results import BenchResult, Plan


@dataclass
class RunState:
    """One run as the passes see it. `workers` holds the live workers by route id (a pass may add or drop some);
    `fail(rid, status, why)` marks a route and kills its worker; `start_worker(spec, **setup)` starts a worker with
    the run's setup, entries overridden."""

    plan: Plan
    result: BenchResult
    workers: dict[str, Worker]
    emit: Callable[[Event], None]
    cancel: Callable[[], bool]
    fail: Callable[[str, str, str], None]
    start_worker: Callable[..., Worker]
    stats: object  # tui.core.stats, loaded by the coordinator (numpy, scipy)
    run_dir: Path  # the run's temporary directory: worker logs and scratch artefacts
    baseline_embeddings: object = None  # fp32's vectors of the measured texts, once the baseline is prepared


def _nothing_to_settle(state: RunState, cancelled: bool) -> None:
    return None


@dataclass(frozen=True)
class Pass:
    """One pass. `enabled(plan)` says from the plan alone whether it runs; `run(state)` does it and writes into
    `state.result`. The other fields document it (docs/ARCHITECTURE.md's "Passes" table lists them)."""

    name: str
    stage: str  # "prepare" (after preparation, before the rounds) or "after" (after the rounds)
    enabled: Callable[[Plan], bool]
    run: Callable[[RunState], None]
    needs: str  # the workers it asks, e.g. "every worker", "the fp32 worker"
    writes: tuple[str, ...]  # the report fields it fills
    cache: str  # what its cache key is made of, "" when it keeps nothing
    cost: str  # roughly what it costs a run
    quick: bool  # whether --quick keeps it
    switch: str = ""  # the Plan boolean that turns it on or off (--quick, --no-…), "" when none
    # At the end of every run it was enabled for, cancelled or not: what the report says if it never ran.
    settle: Callable[[RunState, bool], None] = _nothing_to_settle


def ask_each(state: RunState, *, command: str, phase: str, doing: str, wanted: Callable[[str], bool],
             keep: Callable[[str, object], None]) -> None:
    """`command` to each wanted route's worker in turn; one that dies fails its route and the pass goes on."""
    for rid, worker in list(state.workers.items()):
        if not wanted(rid):
            continue
        state.emit(RoutePhase(rid, phase))
        try:
            worker.send(command)
            message = worker.receive(state.cancel)
        except WorkerDied as exc:
            state.fail(rid, "failed", f"died while {doing}: {exc}")
            continue
        if message[0] == command:
            keep(rid, message[1])
