"""`qtui bench` as a user runs it, with the real model on a tiny workload."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, run_qtui

pytestmark = pytest.mark.slow
TINY = ["--num-texts", "8", "--batch-size", "4", "--rounds", "2", "--threads", "1"]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    env = dict(os.environ, QTUI_CACHE_DIR=str(out / "cache"))
    result = run_qtui("bench", "--routes", "torch-fp32,torch-qint8-qnnpack,torch-qint8-x86", *TINY,
                      "--json", str(out / "r.json"), "--markdown", str(out / "r.md"), timeout=300, env=env)
    return result, out


def test_bench_writes_json_markdown_and_a_summary(report):
    result, out = report
    assert result.returncode == 0, result.stderr
    doc = json.loads((out / "r.json").read_text())
    ids = [r["id"] for r in doc["routes"]]
    # The rescue's mix joins after the first answer (2 rounds) and gets its own 2; fp32 runs in every round.
    joined = "torch-qint8-x86-mixed" in ids
    assert doc["schema"] == "qtui.report/1" and doc["rounds"] == (4 if joined else 2)
    assert [r["rounds"] for r in doc["routes"]] == [doc["rounds"]] * 3 + ([2] if joined else [])
    assert doc["first_answer"]["rounds"] == 2 and doc["first_answer"]["after_s"] < doc["wall_s"]
    assert ids[:3] == ["torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86"]
    # Per-tensor x86 int8 misses 0.99 on some texts: then the rescue adds its mix, and only then.
    missed = [r["accuracy"]["cosine_mean"] < doc["min_cosine"] for r in doc["routes"][1:3]]
    assert ids[3:] == (["torch-qint8-x86-mixed"] if missed[1] else []) and bool(doc.get("layers")) == any(missed)
    assert doc["routes"][1]["speedup"]["ci95"][0] <= doc["routes"][1]["speedup"]["point"]
    assert "torch-qint8-qnnpack" in result.stdout and "Recommended:" in result.stdout
    assert "round  2/2" in result.stderr and "Traceback" not in result.stderr
    assert "qtui benchmark report" in (out / "r.md").read_text()


def test_the_seed_case_puts_engine_mismatch_first_among_the_speed_items_quoting_the_measured_speeds(report):
    # Whether x86's per-tensor int8 counts as accurate enough decides the finding (and so whether the accuracy
    # caveat comes first) and differs between CPUs: the engine mismatch must lead the causes and gains either way.
    _, out = report
    doc = json.loads((out / "r.json").read_text())
    first = next(a for a in doc["advice"] if a["kind"] in ("cause", "gain"))
    assert first["code"] == "engine-mismatch" and first["basis"] == "measured"
    qnnpack = doc["routes"][1]["speedup"]["point"]
    assert f"{qnnpack:.2f}×" in first["evidence"] and "torch-qint8-x86" in first["effect"]
    ahead = doc["advice"][:doc["advice"].index(first)]
    assert all(a["kind"] in ("caveat", "trust") for a in ahead)
    if ahead:  # only a finding about accuracy or noise puts anything before the causes
        assert doc["finding"]["kind"] in ("inaccurate", "undecidable")
    explained = run_qtui("explain", str(out / "r.json"))
    assert explained.returncode == 0 and explained.stdout.splitlines()[0] == doc["finding"]["headline"]


def test_compare_two_real_reports(report):  # the same report twice: the same numbers, nothing to claim
    _, out = report
    result = run_qtui("compare", str(out / "r.json"), str(out / "r.json"))
    assert result.returncode == 0 and "not significant" in result.stdout and "1.00× faster" in result.stdout


def test_json_to_stdout_carries_only_json(tmp_path):
    env = dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache"))
    result = run_qtui("bench", "--routes", "torch-fp32", *TINY, "--threads-sweep", "1", "--json", "-", timeout=300,
                      env=env)
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert doc["schema"] == "qtui.report/1"
    # No int8 route in the run: the sweep times fp32 alone (the run's own worker at its 1 thread) and says why.
    sweep = doc["threads_sweep"]
    assert sweep["route"] is None and "no int8 route was in this run" in sweep["route_why"]
    assert sweep["points"][0]["routes"][0]["throughput"]["median"] > 0
    assert "thread sweep 1/1: 1 thread  torch-fp32" in result.stderr


def sigint_as_in_a_terminal() -> None:
    """A foreground program gets Ctrl-C; one started in the background by a non-interactive shell (a CI
    runner may start the suite so) inherits SIGINT ignored, and qtui rightly leaves an ignored signal alone."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_ctrl_c_stops_within_a_second_writes_nothing_and_exits_130(tmp_path):
    out = tmp_path / "r.json"
    proc = subprocess.Popen([sys.executable, "-m", "tui", "bench", "--routes", "torch-fp32,torch-qint8-qnnpack",
                             "--num-texts", "8", "--batch-size", "4", "--threads", "1", "--rounds", "100",
                             "--time-budget", "300", "--no-rescue", "--json", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, QTUI_CACHE_DIR=str(tmp_path / "cache")),
                            preexec_fn=sigint_as_in_a_terminal)
    for line in proc.stderr:  # wait until rounds are running
        if line.startswith("round"):
            break
    sent = time.monotonic()
    proc.send_signal(signal.SIGINT)
    rest = proc.stderr.read()
    code = proc.wait(timeout=10)
    assert time.monotonic() - sent < 1.5
    assert code == 130
    assert not out.exists() and not list(tmp_path.glob(".r.json*"))
    assert "interrupted" in rest and "Traceback" not in rest
