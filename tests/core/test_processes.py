"""--pattern processes, the pure half: the splits planned for a machine, the limits, the statistics of a split,
the answer for bulk over processes and its words (synthetic round times through the real code)."""

import argparse
import dataclasses
from pathlib import Path

import pytest

from tui.core import processes as proc
from tui.core.cpu import parse_cpuinfo_text
from tui.errors import UserError
from tui.options import build_plan, default_options

CPUINFO = Path(__file__).resolve().parent.parent / "fixtures" / "cpuinfo"


@pytest.mark.parametrize(("threads", "splits"), [
    (1, [(1, 1)]),
    (2, [(1, 2), (2, 1)]),
    (12, [(1, 12), (2, 6), (3, 4), (4, 3), (6, 2), (12, 1)]),
    (16, [(1, 16), (2, 8), (4, 4), (8, 2), (16, 1)]),
    (7, [(1, 7), (7, 1)]),
])
def test_every_split_of_the_threads_is_planned_one_process_first(threads, splits):
    assert list(proc.default_splits(threads)) == splits


@pytest.mark.parametrize("threads", [48, 60, 96, 128])
def test_a_count_with_many_divisors_keeps_both_ends_and_at_most_six_splits(threads):
    splits = proc.default_splits(threads)
    assert splits[0] == (1, threads) and splits[-1] == (threads, 1)
    assert len(splits) <= proc.MAX_SPLITS and all(p * t == threads for p, t in splits)
    assert [p for p, _ in splits] == sorted({p for p, _ in splits})  # fewest processes first, no repeats


def fixture_cpu(name: str, **changes):
    cpu = parse_cpuinfo_text((CPUINFO / name).read_text(), source="fixture")
    return dataclasses.replace(cpu, **changes) if changes else cpu


def plan_on(monkeypatch, cpu, **options):
    monkeypatch.setattr("tui.core.cpu.detect", lambda: cpu)
    args = default_options()
    for key, value in {"routes": "torch-fp32", "pattern": "processes", **options}.items():
        setattr(args, key, value)
    return build_plan(args)


@pytest.mark.parametrize(("fixture", "changes", "splits"), [
    ("intel-alderlake-i7-12700.txt", {}, [(1, 12), (2, 6), (3, 4), (4, 3), (6, 2), (12, 1)]),
    ("macos-intel-i9-sysctl.txt", {}, [(1, 8), (2, 4), (4, 2), (8, 1)]),
    ("intel-sapphirerapids-8488c.txt", {"physical_cores": 16, "logical_cpus": 32},
     [(1, 16), (2, 8), (4, 4), (8, 2), (16, 1)]),
])
def test_the_plan_splits_the_physical_cores_of_the_machine_it_runs_on(monkeypatch, fixture, changes, splits):
    plan = plan_on(monkeypatch, fixture_cpu(fixture, **changes))
    assert list(plan.process_splits) == splits and plan.pattern == "processes"


def test_a_split_beyond_the_cpus_is_refused_with_the_cpu_count(monkeypatch):
    cpu = fixture_cpu("intel-alderlake-i7-12700.txt")  # 20 logical CPUs
    with pytest.raises(UserError, match=r"4x8 needs 32 CPUs; this machine has 20"):
        plan_on(monkeypatch, cpu, processes=((2, 10), (4, 8)))
    assert plan_on(monkeypatch, cpu, processes=((2, 10),)).process_splits == ((2, 10),)


def test_processes_without_the_pattern_is_refused(monkeypatch):
    with pytest.raises(UserError, match="--processes needs --pattern processes or all"):
        plan_on(monkeypatch, fixture_cpu("amd-zen4-epyc-9r14.txt"), pattern="bulk", processes=((2, 1),))


@pytest.mark.parametrize(("text", "expected"), [("1x2,2x1", ((1, 2), (2, 1))), ("2×1, 2X1", ((2, 1),))])
def test_splits_are_read_as_processes_x_threads(text, expected):
    assert proc.parse_splits(text) == expected


@pytest.mark.parametrize(("text", "words"), [("2by1", "not a split"), ("0x4", "1 or more"), ("x2", "not a split")])
def test_a_bad_split_says_what_is_wrong(text, words):
    with pytest.raises(ValueError, match=words):
        proc.parse_splits(text)


def test_options_parser_turns_a_bad_split_into_an_argparse_error():
    from tui.options import process_splits

    with pytest.raises(argparse.ArgumentTypeError, match="PROCESSESxTHREADS"):
        process_splits("two")


def test_a_split_that_would_not_fit_in_memory_says_how_much_it_needs():
    assert proc.memory_shortfall(2, {"a": 500, "b": 300}, 10_000) is None
    why = proc.memory_shortfall(16, {"a": 600, "b": 500}, 12_000)
    assert why and "16 processes per route would need about 17.2 GiB" in why and "11.7 GiB is free" in why
    assert proc.memory_shortfall(64, {"a": None}, 100) is None  # unknown: no claim


# ----------------------------------------------------------------------------------------- statistics

BASE, INT8 = "torch-fp32", "ort-qint8"
TEXTS = 64


def seconds(level: float, spread: float = 0.01, n: int = 6) -> list[float]:
    return [level * (1 + spread * ((i % 3) - 1)) for i in range(n)]


def measured(**levels) -> dict:
    return {rid.replace("_", "-"): {"status": "ok", "threads_used": 1, "seconds": seconds(s), "facts": {}}
            for rid, s in levels.items()}


def two_splits(fp32_one=1.0, int8_one=0.4, fp32_two=1.6, int8_two=0.5, variant=None) -> dict:
    """1 × 2 and 2 × 1: round wall times (2 × 1 processes twice the texts in its rounds)."""
    one = {"torch-fp32": fp32_one, "ort-qint8": int8_one}
    m_one = {rid: {"status": "ok", "threads_used": 2, "seconds": seconds(s), "facts": {}} for rid, s in one.items()}
    if variant:
        m_one["openvino-int8"] = {"status": "ok", "threads_used": 2, "seconds": seconds(variant[0]), "facts": {}}
        m_one["openvino-int8+throughput"] = {"status": "ok", "threads_used": 2, "seconds": seconds(variant[1]),
                                             "facts": {"infer_requests": 2, "streams": 2}}
    m_two = {rid: {"status": "ok", "threads_used": 1, "seconds": seconds(s), "facts": {}}
             for rid, s in {"torch-fp32": fp32_two, "ort-qint8": int8_two}.items()}
    points = [proc.point((1, 2), m_one, TEXTS, BASE, INT8), proc.point((2, 1), m_two, TEXTS, BASE, INT8)]
    return proc.document(baseline=BASE, route=INT8, route_why="the recommended int8 route",
                         variant_route="openvino-int8" if variant else None, threads=2, splits=((1, 2), (2, 1)),
                         rounds=6, points=points)


def test_throughput_counts_every_process_and_the_speedup_pairs_rounds_of_one_split():
    doc = two_splits()
    one, two = doc["points"]
    assert (one["processes"], one["threads"], two["processes"], two["threads"]) == (1, 2, 2, 1)
    fp32_two = next(r for r in two["routes"] if r["id"] == BASE)["throughput"]["median"]
    assert fp32_two == pytest.approx(2 * TEXTS / 1.6, rel=1e-3)  # two processes' texts over the wall time
    assert two["speedup"]["point"] == pytest.approx(1.6 / 0.5, rel=1e-3) and two["speedup"]["verdict"] == "faster"


def test_the_best_split_is_judged_against_one_process_with_a_ci():
    doc = two_splits()  # int8: 64/0.4 = 160 sent/s in 1 × 2, 128/0.5 = 256 in 2 × 1
    best = doc["best"][INT8]
    assert best["split"] == [2, 1] and best["one_process"] == [1, 2]
    assert best["vs_one_process"]["point"] == pytest.approx(1.6, rel=1e-3)
    assert best["vs_one_process"]["verdict"] == "faster"
    rec = doc["recommendation"]
    assert rec["route"] == INT8 and rec["split"] == [2, 1] and rec["variant"] is None
    assert rec["why"].startswith("1.60× [") and rec["why"].endswith("the throughput of 1 process × 2 threads")


def test_no_split_beating_one_process_keeps_one_process():
    doc = two_splits(int8_one=0.5, int8_two=1.0)  # the same throughput either way
    rec = doc["recommendation"]
    assert rec["split"] == [1, 2] and "nothing beat 1 process × 2 threads conclusively" in rec["why"]
    assert "nothing beat one process conclusively for ort-qint8" in proc.finding_clause({"processes": doc})


def test_the_throughput_hint_is_paired_with_fp32_and_its_latency_hint():
    doc = two_splits(variant=(0.30, 0.25))
    var = doc["variants"]["openvino-int8+throughput"]
    assert var["of"] == "openvino-int8" and var["kind"] == "throughput" and var["vs_route"]["verdict"] == "faster"
    assert var["vs_route"]["point"] == pytest.approx(0.30 / 0.25, rel=1e-3)
    assert var["vs_fp32"]["point"] == pytest.approx(1.0 / 0.25, rel=1e-3)
    routes = [{"id": r} for r in (BASE, INT8, "openvino-int8")]
    report = {"routes": routes, "processes": doc}
    proc.attach(report)
    assert routes[2]["processes"]["variants"]["throughput"]["id"] == "openvino-int8+throughput"
    assert routes[1]["processes"]["best_split"] == [2, 1] and routes[0]["processes"]["sent_per_s"] > 0
    lines = proc.conclusions(doc)
    assert any("openvino-int8 THROUGHPUT (2 requests) at 1 × 2: 1.20×" in line and "LATENCY hint" in line
               for line in lines)


def test_the_table_has_a_row_per_split_and_route_and_fits_80_columns_narrow():
    doc = two_splits(variant=(0.30, 0.25))
    headers, rows = proc.table(doc)
    assert headers[:3] == ["split", "route", "sent/s [95% CI]"]
    assert [row[:2] for row in rows] == [["1 × 2", BASE], ["1 × 2", INT8], ["1 × 2", "openvino-int8"],
                                         ["1 × 2", "openvino-int8 THROUGHPUT (2 requests)"], ["2 × 1", BASE],
                                         ["2 × 1", INT8]]
    assert rows[5][4] == "1.60×" and rows[0][3] == "ref"
    narrow_headers, narrow = proc.table(doc, narrow=True)
    assert len(narrow_headers) == 4 and max(len("  ".join(r)) for r in narrow) < 80


def test_the_finding_names_the_split_when_it_changes_the_answer():
    doc = two_splits()
    assert proc.finding_clause({"processes": doc}) == (
        " Bulk over processes: ort-qint8 as 2 processes × 1 thread, 1.60× one process.")


def test_unpinned_openvino_in_several_processes_is_measured_beside_the_pinned_default():
    """The trap this variant exists for: every process of a pinned OpenVINO route on the same cores."""
    base, rid = BASE, "openvino-int8"
    m_one = {g: {"status": "ok", "threads_used": 2, "seconds": seconds(s), "facts": {}}
             for g, s in {base: 1.0, rid: 0.25}.items()}
    m_two = {g: {"status": "ok", "threads_used": 1, "seconds": seconds(s), "facts": {}}
             for g, s in {base: 1.6, rid: 0.9, f"{rid}+unpinned": 0.42}.items()}
    points = [proc.point((1, 2), m_one, TEXTS, base, rid), proc.point((2, 1), m_two, TEXTS, base, rid)]
    doc = proc.document(baseline=base, route=rid, route_why="", variant_route=rid, threads=2,
                        splits=((1, 2), (2, 1)), rounds=6, points=points)
    var = doc["variants"][f"{rid}+unpinned"]
    assert var["kind"] == "unpinned" and var["vs_route"]["point"] == pytest.approx(0.9 / 0.42, rel=1e-3)
    rec = doc["recommendation"]  # 256/0.42 = 305 sent/s unpinned in 2 × 1 against 64/0.25 = 256 in 1 × 2
    assert (rec["route"], rec["split"], rec["variant"], rec["gain"]["verdict"]) == (rid, [2, 1], "unpinned", "faster")
    assert "with CPU pinning off" in proc.finding_clause({"processes": doc})
    assert any("openvino-int8 unpinned at 2 × 1: 2.14×" in line and "pinned (OpenVINO's default)" in line
               for line in proc.conclusions(doc))


def test_a_failed_group_says_why_and_a_missing_baseline_makes_it_unavailable():
    m = {BASE: {"status": "failed", "why": "died in round 2: killed"},
         INT8: {"status": "ok", "threads_used": 1, "seconds": seconds(0.4), "facts": {}}}
    doc = proc.document(baseline=BASE, route=INT8, route_why="", variant_route=None, threads=2,
                        splits=((2, 1),), rounds=6, points=[proc.point((2, 1), m, TEXTS, BASE, INT8)])
    assert not doc["available"] and "torch-fp32 at 2 × 1: failed — died in round 2" in doc["why"]
    assert proc.conclusions(doc) == [f"not available: {doc['why']}"]
    gone = proc.unavailable(((1, 2), (2, 1)), 2, "the run was cancelled", BASE)
    assert not gone["available"] and gone["why"] == "the run was cancelled" and gone["splits"] == [[1, 2], [2, 1]]
