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


def prepare_all(plan, workers, result, emit, cancel, fail, baseline=None, routes=None):
    """Prepare routes one at a time (quantization timings stay honest), baseline first (or given); `routes`, if
    given, only those."""
    from tui.core import accuracy

    for rid in list(routes if routes is not None else workers):
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
        elif baseline is not None and not r.spec.own_space:  # a static route's vectors are not fp32's
            try:
                r.accuracy = accuracy.compare(baseline, info["embeddings"])
            except ValueError as exc:  # NaN/inf embeddings: the route is broken, the run goes on
                fail(rid, "failed", f"its embeddings are unusable ({exc})")
                continue
        emit(RouteReady(rid, r.prepare_s, r.size_mb, r.accuracy))
    return baseline


def measure(plan, workers, result, emit, cancel, fail, stats, *, first_answer: bool = False,
            joined_round: int = 0, spent_s: float = 0.0) -> float:
    """Interleaved rounds in a shuffled order (fixed seed) over the live workers, continuing the run's round count.

    `first_answer`: stop as soon as the routes measured so far answer the seed question (see `answered`); the run
    goes on later with the routes that join. Otherwise stop when every CI is narrow, or the budget or the round
    limit is spent; both count from `joined_round`, the round before the last routes joined (`spent_s`: the
    seconds of rounds already spent since then), so a late route gets the rounds and the time an early one got.
    The pairs of a late route are only the rounds it ran (`speedups`). Returns the seconds spent."""
    rng = random.Random(plan.seed + result.rounds)
    start = time.monotonic() - spent_s
    while True:
        round_index = result.rounds
        order = [rid for rid in result.routes if rid in workers and result.routes[rid].status == "ok"]
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
        result.rounds = round_index + 1
        if BASELINE not in workers:
            result.stop_reason = "the fp32 baseline failed during the run"
            return time.monotonic() - start
        so_far = speedups(result, stats)
        elapsed = time.monotonic() - start
        emit(RoundDone(result.rounds, joined_round + plan.max_rounds, elapsed, plan.time_budget_s,
                       {rid: r.seconds[round_index] for rid, r in result.routes.items() if round_index in r.seconds},
                       so_far))
        done = result.rounds - joined_round
        if first_answer:
            if answered(so_far.values(), plan) or done >= plan.max_rounds or elapsed >= plan.time_budget_s:
                return elapsed
            continue
        if stats.converged(so_far.values(), rounds=done, min_rounds=plan.min_rounds,
                           max_half_width=plan.max_half_width):
            result.stop_reason = (f"converged: every 95 % CI within ±{plan.max_half_width:.0%} after "
                                  f"{result.rounds} rounds")
            return elapsed
        if elapsed >= plan.time_budget_s:
            result.stop_reason = (f"time budget of {plan.time_budget_s:.0f} s ended after {result.rounds} rounds"
                                  + ("" if all(s.half_width <= plan.max_half_width for s in so_far.values())
                                     else "; some CIs are wider than ±5 %"))
            return elapsed
        if done >= plan.max_rounds:
            result.stop_reason = f"reached the maximum of {plan.max_rounds} rounds" + (
                f" per route ({result.rounds} for fp32, which runs in every round)" if joined_round else "")
            return elapsed


# Three paired rounds can already exclude 1.0 for a route 0.4× or 2× fp32 (the seed question's usual answer); the
# final figures use every round.
FIRST_ANSWER_ROUNDS = 3


def answered(speedups_so_far, plan) -> bool:
    """The first answer is in: after FIRST_ANSWER_ROUNDS, every route measured so far has a direction (its CI
    excludes 1) or a narrow CI; a route close to 1.0× may never get a direction, so at most the minimum rounds
    of the stop rule."""
    values = list(speedups_so_far)
    rounds = min((s.rounds for s in values), default=0)
    if rounds < min(FIRST_ANSWER_ROUNDS, plan.min_rounds):
        return False
    return rounds >= plan.min_rounds or all(s.verdict != "inconclusive" or s.half_width <= plan.max_half_width
                                                for s in values)


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
            if r.spec.dtype == "fp32" and not r.spec.aside and r.status == "ok" and r.seconds
            and (rid == BASELINE or r.speedup)}
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
