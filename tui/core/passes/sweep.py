"""--sweep, after the rounds: fp32 vs one route over batch size × sequence length, paired, the order alternating
per round."""

from __future__ import annotations

from tui.core.events import RoutePhase, SweepCell
from tui.core.passes.base import Pass, RunState
from tui.core.routes import BASELINE
from tui.core.worker import WorkerDied


def run(state: RunState) -> None:
    if state.plan.sweep_route in state.workers and BASELINE in state.workers:
        state.result.sweep = _sweep(state.plan, state.workers, state.emit, state.cancel, state.stats)


def _sweep(plan, workers, emit, cancel, stats, rounds: int = 3, min_seconds: float = 0.15) -> dict | None:
    pair = (workers[BASELINE], workers[plan.sweep_route])
    cells = []
    emit(RoutePhase(plan.sweep_route, "sweeping"))
    for batch_size, tokens in plan.sweep_cells:
        times: dict[int, list[float]] = {0: [], 1: []}
        actual = tokens
        try:
            for r in range(rounds):
                for i in ((0, 1) if r % 2 == 0 else (1, 0)):
                    pair[i].send("sweep", batch_size, tokens, min_seconds)
                    message = pair[i].receive(cancel)
                    if message[0] != "sweep":
                        return None
                    times[i].append(message[1])
                    actual = message[2]
        except WorkerDied:
            return None
        s = stats.speedup(times[0], times[1])
        cells.append({"batch_size": batch_size, "seq_len": actual, "speedup": round(s.point, 4),
                      "ci95": [round(x, 4) for x in s.ci95], "fp32_ms": round(1000 * min(times[0]), 3),
                      "route_ms": round(1000 * min(times[1]), 3)})
        emit(SweepCell(plan.sweep_route, batch_size, actual, s.point, len(cells), len(plan.sweep_cells)))
    return {"route": plan.sweep_route, "rounds": rounds, "cells": cells}


PASS = Pass(name="sweep", stage="after", enabled=lambda plan: bool(plan.sweep_route), run=run,
            needs="the fp32 worker and the swept route's", writes=("sweep",), cache="",
            cost="3 paired rounds of at least 0.15 s per cell (9 cells by default)", quick=True)
