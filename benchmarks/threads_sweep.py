"""Thread scaling on this machine: `qtui bench --threads-sweep` as a user would run it, written as JSON.

Per thread count: each route's throughput (median, 95 % CI), the int8 route's paired speedup over fp32, each
step's gain and verdict, where adding threads stops paying, and what the sweep cost in wall time against the
same run without it (the sweep's price for a user).
Usage: python benchmarks/threads_sweep.py [--routes torch-fp32,torch-qint8-x86] [--counts 1,2] [--out PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routes", default="torch-fp32,torch-qint8-x86")
    parser.add_argument("--counts", default="auto", help="the --threads-sweep list (default: 1, 2, 4, … cores)")
    parser.add_argument("--time-budget", type=float, default=20.0)
    parser.add_argument("--out", default=str(RESULTS / "threads_sweep.json"))
    args = parser.parse_args()
    common = ["--routes", args.routes, "--time-budget", str(args.time_budget)]
    plain, plain_wall = run_bench(*common)
    doc, wall = run_bench(*common, "--threads-sweep", args.counts)
    sweep = doc["threads_sweep"]
    result = {"benchmark": "threads_sweep", "routes": args.routes, "cpu": doc["env"]["cpu"].get("model"),
              "run_threads": doc["env"]["threads"], "wall_s_without": round(plain_wall, 1),
              "wall_s_with": round(wall, 1), "threads_sweep": sweep}
    out = write_result(args.out, result)
    from tui.core.report import format_threads_sweep

    print(format_threads_sweep(sweep))
    print(f"wall {plain_wall:.0f} s without the sweep, {wall:.0f} s with it → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
