"""The rescue's mixes on ONNX Runtime and OpenVINO: which graph nodes a Linear layer is, and, on the model with
outliers built in, mixes that leave the injected layers float and win back the accuracy plain int8 lost."""

import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.outliers import injected_layer_names, outlier_model
from tui.core.onnx_route import graph_scope, nodes_computing

INJECTED = injected_layer_names((2, 4))


def test_a_layer_is_the_matmul_in_its_scope_and_layer_1_is_not_layer_10():
    nodes = [("/transformer/encoder/layer.1/output/dense/MatMul", "MatMul", ["a"]),
             ("/transformer/encoder/layer.10/output/dense/MatMul", "MatMul", ["b"]),
             ("/transformer/encoder/layer.1/output/LayerNorm/Add", "Add", ["c"])]
    assert graph_scope("encoder.layer.1.output.dense") == "/transformer/encoder/layer.1/output/dense"
    found, missing = nodes_computing(["encoder.layer.1.output.dense", "encoder.layer.7.output.dense"], nodes)
    assert found == ["/transformer/encoder/layer.1/output/dense/MatMul"]
    assert missing == ["encoder.layer.7.output.dense"]


def test_after_ort_fusions_query_key_and_value_are_one_attention_node():
    nodes = [("Attention_0", "Attention", ["/transformer/encoder/layer.0/attention/self/Reshape_3_output_0"]),
             ("Attention_1", "Attention", ["/transformer/encoder/layer.1/attention/self/Reshape_3_output_0"]),
             ("/transformer/encoder/layer.1/attention/output/dense/MatMul", "MatMul", ["x"])]
    layers = [f"encoder.layer.1.attention.self.{p}" for p in ("query", "key", "value")]
    assert nodes_computing(layers, nodes) == (["Attention_1"], [])


@pytest.fixture(scope="module")
def setting(tmp_path_factory):
    """The outlier model, a workload, and a context whose layer order puts the injected layers first (as the
    evidence does: tests/core/test_layers.py) followed by the next two, so the OpenVINO search (an nncf build per
    step) stays a few steps; the ONNX Runtime test orders every layer."""
    from tui.core.models import resolve_model
    from tui.core.workload import make_workload

    root = tmp_path_factory.mktemp("mixes")
    model = resolve_model(str(outlier_model(root / "model")))
    workload = make_workload(48, n_calibration=32)
    order = (*INJECTED, "encoder.layer.0.output.dense", "encoder.layer.3.intermediate.dense")
    return model, workload, order, root / "cache"


def context(setting, **kwargs):
    from tui.core.routes import PrepareContext

    model, workload, order, cache = setting
    return PrepareContext(model.path, model.fingerprint, 1, list(workload.calibration), cache,
                          Path(tempfile.mkdtemp()), **{"layer_order": order, **kwargs})


def cosine_to_fp32(setting, runner) -> float:
    from tui.core.models import load_sentence_transformer
    from tui.core.onnx_route import mean_cosine

    model, workload, _, _ = setting
    texts = list(workload.texts)
    reference = load_sentence_transformer(model.path).encode(texts, batch_size=16, show_progress_bar=False)
    return mean_cosine(reference, np.asarray(runner.encode(texts, 16)))


@pytest.mark.slow
def test_the_ort_mix_leaves_the_injected_layers_float_and_reaches_the_threshold(setting):
    from tui.core.export.artefacts import onnx_artefact
    from tui.core.onnx_route import onnx_nodes
    from tui.core.routes import ROUTES, prepare

    plain = cosine_to_fp32(setting, prepare(ROUTES["ort-qint8"], context(setting)))
    assert plain < 0.99  # the outliers break ONNX Runtime's per-tensor activations too
    # Every layer in the order (injected first), so the search may keep as many as this CPU's int8 kernels need
    # (ORT's u8s8 kernels on x86 without VNNI lose more accuracy).
    mixed = prepare(ROUTES["ort-qint8-mixed"], context(setting, layer_order=every_layer(setting)))
    kept = mixed.facts["kept_fp32"]
    assert kept[:2] == INJECTED and 0 < mixed.facts["float_nodes"] <= len(kept) < mixed.facts["linear_layers"]
    assert mixed.facts["calibration_cosine"] >= 0.99 and mixed.facts["mix_cache"] == "miss"
    assert cosine_to_fp32(setting, mixed) >= 0.99  # verified on the measured texts, which the search never saw
    float_matmuls = {name for name, op, _ in onnx_nodes(mixed.artefact) if op == "MatMul"}
    assert {f"/transformer/{n.replace('.', '/').replace('layer/', 'layer.')}/MatMul" for n in INJECTED} \
        <= float_matmuls
    # The export builds the very file the run measured (same cache entry), from the kept layers alone.
    again = context(setting, keep_fp32=tuple(kept))
    artefact = onnx_artefact(ROUTES["ort-qint8-mixed"], again, Path(tempfile.mkdtemp()), reduce_range=False)
    assert artefact["keep_fp32"] == kept and artefact["sha256"] == sha256(mixed.artefact)
    again = prepare(ROUTES["ort-qint8-mixed"], context(setting, layer_order=every_layer(setting)))
    assert again.facts["mix_cache"] == "hit" and again.facts["kept_fp32"] == kept


@pytest.mark.slow
def test_the_openvino_mix_ignores_the_injected_layers_in_nncf(setting):
    from tui.core import rescue
    from tui.core.openvino_route import MixedBuild, candidates_for
    from tui.core.routes import ROUTES, prepare
    from tui.core.routes.openvino import ir_path

    model, workload, order, _ = setting
    # nncf's static int8 spreads its error over every layer, so keeping the injected layers float wins back less
    # than with dynamic int8 (here: 0.9907 → 0.9934 on the calibration texts, 32 of them: SmoothQuant not tried).
    # A threshold halfway between plain int8 and the injected layers kept, measured on this CPU, must make the
    # search keep the costliest of them first and stop by the second.
    fp32_xml = ir_path(ROUTES["openvino-fp32"], context(setting))
    calibration = list(workload.calibration)
    build = MixedBuild(model.path, fp32_xml, calibration, candidates_for(len(calibration))[0].name,
                       rescue.target(context(setting)))  # scored as the route scores it
    score = build.scorer()
    plain_score, kept_score = score(()), score(INJECTED)
    assert kept_score > plain_score
    threshold = round((plain_score + kept_score) / 2, 6)
    ctx = context(setting, min_cosine=threshold)
    mixed = prepare(ROUTES["openvino-int8-mixed"], ctx)
    kept = mixed.facts["kept_fp32"]
    assert kept == list(ctx.keep_fp32) and kept == INJECTED[:len(kept)] and 1 <= len(kept) <= 2
    assert mixed.facts["float_nodes"] == len(kept) and mixed.facts["calibration_cosine"] >= threshold
    plain = prepare(ROUTES["openvino-int8"], context(setting))
    assert mixed.facts["fake_quantize_ops"] < plain.facts["fake_quantize_ops"]  # those layers are not quantized
    assert cosine_to_fp32(setting, mixed) > cosine_to_fp32(setting, plain)


def every_layer(setting) -> tuple[str, ...]:
    from tui.core.layers import linear_layers
    from tui.core.models import load_sentence_transformer

    names = list(linear_layers(load_sentence_transformer(setting[0].path)))
    return (*INJECTED, *(n for n in names if n not in INJECTED))


def sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
