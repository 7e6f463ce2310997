"""The recommendation: the fastest route conclusively faster than fp32 that passes the accuracy gate, else fp32 with
the reason. One function, so the report, the frontier's budget bands and the dashboard's budget slider agree."""

from __future__ import annotations

from tui.core import accuracy_gate as gate
from tui.core.routes import BASELINE


def _against_best_fp32(route: dict, best_fp32: str | None) -> str:
    """"; 2.36× the best fp32 route, openvino-fp32", when the fastest fp32 is not the torch baseline."""
    vs = route.get("vs_best_fp32")
    if not vs or not best_fp32 or best_fp32 == BASELINE or route["id"] == best_fp32:
        return ""
    return f"; {vs['point']:.2f}× the fastest fp32 route, {best_fp32}"


def recommend_route(routes: list[dict], min_cosine: float, best_fp32: str | None = None, task: dict | None = None,
                    max_task_loss: float | None = None) -> dict:
    """The fastest route that is conclusively faster than fp32 and accurate enough (accuracy_gate: with a `task`,
    its kept share within `max_task_loss` %; else the mean cosine); else fp32, with the reason. The reason also
    compares it with the fastest fp32 route, the fair fp32 to beat."""
    doc = {"min_cosine": min_cosine, "task": task, "max_task_loss": max_task_loss}
    ok = [r for r in routes if r["status"] == "ok" and r["id"] != BASELINE and r["speedup"] and not r.get("peer")
          and not gate.cuts_nothing(r, {"routes": routes})]
    faster = [r for r in ok if r["speedup"]["verdict"] == "faster"]
    accurate = [r for r in faster if gate.accurate(r, doc)]
    if accurate:
        best = max(accurate, key=lambda r: r["speedup"]["point"])
        lo, hi = best["speedup"]["ci95"]
        return {"route": best["id"],
                "why": f"fastest route that is conclusively faster than fp32 ({best['speedup']['point']:.2f}×, "
                       f"95 % CI {lo:.2f}–{hi:.2f}{_against_best_fp32(best, best_fp32)}) {_meets(best, doc)}"}
    if faster:
        best = max(faster, key=lambda r: r["speedup"]["point"])
        return {"route": BASELINE,
                "why": f"every conclusively faster route loses accuracy: the fastest, {best['id']} "
                       f"({best['speedup']['point']:.2f}×), {_misses(best, doc)}"}
    if ok:
        return {"route": BASELINE, "why": "no route was conclusively faster than fp32 on this machine"}
    return {"route": BASELINE, "why": "no other route ran, so there is nothing to beat fp32"}


def _meets(route: dict, doc: dict) -> str:
    if gate.by_task(doc):
        return f"and {gate.kept_text(route, doc)}, within the budget (it {gate.gate_text(doc)})"
    return f"with mean cosine {route['accuracy']['cosine_mean']:.4f} ≥ {doc['min_cosine']}"


def _misses(route: dict, doc: dict) -> str:
    if gate.by_task(doc):
        return f"{gate.kept_text(route, doc)}; the budget {gate.gate_text(doc)}"
    cos = route["accuracy"]["cosine_mean"] if route["accuracy"] else float("nan")
    return f"has mean cosine {cos:.4f} < {doc['min_cosine']}"
