"""Soak: N benchmark runs in a row in one dashboard session (driven by Pilot, real backend, small workload).
Records the UI process's RSS after each run; growth beyond noise would be a leak. Written as JSON.
Usage: python benchmarks/soak.py [--runs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
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
            rss = me.memory_info().rss / 1e6
            samples.append({"run": i + 1, "rss_mb": round(rss, 1), "ok": app.document is not None})
            print(f"run {i + 1:>2}: UI process RSS {rss:.1f} MB", flush=True)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--out", default=str(RESULTS / "soak.json"))
    args = parser.parse_args()
    samples = asyncio.run(soak(args.runs))
    rss = [s["rss_mb"] for s in samples]
    # Growth between the first and last thirds: warm-up allocations settle in the first runs.
    third = max(1, len(rss) // 3)
    growth = sum(rss[-third:]) / third - sum(rss[:third]) / third
    doc = {"benchmark": "soak", "runs": samples, "rss_first_mb": rss[0], "rss_last_mb": rss[-1],
           "growth_last_vs_first_third_mb": round(growth, 1), "all_runs_ok": all(s["ok"] for s in samples)}
    out = write_result(args.out, doc)
    print(f"RSS {rss[0]:.1f} → {rss[-1]:.1f} MB; last third vs first third {growth:+.1f} MB → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
