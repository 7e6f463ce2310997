"""A task's score from a route's vectors, and the share of fp32's score a route keeps, with paired CIs.

The metrics are the ones sentence-transformers' evaluators report, computed the same way so the figures can be
held against theirs: pairs → Spearman (and Pearson) of the cosine similarity against the gold scores
(`EmbeddingSimilarityEvaluator`); retrieval → nDCG@10, Recall@10 and MRR@10 ranking the corpus by cosine, ties
broken by corpus id (`InformationRetrievalEvaluator`, binary relevance).

A worker computes the *items* (numpy only): one cosine per pair, or one (nDCG, Recall, MRR) row per query. The
coordinator pairs a route's items with fp32's on the same pairs or queries: the paired bootstrap resamples those
pairs or queries and recomputes both scores on each resample, so the CI of the kept share carries the
correlation between the two (they mostly err on the same pairs).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tui.core.cache import cache_key
from tui.core.json_cache import JsonCache
from tui.core.tasks import TOP_K, Pairs, Task

RESAMPLES = 2000
CACHE = JsonCache("task-items", "qtui.task-items/1", "items")


def items_cache_key(route_id: str, plan, task: Task, facts: dict, versions: dict) -> str:
    """A route's items depend on its artefact: the route, the model, the calibration texts (static int8), the mix's
    kept layers, the runtime `versions` and any simulated ISA, and on the task itself."""
    from tui.core.workload import fingerprint

    versions = ",".join(f"{k}={v}" for k, v in sorted(versions.items()))
    kept = ",".join(facts.get("kept_fp32") or ()) + f";{facts.get('kept_dtype', '')}"
    return cache_key("qtui.task-items/1", route_id, plan.model.fingerprint, fingerprint(plan.workload.calibration),
                     kept, versions, repr(plan.worker_env), task.fingerprint)


def task_texts(task: Task) -> list[str]:
    """The task's distinct texts in the order they are encoded: by length, so batches pad less whatever the
    runner does."""
    return sorted(task.texts(), key=len)


def item_scores(encode, task: Task) -> list:
    """The task's items from `encode(texts) -> vectors` (the route's runner, in its worker)."""
    texts = task_texts(task)
    return items_from_vectors(task, texts, encode(texts))


def items_from_vectors(task: Task, texts, vectors) -> list:
    """One cosine per pair, or one (nDCG, Recall, MRR)@10 row per query, from the vectors of `texts`."""
    index = {t: i for i, t in enumerate(texts)}
    vectors = _unit(np.asarray(vectors, dtype=np.float64))
    data = task.data
    if isinstance(data, Pairs):
        a = vectors[[index[t] for t in data.first]]
        b = vectors[[index[t] for t in data.second]]
        return np.einsum("ij,ij->i", a, b).round(7).tolist()
    queries = vectors[[index[t] for _, t in data.queries]]
    docs = vectors[[index[t] for _, t in data.corpus]]
    doc_ids = [d for d, _ in data.corpus]
    tie_order = np.argsort(np.argsort(np.array(doc_ids, dtype=object)))  # rank of each id in ascending order
    rows = []
    for (qid, _), similarities in zip(data.queries, queries @ docs.T, strict=True):
        top = np.lexsort((tie_order, -similarities))[:TOP_K]  # by score, then ascending corpus id
        rows.append(list(_retrieval_metrics([doc_ids[i] in data.relevant[qid] for i in top],
                                            len(data.relevant[qid]))))
    return rows


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


def _retrieval_metrics(hits: list[bool], relevant: int) -> tuple[float, float, float]:
    """nDCG@k, Recall@k and MRR@k of one query's top k (binary relevance, as the IR evaluator)."""
    gains = 1 / np.log2(np.arange(2, TOP_K + 2))
    dcg = float(sum(g for g, hit in zip(gains, hits, strict=False) if hit))
    ideal = float(gains[: min(relevant, TOP_K)].sum())
    first = next((rank for rank, hit in enumerate(hits) if hit), None)
    return dcg / ideal, sum(hits) / relevant, 0.0 if first is None else 1 / (first + 1)


# --------------------------------------------------------------------------------------------- scores


def _ranks(x: np.ndarray) -> np.ndarray:
    from scipy.stats import rankdata

    return rankdata(x, axis=-1)


def _rowwise_pearson(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    y = y - y.mean(axis=-1, keepdims=True)
    return (x * y).sum(axis=-1) / np.sqrt((x * x).sum(axis=-1) * (y * y).sum(axis=-1))


def metrics(task: Task, items) -> dict[str, float]:
    """Every metric of the task from one route's items; the primary one is `metrics[task.metric]`."""
    values = np.asarray(items, dtype=np.float64)
    if task.kind == "pairs":
        gold = np.asarray(task.data.gold, dtype=np.float64)
        return {"spearman": float(_rowwise_pearson(_ranks(gold), _ranks(values))),
                "pearson": float(_rowwise_pearson(gold, values))}
    ndcg, recall, mrr = values.mean(axis=0)
    return {f"ndcg@{TOP_K}": float(ndcg), f"recall@{TOP_K}": float(recall), f"mrr@{TOP_K}": float(mrr)}


class _Resampler:
    """The primary metric on the same bootstrap resamples for every route of a run (seeded): pairs or queries
    drawn with replacement, the metric recomputed on each draw."""

    def __init__(self, task: Task, resamples: int = RESAMPLES, seed: int = 0) -> None:
        self.task = task
        self.draws = np.random.default_rng(seed).integers(0, task.n, size=(resamples, task.n))
        if task.kind == "pairs":
            self.gold_ranks = _ranks(np.asarray(task.data.gold, dtype=np.float64)[self.draws])

    def primary(self, items) -> np.ndarray:
        values = np.asarray(items, dtype=np.float64)
        if self.task.kind == "pairs":
            return _rowwise_pearson(self.gold_ranks, _ranks(values[self.draws]))
        return values[:, 0][self.draws].mean(axis=1)


@dataclass(frozen=True)
class RouteTaskScore:
    score: float  # the primary metric
    ci95: tuple[float, float]
    metrics: dict[str, float]
    kept: float | None  # score / fp32's score on the same items; None for fp32 itself
    kept_ci95: tuple[float, float] | None

    def to_json(self) -> dict:
        r = lambda x: round(float(x), 5)  # noqa: E731
        return {"score": r(self.score), "ci95": [r(x) for x in self.ci95],
                "metrics": {k: r(v) for k, v in self.metrics.items()},
                "kept": None if self.kept is None else {"point": r(self.kept), "ci95": [r(x) for x in self.kept_ci95]}}


def score_routes(task: Task, items: dict[str, list], baseline: str, seed: int = 0) -> dict[str, RouteTaskScore]:
    """Each route's score with its bootstrap CI, and the share of `baseline`'s score it keeps (paired CI)."""
    resampler = _Resampler(task, seed=seed)
    base = resampler.primary(items[baseline]) if baseline in items else None
    base_score = metrics(task, items[baseline])[task.metric] if baseline in items else None
    out = {}
    for rid, route_items in items.items():
        found = metrics(task, route_items)
        draws = resampler.primary(route_items)
        kept = kept_ci = None
        if rid != baseline and base is not None and base_score:
            kept = found[task.metric] / base_score
            ratios = draws / base
            kept_ci = tuple(np.nanpercentile(ratios, [2.5, 97.5]))
        out[rid] = RouteTaskScore(found[task.metric], tuple(np.nanpercentile(draws, [2.5, 97.5])), found, kept,
                                  kept_ci)
    return out


def kept_lower_bound(task: Task, reference_items, seed: int = 0):
    """`items -> the lower end of the paired 95 % CI of the share of the reference's score they keep`: the rule the
    recommendation applies, for a rescue's search (the resamples and the reference's draws are made once)."""
    resampler = _Resampler(task, seed=seed)
    base = resampler.primary(reference_items)

    def lower(items) -> float:
        return float(np.nanpercentile(resampler.primary(items) / base, 2.5))

    return lower


def kept_share(task: Task, reference_items, items) -> float:
    """The share of the reference's primary score `items` keep (no CI): what a rescue's search compares."""
    reference = metrics(task, reference_items)[task.metric]
    return metrics(task, items)[task.metric] / reference if reference else float("nan")
