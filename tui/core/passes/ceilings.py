"""After the rounds, so calibration never disturbs them: the CPU's GEMM ceilings per dtype (for the roofline)."""

from __future__ import annotations

from tui.core.events import RoutePhase
from tui.core.passes.base import Pass, RunState
from tui.core.routes import BASELINE
from tui.core.worker import WorkerDied


def run(state: RunState) -> None:
    if BASELINE in state.workers:
        state.result.ceilings = _ceilings(state)


def _ceilings(state: RunState) -> dict | None:
    """From the cache, else measured by the fp32 worker (torch is loaded there already)."""
    from tui.core import ceilings
    from tui.core.engines import recommend
    from tui.core.routes import runtime_versions

    plan = state.plan
    engine = recommend(plan.cpu).engine
    key = ceilings.ceilings_cache_key(plan.cpu, plan.threads, engine, runtime_versions().get("torch", ""))
    cached = ceilings.load_cached(plan.cache_root, key)
    if cached is not None:
        return {**cached, "cache": "hit"}
    state.emit(RoutePhase(BASELINE, "calibrating"))
    try:
        state.workers[BASELINE].send("ceilings", engine, plan.cpu.has_bf16_hardware)
        message = state.workers[BASELINE].receive(state.cancel, timeout=120)
    except WorkerDied:
        return None
    if message[0] != "ceilings":
        return None
    ceilings.store(plan.cache_root, key, message[1])
    return {**message[1], "cache": "miss"}


PASS = Pass(name="ceilings", stage="after", enabled=lambda plan: plan.ceilings, run=run,
            needs="the fp32 worker", writes=("roofline.ceilings",),
            cache="CPU, thread count, engine and torch version", cost="about 2 s of GEMMs per dtype, once per key",
            quick=False, switch="ceilings")
