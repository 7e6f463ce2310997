"""What capturing the kernels costs, goal ≤ 10 % of the run's wall time, two ways:

- directly: each route's capture time (`kernels.capture_s`, measured in its worker) summed, over the report's
  `wall_s`, in the runs with the capture;
- by difference: `qtui bench` with the capture and with `--no-kernels`, alternated (ABBA, so drift cancels), from
  cold processes with a warm artefact cache of the benchmark's own. On a shared machine this difference carries
  the neighbours' noise (whole runs differ by tens of seconds), so the direct share decides the goal.

Also reports throughput with/without: the capture runs after the timed rounds and must leave it alone.
Usage: python benchmarks/kernels_cost.py [--pairs 2] [--routes LIST] [--rounds 5] [--out PATH]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

GOAL = 0.10
ROUTES = "torch-fp32,torch-qint8-x86,torch-qint8-onednn,ort-qint8,openvino-int8"


def one_run(routes: str, rounds: int, capture: bool, cache: str) -> dict:
    # A fixed number of rounds (the budget never ends them first): the same timed work with and without.
    args = ["--routes", routes, "--rounds", str(rounds), "--time-budget", "100000"]
    doc, wall = run_bench(*args, *([] if capture else ["--no-kernels"]), env={"QTUI_CACHE_DIR": cache})
    return {"capture": capture, "process_wall_s": round(wall, 2), "report_wall_s": doc["wall_s"],
            "rounds": doc["rounds"],
            "throughput": {r["id"]: r["throughput"]["median"] for r in doc["routes"] if r.get("throughput")},
            "kernels": {r["id"]: (r.get("kernels") or {}).get("summary") for r in doc["routes"]},
            "capture_s": sum((r.get("kernels") or {}).get("capture_s") or 0.0 for r in doc["routes"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", default=ROUTES)
    parser.add_argument("--pairs", type=int, default=2, help="ABBA blocks: each is with, without, without, with")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(RESULTS / "kernels_cost.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="qtui-kernels-cost-") as cache:
        one_run(args.routes, 1, False, cache)  # warm the artefact cache and the ceilings: not measured
        runs = []
        for _ in range(args.pairs):
            for capture in (True, False, False, True):
                runs.append(one_run(args.routes, args.rounds, capture, cache))
                print(f"{'with   ' if capture else 'without'} {runs[-1]['process_wall_s']:6.1f} s", flush=True)
    with_ = [r["process_wall_s"] for r in runs if r["capture"]]
    without = [r["process_wall_s"] for r in runs if not r["capture"]]
    cost = statistics.median(with_) / statistics.median(without) - 1
    direct = statistics.median(r["capture_s"] / r["report_wall_s"] for r in runs if r["capture"])
    tp_ratio = {rid: statistics.median(r["throughput"][rid] for r in runs if r["capture"]) /
                statistics.median(r["throughput"][rid] for r in runs if not r["capture"])
                for rid in runs[0]["throughput"]}
    doc = {"benchmark": "kernels_cost", "routes": args.routes, "rounds": args.rounds, "goal": GOAL, "runs": runs,
           "median_with_s": statistics.median(with_), "median_without_s": statistics.median(without),
           "cost_by_difference": round(cost, 4), "capture_share_of_wall": round(direct, 4),
           "meets_goal": direct <= GOAL,
           "throughput_with_over_without": {k: round(v, 3) for k, v in tp_ratio.items()}}
    out = write_result(args.out, doc)
    print(f"capture: {direct:.1%} of the run's wall time (its own seconds over wall_s) vs goal ≤ {GOAL:.0%}: "
          f"{'met' if doc['meets_goal'] else 'MISSED'}; by difference {cost:+.1%} (median {doc['median_with_s']:.1f} s "
          f"with, {doc['median_without_s']:.1f} s without)")
    print("throughput with/without capture: " + ", ".join(f"{k} {v:.3f}" for k, v in tp_ratio.items()) + f" → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
