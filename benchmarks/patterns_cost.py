"""What each call pattern adds to a run's wall time: `qtui bench --pattern bulk` against `online` and `processes`.

Four fresh `qtui bench` processes share one cache of their own: the first builds the routes' artefacts (not
timed here), then bulk, online and processes alike run the same rounds (--quick, a fixed number of rounds and
budget); online then makes its single-text calls, processes times its splits. Reported: each run's wall time,
the latency pass's own seconds (`latency.pass_s`) and calls per route, the splits measured, and the route each
pattern recommends.
Writes JSON (default benchmarks/results/patterns_cost.json).
Usage: python benchmarks/patterns_cost.py [--routes LIST] [--out PATH]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402

ROUTES = "torch-fp32,torch-qint8-x86,ort-qint8,openvino-int8"
SAME_ROUNDS = ("--quick", "--rounds", "5", "--time-budget", "60")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", default=ROUTES)
    parser.add_argument("--out", default=str(RESULTS / "patterns_cost.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as cache:
        env = {"QTUI_CACHE_DIR": cache}
        base = ("--routes", args.routes, *SAME_ROUNDS)
        run_bench(*base, env=env)  # builds the artefacts
        bulk, bulk_wall = run_bench(*base, "--pattern", "bulk", env=env)
        online, online_wall = run_bench(*base, "--pattern", "online", env=env)
        split, split_wall = run_bench(*base, "--pattern", "processes", env=env)
    lat, proc = online["latency"], split["processes"]
    result = {
        "cpu": online["env"]["cpu"].get("model"), "threads": online["env"]["threads"],
        "load_average": os.getloadavg(), "routes": args.routes,
        "bulk": {"wall_s": round(bulk_wall, 1), "recommended": bulk["recommendation"]["route"]},
        "online": {"wall_s": round(online_wall, 1), "pass_s": lat["pass_s"], "stopped": lat["stopped"],
                   "recommended": lat["recommendation"]["route"],
                   "calls": {r["id"]: (r.get("latency") or {}).get("calls") for r in online["routes"]},
                   "p95_ms": {r["id"]: r["latency"]["p95"]["ms"] for r in online["routes"] if r.get("latency")}},
        "processes": {"wall_s": round(split_wall, 1), "splits": proc["splits"], "route": proc["route"],
                      "variant_route": proc["variant_route"], "recommendation": proc["recommendation"]},
    }
    write_result(args.out, result)
    print(f"{result['cpu']}, {result['threads']} threads, load {result['load_average'][0]:.1f}")
    print(f"bulk:   {bulk_wall:.1f} s, recommends {result['bulk']['recommended']}")
    print(f"online: {online_wall:.1f} s (+{online_wall - bulk_wall:.1f} s; the calls {lat['pass_s']:.1f} s, "
          f"stopped by {lat['stopped']}), recommends {result['online']['recommended']} for single queries")
    rec = proc["recommendation"] or {}
    print(f"processes: {split_wall:.1f} s (+{split_wall - bulk_wall:.1f} s; splits {proc['splits']}), "
          f"recommends {rec.get('route')} as {rec.get('split')} {rec.get('variant') or ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
