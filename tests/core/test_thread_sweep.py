"""--threads-sweep's pure half: which counts, which route, step verdicts, plateaus, words and rows (synthetic data)."""

import json
import math
from types import SimpleNamespace

import pytest

from tests.synthetic import threads_sweep
from tui.core import thread_sweep as ts
from tui.core.report import format_threads_sweep
from tui.core.stats import Speedup

FP32, X86 = "torch-fp32", "torch-qint8-x86"


@pytest.mark.parametrize("physical, logical, counts", [
    (2, 2, (1, 2)), (12, 24, (1, 2, 4, 8, 12)), (8, 16, (1, 2, 4, 8)), (None, 4, (1, 2, 4)),
    (1, 2, (1, 2)),  # one core: its SMT sibling is the only thing to compare with
    (1, 1, (1,)),
])
def test_default_counts_double_up_to_the_physical_cores(physical, logical, counts):
    assert ts.default_counts(physical, logical) == counts


@pytest.mark.parametrize("gain, lo, hi, verdict", [
    (1.5, 1.3, 1.7, "pays"),
    (1.05, 1.02, 1.08, "flat"),  # a real gain, but clearly under 10 %
    (1.05, 0.9, 1.3, "flat"),  # under 10 % and the two counts cannot be told apart
    (0.8, 0.7, 0.9, "loses"),
    (1.3, 0.95, 1.6, "unclear"),  # a big point gain the CI does not support
    (1.08, 1.02, 1.15, "unclear"),  # a real gain that may reach 10 %
    (1.5, None, None, "unclear"),  # no CI: claim nothing
    (0.5, math.nan, math.nan, "unclear"),
])
def test_step_verdicts(gain, lo, hi, verdict):
    assert ts.step_verdict(gain, lo, hi) == verdict


def steps(*verdicts):
    counts = [1, 2, 4, 8, 16][: len(verdicts) + 1]
    return [{"from": a, "to": b, "verdict": v} for a, b, v in zip(counts, counts[1:], verdicts, strict=False)]


@pytest.mark.parametrize("verdicts, after", [
    (("pays", "flat"), 2), (("pays", "pays"), None), (("flat", "flat"), 1), (("pays", "unclear"), None),
    (("flat", "pays", "loses"), 4), (("pays", "loses", "flat"), 2), ((), None),
])
def test_stops_paying_after_the_last_step_that_pays(verdicts, after):
    assert ts.stops_paying_after(steps(*verdicts)) == after


def test_a_sweep_gives_each_route_a_curve_with_cis_and_finds_where_threads_stop_paying():
    sweep = threads_sweep({FP32: {1: 100, 2: 190, 4: 200}, X86: {1: 250, 2: 260, 4: 255}}, route=X86)
    json.dumps(sweep, allow_nan=False)  # valid JSON: no NaN
    assert sweep["available"] and sweep["counts"] == [1, 2, 4]
    for p in sweep["points"]:
        for r in p["routes"]:
            lo, hi = r["throughput"]["ci95"]
            assert lo <= r["throughput"]["median"] <= hi and len(r["throughput"]["samples"]) == 5
        s = p["speedup"]
        assert s["ci95"][0] <= s["point"] <= s["ci95"][1]
    # paired medians of rotated ±2 % patterns: within 2 % of the chosen ratios
    assert [p["speedup"]["point"] for p in sweep["points"]] == pytest.approx([2.5, 260 / 190, 255 / 200], rel=0.02)
    fp32_steps = [s for s in sweep["steps"] if s["route"] == FP32]
    assert [(s["from"], s["to"], s["verdict"]) for s in fp32_steps] == [(1, 2, "pays"), (2, 4, "flat")]
    assert fp32_steps[0]["efficiency"] == pytest.approx(0.95, abs=0.01)
    after = {s["route"]: s["stops_paying_after"] for s in sweep["scaling"]}
    assert after == {FP32: 2, X86: 1}
    text = " ".join(ts.conclusions(sweep))
    assert "torch-fp32: adding threads stops paying after 2 (2→4: +5 %" in text
    assert "torch-qint8-x86: adding threads stops paying after 1 (1→2: +4 %" in text


def test_a_route_still_scaling_is_said_so():
    sweep = threads_sweep({FP32: {1: 100, 2: 195}}, route=None)
    assert sweep["scaling"][0]["stops_paying_after"] is None
    lines = ts.conclusions(sweep)
    assert lines[0].startswith("torch-fp32: still gains at 2 threads (1→2: +95 %")
    assert lines[1].startswith("int8: not available:")


def test_a_failed_count_is_not_available_with_its_reason_and_the_rest_stands():
    sweep = threads_sweep({FP32: {1: 100, 2: 190}, X86: {1: 250}}, route=X86,
                          failed={(X86, 2): "worker killed by SIGKILL"})
    two = sweep["points"][1]
    assert two["speedup"] is None
    assert next(r for r in two["routes"] if r["id"] == X86)["status"] == "failed"
    headers, rows = ts.table(sweep)
    assert headers == ["threads", "torch-fp32 sent/s", "torch-qint8-x86 sent/s", "speedup [95 % CI]"]
    assert rows[1][2] == "failed" and rows[1][3] == "—" and rows[0][3].startswith("2.52× [")
    text = "\n".join(ts.conclusions(sweep))
    assert "torch-qint8-x86: one thread count measured, nothing to compare" in text
    assert "torch-qint8-x86 at 2 threads: not available: failed — worker killed by SIGKILL" in text


def test_a_sweep_that_measured_nothing_says_why_instead_of_an_empty_table():
    sweep = ts.unavailable((1, 2), "the fp32 baseline could not run (no model)", FP32)
    assert not sweep["available"]
    assert ts.conclusions(sweep) == ["not available: the fp32 baseline could not run (no model)"]
    assert format_threads_sweep(sweep).splitlines()[1] == "not available: the fp32 baseline could not run (no model)"
    failed_everywhere = threads_sweep({}, route=None, failed={(FP32, 1): "oom", (FP32, 2): "oom"})
    assert not failed_everywhere["available"] and "torch-fp32 at 1 thread: failed — oom" in failed_everywhere["why"]


def test_markdown_and_text_show_the_same_numbers():
    sweep = threads_sweep({FP32: {1: 100, 2: 190}, X86: {1: 250, 2: 400}}, route=X86)
    text, markdown = format_threads_sweep(sweep), format_threads_sweep(sweep, markdown=True)
    for row in ts.table(sweep)[1]:
        for cell in row:
            assert cell in text and cell in markdown
    assert "| threads | torch-fp32 sent/s |" in markdown


def fake_route(dtype, status="ok", cosine=None, why=None):
    return SimpleNamespace(spec=SimpleNamespace(dtype=dtype, aside=False), status=status, why=why,
                           accuracy=SimpleNamespace(cosine_mean=cosine) if cosine is not None else None)


def speedup(point, verdict):
    return Speedup(point, (point * 0.95, point * 1.05), verdict, 5, 0.05)


def test_the_route_swept_is_the_recommended_int8_route_else_the_best_that_ran():
    routes = {FP32: fake_route("fp32"), "torch-qint8-qnnpack": fake_route("qint8", cosine=0.995),
              X86: fake_route("qint8", cosine=0.995), "ort-qint8": fake_route("int8", cosine=0.95),
              "torch-bf16": fake_route("bf16", cosine=0.999)}
    speedups = {"torch-qint8-qnnpack": speedup(0.4, "slower"), X86: speedup(2.0, "faster"),
                "ort-qint8": speedup(3.0, "faster"), "torch-bf16": speedup(4.0, "faster")}
    assert ts.pick_route(routes, speedups, 0.99) == (X86, ts.pick_route(routes, speedups, 0.99)[1])
    assert "recommended" in ts.pick_route(routes, speedups, 0.99)[1]
    speedups[X86] = speedup(1.0, "inconclusive")
    rid, why = ts.pick_route(routes, speedups, 0.99)
    assert rid == X86 and "none was conclusively faster" in why
    rid, why = ts.pick_route(routes, speedups, 0.999)  # nothing accurate enough: the fastest int8 route
    assert rid == "ort-qint8" and "0.999" in why


def test_no_int8_route_measured_says_why():
    routes = {FP32: fake_route("fp32"), X86: fake_route("qint8", status="unavailable", why="not on ARM")}
    rid, why = ts.pick_route(routes, {}, 0.99)
    assert rid is None and "torch-qint8-x86 unavailable: not on ARM" in why
    assert ts.pick_route({FP32: fake_route("fp32")}, {}, 0.99) == (None, "no int8 route was in this run (add one "
                                                                        "with --routes)")


def test_headless_progress_names_each_count_and_its_numbers():
    from tui.core.events import ThreadsStep
    from tui.progress import StderrProgress

    sweep = threads_sweep({FP32: {1: 100, 2: 190}, X86: {1: 250}}, route=X86, failed={(X86, 2): "oom"})
    assert StderrProgress.describe(ThreadsStep(2, 1, 2, "preparing")) == "thread sweep 2/2: 2 threads — preparing…"
    assert StderrProgress.describe(ThreadsStep(2, 2, 2, "measuring")) is None
    line = StderrProgress.describe(ThreadsStep(1, 1, 2, "done", sweep["points"][0]))
    assert line.startswith("thread sweep 1/2: 1 thread  torch-fp32 100 sent/s  torch-qint8-x86 250 sent/s  2.")
    assert StderrProgress.describe(ThreadsStep(2, 2, 2, "done", sweep["points"][1])).endswith("torch-qint8-x86 failed")


def test_a_count_beats_another_by_the_ratio_ci_of_the_steps_even_when_the_two_cis_touch():
    """As measured here under load: 1 thread 283 [182–323] sent/s, 2 threads 114 [94–185] — the two CIs overlap,
    yet the ratio of the medians is conclusively below 1, which is what the step verdict says too."""
    one, two = [182, 250, 283, 300, 323], [94, 100, 114, 150, 185]
    points = [ts.point(n, {FP32: {"status": "ok", "threads_used": n, "seconds": [128 / x for x in tps]}}, 128, FP32,
                       None) for n, tps in ((1, one), (2, two))]
    sweep = ts.document(baseline=FP32, route=None, route_why="", counts=(1, 2), rounds=5, points=points)
    lo1 = points[0]["routes"][0]["throughput"]["ci95"][0]
    hi2 = points[1]["routes"][0]["throughput"]["ci95"][1]
    assert lo1 <= hi2  # the per-count CIs touch
    assert sweep["steps"][0]["verdict"] == "loses"
    assert ts.conclusively_above(sweep, FP32, 1, 2) and not ts.conclusively_above(sweep, FP32, 2, 1)
