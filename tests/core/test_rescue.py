"""The rescue: the fewest layers kept fp32 to reach the threshold, which engines get a mixed route, and the
recipe that reproduces a mix."""

import numpy as np
import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import load_cpuinfo_file
from tui.core.rescue import NoMixReachesIt, fewest_kept

ORDER = [f"layer{i}" for i in range(10)]
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")


def test_bisection_finds_the_fewest_kept_layers_in_a_few_steps():
    calls = []

    def score(kept):
        calls.append(len(kept))
        return 0.95 + 0.01 * len(kept)  # each kept layer gives 0.01 back

    mix = fewest_kept(ORDER, score, 0.99)
    assert mix.kept_fp32 == tuple(ORDER[:4]) and mix.cosine == pytest.approx(0.99) and mix.total == 10
    assert mix.steps == len(set(calls)) <= 5  # log2(10) + the upper end, never all ten


def test_nothing_kept_when_plain_int8_already_reaches_it():
    assert fewest_kept(ORDER, lambda kept: 0.995, 0.99).kept_fp32 == ()


def test_no_mix_short_of_fp32_is_an_answer_too():
    with pytest.raises(NoMixReachesIt, match="keeping 9 of 10"):
        fewest_kept(ORDER, lambda kept: 0.9, 0.99)


def results(**cosines):
    from tui.core.accuracy import Accuracy
    from tui.core.bench import RouteResult
    from tui.core.routes import ROUTES

    out = {}
    for rid, cos in {"torch-fp32": None, **cosines}.items():
        rid = rid.replace("_", "-")
        r = RouteResult(ROUTES[rid], status="ok")
        r.accuracy = Accuracy(cos, cos, 1.0, 1.0, 10) if cos is not None else None
        out[rid] = r
    return out


def wanted(routes=("torch-fp32",), **cosines):
    from tui.core.bench import BenchResult
    from tui.core.passes.rescue import _mixes_wanted

    class P:  # the plan fields _mixes_wanted reads
        min_cosine = 0.99
        cpu = ZEN3  # the x86 engine is recommended there

    P.routes = routes
    return _mixes_wanted(P, BenchResult(P, results(**cosines), created=""))


def test_an_engine_gets_a_mixed_route_only_when_all_its_int8_routes_missed():
    missed = wanted(torch_qint8_x86=0.948, torch_qint8_x86_perchannel=0.975)
    assert list(missed) == ["torch-qint8-x86-mixed"] and "0.9750 < 0.99" in missed["torch-qint8-x86-mixed"]
    assert wanted(torch_qint8_x86=0.948, torch_qint8_x86_perchannel=0.993) == {}  # plain int8 reaches it
    # ONNX Runtime and OpenVINO get mixes of their own; the static QDQ route and fp32 have none.
    assert list(wanted(ort_qint8=0.95, openvino_int8=0.985)) == ["ort-qint8-mixed", "openvino-int8-mixed"]
    assert wanted(ort_qint8=0.995, openvino_int8=0.993, ort_qdq_int8=0.95) == {}
    assert list(wanted(("torch-fp32", "torch-qint8-onednn-mixed"))) == ["torch-qint8-onednn-mixed"]
    # The recommended engine measured and fine: a missing qnnpack is not worth a mix.
    assert wanted(torch_qint8_qnnpack=0.966, torch_qint8_x86_perchannel=0.993) == {}
    assert list(wanted(torch_qint8_qnnpack=0.966)) == ["torch-qint8-qnnpack-mixed"]  # the only engine measured


@pytest.mark.slow
@pytest.mark.parametrize("kept_dtype", ["fp32", "bf16"])
def test_the_recipe_keeps_exactly_the_named_layers_out_of_int8(kept_dtype):
    import torch

    from tui.core.cpu import detect
    from tui.core.engines import recommend
    from tui.core.recipes import recipe_for

    engine = recommend(detect()).engine or "qnnpack"  # an engine this host has
    kept = ["encoder.layer.2.attention.output.dense", "encoder.layer.0.output.dense"]
    scope: dict = {}
    facts = {"kept_fp32": kept, "kept_dtype": kept_dtype}
    exec(recipe_for(f"torch-qint8-{engine}-mixed", "", 1, facts), scope)  # noqa: S102 - our recipe
    bert = scope["model"][0].auto_model
    quantized = {n: "quantized" in type(m).__module__ for n, m in bert.named_modules()
                 if type(m).__name__ in ("Linear", "Bf16Linear") and not n.endswith(".linear")}
    assert {n for n, q in quantized.items() if not q} == set(kept)
    assert sum(quantized.values()) == len(quantized) - len(kept) > 30
    layers = {n: bert.get_submodule(n) for n in kept}
    dtypes = {n: (m.linear if kept_dtype == "bf16" else m).weight.dtype for n, m in layers.items()}
    assert set(dtypes.values()) == {torch.bfloat16 if kept_dtype == "bf16" else torch.float32}
    assert scope["embeddings"].shape == (1, 384) and torch.backends.quantized.engine == engine


def test_bf16_kept_layers_only_when_they_keep_the_threshold_and_run_faster():
    import time

    from tui.core.rescue import Mix, prefer_bf16

    mix = Mix(("a", "b"), 10, 0.992, 5)
    assert prefer_bf16(mix, lambda: None, lambda: None, 0.985, 0.99).kept_dtype == "fp32"  # accuracy first
    fast, slow = (lambda: None), (lambda: time.sleep(0.002))
    chosen = prefer_bf16(mix, slow, fast, 0.991, 0.99)
    assert chosen.kept_dtype == "bf16" and chosen.cosine == 0.991 and "kept bf16" in chosen.kept_dtype_note
    kept = prefer_bf16(mix, fast, slow, 0.991, 0.99)
    assert kept == Mix(("a", "b"), 10, 0.992, 5, "fp32", kept.kept_dtype_note) and "kept fp32" in kept.kept_dtype_note


@pytest.mark.slow
def test_encode_py_runs_a_bf16_mix_as_the_route_measured_it(tmp_path):
    """The exported encode.py (torch section) and the route qtui measured build the same mix: kept layers in bf16."""
    from tui.core.cpu import detect
    from tui.core.engines import recommend
    from tui.core.export.artefacts import torch_artefact
    from tui.core.export.standalone import encode_py
    from tui.core.models import load_sentence_transformer, resolve_model
    from tui.core.routes import ROUTES, PrepareContext, prepare

    spec = ROUTES[f"torch-qint8-{recommend(detect()).engine or 'qnnpack'}-mixed"]
    model = resolve_model(None)
    kept = ("encoder.layer.2.attention.output.dense", "encoder.layer.0.output.dense")
    ctx = PrepareContext(model.path, model.fingerprint, 1, [], None, tmp_path, keep_fp32=kept, kept_dtype="bf16")
    texts = ["How do I reset my password?", "Rain is expected in the mountains tomorrow afternoon.", "Yes."]
    ours = prepare(spec, ctx).encode(texts, 8)
    scope = {"__name__": "exported_encode", "__file__": str(tmp_path / "encode.py")}
    exec(encode_py("torch"), scope)  # noqa: S102 - the code an export writes
    manifest = {"artefact": torch_artefact(spec, model, tmp_path, list(kept), "bf16"),
                "pipeline": {"pooling": "mean", "normalize": True}}
    run = scope["make_runner"](tmp_path, manifest, 1)
    tokens = load_sentence_transformer(model.path).tokenize(texts)
    theirs = run({name: tokens[name].numpy() for name in ("input_ids", "attention_mask", "token_type_ids")})
    cosines = (ours * theirs).sum(1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    assert cosines.min() > 0.9999
