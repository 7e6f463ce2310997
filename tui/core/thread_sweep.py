"""Thread scaling (`--threads-sweep`): fp32 and the recommended int8 route timed at each thread count, paired and
alternated, then judged step by step: where does adding threads stop paying?

This is the pure half: which counts, which route, the statistics of each count, the verdict of each step, and
the words and rows every face shows (summary, Markdown, `qtui explain`, the dashboard). The coordinator
(`passes/threads.py`) drives the worker pairs. Nothing heavy at import: `stats` (numpy, scipy) loads inside
the functions that compute.

A step from n to m threads *pays* when it gains at least 10 % throughput and its CI excludes no gain; it is
*flat* when the gain is under 10 % and either its CI stays under 10 % or includes no gain at all (the two
counts' throughputs cannot be told apart); it *loses* when the CI is wholly below 1; otherwise it is
*unclear*, and no plateau is claimed across it.
"""

from __future__ import annotations

import math

PAYS = 1.10  # a step must gain at least this factor to be worth its threads
INT8_DTYPES = ("qint8", "int8")
VERDICTS = ("pays", "flat", "loses", "unclear")


# ------------------------------------------------------------------------------------------- planning


def default_counts(physical: int | None, logical: int | None) -> tuple[int, ...]:
    """1, 2, 4, … doubling up to the physical cores, which are always included (a 12-core CPU: 1 2 4 8 12).
    A single core has nothing to sweep against, so its SMT siblings are added when there are any."""
    top = physical or logical or 1
    counts, n = [], 1
    while n < top:
        counts.append(n)
        n *= 2
    counts.append(top)
    if len(counts) == 1 and logical and logical > top:
        counts.append(logical)
    return tuple(counts)


def pick_route(routes: dict, speedups: dict, min_cosine: float) -> tuple[str | None, str]:
    """The int8 route to sweep, chosen after the main rounds, and why: the recommended one (the fastest accurate
    int8 route conclusively faster than fp32), else the fastest accurate one, else the fastest one.
    `routes` maps ids to results.RouteResult, `speedups` ids to stats.Speedup against the baseline."""
    int8 = [rid for rid, r in routes.items() if r.spec.dtype in INT8_DTYPES and not r.spec.aside]
    measured = [rid for rid in int8 if routes[rid].status == "ok" and rid in speedups]
    if not measured:
        if not int8:
            return None, "no int8 route was in this run (add one with --routes)"
        reasons = "; ".join(f"{rid} {routes[rid].status}: {routes[rid].why or 'no rounds'}" for rid in int8)
        return None, f"no int8 route was measured ({reasons})"

    def accurate(rid: str) -> bool:
        acc = routes[rid].accuracy
        return acc is not None and acc.cosine_mean >= min_cosine

    fastest = lambda ids: max(ids, key=lambda rid: speedups[rid].point)  # noqa: E731
    recommended = [rid for rid in measured if accurate(rid) and speedups[rid].verdict == "faster"]
    if recommended:
        return fastest(recommended), "the recommended int8 route (fastest accurate, conclusively faster than fp32)"
    if any(accurate(rid) for rid in measured):
        return (fastest([rid for rid in measured if accurate(rid)]),
                "the fastest accurate int8 route (none was conclusively faster than fp32)")
    return fastest(measured), f"the fastest int8 route (none kept mean cosine ≥ {min_cosine})"


# ----------------------------------------------------------------------------------------- statistics


def _json(x: float | None, digits: int = 4) -> float | None:
    return None if x is None or math.isnan(x) else round(float(x), digits)


def point(threads: int, measured: dict, texts: int, baseline: str, route: str | None) -> dict:
    """One thread count's entry. `measured` maps route ids to {"status", "why", "threads_used", "seconds"}:
    seconds per round, round i of the baseline paired with round i of the route."""
    from tui.core import stats

    entries = []
    for rid, m in measured.items():
        entry = {"id": rid, "status": m["status"], "why": m.get("why"), "threads_used": m.get("threads_used"),
                 "throughput": None}
        if m["status"] == "ok" and m.get("seconds"):
            samples = [texts / s for s in m["seconds"]]
            median, lo, hi = stats.median_ci(samples)
            entry["throughput"] = {"median": _json(median, 2), "ci95": [_json(lo, 2), _json(hi, 2)],
                                   "samples": [round(s, 2) for s in samples]}
        entries.append(entry)
    speedup = None
    base, other = measured.get(baseline), measured.get(route) if route else None
    if base and other and base.get("seconds") and other.get("seconds") and other["status"] == "ok":
        n = min(len(base["seconds"]), len(other["seconds"]))
        speedup = stats.speedup(base["seconds"][:n], other["seconds"][:n]).to_json()
    return {"threads": threads, "routes": entries, "speedup": speedup}


def step_verdict(gain: float, lo: float | None, hi: float | None) -> str:
    """pays / flat / loses / unclear, as the module docstring defines them; a missing CI claims nothing."""
    lo = math.nan if lo is None else lo
    hi = math.nan if hi is None else hi
    if hi < 1:
        return "loses"
    if gain < PAYS and (hi < PAYS or lo <= 1):
        return "flat"
    if gain >= PAYS and lo > 1:
        return "pays"
    return "unclear"


def _samples(p: dict, rid: str) -> list[float] | None:
    entry = next((r for r in p["routes"] if r["id"] == rid), None)
    tp = entry.get("throughput") if entry else None
    return tp["samples"] if tp and tp.get("samples") else None


def steps(points: list[dict], ids: list[str]) -> list[dict]:
    """Each route's gain from one measured count to the next, with its CI, efficiency and verdict."""
    from tui.core import stats

    out = []
    for rid in ids:
        measured = [(p["threads"], s) for p in points if (s := _samples(p, rid))]
        for (n, before), (m, after) in zip(measured, measured[1:], strict=False):
            gain, lo, hi = stats.ratio_ci(before, after)
            out.append({"route": rid, "from": n, "to": m, "gain": _json(gain), "ci95": [_json(lo), _json(hi)],
                        "efficiency": _json(gain / (m / n), 3), "verdict": step_verdict(gain, lo, hi)})
    return out


def stops_paying_after(route_steps: list[dict]) -> int | None:
    """The count after which no step pays (every later step flat or losing), or None while the last step still
    pays or cannot be judged."""
    useful = [i for i, s in enumerate(route_steps) if s["verdict"] in ("pays", "unclear")]
    if not route_steps or (useful and useful[-1] == len(route_steps) - 1):
        return None
    return route_steps[useful[-1]]["to"] if useful else route_steps[0]["from"]


def scaling(points: list[dict], all_steps: list[dict], ids: list[str]) -> list[dict]:
    """Per route: the count with the most throughput, and where adding threads stops paying."""
    out = []
    for rid in ids:
        medians = {p["threads"]: s for p in points if (s := _median(p, rid)) is not None}
        if not medians:
            continue
        best = max(medians, key=medians.get)
        out.append({"route": rid, "best_threads": best, "best_median": medians[best],
                    "stops_paying_after": stops_paying_after([s for s in all_steps if s["route"] == rid])})
    return out


def _median(p: dict, rid: str) -> float | None:
    entry = next((r for r in p["routes"] if r["id"] == rid), None)
    return entry["throughput"]["median"] if entry and entry.get("throughput") else None


def document(*, baseline: str, route: str | None, route_why: str, counts: tuple[int, ...], rounds: int,
             points: list[dict], why: str | None = None) -> dict:
    """The report's `threads_sweep` field. `available` is false (with `why`) when no count measured fp32."""
    ids = [baseline] + ([route] if route else [])
    all_steps = steps(points, ids) if points else []
    measured_any = any(_median(p, baseline) is not None for p in points)
    if why is None and not measured_any:
        failures = [f"{r['id']} at {threads_text(p['threads'])}: {r['status']} — {r['why']}"
                    for p in points for r in p["routes"] if r["status"] != "ok"]
        why = "; ".join(failures) or "no thread count was measured"
    return {"baseline": baseline, "route": route, "route_why": route_why, "counts": list(counts), "rounds": rounds,
            "available": measured_any, "why": None if measured_any else why,
            "points": points, "steps": all_steps, "scaling": scaling(points, all_steps, ids) if points else []}


def unavailable(counts: tuple[int, ...], why: str, baseline: str) -> dict:
    """A sweep that could not start (the baseline failed, the run was cancelled first): it says why."""
    return document(baseline=baseline, route=None, route_why="", counts=counts, rounds=0, points=[], why=why)


# ------------------------------------------------------------------------------------------- words


def threads_text(n: int) -> str:
    return f"{n} thread" + ("" if n == 1 else "s")


def _pct(gain: float | None) -> str:
    return "—" if gain is None else f"{(gain - 1) * 100:+.0f} %"


def _ci_pct(ci) -> str:
    lo, hi = ci
    return "" if lo is None or hi is None else f" [{_pct(lo)} to {_pct(hi)}]"


def medians(sweep: dict, rid: str) -> dict[int, float]:
    """Thread count → median sent/s of one route, for the counts where it was measured."""
    return {p["threads"]: m for p in sweep.get("points", []) if (m := _median(p, rid)) is not None}


def conclusively_above(sweep: dict, rid: str, a: int, b: int) -> bool:
    """Whether the route's throughput at `a` threads beats that at `b`: the 95 % CI of the ratio of their medians
    (the statistic of the steps) lies wholly above 1."""
    from tui.core import stats

    def samples(n: int) -> list[float] | None:
        p = next((p for p in sweep.get("points", []) if p["threads"] == n), None)
        return _samples(p, rid) if p else None

    at_a, at_b = samples(a), samples(b)
    if a == b or not at_a or not at_b:
        return False
    _, lo, _ = stats.ratio_ci(at_b, at_a)
    return lo > 1  # NaN (too few samples) compares False: no claim


def speedup_trend(sweep: dict) -> str:
    """"2.69× at 1 thread, 1.98× at 2": how the int8 route's paired speedup changes with threads."""
    parts = [f"{p['speedup']['point']:.2f}× at {threads_text(p['threads'])}" for p in sweep.get("points", [])
             if p.get("speedup")]
    return ", ".join(parts) if len(parts) > 1 else ""


def route_ids(sweep: dict) -> list[str]:
    return [sweep["baseline"]] + ([sweep["route"]] if sweep.get("route") else [])


def conclusions(sweep: dict) -> list[str]:
    """One sentence per route: where adding threads stops paying (with the step that shows it), or that it
    still pays at the largest count measured; plus every count or route that could not be measured."""
    if not sweep.get("available"):
        return [f"not available: {sweep.get('why') or 'no thread count was measured'}"]
    lines = []
    for s in sweep.get("scaling", []):
        rid, after = s["route"], s["stops_paying_after"]
        route_steps = [x for x in sweep["steps"] if x["route"] == rid]
        if not route_steps:
            lines.append(f"{rid}: one thread count measured, nothing to compare")
        elif after is None:
            last = route_steps[-1]
            lines.append(f"{rid}: still gains at {last['to']} threads ({last['from']}→{last['to']}: "
                         f"{_pct(last['gain'])}{_ci_pct(last['ci95'])}, verdict {last['verdict']})")
        else:
            nxt = next(x for x in route_steps if x["from"] == after)
            lines.append(f"{rid}: adding threads stops paying after {after} ({after}→{nxt['to']}: "
                         f"{_pct(nxt['gain'])}{_ci_pct(nxt['ci95'])}, {nxt['efficiency']:.0%} efficient, "
                         f"{nxt['verdict']}); most throughput with {threads_text(s['best_threads'])}, "
                         f"{s['best_median']:.0f} sent/s")
    for rid in route_ids(sweep):
        if not any(s["route"] == rid for s in sweep.get("scaling", [])):
            lines.append(f"{rid}: not available: " + (_failures(sweep, rid) or "no thread count was measured"))
    if not sweep.get("route"):
        lines.append(f"int8: not available: {sweep.get('route_why') or 'no int8 route was measured'}")
    failures = [f"{r['id']} at {threads_text(p['threads'])}: not available: {r['status']} — {r['why']}"
                for p in sweep["points"] for r in p["routes"] if r["status"] != "ok"
                and any(s["route"] == r["id"] for s in sweep.get("scaling", []))]
    return lines + failures


def _failures(sweep: dict, rid: str) -> str:
    return "; ".join(f"{r['status']} at {threads_text(p['threads'])} — {r['why']}" for p in sweep["points"]
                     for r in p["routes"] if r["id"] == rid and r["status"] != "ok")


def _throughput_cell(p: dict, rid: str) -> str:
    entry = next((r for r in p["routes"] if r["id"] == rid), None)
    if entry is None:
        return "—"
    tp = entry.get("throughput")
    if not tp:
        return "n/a" if entry["status"] == "unavailable" else entry["status"]
    lo, hi = tp["ci95"]
    text = f"{tp['median']:.0f}" + (f" [{lo:.0f}–{hi:.0f}]" if lo is not None else "")
    used = entry.get("threads_used")
    return text + (f" (ran {used})" if used and used != p["threads"] else "")


def table(sweep: dict) -> tuple[list[str], list[list[str]]]:
    """Headers and rows: threads, each route's sent/s median [95 % CI], the int8 route's paired speedup."""
    ids = route_ids(sweep)
    headers = ["threads", *[f"{rid} sent/s" for rid in ids]] + (["speedup [95 % CI]"] if sweep.get("route") else [])
    rows = []
    for p in sweep["points"]:
        row = [str(p["threads"]), *[_throughput_cell(p, rid) for rid in ids]]
        if sweep.get("route"):
            s = p.get("speedup")
            lo, hi = s["ci95"] if s else (None, None)
            row.append("—" if not s else f"{s['point']:.2f}×" + (f" [{lo:.2f}–{hi:.2f}]" if lo is not None else ""))
        rows.append(row)
    return headers, rows


def title(sweep: dict) -> str:
    what = " vs ".join(route_ids(sweep))
    return f"Thread scaling: {what}, {sweep['rounds']} paired rounds per count (sent/s median [95 % CI])"
