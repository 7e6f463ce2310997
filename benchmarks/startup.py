"""Wall time of `qtui detect --json` and `qtui --help` against bare `python -c pass`, paired in one run.

Writes JSON (default benchmarks/results/startup.json). The goal (issue 3): detect costs ≤ 0.3 s more than
bare Python. Runs are interleaved so machine noise hits every command alike; medians are reported.
Usage: python benchmarks/startup.py [--repeats 15] [--out PATH]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402

COMMANDS = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "qtui detect --json": [sys.executable, "-m", "tui", "detect", "--json"],
    "qtui --help": [sys.executable, "-m", "tui", "--help"],
}
GOAL_EXTRA_S = 0.3


def time_once(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--out", default=str(RESULTS / "startup.json"))
    args = parser.parse_args()

    samples: dict[str, list[float]] = {name: [] for name in COMMANDS}
    for argv in COMMANDS.values():  # warm the page cache once
        time_once(argv)
    for _ in range(args.repeats):
        for name, argv in COMMANDS.items():
            samples[name].append(time_once(argv))

    base = statistics.median(samples["python -c pass"])
    results = {
        name: {"median_s": round(statistics.median(s), 4), "extra_over_python_s": round(statistics.median(s) - base, 4),
               "samples_s": [round(x, 4) for x in s]}
        for name, s in samples.items()
    }
    extra = results["qtui detect --json"]["extra_over_python_s"]
    doc = {
        "benchmark": "startup", "python": platform.python_version(), "repeats": args.repeats,
        "results": results, "goal_extra_s": GOAL_EXTRA_S, "detect_meets_goal": extra <= GOAL_EXTRA_S,
    }
    out = write_result(args.out, doc)
    for name, r in results.items():
        print(f"{name:<22} median {r['median_s'] * 1000:7.1f} ms   extra {r['extra_over_python_s'] * 1000:+7.1f} ms")
    print(f"detect extra {extra * 1000:.0f} ms vs goal ≤ {GOAL_EXTRA_S * 1000:.0f} ms: "
          f"{'met' if doc['detect_meets_goal'] else 'MISSED'}  → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
