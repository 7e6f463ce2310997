"""The coordinator with the real packaged model on tiny workloads: events, crashes, cancellation."""

import tempfile
import threading
import time

import pytest

from benchmarks.processes import is_worker
from tui.core import bench
from tui.core.bench import Plan
from tui.core.cpu import detect
from tui.core.events import FirstAnswer, RoundDone, RouteFailed, RouteReady, RunDone, RunStarted
from tui.core.models import resolve_model
from tui.core.report import SCHEMA, build_document
from tui.core.workload import make_workload

pytestmark = pytest.mark.slow


def tiny_plan(tmp_path, routes, **overrides) -> Plan:
    settings = dict(model=resolve_model(None), workload=make_workload(8, n_calibration=4), routes=tuple(routes),
                    cpu=detect(), batch_size=4, threads=1, max_rounds=3, min_rounds=2, time_budget_s=30,
                    cache_root=tmp_path / "cache", ceilings=False, layers=False)  # rescue: test_layers.py
    settings.update(overrides)
    return Plan(**settings)


def run_collecting(plan, cancel=lambda: False):
    events = []
    result = bench.run(plan, events.append, cancel)
    return result, events


def test_a_run_emits_typed_events_and_a_valid_report(tmp_path):
    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-qnnpack", "torch-bf16"], ceilings=True)
    result, events = run_collecting(plan)
    # torch-bf16 runs only where detect() finds bf16 hardware: assert what is right for this host, both ways.
    bf16_here = plan.cpu.has_bf16_hardware
    measured = {"torch-fp32", "torch-qint8-qnnpack"} | ({"torch-bf16"} if bf16_here else set())
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunDone)
    assert {e.route_id for e in events if isinstance(e, RouteReady)} == measured
    rounds = [e for e in events if isinstance(e, RoundDone)]
    assert [e.round for e in rounds] == list(range(1, result.rounds + 1)) and result.rounds >= 2
    # No long build and no rescue: one stretch of rounds, no first answer before it.
    assert not any(isinstance(e, FirstAnswer) for e in events) and result.first_answer is None
    assert set(rounds[-1].seconds) == measured
    q = result.routes["torch-qint8-qnnpack"]
    assert q.status == "ok" and q.speedup is not None and q.accuracy.cosine_mean > 0.8
    assert len(q.seconds) == result.rounds and q.prepare_s > 0 and q.peak_rss_mb > 100
    doc = build_document(result)
    assert doc["schema"] == SCHEMA and doc["rounds"] == result.rounds
    ids = [r["id"] for r in doc["routes"]]
    assert ids == ["torch-fp32", "torch-qint8-qnnpack", "torch-bf16"]
    bf16 = doc["routes"][2]
    if bf16_here:
        assert bf16["status"] == "ok" and bf16["accuracy"]["cosine_mean"] > 0.99 and bf16["speedup"]
    else:
        assert bf16["status"] == "unavailable" and "bf16" in bf16["why"]
    assert doc["workload"]["mean_tokens"] > 3
    assert doc["noise_floor"]["cosine_mean"] > 0.999
    # Batch invariance: fp32 (the floor) and the int8 route re-encoded the texts alone and re-batched; bf16 not.
    assert doc["routes"][0]["batch_invariance"]["alone_cos_worst"] > 0.99999
    assert doc["routes"][1]["batch_invariance"]["texts_alone"] == len(plan.workload.texts)
    assert bf16.get("batch_invariance") is None
    # The ceilings were measured (a cold cache) for every dtype this CPU has, and each route is judged
    # against its own dtype's bound: a share at most 100 %, or the assumption that failed.
    ceilings = doc["roofline"]["ceilings"]
    assert ceilings["cache"] == "miss" and ceilings["fp32"]["gflops"] > 0 and ceilings["int8"]["gflops"] > 0
    assert ("bf16" in ceilings) == bf16_here
    for rid, judged in doc["roofline"]["routes"].items():
        assert (judged["percent"] is not None and 0 < judged["percent"] <= 100) or judged["exceeds"], rid
        assert judged["of"].startswith("measured"), rid
    # With torch-fp32 the only fp32 route, it is the fastest fp32 and every route's "vs best" is its speedup.
    assert doc["best_fp32"] == {"route": "torch-fp32", "speedup": 1.0}
    assert doc["routes"][1]["vs_best_fp32"] == doc["routes"][1]["speedup"]
    again, _ = run_collecting(plan)
    assert again.ceilings["cache"] == "hit" and again.ceilings["fp32"] == ceilings["fp32"]


@pytest.mark.parametrize("phase", ["loaded", "prepared", "run"])
def test_a_killed_worker_fails_its_route_and_the_run_goes_on(tmp_path, phase, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # where the run's scratch dir goes
    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86"],
                     worker_env=(("QTUI_TEST_CRASH", f"torch-qint8-qnnpack:{phase}"),))
    result, events = run_collecting(plan)
    failed = [e for e in events if isinstance(e, RouteFailed)]
    assert [e.route_id for e in failed] == ["torch-qint8-qnnpack"]
    assert "SIGKILL" in failed[0].why
    assert result.routes["torch-qint8-qnnpack"].status == "failed"
    assert result.routes["torch-qint8-x86"].status == "ok" and result.routes["torch-qint8-x86"].speedup
    assert result.rounds >= 2
    assert not list(tmp_path.glob("qtui-run-*"))  # worker logs and scratch are removed, even after a crash


def test_cancel_stops_within_a_second_and_kills_the_workers(tmp_path):
    import psutil

    cancel = threading.Event()
    cancelled_at = []

    def emit(event):
        if isinstance(event, RoundDone) and not cancel.is_set():
            cancel.set()
            cancelled_at.append(time.monotonic())

    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-qnnpack"], max_rounds=50, time_budget_s=300)
    events = []
    result = bench.run(plan, lambda e: (events.append(e), emit(e)), cancel.is_set)
    assert time.monotonic() - cancelled_at[0] < 1.0
    assert isinstance(events[-1], RunDone) and events[-1].cancelled
    assert result.stop_reason == "cancelled" and result.rounds >= 1
    assert result.routes["torch-qint8-qnnpack"].seconds  # finished rounds are kept
    workers = [c for c in psutil.Process().children(recursive=True)
               if c.is_running() and c.status() != "zombie" and is_worker(c)]
    assert not workers  # (multiprocessing's resource tracker may stay; it is not a worker)


def test_the_baseline_failing_ends_the_run_with_a_reason(tmp_path):
    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-qnnpack"],
                     worker_env=(("QTUI_TEST_CRASH", "torch-fp32:prepared"),))
    result, _ = run_collecting(plan)
    assert result.routes["torch-fp32"].status == "failed"
    assert "baseline" in result.stop_reason and result.rounds == 0


def test_sweep_times_fp32_against_the_route_per_cell(tmp_path):
    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-x86"], max_rounds=2, profile=False,
                     sweep_route="torch-qint8-x86", sweep_cells=((1, 8), (4, 32)))
    result, events = run_collecting(plan)
    cells = result.sweep["cells"]
    assert [(c["batch_size"], c["seq_len"]) for c in cells] == [(1, 8), (4, 32)]  # "the" is one BERT token
    assert all(c["speedup"] > 0 and c["fp32_ms"] > 0 for c in cells)
    assert build_document(result)["sweep"]["route"] == "torch-qint8-x86"


def test_threads_sweep_times_fp32_and_the_int8_route_per_count_and_a_failing_worker_degrades(tmp_path):
    """The run's own pair serves 1 thread; the 2-thread pair is new, and its int8 worker is killed mid-round."""
    from tui.core.events import ThreadsStep
    from tui.core.report import to_markdown

    plan = tiny_plan(tmp_path, ["torch-fp32", "torch-qint8-x86"], max_rounds=2, profile=False,
                     threads_sweep=(1, 2), threads_sweep_rounds=3,
                     worker_env=(("QTUI_TEST_CRASH", "torch-qint8-x86:run-threads-2"),))
    result, events = run_collecting(plan)
    steps = [(e.threads, e.stage) for e in events if isinstance(e, ThreadsStep)]
    assert steps == [(1, "preparing"), (1, "measuring"), (1, "done"), (2, "preparing"), (2, "measuring"),
                     (2, "done")]
    sweep = build_document(result)["threads_sweep"]
    assert sweep["route"] == "torch-qint8-x86" and sweep["available"] and sweep["counts"] == [1, 2]
    one, two = sweep["points"]
    for r in one["routes"]:
        assert r["status"] == "ok" and r["threads_used"] == 1 and len(r["throughput"]["samples"]) == 3
        lo, hi = r["throughput"]["ci95"]
        assert 0 < lo <= r["throughput"]["median"] <= hi
    assert one["speedup"]["point"] > 0 and len(one["speedup"]["ci95"]) == 2
    fp32, x86 = two["routes"]
    assert fp32["status"] == "ok" and fp32["threads_used"] == 2 and len(fp32["throughput"]["samples"]) == 3
    assert x86["status"] == "failed" and "died in round 1" in x86["why"] and x86["throughput"] is None
    assert two["speedup"] is None
    assert [(s["route"], s["from"], s["to"]) for s in sweep["steps"]] == [("torch-fp32", 1, 2)]
    assert "torch-qint8-x86 at 2 threads: not available: failed" in to_markdown(build_document(result))
    assert result.routes["torch-qint8-x86"].status == "ok"  # the main run's route is untouched


def test_a_long_build_joins_after_the_first_answer_and_is_paired_only_on_the_rounds_it_ran(tmp_path):
    from tui.core.engines import recommend
    from tui.core.events import RoutePhase

    engine = recommend(detect()).engine
    wanted = [f"torch-qint8-{engine}"] if engine not in (None, "qnnpack") else []  # this CPU's engine
    seed = ["torch-fp32", "torch-qint8-qnnpack", *wanted]
    plan = tiny_plan(tmp_path, [*seed, "torch-qint8-qnnpack-perchannel", "ort-fp32"])
    result, events = run_collecting(plan)
    [first] = [e for e in events if isinstance(e, FirstAnswer)]
    at = events.index(first)
    before, after = events[:at], events[at:]
    # Before the answer: only the seed routes were started, prepared and timed; the others waited, not even loading.
    assert {e.route_id for e in before if isinstance(e, RoutePhase) and e.phase == "starting"} == set(seed)
    assert {e.route_id for e in before if isinstance(e, RouteReady)} == set(seed)
    assert all(set(e.seconds) == set(seed) for e in before if isinstance(e, RoundDone))
    assert set(first.speedups) == set(seed) - {"torch-fp32"} and first.rounds == plan.min_rounds
    assert first.preparing == {"torch-qint8-qnnpack-perchannel": "", "ort-fp32": "an ONNX export"}
    assert {e.route_id for e in after if isinstance(e, RouteReady)} == {"torch-qint8-qnnpack-perchannel", "ort-fp32"}
    ort, fp32 = result.routes["ort-fp32"], result.routes["torch-fp32"]
    assert ort.status == "ok" and min(ort.seconds) == first.rounds  # 0-based: its first round came after the answer
    assert sorted(fp32.seconds) == list(range(result.rounds))  # fp32 ran in every round
    # Paired only on the rounds both ran, and given the round limit again from its joining.
    assert ort.speedup.rounds == len(ort.seconds) <= plan.max_rounds and result.rounds > plan.max_rounds - 1
    assert len(result.routes["torch-qint8-qnnpack"].seconds) == result.rounds
    doc = build_document(result)
    assert doc["first_answer"]["rounds"] == first.rounds and doc["first_answer"]["after_s"] == first.after_s
    assert [r["rounds"] for r in doc["routes"] if r["id"] == "ort-fp32"] == [len(ort.seconds)]

