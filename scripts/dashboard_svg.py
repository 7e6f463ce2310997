"""The README's picture: docs/dashboard.svg, the dashboard after a real short run on this machine.

1. `qtui bench` runs a short benchmark here, as a user would, with a temporary QTUI_CACHE_DIR (so preparation is
   cold, as on a first run) and `--json` to a temporary file.
2. That report goes into the dashboard the way tests/app/test_snapshots.py puts a finished run into it: the core
   events a run emits (here read back from the report: the routes, their preparation and cosine, each round's
   throughput), then `RunFinished(report)`; Textual's pilot renders it at 120×36 and `export_screenshot()` writes
   the SVG. The CPU panel shows the CPU recorded in the report.
3. The caption under the picture in README.md, between the `dashboard-caption` comments, is rewritten from the
   report (the command, CPU, date, torch, the run's seconds) and the load average read before and after the run.

Usage: .venv/bin/python scripts/dashboard_svg.py [--size 120x36] [--keep-report PATH]
Nothing from tests/ is imported (as for benchmarks/).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SVG = ROOT / "docs" / "dashboard.svg"
README = ROOT / "README.md"
ROUTES = "torch-fp32,torch-qint8-qnnpack,torch-qint8-x86,ort-qint8"
# Short enough to regenerate in a few minutes on 2 cores; --no-rescue: the layer pass and the mixed route it
# builds when torch-qint8-x86 misses --min-cosine would take minutes more.
BENCH_ARGS = ["--routes", ROUTES, "--num-texts", "32", "--rounds", "5", "--no-rescue"]
CAPTION = re.compile(r"(<!-- dashboard-caption[^>]*-->\n)(.*?)(<!-- /dashboard-caption -->)", re.DOTALL)


def run_bench(report: Path, cache: Path) -> None:
    """`qtui bench BENCH_ARGS --json report`; its progress and summary go to this terminal."""
    subprocess.run([sys.executable, "-m", "tui", "bench", *BENCH_ARGS, "--json", str(report)], check=True,
                   env={**os.environ, "QTUI_CACHE_DIR": str(cache)})


def events_of(doc: dict) -> list:
    """The core events the dashboard got during the run, from the report: RunStarted, each route's RouteReady (its
    preparation and accuracy) or RouteFailed, a RoundDone per round (each route's seconds for that round, from
    its per-round throughput), RunDone. The final speed-ups, verdicts and `vs best` come from the report itself
    (RoutesTable.finish), as after a live run."""
    from tui.core.accuracy import Accuracy
    from tui.core.events import RoundDone, RouteFailed, RouteReady, RunDone, RunStarted

    texts, routes = doc["workload"]["texts"], doc["routes"]
    rounds = doc["rounds"]
    events = [RunStarted(tuple(r["id"] for r in routes), texts, doc["workload"]["batch_size"], doc["env"]["threads"],
                         rounds, 60.0, task=(doc.get("task") or {}).get("name"))]
    for r in routes:
        if r["status"] != "ok":
            events.append(RouteFailed(r["id"], r["status"], r.get("why") or ""))
            continue
        a = r.get("accuracy")
        accuracy = Accuracy(a["cosine_mean"], a["cosine_min"], a["topk_overlap"], a["spearman"], 10) if a else None
        events.append(RouteReady(r["id"], r.get("prepare_s") or 0.0, r.get("size_mb"), accuracy))
    elapsed = 0.0
    for i in range(rounds):
        seconds = {r["id"]: texts / r["throughput"]["samples"][i] for r in routes
                   if r["status"] == "ok" and r.get("throughput") and len(r["throughput"]["samples"]) > i}
        elapsed += sum(seconds.values())
        events.append(RoundDone(i + 1, rounds, elapsed, 60.0, seconds, {}))
    events.append(RunDone(None, False))
    return events


class ReportBackend:
    """The app's backend for a finished report: the CPU it was measured on; nothing runs."""

    def __init__(self, doc: dict) -> None:
        self.doc = doc

    def detect(self):
        from tui.core.detect import Detection
        from tui.core.engines import recommend
        from tui.core.report import report_cpu

        cpu = report_cpu(self.doc)
        return Detection(cpu, recommend(cpu))


async def render(doc: dict, size: tuple[int, int]) -> str:
    from tui.app import make_app
    from tui.messages import CoreEvent, RunFinished

    app = make_app(ReportBackend(doc), theme="qtui-dark")
    async with app.run_test(size=size) as pilot:
        for event in events_of(doc):
            app.on_core_event(CoreEvent(event))
        app.on_run_finished(RunFinished(doc, cancelled=False))
        await pilot.pause()
        await pilot.pause(0.5)  # the scroll to the results and the advice panel's layout
        return app.export_screenshot()


def caption(doc: dict, load_before: float, load_after: float) -> str:
    """The line under the picture: the command, and the machine, date, torch and run time the report records; the
    load average is this script's reading (os.getloadavg), since a shared machine slows every route."""
    from tui.core.detect import describe_cpu
    from tui.core.report import report_cpu

    cpu = report_cpu(doc)
    when = doc["created"][:16].replace("T", " ")
    return (f"*`qtui bench {' '.join(BENCH_ARGS)}` with an empty cache, on {describe_cpu(cpu)}, {when} UTC, "
            f"torch {doc['env'].get('torch') or '?'}; the run took {doc['wall_s']:.0f} s. The 1-minute load "
            f"average was {load_before:.1f} before it and {load_after:.1f} after it. Drawn by "
            f"[`scripts/dashboard_svg.py`](scripts/dashboard_svg.py) from the report it renders.*\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="120x36", help="terminal size, COLUMNSxROWS (default 120x36)")
    parser.add_argument("--keep-report", metavar="PATH", help="also keep the report the picture shows")
    args = parser.parse_args()
    size = tuple(int(n) for n in args.size.split("x"))
    if not CAPTION.search(README.read_text(encoding="utf-8")):  # before minutes of benchmarking, not after
        print("README.md has no <!-- dashboard-caption --> … <!-- /dashboard-caption --> region", file=sys.stderr)
        return 1
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="qtui-svg-") as tmp:
        report = Path(tmp) / "report.json"
        load_before = os.getloadavg()[0]
        run_bench(report, Path(tmp) / "cache")
        load_after = os.getloadavg()[0]
        doc = json.loads(report.read_text(encoding="utf-8"))
        if args.keep_report:
            Path(args.keep_report).write_text(report.read_text(encoding="utf-8"), encoding="utf-8")
    SVG.write_text(asyncio.run(render(doc, size)), encoding="utf-8")
    text = README.read_text(encoding="utf-8")
    line = caption(doc, load_before, load_after)
    README.write_text(CAPTION.sub(lambda m: m.group(1) + line + m.group(3), text, count=1), encoding="utf-8")
    print(f"wrote {SVG.relative_to(ROOT)} and README.md's caption in {time.perf_counter() - start:.0f} s:\n{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
