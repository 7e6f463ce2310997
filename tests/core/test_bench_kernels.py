"""The coordinator's kernels pass with the real model on a tiny workload: every route that ran gets its kernels
after the timed rounds; a worker that dies while capturing keeps its measured rounds and says why the capture is
missing; `kernels=False` (--no-kernels) skips the pass."""

import pytest

from tests.core.test_bench import run_collecting, tiny_plan
from tui.core.events import RoutePhase
from tui.core.report import build_document

pytestmark = pytest.mark.slow


def test_kernels_come_after_the_rounds_and_a_worker_dying_there_keeps_its_results(tmp_path):
    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-x86"], profile=False,
                     worker_env=(("QTUI_TEST_CRASH", "torch-qint8-x86:kernels"),))
    result, events = run_collecting(plan)
    phases = [(e.route_id, e.phase) for e in events if isinstance(e, RoutePhase)]
    last_round = max(i for i, p in enumerate(phases) if p[1] == "measuring")
    assert min(i for i, p in enumerate(phases) if p[1] == "kernels") > last_round  # never during timed rounds
    x86 = result.routes["torch-qint8-x86"]
    assert x86.status == "ok" and x86.speedup is not None  # the measured rounds are kept
    assert x86.kernels["available"] is False and "SIGKILL" in x86.kernels["why"]
    assert x86.kernels["summary"][0].startswith("not available: the capture stopped its worker")
    fp32 = build_document(result)["routes"][0]["kernels"]
    assert fp32["available"] and fp32["summary"]  # the baseline's capture is unaffected


def test_no_kernels_skips_the_pass(tmp_path):
    result, events = run_collecting(tiny_plan(tmp_path, ["torch-fp32"], profile=False, kernels=False, max_rounds=2))
    assert result.routes["torch-fp32"].kernels is None
    assert not [e for e in events if isinstance(e, RoutePhase) and e.phase == "kernels"]
