"""The export's pieces without building a model file: pipeline reading, target rules, encode.py's CPU check,
rendering, measured numbers, report history, putting the folder in place."""

import ast
import json
import shutil
from pathlib import Path

import pytest

from tui.core.cpu import load_cpuinfo_file
from tui.core.export import ExportError, check_out_dir, overlapping, put_in_place
from tui.core.export.measured import NOT_MEASURED, describe, from_report
from tui.core.export.pipeline import PipelineError, read_pipeline
from tui.core.export.standalone import encode_py, sections
from tui.core.export.target import load_target, needs, tuned_for, wants_reduce_range
from tui.core.models import packaged_model_dir
from tui.core.routes import ROUTES

CPUINFO = Path(__file__).resolve().parent.parent / "fixtures" / "cpuinfo"
REPORT = Path(__file__).resolve().parent.parent / "fixtures" / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"


def model_copy(tmp_path: Path) -> Path:
    """The packaged model's small config files (the weights are not needed to read the pipeline)."""
    src, dst = packaged_model_dir(), tmp_path / "model"
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns("*.safetensors"))
    return dst


def test_pipeline_of_the_packaged_model_is_read_from_its_files():
    pipeline = read_pipeline(packaged_model_dir())
    assert (pipeline.pooling, pipeline.normalize, pipeline.max_seq_length) == ("mean", True, 256)
    assert "1_Pooling/config.json" in pipeline.sources and "modules.json" in pipeline.sources


def test_pipeline_follows_the_config_not_an_assumption(tmp_path):
    model = model_copy(tmp_path)
    pooling = json.loads((model / "1_Pooling" / "config.json").read_text())
    pooling.update(pooling_mode_mean_tokens=False, pooling_mode_cls_token=True)
    (model / "1_Pooling" / "config.json").write_text(json.dumps(pooling))
    modules = json.loads((model / "modules.json").read_text())
    (model / "modules.json").write_text(json.dumps([m for m in modules if not m["type"].endswith("Normalize")]))
    pipeline = read_pipeline(model)
    assert (pipeline.pooling, pipeline.normalize) == ("cls", False)


def test_pipeline_reads_the_pooling_mode_sentence_transformers_6_writes(tmp_path):
    model = model_copy(tmp_path)
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"embedding_dimension": 384, "pooling_mode": "cls",
                                                                 "include_prompt": True}))
    assert read_pipeline(model).pooling == "cls"
    (model / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode": "lasttoken"}))
    with pytest.raises(PipelineError, match="lasttoken"):
        read_pipeline(model)


@pytest.mark.parametrize("change, message", [
    (lambda m: (m / "modules.json").unlink(), "no modules.json"),
    (lambda m: (m / "modules.json").write_text(json.dumps(
        json.loads((m / "modules.json").read_text()) + [{"idx": 3, "path": "3_Dense",
                                                         "type": "sentence_transformers.models.Dense"}])),
     "Transformer → Pooling → Normalize → Dense"),
    (lambda m: (m / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_weightedmean_tokens": True})),
     "pooling_mode_weightedmean_tokens"),
])
def test_pipeline_that_cannot_be_rebuilt_is_refused(tmp_path, change, message):
    model = model_copy(tmp_path)
    change(model)
    with pytest.raises(PipelineError, match=message):
        read_pipeline(model)


@pytest.mark.parametrize("fixture, reduce", [
    ("intel-haswell-e5-2680v3.txt", True),  # AVX2, no VNNI: u8s8 can saturate
    ("intel-skylake-sp-8175m.txt", True),  # AVX-512 without VNNI: the same
    ("intel-cascadelake-8259cl.txt", False),  # AVX-512 VNNI
    ("intel-alderlake-i7-12700.txt", False),  # AVX-VNNI
    ("arm-graviton3-neoverse-v1.txt", False),  # not x86
])
def test_reduce_range_only_for_x86_without_vnni(fixture, reduce):
    cpu = load_cpuinfo_file(CPUINFO / fixture)
    assert wants_reduce_range(ROUTES["ort-qint8"], cpu) is reduce
    assert not wants_reduce_range(ROUTES["openvino-int8"], cpu)
    # Full-range weights need VNNI on x86; 7-bit weights need nothing.
    assert bool(needs(ROUTES["ort-qint8"], cpu, reduce_range=False)) is cpu.is_x86
    assert needs(ROUTES["ort-qint8"], cpu, reduce_range=True) == []


def test_tuned_for_names_the_int8_dot_features_of_the_cpu_built_for():
    zen3 = load_cpuinfo_file(CPUINFO / "amd-zen3-epyc-7r13.txt")
    icelake = load_cpuinfo_file(CPUINFO / "intel-icelake-8375c.txt")
    graviton = load_cpuinfo_file(CPUINFO / "arm-graviton3-neoverse-v1.txt")
    assert tuned_for(ROUTES["ort-qint8"], zen3) == []  # nothing to lose
    assert tuned_for(ROUTES["ort-qint8"], icelake)[0]["any_of"] == ["avx512_vnni"]
    assert set(tuned_for(ROUTES["torch-qint8-qnnpack"], graviton)[0]["any_of"]) == {"dotprod", "i8mm"}
    assert tuned_for(ROUTES["ort-fp32"], icelake) == []


def test_encode_py_warns_on_a_cpu_lacking_what_the_artefact_needs():
    namespace: dict = {"__file__": "/srv/model/encode.py"}
    exec(compile(encode_py("onnxruntime"), "encode.py", "exec"), namespace)
    check_cpu = namespace["check_cpu"]
    icelake = load_cpuinfo_file(CPUINFO / "intel-icelake-8375c.txt")
    manifest = {"cpu": {"arch": "x86_64", "needs": needs(ROUTES["ort-qint8"], icelake, False),
                        "tuned_for": tuned_for(ROUTES["ort-qint8"], icelake)}}
    avx2_only = check_cpu(manifest, features={"avx2"}, arch="x86_64")
    assert len(avx2_only) == 2 and "saturate" in avx2_only[0] and "onnxruntime/issues/5849" in avx2_only[0]
    assert "reduce_range" in avx2_only[0] and "slower than measured" in avx2_only[1]
    assert check_cpu(manifest, features={"avx2", "avx512_vnni"}, arch="x86_64") == []
    assert check_cpu(manifest, features={"dotprod"}, arch="aarch64") == []  # another arch: nothing to compare


def test_encode_py_parses_its_cpuinfo_flags(tmp_path):
    namespace: dict = {"__file__": "/srv/model/encode.py"}
    exec(compile(encode_py("openvino"), "encode.py", "exec"), namespace)
    assert namespace["CPUINFO_FLAGS"]["asimddp"] == "dotprod"  # ARM's spelling, as qtui's cpu module maps it


@pytest.mark.parametrize("runtime, other", [("onnxruntime", "openvino"), ("openvino", "onnxruntime"),
                                            ("torch", "onnxruntime"), ("model2vec", "tokenizers")])
def test_encode_py_holds_one_runtime_and_no_qtui(runtime, other):
    source = encode_py(runtime)
    tree = ast.parse(source)
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert "tui" not in imported
    assert other not in imported  # a static route: model2vec tokenizes, encode.py's own Tokenizer is left out
    assert imported <= {"json", "os", "sys", "pathlib", "numpy", "platform", "tokenizers", "logging", "warnings",
                        "multiprocessing", runtime, "transformers"}
    functions = [n.name for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert functions.count("make_encoder") == 1 and functions.count("make_runner") == (runtime != "model2vec")
    assert "noqa" not in source


def test_the_template_is_one_valid_module_with_every_section():
    assert set(sections()) == {"head", "common", "transformer", "onnxruntime", "openvino", "torch", "model2vec",
                               "main"}


def test_encode_py_cuts_a_capped_routes_inputs_at_the_cap(tmp_path):
    """runtime.max_seq_length (a `@len<N>` route) overrides the model's truncation in encode.py's tokenizer."""
    import numpy as np

    from tui.core.export.pipeline import tokenizer_settings

    namespace: dict = {"__file__": str(tmp_path / "encode.py")}
    exec(compile(encode_py("onnxruntime"), "encode.py", "exec"), namespace)
    namespace["make_runner"] = lambda directory, manifest, threads: lambda feeds: np.zeros((1, 1), np.float32)
    settings = tokenizer_settings(packaged_model_dir(), 256, False)
    long_text = " ".join(["the quarterly maintenance window moved to saturday night"] * 40)  # > 256 tokens
    for cap, tokens in ((16, 16), (None, 256)):
        manifest = {"tokenizer": settings, "runtime": {"batch_size": 8, **({"max_seq_length": cap} if cap else {})}}
        encoder = namespace["make_encoder"](packaged_model_dir(), manifest, 1)
        assert encoder.tokenizer([long_text])["input_ids"].shape == (1, tokens)


FRONTIER = REPORT.parent / "zen4-frontier-stsb.json"  # static-m2v and openvino-int8@len32/@len16, on STS-B
STATIC_ARTEFACT = {"kind": "stub", "folder": "model", "files": [], "bytes": 0, "cache": {},  # artefacts.static_artefact
                   "model2vec": {"pooling": "mean", "normalize": True, "max_length": 512, "hidden_dim": 256}}


def test_static_and_capped_routes_are_exportable_a_cap_of_a_route_with_nothing_to_ship_is_not():
    from tui.core.export import artefact_spec, exportable, exportable_routes, exportable_text, is_exportable

    for rid in ("static-m2v", "ort-qint8@len64", "openvino-int8@len32", "torch-qint8-x86@len16"):
        assert exportable(ROUTES[rid]) and is_exportable(rid), rid
    for rid in ("torch-fp32@len16", "torch-compile-fp32@len32", "static-m2v@len16", "ort-qint8@len4", None):
        assert not is_exportable(rid), rid
    assert not exportable(ROUTES["torch-fp32@len16"])
    assert artefact_spec(ROUTES["ort-qint8@len64"]) is ROUTES["ort-qint8"]
    assert "static-m2v" in exportable_routes() and not any("@" in rid for rid in exportable_routes())
    assert "@len<N>" in exportable_text() and "all but static-m2v" in exportable_text()


def checked_from(route: str, tmp_path, report: Path = FRONTIER, **request):
    from tui.core.export import ExportRequest, check

    return check(ExportRequest(route=route, out=str(tmp_path / "out"), report=str(report) if report else None,
                               cache_root=tmp_path / "cache", **request))


def test_a_capped_route_is_measured_by_its_own_entry_and_records_its_cap(tmp_path):
    from tui.core.export import manifest

    doc = json.loads(FRONTIER.read_text())
    capped = next(r for r in doc["routes"] if r["id"] == "openvino-int8@len32")
    checked = checked_from("openvino-int8@len32", tmp_path)
    assert checked.built is ROUTES["openvino-int8"]  # the artefact: the base route's cache entry
    assert checked.measured.speedup == capped["speedup"]["point"] != next(
        r for r in doc["routes"] if r["id"] == "openvino-int8")["speedup"]["point"]
    assert checked.measured.cosine_mean == capped["accuracy"]["cosine_mean"] and checked.calibration  # calibrated
    built = manifest.build(checked, {"kind": "stub", "cache": {}}, {"max_length": 256})
    assert built["route"]["max_seq_length"] == built["runtime"]["max_seq_length"] == 32
    assert built["route"]["base"] == "openvino-int8" and built["pipeline"]["max_seq_length"] == 256
    assert built["calibration_texts"] == len(checked.calibration)
    assert "Inputs are cut at 32 tokens" in manifest.readme(built)


def test_a_capped_ort_route_built_for_a_cpu_without_vnni_gets_its_base_routes_reduce_range(tmp_path):
    checked = checked_from("ort-qint8@len64", tmp_path, report=None, measure=False,
                           target=str(CPUINFO / "intel-haswell-e5-2680v3.txt"))
    assert checked.reduce_range and checked.measured is None


def test_a_static_route_is_said_to_live_in_its_own_space_and_quotes_the_task_share(tmp_path):
    from tui.core.accuracy_gate import OTHER_SPACE
    from tui.core.export import manifest

    checked = checked_from("static-m2v", tmp_path)
    assert checked.pipeline is None and checked.measured.cosine_mean is None and checked.measured.own_space
    artefact = STATIC_ARTEFACT
    doc = manifest.build(checked, artefact, None)
    assert doc["route"]["own_space"] and doc["tokenizer"] is None and "max_seq_length" not in doc["runtime"]
    assert doc["pipeline"]["read_from"] == ["model/config.json"] and list(doc["requires"])[0] == "model2vec"
    readme = manifest.readme(doc)
    assert "space of their own" in readme.split("## Load it")[0]  # said before anything else
    assert f"Cosine to fp32: {OTHER_SPACE}" in readme and "keeps 80.6 % of fp32's STS-B Spearman" in readme
    assert f"cosine to fp32 {OTHER_SPACE}" in describe(doc["measured"])
    assert "model2vec==" in manifest.requirements(doc)

    untasked = json.loads(FRONTIER.read_text())
    untasked.pop("task")
    for route in untasked["routes"]:
        route.pop("task", None)
    (tmp_path / "untasked.json").write_text(json.dumps(untasked))
    doc = manifest.build(checked_from("static-m2v", tmp_path, report=tmp_path / "untasked.json"), artefact, None)
    assert "No task was measured" in manifest.readme(doc) and "unjudged without a task" in describe(doc["measured"])


@pytest.mark.parametrize("route_id, runtime", [("ort-qint8", "onnxruntime"), ("ort-fp32", "onnxruntime"),
                                               ("openvino-int8", "openvino"), ("openvino-fp32", "openvino")])
def test_recipes_for_ort_and_openvino_are_the_encode_py_code(route_id, runtime):
    from tui.core.recipes import recipe_for

    recipe = recipe_for(route_id, "", 2)
    assert encode_py(runtime) in recipe
    assert f"qtui export {route_id}" in recipe
    tree = ast.parse(recipe)
    modules = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(m == "tui" or m.startswith("tui.") for m in modules)


def test_measured_numbers_come_from_the_report():
    doc = json.loads(REPORT.read_text())
    route = next(r for r in doc["routes"] if r["id"] == "openvino-int8")
    found = from_report(doc, "openvino-int8", str(REPORT))
    assert found.speedup == route["speedup"]["point"] and found.cosine_mean == route["accuracy"]["cosine_mean"]
    assert found.cpu == doc["env"]["cpu"]
    assert from_report(doc, "openvino-int8", "x", model_name="another model") is None
    assert from_report(doc, "torch-fp32", "x") is None  # the baseline has no speed-up of its own
    line = describe(found.to_json())
    assert f"{route['speedup']['point']:.2f}×" in line and f"{route['accuracy']['cosine_mean']:.4f}" in line
    assert describe(None) == NOT_MEASURED


def test_history_keeps_finished_reports_newest_first(tmp_path):
    from tui.core.report_history import KEEP, remember, saved_reports

    doc = json.loads(REPORT.read_text())
    for i in range(KEEP + 3):
        remember({**doc, "created": f"2026-01-01T00:00:{i:02d}Z"}, tmp_path)
    assert remember({**doc, "stop_reason": "cancelled"}, tmp_path) is None
    assert remember({**doc, "env": {**doc["env"], "simulated_isa": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}}, tmp_path) is None
    saved = [d["created"] for _, d in saved_reports(tmp_path)]
    assert len(saved) == KEEP and saved[0] == f"2026-01-01T00:00:{KEEP + 2:02d}Z"


def test_latest_saved_finds_the_route_on_the_model(tmp_path):
    from tui.core.export.measured import latest_saved
    from tui.core.report_history import remember

    doc = json.loads(REPORT.read_text())
    remember(doc, tmp_path)
    assert latest_saved("ort-qint8", doc["workload"]["model"], tmp_path).report.endswith(".json")
    assert latest_saved("ort-qint8", "another model", tmp_path) is None


def test_overlap_ignores_case_and_spacing():
    assert overlapping(["A  text.", "other"], ("a text.",)) == 1


def test_out_dir_rules(tmp_path):
    assert check_out_dir(str(tmp_path / "new"), False) == tmp_path / "new"
    (tmp_path / "empty").mkdir()
    assert check_out_dir(str(tmp_path / "empty"), False) == tmp_path / "empty"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(ExportError, match="not empty"):
        check_out_dir(str(tmp_path / "full"), False)
    assert check_out_dir(str(tmp_path / "full"), True) == tmp_path / "full"


def test_put_in_place_replaces_a_forced_target_whole(tmp_path):
    old, new = tmp_path / "out", tmp_path / "staging"
    old.mkdir()
    (old / "stale.txt").write_text("old")
    new.mkdir()
    (new / "encode.py").write_text("new")
    put_in_place(new, old)
    assert sorted(p.name for p in old.iterdir()) == ["encode.py"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_target_from_detect_json_or_cpuinfo(tmp_path):
    from tui.core.detect import run_detect

    detect_json = tmp_path / "detect.json"
    detect_json.write_text(json.dumps(run_detect(str(CPUINFO / "intel-haswell-e5-2680v3.txt")).to_json()))
    from_json = load_target(str(detect_json))
    from_text = load_target(str(CPUINFO / "intel-haswell-e5-2680v3.txt"))
    assert from_json.features == from_text.features and from_json.physical_cores == from_text.physical_cores


def test_put_in_place_onto_an_empty_directory(tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "staging").mkdir()
    (tmp_path / "staging" / "encode.py").write_text("new")
    put_in_place(tmp_path / "staging", tmp_path / "out")
    assert (tmp_path / "out" / "encode.py").read_text() == "new" and not (tmp_path / "staging").exists()


def test_a_static_route_exports_for_online_calls_when_the_report_measured_them(tmp_path):
    from tui.core.export import manifest

    doc = json.loads(FRONTIER.read_text())
    static = next(r for r in doc["routes"] if r["id"] == "static-m2v")
    static["latency"] = {"calls": 1000, "tail_resolved": True, "vs_fp32": {"point": 0.05, "verdict": "faster"},
                         **{q: {"ms": ms} for q, ms in (("p50", 0.1), ("p95", 0.2), ("p99", 0.3))}}
    (tmp_path / "online.json").write_text(json.dumps(doc))
    checked = checked_from("static-m2v", tmp_path, report=tmp_path / "online.json", pattern="online")
    assert checked.measured.pattern["name"] == "online" and checked.measured.pattern["p95"]["ms"] == 0.2
    artefact = STATIC_ARTEFACT
    assert "## How to call it" in manifest.readme(manifest.build(checked, artefact, None))
