"""The speed–accuracy frontier of one run: every route as a point (speed-up over torch fp32, kept share of fp32's
task score), the Pareto-optimal ones, and which route the recommendation picks at each accuracy budget.

The picks come from the recommendation's own code (`report.recommend_route` at another `max_task_loss`), so the
frontier, the dashboard's budget slider and the report cannot disagree. Pareto optimality is judged on the point
estimates (each point carries its CIs); the budget bands use the kept share's CI lower bound, like the
recommendation. Reads plain report dicts: a saved report from another machine works the same.
"""

from __future__ import annotations

import math

from tui.core import accuracy_gate as gate
from tui.core.recommendation import recommend_route

INT8_DTYPES = ("qint8", "int8")
BUDGETS = (0.5, 1.0, 2.0, 5.0, 10.0, 25.0, 50.0)  # % of fp32's task score: the dashboard's steps besides the bands


def needs_budget(route: dict) -> float | None:
    """The smallest --max-task-loss (%) under which the route passes the task gate: 100 × (1 − the kept share's
    95 % CI lower bound), rounded up to 0.1; 0 when it keeps all of fp32's score; None when not measured."""
    share = gate.kept(route)
    if not share or share["ci95"][0] is None:
        return None
    return max(0.0, math.ceil(round(1000 * (1 - share["ci95"][0]), 6)) / 10)


def points(doc: dict) -> list[dict]:
    """Each measured route with a task score: fp32 at (1, 1), every other with a paired speed-up."""
    out = []
    for r in doc.get("routes", []):
        share = gate.kept(r)
        if r.get("status") != "ok" or gate.cuts_nothing(r, doc) or r.get("peer"):  # qtui's options only
            continue
        if r["id"] == doc.get("baseline", "torch-fp32") and (r.get("task") or {}).get("score") is not None:
            out.append({"route": r["id"], "speedup": 1.0, "ci95": [1.0, 1.0], "kept": 1.0, "kept_ci95": [1.0, 1.0],
                        "needs_budget": 0.0})
        elif share and r.get("speedup"):
            out.append({"route": r["id"], "speedup": r["speedup"]["point"], "ci95": r["speedup"]["ci95"],
                        "kept": share["point"], "kept_ci95": share["ci95"], "needs_budget": needs_budget(r)})
    return out


def pareto(pts: list[dict]) -> list[str]:
    """The routes no other point beats on both axes (at least as fast and as accurate, better on one), ordered from
    the most accurate to the fastest."""
    def dominated(p: dict) -> bool:
        return any(q["speedup"] >= p["speedup"] and q["kept"] >= p["kept"]
                   and (q["speedup"] > p["speedup"] or q["kept"] > p["kept"]) for q in pts if q is not p)

    return [p["route"] for p in sorted((p for p in pts if not dominated(p)), key=lambda p: (p["speedup"], -p["kept"]))]


def pick_at(doc: dict, budget: float) -> dict:
    """The recommendation this report gives at --max-task-loss `budget` (the recommendation's own code)."""
    return recommend_route(doc.get("routes", []), doc.get("min_cosine", 0.99),
                           (doc.get("best_fp32") or {}).get("route"), doc.get("task"), budget)


def bands(doc: dict) -> list[dict]:
    """Each budget band's pick: [{"from", "to", "route"}] in % of fp32's task score, `to` None for the last band.
    The pick changes only where a route starts to pass the gate, so those budgets are the bands' edges."""
    edges = sorted({0.0} | {b for p in points(doc) if (b := p["needs_budget"]) is not None and b <= 100})
    out: list[dict] = []
    for edge in edges:
        route = pick_at(doc, edge)["route"]
        if out and out[-1]["route"] == route:
            continue
        if out:
            out[-1]["to"] = edge
        out.append({"from": edge, "to": None, "route": route})
    return out


def budget_steps(doc: dict) -> list[float]:
    """Budgets for the dashboard to step through: the usual ones, every band's edge, and the run's own."""
    edges = {b["from"] for b in (doc.get("frontier") or {}).get("bands", [])}
    return sorted({*BUDGETS, *edges, gate.max_task_loss(doc)})


def int8_pick(doc: dict) -> dict | None:
    """The route the int8 question is answered with: the fastest int8 route (not length-capped, not static) that is
    conclusively faster than fp32 and passes the gate; None when there is none."""
    int8 = [r for r in doc.get("routes", []) if r.get("status") == "ok" and r.get("dtype") in INT8_DTYPES
            and not gate.aside(r) and r.get("speedup") and r["speedup"]["verdict"] == "faster"
            and gate.accurate(r, doc)]
    return max(int8, key=lambda r: r["speedup"]["point"]) if int8 else None


def _left_out(route: dict, doc: dict) -> str:
    if gate.cuts_nothing(route, doc):
        return (f"its cap cut none of the measured texts, so it ran as {route['id'].partition('@len')[0]} on them"
                "; the difference is noise")
    return route.get("task_why") or "no task score"


def document(doc: dict, vs_int8: dict | None = None) -> dict:
    """The report's `frontier` field. `vs_int8`: {route id: speedup JSON} of the beyond-int8 routes over the int8
    pick, paired over the rounds both ran (bench computes it; a saved report keeps it)."""
    if not gate.by_task(doc):
        return {"available": False, "why": "the frontier's accuracy axis is a task score: add --task stsb (or "
                                           "your own pairs or retrieval set)", "points": [], "routes": [], "bands": []}
    pts = points(doc)
    on = set(pareto(pts))
    for p in pts:
        p["on_frontier"] = p["route"] in on
    unjudged = [{"route": r["id"], "why": _left_out(r, doc)} for r in doc.get("routes", [])
                if r.get("status") == "ok" and r["id"] not in {p["route"] for p in pts}]
    pick = int8_pick(doc)
    return {"available": True, "why": None, "axis": {"x": "speed-up over torch-fp32",
                                                     "y": f"kept share of fp32's {gate.task_label(doc['task'])}"},
            "points": pts, "routes": pareto(pts), "bands": bands(doc), "budget": gate.max_task_loss(doc),
            "pick": (doc.get("recommendation") or {}).get("route"), "int8_pick": pick["id"] if pick else None,
            "vs_int8": vs_int8 or {}, "unjudged": unjudged}


def band_text(band: dict) -> str:
    """"1–19.5 %", "≥ 19.5 %": a band's budgets."""
    lo = f"{band['from']:g}"
    return f"{lo}–{band['to']:g} %" if band["to"] is not None else f"≥ {lo} %"


def table(doc: dict) -> tuple[list[str], list[list[str]]] | None:
    """The frontier as rows (summary, Markdown): its routes in order, each with speed-up, kept share and the
    budget from which the recommendation picks it."""
    front = doc.get("frontier") or {}
    if not front.get("available"):
        return None
    by_id = {p["route"]: p for p in front["points"]}
    picked = {b["route"]: band_text(b) for b in front["bands"]}
    rows = []
    for rid in front["routes"]:
        p = by_id[rid]
        lo, hi = p["ci95"]
        klo, khi = p["kept_ci95"]
        rows.append([rid, f"{p['speedup']:.2f}× [{lo:.2f}–{hi:.2f}]",
                     f"{gate.percent(p['kept'])} % [{gate.percent(klo)}–{gate.percent(khi)}]",
                     picked.get(rid, "never picked (not conclusively faster)" if rid != doc.get("baseline")
                                else "—")])
    return ["on the frontier", "speed-up [95 % CI]", "kept [95 % CI]", "picked for a budget of"], rows


def lines(doc: dict) -> list[str]:
    """The frontier's conclusions in words: what each budget buys."""
    front = doc.get("frontier") or {}
    if not front.get("available"):
        return [f"Frontier: not drawn — {front['why']}."] if front.get("why") else []
    out = [f"Budget {band_text(b)} of fp32's score lost → {b['route']}" for b in front["bands"]]
    for u in front.get("unjudged", []):
        out.append(f"{u['route']}: not on the frontier ({u['why']})")
    return out
