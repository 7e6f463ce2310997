"""Soak: N benchmark runs in a row in one dashboard session (driven by Pilot, real backend, small workload).
Records the UI process's RSS after each run (after a full gc, so garbage awaiting collection is not counted)
and its count of gc-tracked Python objects, which, unlike RSS, does not move with the allocator. Written as JSON.

The first runs are warm-up (lazy imports, Textual's and the allocator's caches filling: ≈3 MB here, once);
growth is judged after them, with a slope that a single allocator step cannot dominate (Theil–Sen).
Usage: python benchmarks/soak.py [--runs 20] [--warmup 3]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
from itertools import combinations
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))
from _common import RESULTS, write_result  # noqa: E402


async def soak(runs: int) -> list[dict]:
    from tui.app import default_settings, make_app

    settings = default_settings()
    settings.num_texts, settings.batch_size, settings.rounds, settings.threads = 8, 4, 2, 1
    settings.routes = ["torch-fp32", "torch-qint8-x86"]
    app = make_app(settings=settings, theme="qtui-dark")
    me = psutil.Process()
    samples = []
    async with app.run_test(size=(120, 40)) as pilot:
        for i in range(runs):
            await pilot.press("b")
            await pilot.pause(0.5)
            while app.running:
                await pilot.pause(0.2)
            await pilot.pause(0.2)  # let the finished run's refresh (advice, scroll) happen before sampling
            gc.collect()
            rss = me.memory_info().rss / 1e6
            objects = len(gc.get_objects())
            samples.append({"run": i + 1, "rss_mb": round(rss, 1), "py_objects": objects,
                            "ok": app.document is not None})
            print(f"run {i + 1:>2}: UI process RSS {rss:.1f} MB, {objects} Python objects", flush=True)
    return samples


def theil_sen(values: list[float]) -> float:
    """Median of the pairwise slopes (per run): robust to a one-off step, unlike first-vs-last."""
    slopes = [(values[j] - values[i]) / (j - i) for i, j in combinations(range(len(values)), 2)]
    return statistics.median(slopes) if slopes else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3, help="runs left out of the growth figures (default 3)")
    parser.add_argument("--out", default=str(RESULTS / "soak.json"))
    args = parser.parse_args()
    samples = asyncio.run(soak(args.runs))
    rss = [s["rss_mb"] for s in samples]
    objects = [s["py_objects"] for s in samples]
    # Kept for comparison with earlier results: it includes the warm-up, so it overstates growth.
    third = max(1, len(rss) // 3)
    growth = sum(rss[-third:]) / third - sum(rss[:third]) / third
    warmup = min(args.warmup, max(0, len(rss) - 2))
    steady, steady_objects = rss[warmup:], objects[warmup:]
    k = min(3, len(steady))
    rss_slope, objects_slope = theil_sen(steady), theil_sen(steady_objects)
    doc = {"benchmark": "soak", "runs": samples, "rss_first_mb": rss[0], "rss_last_mb": rss[-1],
           "growth_last_vs_first_third_mb": round(growth, 1), "all_runs_ok": all(s["ok"] for s in samples),
           "warmup_runs": warmup,
           "growth_after_warmup_mb": round(statistics.median(steady[-k:]) - statistics.median(steady[:k]), 1),
           "rss_slope_mb_per_run": round(rss_slope, 3),
           "rss_slope_mb_per_100_runs": round(100 * rss_slope, 1),
           "py_objects_slope_per_run": round(objects_slope, 1)}
    out = write_result(args.out, doc)
    print(f"RSS {rss[0]:.1f} → {rss[-1]:.1f} MB; after {warmup} warm-up runs {doc['growth_after_warmup_mb']:+.1f} MB, "
          f"slope {rss_slope:+.3f} MB/run, {objects_slope:+.0f} Python objects/run → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
