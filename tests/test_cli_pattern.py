"""`qtui bench --pattern`: the online pattern as a user runs it, and the mistakes it refuses."""

import json
import os

import pytest

from tests.conftest import run_qtui
from tests.test_cli_cache import assert_refused


@pytest.mark.parametrize(("args", "words"), [
    (["--pattern", "streaming"], ("--pattern", "not a call pattern", "'streaming'")),
    (["--latency-calls", "50"], ("--latency-calls needs --pattern online",)),
    (["--pattern", "online", "--latency-calls", "0"], ("--latency-calls", "must be 1 or more")),
    (["--processes", "2x1"], ("--processes needs --pattern processes or all",)),
    (["--pattern", "processes", "--processes", "2by1"], ("--processes", "not a split", "PROCESSESxTHREADS")),
    (["--pattern", "processes", "--processes", "64x64"], ("64x64 needs 4096 CPUs; this machine has",)),
])
def test_bad_pattern_options_are_one_line_and_exit_2(args, words):
    assert_refused(run_qtui("bench", "--routes", "torch-fp32", *args), *words)


@pytest.mark.slow
def test_online_reports_quantiles_per_route_and_the_route_for_online(tmp_path):
    out = tmp_path / "r.json"
    result = run_qtui("bench", "--pattern", "online", "--routes", "torch-fp32,torch-qint8-x86", "--num-texts", "8",
                      "--batch-size", "4", "--rounds", "2", "--threads", "1", "--quick", "--latency-calls", "100",
                      "--json", str(out), timeout=300, env=dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache")))
    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert [r["latency"]["calls"] for r in doc["routes"]] == [100, 100]
    assert doc["latency"]["recommendation"]["route"] in ("torch-fp32", "torch-qint8-x86")
    assert "single-text calls: 100 of 100 per route" in result.stderr  # the progress line
    assert "Online: single-text calls" in result.stdout and "For online: " in result.stdout
    assert "p95 vs fp32" in result.stdout
