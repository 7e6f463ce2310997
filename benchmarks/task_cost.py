"""What the task pass adds to a run, per route, cold and cached: `qtui bench --task stsb` on the default routes.

Three fresh `qtui bench` processes share one cache of their own (QTUI_CACHE_DIR in a temporary directory): the
first without a task (it builds the routes' artefacts, so the next runs time the task, not the exports), the
second with the task (the task cache is cold: every route encodes the STS-B test split's 2,552 distinct
sentences), the third with it again (every route's items come from the cache). Per route, the seconds the pass
itself measured (`routes[].task.seconds`), and the pass's whole wall time including the paired bootstrap
(`task.pass_s`). The goal (issue 22): ≤ 30 s cold on all default routes on 2 cores, ≈ 0 cached.
Writes JSON (default benchmarks/results/task_cost.json).
Usage: python benchmarks/task_cost.py [--task stsb] [--routes default] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

QUICK = ("--quick", "--rounds", "3", "--time-budget", "10")  # the rounds are not what is measured here


def per_route(doc: dict) -> dict:
    return {r["id"]: {"cache": (r.get("task") or {}).get("cache"), "seconds": (r.get("task") or {}).get("seconds"),
                      "kept": ((r.get("task") or {}).get("kept") or {}).get("point"),
                      "score": (r.get("task") or {}).get("score"), "why": r.get("task_why")}
            for r in doc["routes"] if r.get("status") == "ok"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--task", default="stsb")
    parser.add_argument("--routes", default="default")
    parser.add_argument("--out", default=str(RESULTS / "task_cost.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {"QTUI_CACHE_DIR": cache}
        base = ("--routes", args.routes, *QUICK)
        _, warm_wall = run_bench(*base, env=env)
        cold, cold_wall = run_bench(*base, "--task", args.task, env=env)
        cached, cached_wall = run_bench(*base, "--task", args.task, env=env)
    result = {
        "cpu": cold["env"]["cpu"].get("model"), "features": cold["env"]["cpu"].get("features"),
        "threads": cold["env"]["threads"], "load_average": os.getloadavg(), "task": cold["task"],
        "cold": {"pass_s": cold["task"]["pass_s"], "wall_s": round(cold_wall, 1), "routes": per_route(cold)},
        "cached": {"pass_s": cached["task"]["pass_s"], "wall_s": round(cached_wall, 1), "routes": per_route(cached)},
        "without_task_wall_s": round(warm_wall, 1),
    }
    path = write_result(args.out, result)
    print(f"{result['cpu']}, {result['threads']} threads, load {result['load_average'][0]:.1f}; task {args.task}")
    print(f"{'route':<26} {'cold s':>7} {'cached s':>9}  kept")
    for rid, c in result["cold"]["routes"].items():
        h = result["cached"]["routes"].get(rid, {})
        kept = f"{100 * c['kept']:.1f} %" if c.get("kept") else "ref" if c.get("score") is not None else c.get("why")
        print(f"{rid:<26} {c['seconds'] or 0:>7.1f} {h.get('seconds') or 0:>9.3f}  {kept}")
    print(f"task pass: {result['cold']['pass_s']:.1f} s cold, {result['cached']['pass_s']:.2f} s cached "
          f"(whole runs: {cold_wall:.0f} s, {cached_wall:.0f} s; without the task {warm_wall:.0f} s) → {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
