"""`qtui export --pattern`: what a report measured for a route in each call pattern, the runtime settings an
exported folder then runs with, and the README's "How to call it" — on fixture documents (round times chosen,
not measured)."""

import pytest

from tests.app.fakes import latency_document, processes_document, seed_document
from tui.core.export import pattern as patterns
from tui.core.export.manifest import run_as_measured
from tui.core.export.measured import describe, from_report


def test_processes_takes_the_split_the_pass_chose_for_the_route():
    doc = processes_document()
    rec = doc["processes"]["recommendation"]
    assert rec["route"] == "torch-qint8-x86" and rec["split"] == [2, 1]  # the fixture's x86 gains from 2 × 1
    found = patterns.from_report(doc, "torch-qint8-x86", "processes")
    assert (found["processes"], found["threads"], found["variant"]) == (2, 1, None)
    assert found["sent_per_s"] == pytest.approx(256 / 0.75, rel=0.03)  # 2 × 128 texts in about 0.75 s
    assert patterns.from_report(doc, "torch-qint8-qnnpack", "processes") is None  # not the route it chose
    assert patterns.from_report(seed_document(), "torch-qint8-x86", "processes") is None  # nothing measured


def test_online_takes_the_routes_own_quantiles():
    doc = latency_document()
    found = patterns.from_report(doc, "torch-qint8-x86", "online")
    route = next(r for r in doc["routes"] if r["id"] == "torch-qint8-x86")
    assert found["p95"] == route["latency"]["p95"] and found["vs_fp32"]["verdict"] == "faster"
    assert found["recommended"] is (doc["latency"]["recommendation"]["route"] == "torch-qint8-x86")
    assert patterns.from_report(seed_document(), "torch-qint8-x86", "online") is None


def test_measured_numbers_carry_the_pattern_or_none_without_it():
    doc = processes_document()
    found = from_report(doc, "torch-qint8-x86", "r.json", pattern="processes")
    assert found.pattern["name"] == "processes" and found.to_json()["pattern"] == found.pattern
    assert "set up for bulk over 2 processes × 1 thread (" in describe(found.to_json())
    assert from_report(doc, "torch-qint8-qnnpack", "r.json", pattern="processes") is None
    assert from_report(doc, "torch-qint8-qnnpack", "r.json").pattern == {"name": "bulk", "processes": 1}


@pytest.mark.parametrize("variant, hint, pinning", [(None, "LATENCY", None), ("throughput", "THROUGHPUT", None),
                                                    ("unpinned", "LATENCY", False)])
def test_openvino_settings_follow_the_variant(variant, hint, pinning):
    settings = patterns.runtime_settings({"name": "processes", "processes": 2, "threads": 1, "variant": variant},
                                         "openvino")
    assert settings == {"processes": 2, "performance_hint": hint, "cpu_pinning": pinning}
    assert patterns.runtime_settings({"name": "bulk", "processes": 1}, "onnxruntime") == {"processes": 1}


def test_the_dashboard_exports_in_the_runs_pattern_only_where_it_measured_the_route():
    doc = processes_document()
    assert patterns.chosen_for(doc, "torch-qint8-x86", "processes") == "processes"
    assert patterns.chosen_for(doc, "torch-qint8-x86", "all") == "processes"
    assert patterns.chosen_for(doc, "torch-qint8-qnnpack", "all") == "bulk"
    assert patterns.chosen_for(doc, "torch-qint8-x86", "bulk") == "bulk"
    assert patterns.chosen_for(latency_document(), "torch-qint8-x86", "all") == "online"
    assert patterns.chosen_for(None, "torch-qint8-x86", "online") == "bulk"


def readme_doc(pattern: dict, **runtime) -> dict:
    return {"pattern": pattern, "runtime": {"threads": 1, "processes": pattern.get("processes", 1), **runtime}}


def test_the_readme_says_how_to_call_a_folder_set_up_for_processes_or_online():
    split = patterns.from_report(processes_document(), "torch-qint8-x86", "processes")
    lines = "\n".join(run_as_measured(readme_doc(split)))
    assert "Run 2 processes × 1 thread each" in lines and "gunicorn --workers 2" in lines
    assert "CPU pinning is off" not in lines and "THROUGHPUT" not in lines
    pinned_off = "\n".join(run_as_measured(readme_doc({**split, "variant": "unpinned"}, cpu_pinning=False)))
    assert "CPU pinning is off" in pinned_off and "with CPU pinning off" in pinned_off
    online = patterns.from_report(latency_document(), "torch-qint8-x86", "online")
    said = "\n".join(run_as_measured(readme_doc(online)))
    assert "Over 1,000 single-text calls: p50" in said and "not resolved" not in said
    few = "\n".join(run_as_measured(readme_doc({**online, "tail_resolved": False})))
    assert "p99 not resolved" in few
    assert run_as_measured(readme_doc({"name": "bulk", "processes": 1})) == []
