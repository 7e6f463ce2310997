"""--pattern online, after the rounds: every route answers single-text calls, as a search box calls the model.

In each round every measured route answers the same CALLS_PER_ROUND texts (drawn from the run's texts in order,
so every route gets the same ones), one call per text, the routes taking turns in an order that rotates per
round; one worker computes at a time. Rounds go on until every route has `latency_calls` calls or the time
budget is spent. The statistics are latency.py's.
"""

from __future__ import annotations

import time

from tui.core.events import LatencyStep
from tui.core.passes.base import Pass, RunState
from tui.core.routes import BASELINE
from tui.core.worker import WorkerDied

CALLS_PER_ROUND = 50
WARMUP_CALLS = 10  # per route, before the first round: the first batch-1 calls build batch-1 kernels


def run(state: RunState) -> None:
    plan, result = state.plan, state.result
    ids = [rid for rid in result.routes if rid in state.workers and result.routes[rid].status == "ok"]
    if BASELINE not in ids:
        return
    texts = list(plan.workload.texts)
    times: dict[str, list[list[float]]] = {rid: [] for rid in ids}
    began = time.monotonic()
    deadline = began + plan.time_budget_s
    target = plan.latency_calls
    _ask(state, ids, times, [texts[i % len(texts)] for i in range(WARMUP_CALLS)], keep=False)
    r = 0
    while True:
        live = [rid for rid in ids if rid in state.workers]
        order = live[r % len(live):] + live[:r % len(live)] if live else []
        start = r * CALLS_PER_ROUND
        _ask(state, order, times, [texts[(start + i) % len(texts)] for i in range(CALLS_PER_ROUND)], keep=True)
        r += 1
        done = min((sum(map(len, times[rid])) for rid in ids if rid in state.workers), default=0)
        state.emit(LatencyStep(done, target, r))
        if BASELINE not in state.workers or done >= target or time.monotonic() >= deadline:
            break
    result.latency = {"times_ms": {rid: t for rid, t in times.items() if t}, "target_calls": target,
                      "calls_per_round": CALLS_PER_ROUND, "budget_s": plan.time_budget_s,
                      "stopped": "calls" if done >= target else "budget",
                      "pass_s": round(time.monotonic() - began, 2)}  # the warm-up included


def _ask(state: RunState, order: list[str], times: dict, texts: list[str], keep: bool) -> None:
    for rid in order:
        if rid not in state.workers:
            continue
        try:
            state.workers[rid].send("calls", texts)
            message = state.workers[rid].receive(state.cancel)
        except WorkerDied as exc:
            state.fail(rid, "failed", f"died answering single-text calls: {exc}")
            times[rid] = []
            continue
        if message[0] != "calls":
            state.fail(rid, "failed", message[1])
            times[rid] = []
        elif keep:
            times[rid].append(message[1])


PASS = Pass(name="latency", stage="after", enabled=lambda plan: plan.pattern in ("online", "all"), run=run,
            needs="every measured route's worker", writes=("latency", "routes[].latency"), cache="",
            cost="latency_calls single-text calls per route (1,000 by default), within --time-budget",
            quick=True)
