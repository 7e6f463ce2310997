"""Preparation, before the rounds: when int8 misses the threshold (or a `-mixed` route is asked for), the layer
evidence (each Linear's input range and int8 sensitivity, from the fp32 worker or the cache), then a mixed route per
engine that missed, prepared here and measured in the rounds like any other route."""

from __future__ import annotations

import time

from tui.core.events import RouteAdded, RoutePhase
from tui.core.passes.base import Pass, RunState
from tui.core.results import BenchResult, Plan, RouteResult
from tui.core.rounds import prepare_all
from tui.core.routes import BASELINE, ROUTES, static_unavailability
from tui.core.worker import Worker, WorkerDied


def run(state: RunState) -> None:
    plan, workers, result, emit, cancel, fail = (state.plan, state.workers, state.result, state.emit, state.cancel,
                                                 state.fail)
    asked = [rid for rid in plan.routes if ROUTES[rid].rescue]
    if not plan.layers:
        for rid in asked:
            if result.routes[rid].status == "pending":
                fail(rid, "unavailable", "--no-rescue: the layer pass and the search were skipped")
        return
    if not asked and not _int8_missed(result, plan.min_cosine):
        return
    result.layers = _layers(plan, workers[BASELINE], emit, cancel)
    wanted = _mixes_wanted(plan, result)
    order = [e["name"] for e in (result.layers or {}).get("layers", [])]
    for rid, why in wanted.items():
        if rid not in result.routes:
            result.routes[rid] = RouteResult(ROUTES[rid])
            emit(RouteAdded(rid, why))
        if result.routes[rid].status != "pending":
            continue
        if not order:
            fail(rid, "unavailable", "the layer evidence could not be measured, so there is nothing to mix from")
            continue
        reason = static_unavailability(ROUTES[rid], plan.cpu)
        if reason:
            fail(rid, "unavailable", reason)
            continue
        emit(RoutePhase(rid, "starting"))
        workers[rid] = state.start_worker(ROUTES[rid], layer_order=order)
        if plan.task is not None:  # this mix is tuned on the task's tuning split: report on the other one
            result.task = plan.task.held_out()
        prepare_all(plan, {rid: workers[rid]}, result, emit, cancel, fail, state.baseline_embeddings)


def _int8_missed(result: BenchResult, min_cosine: float) -> bool:
    return any(r.accuracy is not None and r.accuracy.cosine_mean < min_cosine and r.spec.dtype in ("qint8", "int8")
               and not r.spec.aside for r in result.routes.values())  # a cap loses accuracy by design; a peer is theirs


def _mixes_wanted(plan: Plan, result: BenchResult) -> dict[str, str]:
    """Rescue route id → why it is built: asked for, or every measured route with that mix missed the threshold
    (the routes name their mix: a torch engine's per-tensor and per-channel routes share one). Of torch's engines
    only the one recommended for this CPU gets a mix when it was measured (a mix of qnnpack on x86 is never the
    fastest)."""
    from tui.core.engines import recommend

    wanted = {rid: "asked for with --routes" for rid in plan.routes if ROUTES[rid].rescue}
    by_mix: dict[str, list] = {}
    for r in result.routes.values():
        if r.spec.mix and r.accuracy is not None:
            by_mix.setdefault(r.spec.mix, []).append(r)
    engine_mix = f"torch-qint8-{recommend(plan.cpu).engine}-mixed"
    if engine_mix in by_mix:
        by_mix = {mix: routes for mix, routes in by_mix.items()
                  if ROUTES[mix].backend != "torch" or mix == engine_mix}
    for mix, routes in by_mix.items():
        if all(r.accuracy.cosine_mean < plan.min_cosine for r in routes):
            best = max(routes, key=lambda r: r.accuracy.cosine_mean)
            wanted.setdefault(mix, f"{best.spec.id} has cosine {best.accuracy.cosine_mean:.4f} < {plan.min_cosine}")
    return wanted


def _layers(plan: Plan, worker: Worker, emit, cancel) -> dict | None:
    """Which Linear layers break int8: from the cache, else measured by the fp32 worker (preparation, before the
    rounds: the rescue's mixes are built from it)."""
    from tui.core import layers
    from tui.core.routes import runtime_versions
    from tui.core.workload import fingerprint

    texts = plan.workload.calibration
    if not texts:
        return None
    key = layers.layers_cache_key(plan.model.fingerprint, fingerprint(texts), runtime_versions().get("torch", ""))
    summary = {"scheme": layers.SCHEME, "texts": min(len(texts), layers.SENSITIVITY_TEXTS),
               "source": "calibration texts"}
    cached = layers.CACHE.load(plan.cache_root, key)
    if isinstance(cached, list):
        return {**summary, "layers": cached, "cache": "hit"}
    emit(RoutePhase(BASELINE, "inspecting"))
    start = time.monotonic()
    try:
        worker.send("layers")
        message = worker.receive(cancel, timeout=900)
    except WorkerDied:
        return None
    if message[0] != "layers":
        return None
    layers.CACHE.store(plan.cache_root, key, message[1], model=plan.model.name)
    return {**summary, "layers": message[1], "cache": "miss", "seconds": round(time.monotonic() - start, 2)}


PASS = Pass(name="rescue", stage="prepare",
            enabled=lambda plan: plan.layers or any(ROUTES[rid].rescue for rid in plan.routes), run=run,
            needs="the fp32 worker (the layers), then a new worker per mix", writes=("layers", "routes[] (the -mixed)"),
            cache="the layers: model, calibration texts and torch version; a mix: the artefact cache",
            cost="one fp32 pass per Linear on the calibration texts, then a bisection per mix", quick=False,
            switch="layers")
