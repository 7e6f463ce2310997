"""Spread of repeated `qtui bench` runs: do independent runs agree within their own CIs? Written as JSON.

Runs the same benchmark N times from cold processes and reports, per route, the speedup point of each run,
the relative spread (max/min − 1), and whether every run's point lies inside every other run's CI.
Usage: python benchmarks/repeat_spread.py [--routes torch-fp32,torch-qint8-qnnpack,torch-qint8-x86] [--repeats 3]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402


def one_run(routes: str, budget: float) -> dict:
    return run_bench("--routes", routes, "--time-budget", str(budget))[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", default="torch-fp32,torch-qint8-qnnpack,torch-qint8-x86")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--time-budget", type=float, default=30.0)
    parser.add_argument("--out", default=str(RESULTS / "repeat_spread.json"))
    args = parser.parse_args()
    docs = [one_run(args.routes, args.time_budget) for _ in range(args.repeats)]
    per_route = {}
    for route in docs[0]["routes"]:
        rid = route["id"]
        speedups = [next(r for r in d["routes"] if r["id"] == rid).get("speedup") for d in docs]
        if not all(speedups):
            continue
        points = [s["point"] for s in speedups]
        overlap = all(lo <= p <= hi for s in speedups for lo, hi in [s["ci95"]] for p in points)
        per_route[rid] = {"points": points, "ci95": [s["ci95"] for s in speedups],
                          "verdicts": [s["verdict"] for s in speedups],
                          "spread": round(max(points) / min(points) - 1, 4), "points_inside_every_ci": overlap}
    out = write_result(args.out, {"benchmark": "repeat_spread", "repeats": args.repeats, "routes": per_route})
    for rid, r in per_route.items():
        print(f"{rid:<32} points {', '.join(f'{p:.2f}' for p in r['points'])}  spread {r['spread']:.1%}  "
              f"verdicts {set(r['verdicts'])}")
    print(f"→ {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
