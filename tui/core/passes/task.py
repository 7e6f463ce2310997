"""--task, after the rounds: every route's score on the task, paired with fp32's on the same pairs or queries."""

from __future__ import annotations

import time

from tui.core.events import RoutePhase
from tui.core.passes.base import Pass, RunState
from tui.core.routes import BASELINE
from tui.core.worker import WorkerDied


def run(state: RunState) -> None:
    _task_all(state.plan, state.workers, state.result, state.emit, state.cancel)


def _task_all(plan, workers, result, emit, cancel) -> None:
    """After the timed rounds: each route's items on the task (one cosine per pair, or one row of metrics per
    query), from the cache or from its worker, then every score paired with fp32's on the same items."""
    from tui.core import task_scores
    from tui.core.routes import runtime_versions

    task, versions = result.task or plan.task, runtime_versions()
    result.task = task
    started = time.monotonic()
    items: dict[str, list] = {}
    for rid, worker in list(workers.items()):
        r = result.routes[rid]
        key = task_scores.items_cache_key(rid, plan, task, r.facts, versions)
        start = time.monotonic()
        found = task_scores.CACHE.load(plan.cache_root, key)
        facts = {"cache": "hit", "seconds": round(time.monotonic() - start, 3)}
        if found is None:
            emit(RoutePhase(rid, "scoring"))
            try:
                worker.send("task", task)
                message = worker.receive(cancel, timeout=1800)
            except WorkerDied as exc:  # the rounds were measured: the route keeps them, only the score is lost
                r.task_why = f"its worker stopped while scoring the task ({exc})"
                workers.pop(rid).kill()
                continue
            if message[0] != "task":
                r.task_why = f"scoring failed: {message[1]}"
                continue
            found = message[1]
            task_scores.CACHE.store(plan.cache_root, key, found, model=plan.model.name)
            facts = {"cache": "miss", "seconds": round(time.monotonic() - start, 2)}
        items[rid] = found
        r.task = facts
    scores = task_scores.score_routes(task, items, BASELINE, seed=plan.seed)
    for rid, r in result.routes.items():
        if rid in scores:
            r.task = {**scores[rid].to_json(), **(r.task or {})}
        elif r.task_why is None:
            r.task_why = r.why or f"the route did not run ({r.status})"
    result.task_pass_s = round(time.monotonic() - started, 3)


# --quick keeps it: a task asked for is an answer, not diagnosis.
PASS = Pass(name="task", stage="after", enabled=lambda plan: plan.task is not None, run=run,
            needs="every worker", writes=("task", "routes[].task"),
            cache="route, model, task and the route's facts (task_scores.items_cache_key)",
            cost="every route encodes the task's texts once (benchmarks/task_cost.py)", quick=True)
