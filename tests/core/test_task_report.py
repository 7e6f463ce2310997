"""With a task, the recommendation, the finding, the advice, the summary, compare, the fleet row and the export speak
the task's unit (synthetic reports through the real selection and rendering code)."""

from __future__ import annotations

from tests.synthetic import STSB_TASK, doc, route
from tui.core.advice import explain
from tui.core.cpu import CpuProfile

BASE = route("torch-fp32", cosine=None, kept=None)
BASE["task"] = {"score": 0.8203, "ci95": [0.798, 0.842], "metrics": {}, "kept": None}
CPU = CpuProfile(arch="x86_64", vendor="AuthenticAMD", model="AMD EPYC", features=frozenset({"avx2", "fma"}),
                 logical_cpus=2, physical_cores=2, source="test")


def _report(routes, max_task_loss=1.0, **kwargs):
    return doc([BASE, *routes], task=STSB_TASK, max_task_loss=max_task_loss, **kwargs)


def test_the_fastest_route_within_the_task_budget_is_recommended():
    fast = route("openvino-int8", 5.0, cosine=0.995, kept=(0.985, 0.978, 0.991))  # over a 1 % budget
    good = route("ort-qint8", 3.0, cosine=0.992, kept=(0.996, 0.993, 0.999))
    rec = _report([fast, good])["recommendation"]
    assert rec["route"] == "ort-qint8"
    assert "keeps 99.6 % of fp32's STS-B Spearman, 95 % CI 99.3–99.9" in rec["why"]
    assert _report([fast, good], max_task_loss=2.5)["recommendation"]["route"] == "openvino-int8"  # 97.8 ≥ 97.5
    assert _report([fast, good], max_task_loss=0.5)["recommendation"]["route"] == "torch-fp32"  # 99.3 < 99.5


def test_a_route_whose_kept_share_is_unknown_is_not_recommended_by_the_task():
    unscored = route("ort-qint8", 3.0, cosine=0.999)
    unscored["task"], unscored["task_why"] = None, "its worker stopped while scoring the task"
    rec = _report([unscored])["recommendation"]
    assert rec["route"] == "torch-fp32" and "not measured (its worker stopped" in rec["why"]


def test_the_finding_speaks_the_task_unit():
    report = _report([route("ort-qint8", 3.0, cosine=0.992, kept=(0.996, 0.993, 0.999))])
    headline = explain(CPU, report).finding.headline
    assert "keeps 99.6 % of fp32's STS-B Spearman" in headline and "cosine 0.99" not in headline


def test_task_vs_cosine_when_the_cosine_passes_but_the_task_loses_more_than_the_budget():
    report = _report([route("openvino-int8", 5.0, cosine=0.995, kept=(0.975, 0.968, 0.982))])
    item = next(a for a in explain(CPU, report).advice if a.code == "task-vs-cosine")
    assert item.kind == "caveat" and "mean cosine 0.9950 ≥ 0.99" in item.evidence
    assert "keeps 97.5 % of fp32's STS-B Spearman" in item.evidence
    assert "--routes torch-fp32,openvino-int8-mixed and the same --task" in item.fix  # the mix that starts no rescue


def test_task_vs_cosine_names_the_faster_route_the_cosine_gate_would_have_thrown_away():
    thrown = route("openvino-int8", 5.0, cosine=0.985, kept=(0.995, 0.991, 0.998))
    kept_by_cosine = route("ort-qint8", 2.5, cosine=0.995, kept=(0.997, 0.994, 0.999))
    report = _report([thrown, kept_by_cosine])
    assert report["recommendation"]["route"] == "openvino-int8"
    item = next(a for a in explain(CPU, report).advice if a.code == "task-vs-cosine")
    assert item.kind == "gain" and item.gain == 2.0 and "ort-qint8" in item.evidence
    assert "mean cosine 0.9850 < 0.99" in item.evidence


def test_no_task_no_task_advice_and_the_cosine_gate_as_before():
    report = doc([route("torch-fp32"), route("openvino-int8", 5.0, cosine=0.985)])
    assert report["recommendation"]["route"] == "torch-fp32"
    assert not any(a.code == "task-vs-cosine" for a in explain(CPU, report).advice)


def test_the_summary_markdown_compare_fleet_and_export_show_the_kept_share():
    from tui.core.compare import compare_text
    from tui.core.export.measured import describe, from_report
    from tui.core.fleet_view import recommended
    from tui.core.report import format_summary, to_markdown

    report = _report([route("ort-qint8", 3.0, cosine=0.992, kept=(0.996, 0.993, 0.999))])
    report["finding"], report["advice"] = {"kind": "faster", "headline": "h"}, []
    summary = format_summary(report)
    assert "task kept (score)" in summary and "99.6 % (0.797)" in summary and "0.820 (ref)" in summary
    assert "Task: STS-B test split — 1379 pairs" in summary
    assert "| task kept (score) |" in to_markdown(report)
    assert "task 99.6 %" in compare_text([report, report], ["a", "b"])
    assert recommended(report)["recommended"] == "ort-qint8 (task 99.6 %)"
    measured = from_report(report, "ort-qint8", "r.json")
    assert "keeps 99.6 % of fp32's STS-B Spearman" in describe(measured.to_json())
