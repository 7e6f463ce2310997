"""Ctrl-C latency of `qtui bench`: time from SIGINT (sent mid-round) to the process exiting, and whether it
exited 130 with no report and no worker left. Written as JSON. Goal (issue 7): within 1 s.
Usage: python benchmarks/cancel_latency.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).parent))
from _common import RESULTS, write_result  # noqa: E402
from processes import is_worker  # noqa: E402

GOAL_S = 1.0


def still_a_worker(process: psutil.Process) -> bool:
    try:
        return process.status() != psutil.STATUS_ZOMBIE and is_worker(process)
    except psutil.Error:  # gone, or a zombie waiting for init to reap it
        return False


def sigint_as_in_a_terminal() -> None:
    """Started in the background by a non-interactive shell, we inherit SIGINT ignored, and qtui leaves an
    ignored signal alone: give the child Ctrl-C as a foreground program in a terminal has it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def one_cancel(after_rounds: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        proc = subprocess.Popen([sys.executable, "-m", "tui", "bench", "--routes", "torch-fp32,torch-qint8-x86",
                                 "--rounds", "1000", "--time-budget", "600", "--json", str(report)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                preexec_fn=sigint_as_in_a_terminal)
        rounds = 0
        for line in proc.stderr:
            rounds += line.startswith("round")
            if rounds >= after_rounds:
                break
        workers = psutil.Process(proc.pid).children(recursive=True)
        time.sleep(0.3)  # land inside a round, not at its edge
        sent = time.perf_counter()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=30)
        latency = time.perf_counter() - sent
        proc.stderr.close()
        alive = [w.pid for w in workers if still_a_worker(w)]
        return {"latency_s": round(latency, 3), "exit_code": code, "report_written": report.exists(),
                "workers_left": len(alive)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", default=str(RESULTS / "cancel_latency.json"))
    args = parser.parse_args()
    runs = [one_cancel(after_rounds=1 + i % 3) for i in range(args.repeats)]
    latencies = [r["latency_s"] for r in runs]
    doc = {"benchmark": "cancel_latency", "goal_s": GOAL_S, "runs": runs, "median_s": statistics.median(latencies),
           "max_s": max(latencies), "all_clean": all(r["exit_code"] == 130 and not r["report_written"]
                                                      and not r["workers_left"] for r in runs)}
    out = write_result(args.out, doc)
    print(f"latency median {doc['median_s']:.2f} s, max {doc['max_s']:.2f} s (goal ≤ {GOAL_S} s); "
          f"exit 130, nothing written, no worker left: {doc['all_clean']} → {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
