"""Seconds from `qtui bench` starting to its first conclusive answer, and to the end of the run, cold and warm.

The first answer is the seed question (fp32 against qnnpack and the engine this CPU wants), measured before the
routes with long builds prepare (docs/ARCHITECTURE.md, "A first answer, then the long builds"). Two fresh
`qtui bench` processes (default routes unless --routes) share a cache of their own (QTUI_CACHE_DIR and the
inductor cache in a temporary directory): the first starts from nothing, the second finds every artefact built.
Each time is taken here, from process start to the moment the line appears on stderr; the line itself (the
verdicts) is kept. The goal (issue 23): the first answer ≤ 20 s on a cold cache, 2 cores.
Writes JSON (default benchmarks/results/first_answer.json).
Usage: python benchmarks/first_answer.py [--routes default] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402

GOAL_S = 20.0


def timed_run(routes: str, cache: Path) -> dict:
    env = {**os.environ, "QTUI_CACHE_DIR": str(cache), "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor")}
    report = cache.parent / "r.json"
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "tui", "bench", "--routes", routes, "--json", str(report)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    first_s, first_line = None, None
    for line in proc.stderr:
        if first_s is None and line.startswith("first answer"):
            first_s, first_line = time.perf_counter() - start, line.strip()
    if proc.wait() != 0:
        raise SystemExit(f"qtui bench failed (exit {proc.returncode})")
    wall = time.perf_counter() - start
    doc = json.loads(report.read_text())
    return {"first_answer_s": None if first_s is None else round(first_s, 1), "first_answer": first_line,
            "first_answer_rounds": (doc.get("first_answer") or {}).get("rounds"), "wall_s": round(wall, 1),
            "rounds": doc["rounds"], "stop_reason": doc["stop_reason"],
            "prepare_s": {r["id"]: r["prepare_s"] for r in doc["routes"] if r.get("prepare_s") is not None}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--routes", default="default")
    parser.add_argument("--out", default=str(RESULTS / "first_answer.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp) / "cache"
        cold = timed_run(args.routes, cache)
        warm = timed_run(args.routes, cache)
    result = {"routes": args.routes, "load_average": os.getloadavg(), "goal_s": GOAL_S, "cold": cold, "warm": warm}
    path = write_result(args.out, result)
    for name, r in (("cold", cold), ("warm", warm)):
        print(f"{name}: first answer after {r['first_answer_s']} s ({r['first_answer_rounds']} rounds), "
              f"run done after {r['wall_s']} s ({r['rounds']} rounds)")
        print(f"  {r['first_answer']}")
    met = cold["first_answer_s"] is not None and cold["first_answer_s"] <= GOAL_S
    print(f"goal ≤ {GOAL_S:.0f} s cold: {'met' if met else 'missed'} (load {result['load_average'][0]:.1f}) → {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
