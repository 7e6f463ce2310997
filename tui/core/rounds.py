"""Preparation and the timed rounds: each route's worker prepared in turn (accuracy against fp32 on the way), then
interleaved paired rounds until the stop rule, and the paired speedups the passes and the report read."""

from __future__ import annotations

import random
import time
from typing import TYPE_CHECKING

from tui.core.events import RoundDone, RoutePhase, RouteReady
from tui.core.routes import BASELINE
from tui.core.worker import WorkerDied

if TYPE_CHECKING:
    from tui.core.results import BenchResult


def prepare_all(plan, workers, result, emit, cancel, fail, baseline=None):
    """Prepare routes one at a time (quantization timings stay honest), baseline first (or given)."""
    from tui.core import accuracy

    for rid in list(workers):
        worker = workers.get(rid)
        if worker is None:
            continue
        try:
            emit(RoutePhase(rid, "loading"))
            worker.receive(cancel)  # ("loaded",)
            emit(RoutePhase(rid, "preparing"))
            worker.send("prepare")
            message = worker.receive(cancel)
        except WorkerDied as exc:
            fail(rid, "failed", str(exc))
            continue
        kind = message[0]
        if kind in ("unavailable", "failed"):
            fail(rid, kind, message[1])
            continue
        info = message[1]
        r = result.routes[rid]
        r.status, r.prepare_s, r.size_mb = "ok", info["prepare_s"], info["size_mb"]
        r.threads, r.facts = info["threads"], info["facts"]
        if rid == BASELINE:
            baseline = info["embeddings"]
            result.noise_floor = accuracy.noise_floor(baseline, info["embeddings_reordered"])
            result.token_counts = info["token_counts"]
        elif baseline is not None:
            try:
                r.accuracy = accuracy.compare(baseline, info["embeddings"])
            except ValueError as exc:  # NaN/inf embeddings: the route is broken, the run goes on
                fail(rid, "failed", f"its embeddings are unusable ({exc})")
                continue
        emit(RouteReady(rid, r.prepare_s, r.size_mb, r.accuracy))
    return baseline


def measure(plan, workers, result, emit, cancel, fail, stats) -> None:
    """Interleaved rounds in a shuffled order (fixed seed) until every CI is narrow, the budget or the limit."""
    rng = random.Random(plan.seed)
    start = time.monotonic()
    for round_index in range(plan.max_rounds):
        order = [rid for rid in result.routes if rid in workers]
        rng.shuffle(order)
        for rid in order:
            emit(RoutePhase(rid, "measuring"))
            try:
                workers[rid].send("run")
                message = workers[rid].receive(cancel)
            except WorkerDied as exc:
                fail(rid, "failed", f"died during round {round_index + 1}: {exc}")
                continue
            if message[0] == "failed":
                fail(rid, "failed", message[1])
                continue
            r = result.routes[rid]
            r.seconds[round_index] = message[1]
            r.peak_rss_mb = message[2]
        if BASELINE not in workers:
            result.stop_reason = "the fp32 baseline failed during the run"
            result.rounds = round_index + 1
            return
        so_far = speedups(result, stats)
        result.rounds = round_index + 1
        elapsed = time.monotonic() - start
        emit(RoundDone(result.rounds, plan.max_rounds, elapsed, plan.time_budget_s,
                       {rid: r.seconds[round_index] for rid, r in result.routes.items() if round_index in r.seconds},
                       so_far))
        if stats.converged(so_far.values(), rounds=result.rounds, min_rounds=plan.min_rounds,
                           max_half_width=plan.max_half_width):
            result.stop_reason = (f"converged: every 95 % CI within ±{plan.max_half_width:.0%} after "
                                  f"{result.rounds} rounds")
            return
        if elapsed >= plan.time_budget_s:
            result.stop_reason = (f"time budget of {plan.time_budget_s:.0f} s ended after {result.rounds} rounds"
                                  + ("" if all(s.half_width <= plan.max_half_width for s in so_far.values())
                                     else "; some CIs are wider than ±5 %"))
            return
    result.stop_reason = f"reached the maximum of {plan.max_rounds} rounds"


def speedups(result: BenchResult, stats, reference: str = BASELINE) -> dict:
    """Paired speedups vs the reference route (the baseline by default) over the rounds both ran."""
    base = result.routes[reference].seconds
    out = {}
    for rid, r in result.routes.items():
        if rid == reference or r.status != "ok":
            continue
        rounds = sorted(set(base) & set(r.seconds))
        if rounds:
            out[rid] = stats.speedup([base[i] for i in rounds], [r.seconds[i] for i in rounds])
    return out


def _fastest_fp32(result: BenchResult) -> str | None:
    """The fp32 route with the best speedup over the baseline (the baseline itself counts as 1.0)."""
    fp32 = {rid: (1.0 if rid == BASELINE else r.speedup.point) for rid, r in result.routes.items()
            if r.spec.dtype == "fp32" and r.status == "ok" and r.seconds and (rid == BASELINE or r.speedup)}
    return max(fp32, key=fp32.get) if fp32 else None


def finish_statistics(result, stats) -> None:
    """At the end of every run, cancelled or not: each route's speedups over fp32 and over the fastest fp32 route,
    and the noise of the baseline's round times."""
    for rid, s in speedups(result, stats).items():
        result.routes[rid].speedup = s
    result.best_fp32 = _fastest_fp32(result)
    if result.best_fp32:
        for rid, s in speedups(result, stats, result.best_fp32).items():
            result.routes[rid].vs_best_fp32 = s
    base = result.routes[BASELINE]
    if len(base.seconds) >= 1:
        result.baseline_noise = stats.noise([base.seconds[i] for i in sorted(base.seconds)])
