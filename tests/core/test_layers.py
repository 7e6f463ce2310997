"""Layer evidence: each Linear's input range and its cosine cost when int8 alone — on the packaged model and
on the same model with outlier channels built in (fp32 output unchanged), through the coordinator too."""

import numpy as np
import pytest

from tests.outliers import injected_layer_names, outlier_model
from tui.core.layers import OUTLIER_RATIO, LayerEvidence, layer_evidence, linear_layers, only_int8

TEXTS = ["The cat sat quietly on the warm windowsill.", "How do I reset my password?",
         "Quarterly revenue grew by twelve percent.", "Rain is expected in the mountains tomorrow afternoon.",
         "She read the letter twice and then burned it.", "Fresh bread smells wonderful.",
         "Int8 quantization can be slower than fp32 on some CPUs.", "The train to Berlin leaves at seven.",
         "Our team shipped the new compiler after months of work.", "He forgot his umbrella again.",
         "The committee postponed the vote until the next meeting.", "Yes, of course."]
BUDGET_SHARE = 0.25 * (1 - 0.99)  # what the advice calls a culprit at the default --min-cosine


def test_evidence_round_trips_and_flags_outlier_channels():
    e = LayerEvidence("encoder.layer.2.attention.output.dense", 76.0, 13.8, 75.3, 3, 0.0067)
    assert e.outlier and e.ratio == pytest.approx(76.0 / 13.8)
    assert LayerEvidence.from_json(e.to_json()).to_json() == e.to_json()
    assert not LayerEvidence("x", 10.0, 5.0, OUTLIER_RATIO * 0.9, 0, 0.01).outlier


def culprits(found):
    return {e.name for e in found if e.outlier and e.cosine_loss >= BUDGET_SHARE}


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    from tui.core.models import load_sentence_transformer, packaged_model_dir

    path = outlier_model(tmp_path_factory.mktemp("outliers") / "model")
    return load_sentence_transformer(packaged_model_dir()), load_sentence_transformer(path), path


@pytest.mark.slow
def test_the_injected_outliers_leave_fp32_as_it_was_and_are_exactly_what_the_evidence_finds(models):
    base, injected, _ = models
    a = base.encode(TEXTS, show_progress_bar=False)
    b = injected.encode(TEXTS, show_progress_bar=False)
    assert np.abs(a - b).max() < 1e-4
    found = layer_evidence(injected, TEXTS)
    assert culprits(found) == set(injected_layer_names((2, 4)))
    assert all(e.channel_ratio > 40 for e in found if e.name in culprits(found))
    assert culprits(layer_evidence(base, TEXTS)) == set()  # the packaged model has no such layer


@pytest.mark.slow
def test_only_int8_changes_one_layer_and_puts_it_back(models):
    base, _, _ = models
    layer = linear_layers(base)["encoder.layer.0.attention.self.query"]
    reference = base.encode(TEXTS[:2], show_progress_bar=False)
    with only_int8(layer):
        changed = base.encode(TEXTS[:2], show_progress_bar=False)
    assert 0 < np.abs(changed - reference).max() < 0.05
    assert np.array_equal(base.encode(TEXTS[:2], show_progress_bar=False), reference)


@pytest.mark.slow
def test_a_run_on_the_outlier_model_leads_its_accuracy_advice_with_the_injected_layers(models, tmp_path):
    from tui.core import bench
    from tui.core.cpu import detect
    from tui.core.engines import recommend
    from tui.core.models import resolve_model
    from tui.core.report import build_document
    from tui.core.workload import make_workload

    _, _, path = models
    engine = recommend(detect()).engine
    plan = bench.Plan(model=resolve_model(str(path)), workload=make_workload(32, n_calibration=32),
                      routes=("torch-fp32", f"torch-qint8-{engine}-perchannel"), cpu=detect(), batch_size=8,
                      threads=1, max_rounds=2, min_rounds=2, time_budget_s=10, cache_root=tmp_path / "cache",
                      ceilings=False, profile=False, invariance=False)
    doc = build_document(bench.run(plan, lambda event: None, lambda: False))
    assert doc["routes"][1]["accuracy"]["cosine_mean"] < 0.99  # the outliers break per-channel int8 here
    assert doc["layers"]["cache"] == "miss" and doc["layers"]["texts"] == 32
    # The rescue built and measured a mix in the same run: the injected layers kept fp32, cosine back above 0.99.
    mixed = next(r for r in doc["routes"] if r["id"] == f"torch-qint8-{engine}-mixed")
    assert mixed["status"] == "ok" and mixed["speedup"] and mixed["accuracy"]["cosine_mean"] >= 0.99
    kept = mixed["facts"]["kept_fp32"]
    assert set(injected_layer_names((2, 4))) <= set(kept) and len(kept) < mixed["facts"]["linear_layers"]
    first_accuracy = next(a for a in doc["advice"] if a["kind"] == "caveat")
    assert first_accuracy["code"] == "activation-outliers" and first_accuracy["basis"] == "measured"
    assert all(name in first_accuracy["evidence"] for name in injected_layer_names((2, 4)))
    assert f"keeping {len(kept)} of" in first_accuracy["effect"] and "keep_fp32" in first_accuracy["recipe"]
    exported_mix_matches_the_measured_one(doc, path, plan, tmp_path, mixed)


def exported_mix_matches_the_measured_one(doc, model_path, plan, tmp_path, mixed):
    """`qtui export` writes the mix (the kept layers in its settings); encode.py, without qtui, gives the cosine
    the run measured."""
    import json
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.test_export_routes import isolated_encode
    from tui.core.models import load_sentence_transformer

    (tmp_path / "r.json").write_text(json.dumps(doc))
    out = tmp_path / "mix"
    result = subprocess.run([sys.executable, "-m", "tui", "export", mixed["id"], "--out", str(out), "--report",
                             str(tmp_path / "r.json"), "--model", str(model_path), "--threads", "1"],
                            capture_output=True, text=True, cwd=ROOT, env=dict(os.environ), timeout=300)
    assert result.returncode == 0, result.stderr[-1500:]
    manifest = json.loads((out / "qtui-export.json").read_text())
    assert manifest["artefact"]["keep_fp32"] == mixed["facts"]["kept_fp32"]
    assert manifest["artefact"]["kept_dtype"] == mixed["facts"]["kept_dtype"]  # bf16 where it measured faster
    texts = list(plan.workload.texts)
    vectors = isolated_encode(out, texts)
    reference = load_sentence_transformer(model_path).encode(texts, batch_size=plan.batch_size,
                                                             show_progress_bar=False)
    cos = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
    assert abs(float(cos.mean()) - mixed["accuracy"]["cosine_mean"]) < 0.002
