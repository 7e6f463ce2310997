"""Which routes are accurate enough to recommend, and the words for it, from a report document.

Without a task the gate is the mean cosine to fp32 (`min_cosine`). With one it is the task: a route passes when,
with 95 % confidence, it keeps at least 100 − `max_task_loss` % of fp32's task score (the lower bound of the kept
share's paired CI). The recommendation, the finding and the advice all ask this module, so they speak the same
unit. Reads plain dicts only: saved reports from other machines and older reports (no task) work the same.
"""

from __future__ import annotations

DEFAULT_MAX_TASK_LOSS = 1.0  # percent of fp32's task score, when a task is given


def task_label(task: dict | None) -> str:
    """"STS-B Spearman", "nDCG@10 on scifact": what the kept share is a share of."""
    if not task:
        return ""
    metric = {"spearman": "Spearman", "ndcg@10": "nDCG@10"}.get(task.get("metric", ""), task.get("metric", ""))
    return f"STS-B {metric}" if task.get("name") == "stsb" else f"{metric} on {task.get('name')}"


def by_task(doc: dict) -> bool:
    return bool(doc.get("task"))


def max_task_loss(doc: dict) -> float:
    value = doc.get("max_task_loss")
    return DEFAULT_MAX_TASK_LOSS if value is None else float(value)


def kept(route: dict) -> dict | None:
    """The route's kept share {point, ci95} (fractions of fp32's score), or None when not measured."""
    task = route.get("task")
    return (task or {}).get("kept")


def changes_model(route: dict) -> bool:
    """A length-capped or static route: beyond int8, it trades accuracy by design (the frontier's extra points)."""
    return bool(route.get("own_space") or route.get("max_seq_length"))


def aside(route: dict) -> bool:
    """Beyond int8, or a peer (fastembed, sentence-transformers' recipes): never the int8 route a finding rests on,
    never qtui's recommendation; a peer is what qtui's pick is compared with."""
    return changes_model(route) or bool(route.get("peer"))


def cuts_nothing(route: dict, doc: dict) -> bool:
    """A length cap that cut none of the measured texts runs exactly as its route on them: any speed difference
    between the two is noise, so it is never picked over its route nor drawn as a point of its own."""
    base = next((r for r in doc.get("routes", []) if route.get("max_seq_length") and r.get("status") == "ok"
                 and r["id"] == route["id"].partition("@len")[0]), None)
    return base is not None and (route.get("facts") or {}).get("texts_cut") == 0


OTHER_SPACE = "n/a (other vector space)"  # a static route's cosine to fp32: its vectors are not fp32's


def passes_task(route: dict, doc: dict) -> bool:
    share = kept(route)
    return bool(share) and share["ci95"][0] is not None and share["ci95"][0] >= 1 - max_task_loss(doc) / 100


def passes_cosine(route: dict, doc: dict) -> bool:
    acc = route.get("accuracy")
    return bool(acc) and acc.get("cosine_mean") is not None and acc["cosine_mean"] >= doc.get("min_cosine", 0.99)


def accurate(route: dict, doc: dict) -> bool:
    """The gate a recommendation uses: the task when the report has one, else the cosine."""
    return passes_task(route, doc) if by_task(doc) else passes_cosine(route, doc)


def gate_text(doc: dict) -> str:
    """"keeps ≥ 99 % of fp32's STS-B Spearman with 95 % confidence", or "mean cosine ≥ 0.99"."""
    if by_task(doc):
        return f"keeps ≥ {100 - max_task_loss(doc):g} % of fp32's {task_label(doc['task'])} with 95 % confidence"
    return f"mean cosine ≥ {doc.get('min_cosine', 0.99)}"


def percent(x: float) -> str:
    return f"{100 * x:.1f}"


def kept_text(route: dict, doc: dict) -> str:
    """"keeps 99.6 % of fp32's STS-B Spearman, 95 % CI 99.3–99.9" (or why it was not measured)."""
    share = kept(route)
    if not share:
        return f"{task_label(doc.get('task'))} not measured ({route.get('task_why') or 'no task score'})"
    lo, hi = share["ci95"]
    return (f"keeps {percent(share['point'])} % of fp32's {task_label(doc.get('task'))}, 95 % CI "
            f"{percent(lo)}–{percent(hi)}")


def accuracy_text(route: dict, doc: dict) -> str:
    """The accuracy in the unit the gate uses: the kept task share, else the mean cosine."""
    if by_task(doc):
        return kept_text(route, doc)
    acc = route.get("accuracy")
    if route.get("own_space"):
        return f"cosine {OTHER_SPACE}, unjudged without a task"
    return f"cosine {acc['cosine_mean']:.4f}" if acc else "cosine not measured"
