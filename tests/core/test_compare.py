"""N-way comparison of saved reports (pyperf compare_to / asv conventions), on the real Zen 5 report and copies
of it with chosen changes: samples scaled (a faster or an indistinguishable machine), routes removed or failed."""

import copy
import json
import math

import pytest

from tests.conftest import FIXTURES, run_qtui
from tui.core.compare import (
    FASTER,
    NOT_SIGNIFICANT,
    SLOWER,
    compare_reports,
    format_comparison,
    labels_for,
    ratio_text,
)

ZEN5 = FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"


def real() -> dict:
    return json.loads(ZEN5.read_text())


def scaled(doc: dict, factor: float, routes: set[str] | None = None) -> dict:
    """A copy whose throughput samples (and medians) are multiplied by factor: the same run on a machine that
    many times faster, with the same relative noise."""
    out = copy.deepcopy(doc)
    for r in out["routes"]:
        if r.get("throughput") and (routes is None or r["id"] in routes):
            r["throughput"]["samples"] = [s * factor for s in r["throughput"]["samples"]]
            r["throughput"]["median"] *= factor
    return out


def without(doc: dict, *route_ids: str) -> dict:
    out = copy.deepcopy(doc)
    out["routes"] = [r for r in out["routes"] if r["id"] not in route_ids]
    return out


def test_the_first_report_is_the_reference_and_separated_cis_get_a_verdict():
    a, b, c = real(), scaled(real(), 1.8), scaled(real(), 0.5)
    comp = compare_reports([a, b, c], ["a", "b", "c"])
    cell_b, cell_c = comp.cells["torch-qint8-x86"]["b"], comp.cells["torch-qint8-x86"]["c"]
    assert cell_b.verdict == FASTER and cell_b.ratio == pytest.approx(1.8, rel=1e-3)
    assert cell_c.verdict == SLOWER and cell_c.ratio == pytest.approx(0.5, rel=1e-3)
    assert comp.cells["torch-qint8-x86"]["a"].verdict is None  # the reference has nothing to be compared with
    assert cell_b.fastest and not cell_c.fastest and not comp.cells["torch-qint8-x86"]["a"].fastest
    text = format_comparison(comp)
    assert "1.80× faster ★" in text and "2.00× slower" in text and "sent/s (ref)" in text


def test_overlapping_cis_are_not_significant_whatever_the_point_ratio():
    a, b = real(), scaled(real(), 1.01)  # 1 % apart: well inside the rounds' spread
    comp = compare_reports([a, b], ["a", "b"])
    assert {comp.cells[rid]["b"].verdict for rid in comp.routes if comp.cells[rid]["b"].state == "ok"} == {
        NOT_SIGNIFICANT}
    assert "not significant" in format_comparison(comp) and "1.01× faster" not in format_comparison(comp).split(
        "geometric mean")[0]


def test_the_geometric_mean_covers_the_routes_both_ran():
    a, b = real(), scaled(real(), 2.0, routes={"torch-fp32"})  # one route 2×, the others unchanged
    comp = compare_reports([a, without(b, "ort-qint8")], ["a", "b"])
    ratio, count = comp.geomean["b"]
    ran = [r for r in real()["routes"] if r["status"] == "ok"]
    assert count == len(ran) - 1  # ort-qint8 is missing on b, torchao-int8 unavailable on both
    assert ratio == pytest.approx(math.exp(math.log(2.0) / count), rel=1e-3)


def test_missing_and_failed_routes_are_shown_and_listed_never_zero():
    b = without(real(), "openvino-int8")
    for r in b["routes"]:
        if r["id"] == "ort-qint8":
            r.update(status="failed", why="worker died", throughput=None, speedup=None)
    comp = compare_reports([real(), b], ["a", "b"])
    assert comp.cells["openvino-int8"]["b"].state == "missing" and comp.cells["openvino-int8"]["b"].median is None
    assert comp.cells["ort-qint8"]["b"].state == "failed"
    assert ("openvino-int8", "missing", "not in this report") in comp.missing["b"]
    text = format_comparison(comp)
    row = next(line for line in text.splitlines() if line.startswith("openvino-int8"))
    assert "missing" in row and " 0 " not in row
    assert "not in the report: openvino-int8" in text and "failed: ort-qint8 (worker died)" in text
    assert "unavailable: torchao-int8" in text  # unavailable on the reference too: listed for it


def test_json_for_scripts_has_every_route_and_report():
    comp = compare_reports([real(), scaled(real(), 1.8)], ["a", "b"])
    doc = comp.to_json()
    assert doc["schema"] == "qtui.compare/1" and doc["reference"] == "a"
    assert [r["id"] for r in doc["routes"]] == [r["id"] for r in real()["routes"]]
    cell = next(r for r in doc["routes"] if r["id"] == "openvino-int8")["cells"]["b"]
    assert cell["verdict"] == "faster" and cell["fastest"] and len(cell["ci95"]) == 2
    json.dumps(doc, allow_nan=False)  # no NaN leaks into the JSON


def test_ratio_reads_like_pyperf():
    assert ratio_text(1.8) == "1.80× faster" and ratio_text(0.8) == "1.25× slower"


def test_labels_are_file_stems_unless_they_repeat():
    assert labels_for(["out/host-a.json", "out/host-b.json"]) == ["host-a", "host-b"]
    assert labels_for(["x/r.json", "y/r.json", "z/r.json"]) == ["A", "B", "C"]


def test_cli_compares_three_reports_with_json(tmp_path):
    paths = []
    for name, factor in (("old", 1.0), ("new", 1.8), ("same", 1.01)):
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(scaled(real(), factor)))
        paths.append(str(path))
    table = run_qtui("compare", *paths)
    assert table.returncode == 0, table.stderr
    assert "old sent/s (ref)" in table.stdout and "geometric mean" in table.stdout
    as_json = run_qtui("compare", *paths, "--json")
    assert as_json.returncode == 0 and json.loads(as_json.stdout)["geomean"]["new"]["ratio"] == pytest.approx(1.8,
                                                                                                            rel=1e-3)


def test_cli_compare_needs_two_reports():
    result = run_qtui("compare", str(ZEN5))
    assert result.returncode == 2 and "at least two reports" in result.stderr and "Traceback" not in result.stderr


def test_the_frontier_is_compared_where_the_reports_drew_one():
    zen4 = json.loads((FIXTURES / "reports" / "zen4-frontier-stsb.json").read_text())
    other = copy.deepcopy(zen4)
    other["frontier"]["routes"] = [r for r in other["frontier"]["routes"] if r != "openvino-int8@len32"]
    same = format_comparison(compare_reports([zen4, copy.deepcopy(zen4)], ["a", "b"]))
    assert "The frontier is the same on every machine." in same
    text = format_comparison(compare_reports([zen4, other, real()], ["a", "b", "zen5"]))
    assert "a frontier: openvino-int8 → openvino-int8@len32 →" in text
    assert "The frontier differs: openvino-int8@len32 only on a." in text and "zen5 frontier" not in text
    assert compare_reports([zen4, real()], ["a", "zen5"]).to_json()["reports"][1]["frontier"] is None
