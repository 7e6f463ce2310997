"""Time to a conclusive fp32-vs-int8 verdict, quantization included (goal ≤ 30 s), written as JSON.

Runs `qtui bench --routes torch-fp32,<route>` as a user would, from a cold process, and reads the report:
wall time (process start to report), the round at which the verdict became conclusive, and the verdict.
Usage: python benchmarks/verdict_time.py [--route torch-qint8-x86] [--repeats 3] [--out PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

GOAL_S = 30.0


def one_run(route: str, budget: float) -> dict:
    doc, wall = run_bench("--routes", f"torch-fp32,{route}", "--time-budget", str(budget))
    r = next(x for x in doc["routes"] if x["id"] == route)
    return {"wall_s": round(wall, 2), "rounds": doc["rounds"], "verdict": r["speedup"]["verdict"],
            "speedup": r["speedup"]["point"], "ci95": r["speedup"]["ci95"], "stop_reason": doc["stop_reason"],
            "prepare_s": r["prepare_s"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--route", default="torch-qint8-x86")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--time-budget", type=float, default=20.0)
    parser.add_argument("--out", default=str(RESULTS / "verdict_time.json"))
    args = parser.parse_args()
    runs = [one_run(args.route, args.time_budget) for _ in range(args.repeats)]
    walls = [r["wall_s"] for r in runs]
    doc = {"benchmark": "verdict_time", "route": args.route, "goal_s": GOAL_S, "runs": runs,
           "median_wall_s": statistics.median(walls),
           "all_conclusive": all(r["verdict"] != "inconclusive" for r in runs),
           "meets_goal": statistics.median(walls) <= GOAL_S}
    out = write_result(args.out, doc)
    for r in runs:
        print(f"{r['wall_s']:6.1f} s  {r['rounds']:>2} rounds  {r['speedup']:.2f}× {r['verdict']}")
    print(f"median {doc['median_wall_s']:.1f} s vs goal ≤ {GOAL_S:.0f} s: {'met' if doc['meets_goal'] else 'MISSED'}"
          f" → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
