"""Shared by the benchmark scripts: run `qtui bench` as a user would, and write results as JSON."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def run_bench(*args: str, env: dict | None = None) -> tuple[dict, float]:
    """(the qtui.report/1 document, wall seconds from process start to report) of one cold `qtui bench`;
    `env` adds to the environment (e.g. QTUI_CACHE_DIR for a cache of the benchmark's own)."""
    import os

    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "tui", "bench", *args, "--json", str(report)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})})
        wall = time.perf_counter() - start
        return json.loads(report.read_text()), wall


def write_result(out: str | Path, doc: dict) -> Path:
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2))
    return path
