"""Calibration quality for static int8: ~300 calibration texts by default, disjoint from the measured ones, and the
openvino-int8 build that tries SmoothQuant settings and keeps the one closest to fp32 on held-out texts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.core import openvino_route
from tui.core.workload import DEFAULT_CALIBRATION, MIN_FILE_CALIBRATION, default_corpus, make_workload


def content(text: str) -> str:
    return " ".join(text.casefold().split())


# ------------------------------------------------------------------------------------------- workload


@pytest.mark.parametrize("n_texts", [128, 256, 1000])  # `qtui bench`'s default, make_workload's, a large run
def test_the_default_workload_has_about_300_calibration_texts_disjoint_from_the_measured(n_texts):
    result = make_workload(n_texts)
    assert len(result.calibration) == DEFAULT_CALIBRATION == 300
    assert len(set(map(content, result.calibration))) == DEFAULT_CALIBRATION
    assert not {content(t) for t in result.texts} & {content(t) for t in result.calibration}
    assert result.warnings == ()


def test_a_corpus_that_cannot_spare_300_gives_what_it_has_and_says_so():
    n_texts = len(default_corpus()) - 100
    result = make_workload(n_texts)
    assert len(result.calibration) == 100
    assert any("only 100 calibration texts left" in warning for warning in result.warnings)


def test_a_file_that_spares_fewer_than_asked_calibrates_on_its_own_texts_and_says_so(tmp_path):
    path = tmp_path / "texts.txt"
    path.write_text("\n".join(f"Line number {i} of the user's own texts." for i in range(228)), encoding="utf-8")
    result = make_workload(128, texts_file=path)
    lines = set(path.read_text(encoding="utf-8").splitlines())
    assert len(result.calibration) == 100 >= MIN_FILE_CALIBRATION
    assert set(result.calibration) <= lines and not set(result.calibration) & set(result.texts)
    assert any(f"only 100 calibration texts left in {path}" in w and "asked for 300" in w for w in result.warnings)


# ------------------------------------------------------------------------------ choosing a candidate


def test_the_best_mean_cosine_wins_and_a_tie_goes_to_the_earlier_candidate():
    assert openvino_route.best_candidate({"sq_off": 0.9926, "sq_0.8": 0.9984, "sq_0.95": 0.9978}) == "sq_0.8"
    assert openvino_route.best_candidate({"sq_off": 0.99, "sq_0.8": 0.99}) == "sq_off"


def test_smooth_quant_is_tried_only_with_enough_texts_and_scored_on_held_out_ones():
    few = openvino_route.candidates_for(openvino_route.MIN_TEXTS_FOR_SMOOTH_QUANT - 1)
    assert few == (openvino_route.NO_SMOOTH_QUANT,)
    assert openvino_route.split_held_out(["a", "b"], few) == (["a", "b"], [])  # one candidate: nothing to score
    many = openvino_route.candidates_for(300)
    assert len(many) == 3 and many[0] == openvino_route.NO_SMOOTH_QUANT
    texts = [f"text {i}" for i in range(300)]
    fit, held_out = openvino_route.split_held_out(texts, many)
    assert (len(fit), len(held_out)) == (240, 60) and fit + held_out == texts
    assert openvino_route.split_held_out(["a", "b", "c", "d", "a"], many) == (["a", "b", "c", "d"], [])


class FakeModel:
    def __init__(self, name: str) -> None:
        self.name = name

    def get_ops(self) -> list:
        return []


def test_the_build_records_every_candidate_and_saves_the_closest(monkeypatch, tmp_path):
    cosines = {"sq_off": 0.9926, "sq_0.8": 0.9984, "sq_0.95": 0.9978}
    saved = []
    monkeypatch.setattr(openvino_route, "ir_input_names", lambda xml: ["input_ids"])
    monkeypatch.setattr(openvino_route, "calibration_samples", lambda model_dir, names, texts: list(texts))
    monkeypatch.setattr(openvino_route, "build_candidates", lambda xml, samples, candidates: (
        {c.name: FakeModel(c.name) for c in candidates}, {c.name: 1.0 for c in candidates}))
    monkeypatch.setattr(openvino_route, "score_candidates", lambda models, xml, model_dir, texts: dict(cosines))
    monkeypatch.setattr(openvino_route, "save_ir", lambda model, out_xml: saved.append(model.name))
    texts = [f"Calibration text {i}." for i in range(100)]
    facts = openvino_route.quantize_openvino_int8(tmp_path, tmp_path / "fp32.xml", tmp_path / "int8.xml", texts)
    assert saved == ["sq_0.8"]
    assert (facts["chosen"], facts["smooth_quant"]) == ("sq_0.8", "matmul alpha 0.8")
    assert {name: facts[f"cosine_{name}"] for name in cosines} == cosines
    assert facts["candidates"] == "sq_off,sq_0.8,sq_0.95"
    assert (facts["calibration_texts"], facts["calibration_fit_texts"], facts["calibration_held_out_texts"]) == (
        100, 80, 20)


# ---------------------------------------------------------------------------- real builds (slow)


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One ONNX export and fp32 IR for both builds below (the int8 artefact is keyed by its calibration texts)."""
    return tmp_path_factory.mktemp("calibration-quality")


@pytest.mark.slow
def test_a_real_build_tries_smooth_quant_and_keeps_the_closest_candidate(shared_cache, capfd):
    from tests.routes_on_model import fp32_reference, mean_cosine, run_route

    calibration = list(make_workload(16, n_calibration=openvino_route.MIN_TEXTS_FOR_SMOOTH_QUANT).calibration)
    run = run_route("openvino-int8", shared_cache, calibration=calibration)
    assert run.why_unavailable is None
    assert capfd.readouterr() == ("", "")  # SmoothQuant's statistics pass prints no progress bars either
    facts = run.facts
    names = facts["candidates"].split(",")
    assert names == ["sq_off", "sq_0.8", "sq_0.95"]
    scored = {name: facts[f"cosine_{name}"] for name in names}
    assert facts["chosen"] == max(scored, key=scored.get)
    assert all(facts[f"build_s_{name}"] > 0 for name in names)
    assert facts["calibration_held_out_texts"] == round(len(calibration) * openvino_route.HELD_OUT_SHARE)
    assert facts["fake_quantize_ops"] > 0
    # Texts unlike the docstring calibration set: the choice must not have overfitted it.
    assert mean_cosine(run.embeddings, fp32_reference()) >= 0.98


@pytest.mark.slow
def test_a_real_build_on_few_texts_keeps_smooth_quant_off(shared_cache):
    from tests.routes_on_model import CALIBRATION, run_route

    run = run_route("openvino-int8", shared_cache, calibration=CALIBRATION)
    assert run.why_unavailable is None
    assert (run.facts["candidates"], run.facts["chosen"], run.facts["smooth_quant"]) == ("sq_off", "sq_off", "off")
    assert run.facts["calibration_fit_texts"] == len(CALIBRATION)
    assert not any(key.startswith("cosine_sq") for key in run.facts)
