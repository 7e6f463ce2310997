"""What the dashboard costs: first paint vs bare `python -c pass`, and throughput measured through the
dashboard vs headless `qtui bench` with the same settings, alternated in one run. Written as JSON.
Goals (issue 6): first frame ≤ 0.5 s; dashboard throughput within 3 % of headless.
Usage: python benchmarks/ui_overhead.py [--pairs 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, run_bench, write_result  # noqa: E402
from tmux_terminal import QTUI, Tmux, kill_server  # noqa: E402  (shared with the e2e tests)

ROUTES = ["torch-fp32", "torch-qint8-x86"]
SETTINGS = {"num_texts": 64, "batch_size": 32, "rounds": 6, "threads": 2}


def first_paint_s() -> float:
    """Seconds from starting `qtui` in a real terminal (tmux 80×24) to the engine card on screen."""
    start = time.perf_counter()
    t = Tmux(QTUI)
    try:
        while time.perf_counter() - start < 20:
            if "engine = " in t.screen():
                return time.perf_counter() - start
            time.sleep(0.01)
        raise RuntimeError("qtui did not paint within 20 s")
    finally:
        t.close()


def bare_python_s() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - start


def dashboard_throughput() -> tuple[dict, float]:
    """Throughput as a user gets it: the real qtui in tmux 80×24, `b` to run, `e` to export, JSON read back.
    (Not Pilot: its harness polls and renders differently from a terminal; users run the terminal.)
    Also the UI process's own CPU use during the run, as a share of all cores: what it can take from workers."""
    with tempfile.TemporaryDirectory() as tmp:
        options = " ".join(f"--{k.replace('_', '-')} {v}" for k, v in SETTINGS.items())
        t = Tmux(f"cd {tmp} && {QTUI} --routes {','.join(ROUTES)} {options}")
        try:
            t.wait_for("engine = ", 20)
            ui = ui_process(t)
            cpu_before, wall_before = sum(ui.cpu_times()[:2]), time.perf_counter()
            t.keys("b")
            t.wait_for("done in", 600)
            ui_share = (sum(ui.cpu_times()[:2]) - cpu_before) / ((time.perf_counter() - wall_before) * os.cpu_count())
            t.keys("e")
            deadline = time.perf_counter() + 20
            while not (reports := list(Path(tmp).glob("qtui-report-*.json"))) and time.perf_counter() < deadline:
                time.sleep(0.2)
            doc = json.loads(reports[0].read_text())
        finally:
            t.close()
    return {r["id"]: r["throughput"]["median"] for r in doc["routes"]}, ui_share


def ui_process(t: Tmux):
    """The qtui process in the tmux pane (the pane's shell runs it as a child), not its workers."""
    import psutil

    shell = psutil.Process(int(t.pane("#{pane_pid}")))
    return next(p for p in [shell, *shell.children()] if any("qtui" in part for part in p.cmdline()[:2]))


def headless_throughput() -> dict:
    args = ["--routes", ",".join(ROUTES), "--num-texts", str(SETTINGS["num_texts"]), "--batch-size",
            str(SETTINGS["batch_size"]), "--rounds", str(SETTINGS["rounds"]), "--threads", str(SETTINGS["threads"])]
    doc, _ = run_bench(*args)
    return {r["id"]: r["throughput"]["median"] for r in doc["routes"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pairs", type=int, default=2)
    parser.add_argument("--out", default=str(RESULTS / "ui_overhead.json"))
    args = parser.parse_args()
    try:
        return measure(args)
    finally:
        kill_server()


def measure(args: argparse.Namespace) -> int:
    paints = [first_paint_s() for _ in range(5)]
    bares = [bare_python_s() for _ in range(5)]
    ratios = []  # dashboard / headless fp32 throughput, alternating which goes first
    pairs, ui_shares = [], []
    for i in range(args.pairs):
        if i % 2 == 0:
            (dash, ui_share), head = dashboard_throughput(), headless_throughput()
        else:
            head, (dash, ui_share) = headless_throughput(), dashboard_throughput()
        pairs.append({"dashboard": dash, "headless": head, "ui_process_cpu_share": round(ui_share, 4)})
        ui_shares.append(ui_share)
        ratios.append(dash["torch-fp32"] / head["torch-fp32"])
        print(f"pair {i + 1}: fp32 dashboard {dash['torch-fp32']:.1f} vs headless {head['torch-fp32']:.1f} sent/s")
    doc = {"benchmark": "ui_overhead", "first_paint_s": [round(p, 3) for p in paints],
           "first_paint_median_s": round(statistics.median(paints), 3),
           "bare_python_median_s": round(statistics.median(bares), 3), "first_paint_goal_s": 0.5,
           "pairs": pairs, "fp32_throughput_ratio_median": round(statistics.median(ratios), 4),
           "fp32_throughput_ratios": [round(r, 4) for r in ratios],
           "ui_process_cpu_share_median": round(statistics.median(ui_shares), 4),
           "throughput_goal": "within 3 %"}
    out = write_result(args.out, doc)
    print(f"first paint median {doc['first_paint_median_s']:.2f} s (python -c pass {doc['bare_python_median_s']:.2f} s,"
          f" goal ≤ 0.5 s); dashboard/headless fp32 throughput {doc['fp32_throughput_ratio_median']:.3f}"
          f" (pairs {', '.join(f'{r:.3f}' for r in ratios)}); the UI process used"
          f" {100 * doc['ui_process_cpu_share_median']:.1f} % of the CPU during runs → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
