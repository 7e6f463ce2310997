import json

import pytest

from tests.synthetic import BASE, doc, route
from tui.core.compare import compare_text
from tui.core.report import (
    SCHEMA,
    ReportError,
    check_writable,
    format_summary,
    load_report,
    recommend_route,
    to_markdown,
    write_atomic,
)


def test_recommends_the_fastest_conclusive_and_accurate_route():
    routes = [BASE, route("a", 2.0, "faster", 0.995), route("b", 3.0, "faster", 0.999), route("c", 5, "faster", 0.9)]
    rec = recommend_route(routes, 0.99)
    assert rec["route"] == "b" and "3.00×" in rec["why"]


def test_an_inconclusive_route_is_not_recommended_however_fast():
    rec = recommend_route([BASE, route("a", 1.5, "inconclusive", 0.999, ci=[0.9, 2.5])], 0.99)
    assert rec["route"] == "torch-fp32" and "no route was conclusively faster" in rec["why"]


def test_fast_but_inaccurate_falls_back_to_fp32_and_says_so():
    rec = recommend_route([BASE, route("x86", 2.3, "faster", 0.94)], 0.99)
    assert rec["route"] == "torch-fp32" and "x86" in rec["why"] and "0.9400" in rec["why"]


def test_nothing_else_ran():
    assert "nothing to beat" in recommend_route([BASE, route("a", status="unavailable")], 0.99)["why"]


def test_summary_and_markdown_show_every_route_and_reasons():
    d = doc([BASE, route("a", 2.0, "faster", 0.995), route("u", status="unavailable")])
    text = format_summary(d)
    assert "2.00× [1.94–2.06] faster" in text and "u: unavailable — because" in text
    md = to_markdown(d)
    assert "| a | ok |" in md and "**Recommended:** `a`" in md


def test_compare_two_runs():
    a = doc([BASE, route("x", 2.0, "faster", 0.995)], model="cpu A")
    b = doc([BASE, route("x", 3.0, "faster", 0.995), route("y", 1.5, "faster", 0.999)], model="cpu B")
    text = compare_text([a, b], ["A", "B"])
    assert "A: cpu A   B: cpu B" in text
    assert "B: not in the report" not in text and "A: not in the report: y" in text  # y: only B has it


@pytest.mark.parametrize("content, phrase", [
    (None, "no such file"), ("{", "not valid JSON"), ('{"schema": "other/1"}', "not a qtui.report/1"),
    ('[1, 2]', "not a qtui.report/1"), (json.dumps({"schema": SCHEMA}), "without 'routes'"),
    (json.dumps({"schema": SCHEMA, "routes": 3, "env": {}, "workload": {}}), "not a list"),
])
def test_unusable_reports_are_one_line_errors(tmp_path, content, phrase):
    path = tmp_path / "r.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ReportError) as info:
        load_report(str(path))
    assert phrase in str(info.value) and "\n" not in str(info.value)


def test_truncated_report_is_detected(tmp_path):
    full = json.dumps(doc([BASE]))
    path = tmp_path / "r.json"
    path.write_text(full[: len(full) // 2])
    with pytest.raises(ReportError, match="truncated"):
        load_report(str(path))


def test_check_writable(tmp_path):
    check_writable(str(tmp_path / "ok.json"))
    check_writable("-")
    with pytest.raises(ReportError, match="does not exist"):
        check_writable(str(tmp_path / "missing" / "r.json"))
    with pytest.raises(ReportError, match="is a directory"):
        check_writable(str(tmp_path))


def test_write_atomic_replaces_whole_and_leaves_no_temp(tmp_path):
    path = tmp_path / "r.json"
    write_atomic(str(path), "one")
    write_atomic(str(path), "two")
    assert path.read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["r.json"]


def test_the_recommendation_and_summary_compare_with_the_fastest_fp32_route():
    ov_fp32 = dict(route("openvino-fp32", 2.4, cosine=1.0), vs_best_fp32=None)
    ov_int8 = dict(route("openvino-int8", 6.0, cosine=0.993), vs_best_fp32={"point": 2.5, "ci95": [2.4, 2.6],
                                                                             "verdict": "faster"})
    routes = [dict(BASE, vs_best_fp32={"point": 0.4167, "ci95": [0.4, 0.43], "verdict": "slower"}), ov_fp32, ov_int8]
    rec = recommend_route(routes, 0.99, "openvino-fp32")
    assert rec["route"] == "openvino-int8" and "2.50× the fastest fp32 route, openvino-fp32" in rec["why"]
    d = doc(routes)
    d["best_fp32"] = {"route": "openvino-fp32", "speedup": 2.4}
    summary = format_summary(d)
    assert "vs best fp32" in summary and "fastest fp32" in summary and "2.50×" in summary and "0.42×" in summary
    # The torch baseline being the fastest fp32 needs no second comparison.
    assert "fastest fp32 route" not in recommend_route(routes, 0.99, "torch-fp32")["why"]


def test_summary_and_markdown_show_batch_invariance_with_the_floor_and_the_routes_above_it():
    def inv(worst):
        return {"texts_alone": 32, "texts_rebatched": 64, "batch_size": 32, "alone_cos_mean": worst,
                "alone_cos_worst": worst, "order_cos_mean": 1.0, "order_cos_worst": 1.0}

    d = doc([{**BASE, "batch_invariance": inv(1.0)}, {**route("torch-qint8-x86", 2.0, "faster", 0.995),
                                                      "batch_invariance": inv(0.919)},
             {**route("openvino-int8", 4.0, "faster", 0.998), "batch_invariance": inv(1.0)}])
    for text in (format_summary(d), to_markdown(d)):
        assert "torch-fp32 1.000000 / 1.000000 (fp32 floor)" in text
        assert "torch-qint8-x86 0.919000 / 1.000000 ✗" in text and "openvino-int8 1.000000 / 1.000000 ✗" not in text
    assert "Batch invariance" not in format_summary(doc([BASE, route("a", 2.0, "faster", 0.995)]))


def test_markdown_lists_the_costliest_layers_and_the_summary_says_where_when_the_report_has_layer_evidence():
    layer = {"name": "encoder.layer.2.attention.output.dense", "max_abs": 76.0, "p999_abs": 13.8, "ratio": 5.5,
             "channel_ratio": 75.3, "outlier_channels": 3, "cosine_loss": 0.0067}
    d = {**doc([BASE, route("a", 2.0, "faster", 0.95)]),
         "layers": {"scheme": "int8 s", "texts": 32, "source": "calibration texts", "layers": [layer]}}
    md = to_markdown(d)
    assert "encoder.layer.2.attention.output.dense  0.0067" in md and "75×" in md and "32 calibration texts" in md
    summary = format_summary(d)
    assert "encoder.layer.2" not in summary and "the layers that cost int8 the most (l)" in summary
    assert "layers that cost" not in format_summary(doc([BASE, route("a", 2.0, "faster", 0.95)]))


def test_terminal_advice_shows_short_recipes_once_and_says_where_the_full_ones_are():
    from tui.core.report import format_advice

    def item(code, recipe, short):
        return {"code": code, "severity": "high", "title": f"title {code}", "evidence": "e", "fix": "f",
                "effect": "x", "basis": "measured", "recipe": recipe, "recipe_short": short}

    encode_py = "import json\n" + "x = 1\n" * 150
    pt2e = "import torch\n" + "y = 2\n" * 60
    advice = [item("a", encode_py, "$ qtui export r --out r\nfrom encode import encode\n"),
              item("b", encode_py, "$ qtui export r --out r\nfrom encode import encode\n"),
              item("c", pt2e, None), item("d", None, None)]
    short = format_advice(advice, report="my report.json")
    assert short.count("$ qtui export r --out r") == 1 and "   Recipe: as for item 1." in short
    assert "   Recipe: 61 lines, none fewer reproduce this route (in full: below)." in short and "x = 1" not in short
    assert "`qtui explain 'my report.json' --recipes`" in short  # a path the shell reads as one word
    full = format_advice(advice, recipes=True)
    assert full.count("     x = 1") == 150 and full.count("     y = 2") == 60 and "as for item 1" in full
    assert "--recipes`" not in full
    torch_only = [item("e", "import torch\n", "import torch\n")]  # already short: nothing more to show
    assert "--recipes" not in format_advice(torch_only)


def test_markdown_keeps_every_recipe_in_full_once():
    d = doc([BASE])
    recipe = "import json\n" + "x = 1\n" * 150
    d["advice"] = [{"code": c, "severity": "high", "title": f"title {c}", "evidence": "e", "fix": "f", "effect": "x",
                    "recipe": recipe, "recipe_short": "$ qtui export r --out r\n"} for c in ("a", "b")]
    md = to_markdown(d)
    assert md.count("x = 1") == 150 and "Recipe: as for “title a” above." in md and "qtui export r" not in md
