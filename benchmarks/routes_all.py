"""`qtui bench --routes all` from a cold and from a warm artefact cache: wall time of each, every route's
preparation time (export, quantization, calibration, compilation: never part of throughput) and speed-ups
over torch fp32 and over the fastest fp32 route. Goal (issue "Faster routes"): ≤ 5 minutes warm on 2 cores.
The cold run uses an empty cache of its own (QTUI_CACHE_DIR in a temporary directory); the warm run reuses it.
Writes JSON (default benchmarks/results/routes_all.json).
Usage: python benchmarks/routes_all.py [--time-budget 60] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

GOAL_WARM_S = 300.0


def summary(doc: dict, wall: float) -> dict:
    routes = {}
    for r in doc["routes"]:
        routes[r["id"]] = {
            "status": r["status"], "why": r.get("why"), "prepare_s": r.get("prepare_s"),
            "speedup": (r.get("speedup") or {}).get("point"),
            "vs_best_fp32": (r.get("vs_best_fp32") or {}).get("point"),
            "cosine": (r.get("accuracy") or {}).get("cosine_mean"),
        }
    return {"wall_s": round(wall, 1), "rounds": doc["rounds"], "stop_reason": doc.get("stop_reason"),
            "best_fp32": doc.get("best_fp32"), "recommendation": doc["recommendation"], "routes": routes}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time-budget", type=float, default=60.0, help="seconds of measured rounds per run")
    parser.add_argument("--out", default=str(RESULTS / "routes_all.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {"QTUI_CACHE_DIR": cache}
        runs = {label: summary(*run_bench("--routes", "all", "--time-budget", str(args.time_budget), env=env))
                for label in ("cold", "warm")}
    doc = {"benchmark": "routes_all", "time_budget_s": args.time_budget, "goal_warm_s": GOAL_WARM_S, **runs,
           "meets_goal": runs["warm"]["wall_s"] <= GOAL_WARM_S}
    out = write_result(args.out, doc)
    print(f"{'route':<30} {'prep cold':>9} {'prep warm':>9} {'speedup':>8} {'vs best fp32':>12} {'cosine':>7}")
    for rid, warm in runs["warm"]["routes"].items():
        cold = runs["cold"]["routes"][rid]
        if warm["status"] != "ok":
            print(f"{rid:<30} {warm['status']}: {warm['why']}")
            continue
        speedup = f"{warm['speedup']:.2f}×" if warm["speedup"] else "base"
        vs = f"{warm['vs_best_fp32']:.2f}×" if warm["vs_best_fp32"] else "—"
        cos = f"{warm['cosine']:.4f}" if warm["cosine"] else "ref"
        print(f"{rid:<30} {cold['prepare_s'] or 0:8.1f}s {warm['prepare_s'] or 0:8.1f}s {speedup:>8} {vs:>12} {cos:>7}")
    print(f"wall: cold {runs['cold']['wall_s']:.0f} s, warm {runs['warm']['wall_s']:.0f} s (goal warm ≤ "
          f"{GOAL_WARM_S:.0f} s: {'met' if doc['meets_goal'] else 'MISSED'}); fastest fp32: "
          f"{(runs['warm']['best_fp32'] or {}).get('route')}; recommended: {runs['warm']['recommendation']['route']}")
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
