"""The fastest mix that keeps cosine ≥ the threshold: int8 everywhere except the layers that break it.

The layer evidence ranks every Linear by the cosine it loses when int8 alone. Keeping the top k of that
ranking in fp32 trades speed for accuracy; the search finds the smallest k whose mix reaches the threshold on
calibration texts (never the measured ones), by bisection — the cosine rises with k, up to measurement noise,
so a handful of quantize-and-encode steps replace trying every k. Runs in the route's worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace

from tui.core.cache import cache_key
from tui.core.json_cache import JsonCache

CACHE = JsonCache("mixes", "qtui.mix/1", "mix")


@dataclass(frozen=True)
class Target:
    """What a mix must reach, on which texts: the mean cosine to fp32 on calibration texts, or — with --task — the
    share of fp32's task score kept on the task's tuning split (STS-B dev; a user's file, its first half), never
    the split the run reports."""

    texts: tuple[str, ...]
    score: Callable  # (fp32 vectors, the mix's vectors) → the score compared with the threshold
    threshold: float
    key: str  # part of the mix cache key
    unit: str  # words for the reasons: "cosine", "kept share of fp32's spearman on stsb dev"


def target(ctx) -> Target:
    from tui.core.onnx_route import mean_cosine

    task = getattr(ctx, "task", None)
    if task is None:
        return Target(tuple(scoring_texts(ctx.calibration)), mean_cosine, ctx.min_cosine, f"cosine={ctx.min_cosine}",
                      "cosine")
    from tui.core.task_scores import items_from_vectors, kept_lower_bound, task_texts

    texts = tuple(task_texts(task))
    lower_bounds: dict[int, object] = {}  # per fp32 reference (one per search): its bootstrap draws, made once

    def kept(reference, vectors) -> float:
        # The recommendation's rule: the kept share's 95 % CI lower bound. A point estimate that just reaches the
        # budget on the tuning split misses it on the reported one about half the time (seen: 99.6 % on STS-B dev,
        # 98.7 % on test).
        key = id(reference)
        if key not in lower_bounds:
            lower_bounds.clear()
            lower_bounds[key] = (reference, kept_lower_bound(task, items_from_vectors(task, texts, reference)))
        return lower_bounds[key][1](items_from_vectors(task, texts, vectors))

    return Target(texts, kept, ctx.min_task_kept, f"task={task.fingerprint};lower95;{ctx.min_task_kept}",
                  f"95 % lower bound of the kept share of fp32's {task.metric} on {task.name} {task.split}")


@dataclass(frozen=True)
class Mix:
    kept_fp32: tuple[str, ...]  # layer names left in floating point, most sensitive first
    total: int  # Linear layers the route could quantize
    cosine: float  # on the calibration texts
    steps: int  # mixes built and scored by the search
    # The kept layers' dtype: "bf16" on bf16 hardware when that still met the threshold and ran faster than fp32
    # (kept_fp32 then names layers kept out of int8 in bf16); the note says what was measured.
    kept_dtype: str = "fp32"
    kept_dtype_note: str = ""
    scored_by: str = "cosine"  # the rescue target's unit: what `cosine` above is (a task's kept share with --task)


def mix_cache_key(route_id: str, model_fingerprint: str, texts_fingerprint: str, order: list[str],
                  goal: str, torch_version: str) -> str:
    return cache_key("qtui.mix/1", route_id, model_fingerprint, texts_fingerprint, ",".join(order), goal,
                     torch_version)


def mix_to_json(mix: Mix) -> dict:
    return asdict(mix)


def mix_from_json(d) -> Mix | None:
    try:
        return Mix(tuple(d["kept_fp32"]), int(d["total"]), float(d["cosine"]), int(d["steps"]),
                   str(d.get("kept_dtype", "fp32")), str(d.get("kept_dtype_note", "")),
                   str(d.get("scored_by", "cosine")))
    except (TypeError, KeyError, ValueError):
        return None


class NoMixReachesIt(Exception):
    """Even with every layer but the least sensitive in fp32 the threshold is missed."""


def fewest_kept(order: list[str], score: Callable[[tuple[str, ...]], float], min_cosine: float) -> Mix:
    """The smallest k such that keeping order[:k] in fp32 scores ≥ min_cosine; `score(kept)` builds and
    measures that mix. k = len(order) would be plain fp32: not a mix, so never the answer."""
    scores: dict[int, float] = {}

    def at(k: int) -> float:
        if k not in scores:
            scores[k] = score(tuple(order[:k]))
        return scores[k]

    lo, hi = 0, len(order) - 1  # invariant: the answer, if any, is in [lo, hi]
    if at(hi) < min_cosine:
        raise NoMixReachesIt(f"keeping {hi} of {len(order)} Linear layers in fp32 still gives cosine "
                             f"{scores[hi]:.4f} < {min_cosine}")
    while lo < hi:
        mid = (lo + hi) // 2
        if at(mid) >= min_cosine:
            hi = mid
        else:
            lo = mid + 1
    return Mix(tuple(order[:lo]), len(order), at(lo), len(scores))


def find_mix(route_id: str, ctx, names: list[str], make_score: Callable[[], Callable[[tuple[str, ...]], float]],
             versions: str, refine: Callable[[Mix], Mix] = lambda mix: mix) -> tuple[Mix, bool]:
    """(the mix, whether it came from the cache) for a route whose quantizable layers are `names`.
    `make_score()` (called only when searching: it computes the fp32 reference) returns `score(kept)`, which
    builds the route with the `kept` layers left in floating point and returns its mean cosine to fp32.
    Searched in the order of the layer evidence (layers it did not rank last), and cached per route, model,
    texts, order, threshold and library `versions`; `refine` (e.g. the kept layers' dtype) runs before caching."""
    from tui.core.workload import fingerprint

    order = [n for n in ctx.layer_order if n in names] + [n for n in names if n not in ctx.layer_order]
    goal = target(ctx)
    key = mix_cache_key(route_id, ctx.model_fingerprint, fingerprint(ctx.calibration), order, goal.key, versions)
    known = mix_from_json(CACHE.load(ctx.cache_root, key))
    if known is not None and set(known.kept_fp32) <= set(names):
        return known, True
    mix = replace(refine(fewest_kept(order, make_score(), goal.threshold)), scored_by=goal.unit)
    CACHE.store(ctx.cache_root, key, mix_to_json(mix), model=ctx.model_name or None)
    return mix, False


def mix_facts(mix: Mix, cache_hit: bool) -> dict:
    """What a mixed route's report facts say about its mix (the advice, the layer view and the export read them)."""
    return {"mix_cache": "hit" if cache_hit else "miss", "kept_fp32": list(mix.kept_fp32), "kept": len(mix.kept_fp32),
            "linear_layers": mix.total, "calibration_cosine": round(mix.cosine, 5), "search_steps": mix.steps,
            "kept_dtype": mix.kept_dtype, "tuned_on": mix.scored_by,
            **({"kept_dtype_note": mix.kept_dtype_note} if mix.kept_dtype_note else {})}


def timed_alternately(runs: dict[str, Callable[[], object]], passes: int) -> dict[str, float]:
    """Median seconds of each run, alternated pass by pass after one warm-up each, so drift hits them alike."""
    import statistics
    import time

    for run in runs.values():
        run()
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(passes):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


BF16_PASSES = 5


def prefer_bf16(mix: Mix, run_fp32: Callable[[], object], run_bf16: Callable[[], object], bf16_cosine: float,
                min_cosine: float) -> Mix:
    """On bf16 hardware: the mix with its kept layers in bf16 when that still meets the threshold and ran faster
    than keeping them fp32 (timed alternately on the scoring texts), else as it was; the note says which and why."""
    if bf16_cosine < min_cosine:
        return replace(mix, kept_dtype_note=f"bf16 for the kept layers gave cosine {bf16_cosine:.4f} < {min_cosine}: "
                                            "kept fp32")
    seconds = timed_alternately({"fp32": run_fp32, "bf16": run_bf16}, BF16_PASSES)
    ratio = seconds["fp32"] / seconds["bf16"]
    note = (f"the mix with its kept layers in bf16 ran {ratio:.2f}× the speed of keeping them fp32 (median of "
            f"{BF16_PASSES} alternated passes on the calibration texts; cosine {bf16_cosine:.4f})")
    if ratio <= 1.0:
        return replace(mix, kept_dtype_note=note + ": kept fp32")
    return replace(mix, kept_dtype="bf16", cosine=bf16_cosine, kept_dtype_note=note + ": kept bf16")


def scoring_texts(calibration: list[str]) -> list[str]:
    """The calibration texts a mix is scored on (as many as the layer evidence used)."""
    from tui.core.layers import SENSITIVITY_TEXTS

    return list(calibration[:SENSITIVITY_TEXTS])


def require_layer_order(ctx) -> None:
    """A mix is searched from the layer evidence's order, or rebuilt from a kept list (the export's)."""
    from tui.core.routes.base import RouteUnavailable

    if not ctx.layer_order and not ctx.keep_fp32:
        raise RouteUnavailable("no layer evidence to build the mix from (the rescue runs only when an int8 route "
                               "misses --min-cosine, and not with --no-rescue)")
