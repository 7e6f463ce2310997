"""Single-query latency: quantiles of one-text calls with bootstrap CIs, paired against fp32 (`--pattern online`).

The calls come in rounds: in each round every route answers the same texts, one call each, the routes taking
turns (passes/latency.py). Calls inside one round share a stretch of time (a busy neighbour, a frequency step),
so they are not independent: the bootstrap resamples whole rounds, and a route and fp32 are resampled by the same
rounds, so the ratio's interval is paired as the speedups are. A tail quantile needs calls beyond it: p99 of
fewer than TAIL_CALLS calls rests on a handful of them and is reported as not resolved.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

QUANTILES = (("p50", 0.50), ("p95", 0.95), ("p99", 0.99))
TAIL_CALLS = 1000  # p99 then rests on the slowest 10 calls
CONFIDENCE = 0.95


def _rounds(times_ms: Sequence[Sequence[float]]) -> np.ndarray:
    """Rounds × calls, every round the same length (a round is cut to the shortest one)."""
    width = min((len(r) for r in times_ms), default=0)
    return np.asarray([list(r)[:width] for r in times_ms], dtype=float).reshape(len(times_ms), width)


def _resampled_rounds(n_rounds: int, n_resamples: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, n_rounds, size=(n_resamples, n_rounds))


def _quantile_of_resamples(rounds: np.ndarray, picks: np.ndarray, q: float) -> np.ndarray:
    return np.quantile(rounds[picks].reshape(picks.shape[0], -1), q, axis=1)


def _interval(values: np.ndarray) -> tuple[float, float]:
    tail = (1 - CONFIDENCE) / 2 * 100
    lo, hi = np.percentile(values, [tail, 100 - tail])
    return float(lo), float(hi)


def route_latency(times_ms: Sequence[Sequence[float]], *, n_resamples: int = 2000, seed: int = 0) -> dict:
    """One route's calls (rounds of per-call milliseconds): p50/p95/p99 with CIs, calls per second at batch 1,
    and whether the tail is resolved. One round has no spread between rounds: its CIs are NaN."""
    rounds = _rounds(times_ms)
    calls = rounds.size
    if calls == 0:
        raise ValueError("no calls to summarize")
    picks = _resampled_rounds(rounds.shape[0], n_resamples, seed) if rounds.shape[0] > 1 else None
    out: dict = {"calls": int(calls), "rounds": int(rounds.shape[0]), "tail_resolved": calls >= TAIL_CALLS}
    for name, q in QUANTILES:
        point = float(np.quantile(rounds, q))
        lo, hi = _interval(_quantile_of_resamples(rounds, picks, q)) if picks is not None else (math.nan, math.nan)
        out[name] = {"ms": point, "ci95": [lo, hi]}
    out["calls_per_s"] = float(1000.0 / rounds.mean())
    return out


def latency_ratio(base_ms: Sequence[Sequence[float]], route_ms: Sequence[Sequence[float]], q: float = 0.95, *,
                  n_resamples: int = 2000, seed: int = 0) -> dict:
    """quantile(route) / quantile(fp32) over the rounds both ran, the rounds resampled together (paired).
    Below 1 the route answers faster; a CI entirely below 1 is a conclusive win."""
    n = min(len(base_ms), len(route_ms))
    base, route = _rounds(base_ms[:n]), _rounds(route_ms[:n])
    width = min(base.shape[1], route.shape[1])
    base, route = base[:, :width], route[:, :width]
    if base.size == 0:
        raise ValueError("no paired calls")
    point = float(np.quantile(route, q) / np.quantile(base, q))
    if n < 2:
        return {"q": q, "point": point, "ci95": [math.nan, math.nan], "verdict": "inconclusive"}
    picks = _resampled_rounds(n, n_resamples, seed)
    ratios = _quantile_of_resamples(route, picks, q) / _quantile_of_resamples(base, picks, q)
    lo, hi = _interval(ratios)
    verdict = "faster" if hi < 1 else "slower" if lo > 1 else "inconclusive"
    return {"q": q, "point": point, "ci95": [lo, hi], "verdict": verdict}


def pick_online(latencies: dict[str, dict], accurate: Sequence[str]) -> tuple[str | None, str]:
    """The route to serve single queries with: the lowest p95 among the accurate routes that were measured."""
    measured = [rid for rid in accurate if rid in latencies]
    if not measured:
        return None, "no accurate route answered single-text calls"
    best = min(measured, key=lambda rid: latencies[rid]["p95"]["ms"])
    return best, f"lowest p95 ({latencies[best]['p95']['ms']:.1f} ms) of the accurate routes"


def progress_text(calls: int, target: int, rounds: int) -> str:
    """"single-text calls: 350 of 1,000 per route (7 rounds)": the status and progress line of the pass."""
    return f"single-text calls: {calls:,} of {target:,} per route ({rounds} rounds)"


def _rounded(d: dict) -> dict:
    """JSON-friendly: milliseconds to 3 decimals, ratios to 4, NaN as None."""
    def r(x, digits):
        return None if x is None or (isinstance(x, float) and math.isnan(x)) else round(x, digits)

    out = dict(d)
    for name, _ in QUANTILES:
        out[name] = {"ms": r(d[name]["ms"], 3), "ci95": [r(x, 3) for x in d[name]["ci95"]]}
    out["calls_per_s"] = r(d["calls_per_s"], 1)
    return out


def _ratio_rounded(d: dict) -> dict:
    return {**d, "point": round(d["point"], 4),
            "ci95": [None if math.isnan(x) else round(x, 4) for x in d["ci95"]]}


def attach(doc: dict, raw: dict | None, baseline: str) -> None:
    """Fill each route's `latency` and the report's `latency` from the pass's call times (passes/latency.py):
    quantiles with CIs, the paired p95 ratio to fp32, and the route to serve single queries with — the lowest p95
    among the accurate routes whose p95 is conclusively below fp32's, else fp32."""
    from tui.core import accuracy_gate as gate

    for route in doc["routes"]:
        route["latency"] = None
    if not raw:
        doc["latency"] = None
        return
    times = raw["times_ms"]
    for route in doc["routes"]:
        mine = times.get(route["id"])
        if not mine:
            continue
        summary = _rounded(route_latency(mine))
        if route["id"] != baseline and times.get(baseline):
            summary["vs_fp32"] = _ratio_rounded(latency_ratio(times[baseline], mine))
        route["latency"] = summary
    measured = {r["id"]: r["latency"] for r in doc["routes"] if r.get("latency")}
    winners = [r["id"] for r in doc["routes"] if r.get("latency") and r["id"] != baseline and gate.accurate(r, doc)
               and r["latency"].get("vs_fp32", {}).get("verdict") == "faster"]
    if winners:
        route, why = pick_online(measured, winners)
        why += f", conclusively below fp32's {measured[baseline]['p95']['ms']:.1f} ms" if baseline in measured else ""
    elif baseline in measured:
        route = baseline
        faster = [r["id"] for r in doc["routes"] if r.get("latency") and r["id"] != baseline
                  and r["latency"].get("vs_fp32", {}).get("verdict") == "faster"]
        verbs = ("answers", "misses") if len(faster) == 1 else ("answer", "miss")
        why = (f"{', '.join(faster)} {verbs[0]} faster but {verbs[1]} the accuracy gate ({gate.gate_text(doc)})"
               if faster else "no route's p95 was conclusively below fp32's")
    else:
        route, why = None, "fp32 answered no single-text calls"
    doc["latency"] = {"target_calls": raw["target_calls"], "calls_per_round": raw["calls_per_round"],
                      "budget_s": raw["budget_s"], "stopped": raw["stopped"], "pass_s": raw.get("pass_s"),
                      "recommendation": {"route": route, "why": why}}


def finding_clause(doc: dict) -> str:
    """What the finding adds for --pattern online: " Online (one text per call): ort-qint8, p95 3.1 ms vs fp32
    7.9 ms." — the bulk answer and the online one can differ, and the user asked for both."""
    lat = doc.get("latency")
    rec = (lat or {}).get("recommendation") or {}
    by_id = {r["id"]: r.get("latency") for r in doc.get("routes", [])}
    base = by_id.get(doc.get("baseline", "torch-fp32"))
    if not rec.get("route") or not base:
        return ""
    if rec["route"] == doc.get("baseline", "torch-fp32"):
        return f" Online (one text per call): fp32 — {rec['why']}."
    mine = by_id[rec["route"]]
    return (f" Online (one text per call): {rec['route']}, p95 {mine['p95']['ms']:.1f} ms vs fp32 "
            f"{base['p95']['ms']:.1f} ms.")


def _ms(q: dict) -> str:
    lo, hi = q["ci95"]
    return f"{q['ms']:.2f}" + (f" [{lo:.2f}–{hi:.2f}]" if lo is not None and hi is not None else "")


def title(doc: dict) -> str:
    lat = doc["latency"]
    return (f"Online: single-text calls at batch 1, {lat['calls_per_round']} per route per round, the routes taking "
            f"turns (goal: {lat['target_calls']:,} calls per route)")


NARROW = ("route", "p95 ms [95% CI]", "p95 vs fp32")  # what fits 80 columns beside the boxes' own p50/p95/p99


def table(doc: dict, narrow: bool = False) -> tuple[list[str], list[list[str]]]:
    headers = ["route", "calls", "p50 ms", "p95 ms [95% CI]", "p99 ms", "calls/s", "p95 vs fp32"]
    rows = []
    for r in doc["routes"]:
        lat = r.get("latency")
        if not lat:
            continue
        ratio = lat.get("vs_fp32")
        vs = "ref" if ratio is None else (f"{ratio['point']:.2f}× " + (
            f"[{ratio['ci95'][0]:.2f}–{ratio['ci95'][1]:.2f}] " if ratio["ci95"][0] is not None else "") +
            ratio["verdict"])
        p99 = f"{lat['p99']['ms']:.2f}" + ("" if lat["tail_resolved"] else " (unresolved)")
        rows.append([r["id"], f"{lat['calls']:,}", f"{lat['p50']['ms']:.2f}", _ms(lat["p95"]), p99,
                     f"{lat['calls_per_s']:.0f}", vs])
    if narrow:
        keep = [headers.index(h) for h in NARROW]
        return list(NARROW), [[row[i] for i in keep] for row in rows]
    return headers, rows


def conclusions(doc: dict) -> list[str]:
    lat = doc["latency"]
    lines = []
    short = [r["id"] for r in doc["routes"] if r.get("latency") and not r["latency"]["tail_resolved"]]
    if short:
        lines.append(f"The p99 of {', '.join(short)} rests on fewer than {TAIL_CALLS:,} calls: not resolved "
                     f"({'the time budget ran out' if lat['stopped'] == 'budget' else 'too few calls asked for'}; "
                     f"raise --latency-calls or the budget).")
    rec = lat["recommendation"]
    if rec["route"]:
        lines.append(f"For online: {rec['route']} — {rec['why']}.")
    else:
        lines.append(f"For online: no answer — {rec['why']}.")
    return lines
