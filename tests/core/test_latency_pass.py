"""--pattern online in a real run: single-text calls per route after the rounds, the report's latency fields, the
budget that cuts the calls short, and a worker dying mid-calls."""

import pytest

from tests.core.test_bench import run_collecting, tiny_plan
from tui.core.events import LatencyStep, RoundDone
from tui.core.report import build_document, format_summary

pytestmark = pytest.mark.slow
ROUTES = ["torch-fp32", "torch-qint8-qnnpack"]


def online_plan(tmp_path, **overrides):
    return tiny_plan(tmp_path, ROUTES, pattern="online", latency_calls=100, profile=False, invariance=False,
                     kernels=False, **overrides)


def test_every_route_answers_the_same_single_text_calls_after_the_rounds(tmp_path):
    result, events = run_collecting(online_plan(tmp_path))
    steps = [e for e in events if isinstance(e, LatencyStep)]
    last_round = max(i for i, e in enumerate(events) if isinstance(e, RoundDone))
    assert steps and events.index(steps[0]) > last_round  # never during the timed rounds
    assert steps[-1].calls >= 100 and steps[-1].target == 100
    times = result.latency["times_ms"]
    assert set(times) == set(ROUTES) and all(len(r) == 50 for t in times.values() for r in t)
    assert len(times["torch-fp32"]) == len(times["torch-qint8-qnnpack"]) == 2 and result.latency["stopped"] == "calls"
    doc = build_document(result)
    fp32, qnnpack = (r["latency"] for r in doc["routes"])
    assert fp32["calls"] == qnnpack["calls"] == 100 and not fp32["tail_resolved"]
    assert 0 < fp32["p50"]["ms"] <= fp32["p95"]["ms"] <= fp32["p99"]["ms"]
    assert "vs_fp32" not in fp32 and qnnpack["vs_fp32"]["verdict"] in ("faster", "slower", "inconclusive")
    assert doc["latency"]["recommendation"]["route"] in ROUTES
    summary = format_summary(doc)
    assert "Online: single-text calls" in summary and "For online:" in summary and "not resolved" in summary


def test_a_spent_budget_ends_the_calls_and_says_the_tail_is_not_resolved(tmp_path):
    result, _ = run_collecting(online_plan(tmp_path, time_budget_s=0.01, max_rounds=2))
    assert result.latency["stopped"] == "budget" and len(result.latency["times_ms"]["torch-fp32"]) == 1
    doc = build_document(result)
    assert all(not r["latency"]["tail_resolved"] for r in doc["routes"])
    assert "the time budget ran out" in format_summary(doc)


def test_a_worker_dying_in_the_calls_fails_alone_and_fp32_still_answers(tmp_path):
    plan = online_plan(tmp_path, worker_env=(("QTUI_TEST_CRASH", "torch-qint8-qnnpack:calls"),))
    result, _ = run_collecting(plan)
    assert result.routes["torch-qint8-qnnpack"].status == "failed"
    assert "single-text calls" in result.routes["torch-qint8-qnnpack"].why
    doc = build_document(result)
    assert doc["routes"][0]["latency"]["calls"] == 100 and doc["routes"][1]["latency"] is None
    assert doc["latency"]["recommendation"]["route"] == "torch-fp32"
