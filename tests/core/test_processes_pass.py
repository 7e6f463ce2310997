"""--pattern processes in a real run: fp32 and the int8 route as groups of processes after the rounds, the
report's processes fields, and a group whose worker dies."""

import pytest

from tests.core.test_bench import run_collecting, tiny_plan
from tui.core.events import ProcessesStep, RoundDone
from tui.core.passes import processes as processes_pass
from tui.core.report import build_document, format_summary

pytestmark = pytest.mark.slow
ROUTES = ["torch-fp32", "torch-qint8-qnnpack"]


@pytest.fixture
def free_memory(monkeypatch):
    """The free memory the pass sees, in MiB: plenty unless a test says otherwise (the suite's other workers
    come and go, and a split skipped for memory is not what the measuring tests are about)."""
    def set_free(mb: float) -> None:
        monkeypatch.setattr(processes_pass, "free_memory_mb", lambda: mb)

    set_free(1e6)
    return set_free


def processes_plan(tmp_path, **overrides):
    return tiny_plan(tmp_path, ROUTES, pattern="processes", process_splits=((1, 1), (2, 1)), processes_rounds=4,
                     profile=False, invariance=False, kernels=False, **overrides)


def test_each_split_times_both_routes_in_paired_rounds_after_the_rounds(tmp_path, free_memory):
    result, events = run_collecting(processes_plan(tmp_path))
    steps = [e for e in events if isinstance(e, ProcessesStep)]
    last_round = max(i for i, e in enumerate(events) if isinstance(e, RoundDone))
    assert steps and events.index(steps[0]) > last_round  # never during the timed rounds
    assert [(s.processes, s.stage) for s in steps if s.stage == "done"] == [(1, "done"), (2, "done")]
    proc = result.processes
    assert proc["available"] and proc["route"] == "torch-qint8-qnnpack" and proc["splits"] == [[1, 1], [2, 1]]
    for p in proc["points"]:
        assert [r["id"] for r in p["routes"]] == ROUTES and all(r["status"] == "ok" for r in p["routes"])
        assert all(len(r["throughput"]["samples"]) == 4 for r in p["routes"])
        assert p["speedup"]["verdict"] in ("faster", "slower", "inconclusive")
    assert proc["recommendation"]["route"] == "torch-qint8-qnnpack" and proc["recommendation"]["gain"]
    doc = build_document(result)
    assert all(r["processes"]["best_split"] in ([1, 1], [2, 1]) for r in doc["routes"])
    summary = format_summary(doc)
    assert "Bulk over processes: P processes × T threads (1 × 1, 2 × 1)" in summary
    assert "split  route" in summary and "For bulk over processes: torch-qint8-qnnpack" in summary


def test_a_group_whose_worker_dies_fails_alone_and_fp32_is_still_measured(tmp_path, free_memory):
    plan = processes_plan(tmp_path, worker_env=(("QTUI_TEST_CRASH", "torch-qint8-qnnpack:span"),))
    result, _ = run_collecting(plan)
    proc = result.processes
    assert proc["available"]
    for p in proc["points"]:
        fp32, int8 = p["routes"]
        assert fp32["status"] == "ok" and fp32["throughput"]["median"] > 0
        assert int8["status"] == "failed" and "died in round 1" in int8["why"] and p["speedup"] is None
    assert any("torch-qint8-qnnpack at 2 × 1: not available: failed" in line
               for line in format_summary(build_document(result)).splitlines())


def test_a_split_that_would_not_fit_in_memory_is_skipped_with_its_reason(tmp_path, free_memory):
    free_memory(100.0)  # 100 MiB: two processes of either route need more
    result, events = run_collecting(processes_plan(tmp_path))
    one, two = result.processes["points"]
    assert all(r["status"] == "ok" for r in one["routes"])  # the run's own workers: nothing new to start
    assert all(r["status"] == "skipped" and "is free" in r["why"] for r in two["routes"])
    assert [(s.processes, s.stage) for s in events if isinstance(s, ProcessesStep)][-1] == (2, "skipped")
