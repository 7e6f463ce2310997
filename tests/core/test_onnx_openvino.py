"""The ONNX Runtime and OpenVINO routes, end to end on the real packaged model with a small workload.

The artefacts are built once per module (export ≈ 10 s, quantizations a few seconds each); every build runs
under an output capture, so a test can assert that nothing reached the terminal.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import run_python

pytestmark = pytest.mark.slow

TEXTS = [
    "The cat sat quietly on the warm windowsill.",
    "A young engineer fixed the cache invalidation bug before lunch.",
    "Quarterly revenue grew by twelve percent.",
    "Rain is expected in the mountains tomorrow afternoon.",
    "She read the letter twice and then burned it.",
    "How do I reset my password?",
    "The committee postponed the vote until the next meeting because several members were travelling.",
    "Fresh bread smells wonderful.",
    "Int8 quantization can be slower than fp32 on some CPUs.",
    "The train to Berlin leaves at seven.",
    "Our team shipped the new compiler after months of work.",
    "He forgot his umbrella again.",
    "The museum opens late on Thursdays.",
    "Please send the benchmark results to everyone on the list.",
    "Birds migrate south when the days get shorter.",
    "Yes.",
]
CALIBRATION = [f"Calibration sentence number {i} talks about {w}." for i, w in
               enumerate(["weather", "trains", "bread", "compilers", "music", "football", "taxes", "rivers"])]
HEAVY = ("torch", "onnxruntime", "openvino", "nncf", "sentence_transformers", "transformers", "onnx", "numpy")


@contextlib.contextmanager
def captured_output() -> dict:
    """Everything written to fd 1/2 or sys.stdout/sys.stderr inside the block, C++ prints included."""
    result = {"text": ""}
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as sink:
        python_side = io.StringIO()
        os.dup2(sink.fileno(), 1)
        os.dup2(sink.fileno(), 2)
        try:
            with contextlib.redirect_stdout(python_side), contextlib.redirect_stderr(python_side):
                yield result
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
            sink.seek(0)
            result["text"] = sink.read().decode(errors="replace") + python_side.getvalue()


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))


@pytest.fixture(scope="module")
def model_dir() -> Path:
    from tui.core.models import packaged_model_dir

    return packaged_model_dir()


@pytest.fixture(scope="module")
def reference(model_dir) -> np.ndarray:
    """What the routes must reproduce: SentenceTransformer's own fp32 embeddings."""
    from tui.core.models import load_sentence_transformer

    model = load_sentence_transformer(model_dir)
    return model.encode(TEXTS, batch_size=6, normalize_embeddings=False, show_progress_bar=False)


@pytest.fixture(scope="module")
def built(model_dir, tmp_path_factory) -> dict:
    """Every artefact, built once; `output` holds whatever the builds printed (must be nothing)."""
    from tui.core.onnx_route import export_onnx, quantize_onnx_int8
    from tui.core.openvino_route import convert_openvino_fp32, quantize_openvino_int8

    root = tmp_path_factory.mktemp("routes")
    paths = {"onnx": root / "onnx" / "model.onnx", "onnx_int8": root / "onnx-int8" / "model.int8.onnx",
             "ov": root / "ov" / "model.xml", "ov_int8": root / "ov-int8" / "model.xml"}
    with captured_output() as out:
        export_onnx(model_dir, paths["onnx"])
        ort_facts = quantize_onnx_int8(paths["onnx"], paths["onnx_int8"])
        convert_openvino_fp32(paths["onnx"], paths["ov"])
        ov_facts = quantize_openvino_int8(model_dir, paths["ov"], paths["ov_int8"], CALIBRATION)
    return {**paths, "root": root, "ort_facts": ort_facts, "ov_facts": ov_facts, "output": out["text"]}


@pytest.fixture(scope="module")
def embeddings(built, model_dir) -> dict:
    """Each route's embeddings of TEXTS (batch 6: the last batch is short, shapes vary), and what encoding printed."""
    from tui.core.onnx_route import OrtEncoder
    from tui.core.openvino_route import OpenVinoEncoder

    with captured_output() as out:
        encoders = {
            "ort-fp32": OrtEncoder(built["onnx"], model_dir, threads=2),
            "ort-qint8": OrtEncoder(built["onnx_int8"], model_dir, threads=2),
            "openvino-fp32": OpenVinoEncoder(built["ov"], model_dir, threads=2),
            "openvino-int8": OpenVinoEncoder(built["ov_int8"], model_dir, threads=2),
        }
        result = {name: enc.encode(TEXTS, batch_size=6) for name, enc in encoders.items()}
    return {**result, "encoders": encoders, "output": out["text"]}


def test_importing_the_route_modules_imports_no_runtime():
    code = ("import sys, tui.core.onnx_route, tui.core.openvino_route; "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    result = run_python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_builds_and_encodes_print_nothing(built, embeddings):
    assert built["output"] == ""
    assert embeddings["output"] == ""


@pytest.mark.parametrize("route", ["ort-fp32", "ort-qint8", "openvino-fp32", "openvino-int8"])
def test_embeddings_have_the_reference_shape_and_dtype(embeddings, reference, route):
    assert embeddings[route].shape == reference.shape == (len(TEXTS), 384)
    assert embeddings[route].dtype == np.float32
    assert np.isfinite(embeddings[route]).all()


@pytest.mark.parametrize("route", ["ort-fp32", "openvino-fp32"])
def test_fp32_routes_match_sentence_transformers(embeddings, reference, route):
    assert cosines(embeddings[route], reference).min() >= 0.9999


@pytest.mark.parametrize("route", ["ort-qint8", "openvino-int8"])
def test_int8_routes_stay_close_to_fp32(embeddings, reference, route):
    cos = cosines(embeddings[route], reference)
    sentences = np.array([len(t.split()) >= 3 for t in TEXTS])
    assert cos.mean() >= 0.98
    assert cos[sentences].min() >= 0.98
    # A one-word text has ~3 tokens, each quantization error weighs more in its mean: ~0.96-0.97 measured.
    assert cos[~sentences].min() >= 0.95
    assert cos.mean() < 0.99999, "int8 output identical to fp32: the model was not quantized"


def test_encode_keeps_the_callers_order_for_any_batch_size(embeddings):
    encoder = embeddings["encoders"]["ort-fp32"]
    one_batch = encoder.encode(TEXTS, batch_size=len(TEXTS))
    singles = encoder.encode(TEXTS, batch_size=1)
    assert cosines(one_batch, embeddings["ort-fp32"]).min() >= 0.9999
    assert cosines(singles, embeddings["ort-fp32"]).min() >= 0.9999


def test_export_outputs_the_sentence_embedding_with_dynamic_batch_and_sequence(built):
    import onnx

    model = onnx.load(str(built["onnx"]), load_external_data=False)
    inputs = {i.name: [d.dim_param or d.dim_value for d in i.type.tensor_type.shape.dim] for i in model.graph.input}
    assert inputs == {name: ["batch", "sequence"] for name in ("input_ids", "attention_mask", "token_type_ids")}
    output = model.graph.output[0]
    assert output.name == "sentence_embedding"
    assert [d.dim_param or d.dim_value for d in output.type.tensor_type.shape.dim] == ["batch", 384]


def test_ort_int8_facts_say_what_was_done(built):
    facts = built["ort_facts"]
    assert facts["optimized"] is True, facts["notes"]
    assert facts["per_channel"] is True
    assert facts["weight_type"] == "QInt8"
    assert "Attention" in facts["notes"]
    assert built["onnx_int8"].stat().st_size < built["onnx"].stat().st_size / 2


def test_ort_int8_falls_back_to_the_plain_export_when_the_optimizer_fails(built, model_dir, tmp_path, monkeypatch):
    from tui.core import onnx_route

    def broken(*_args, **_kwargs):
        raise RuntimeError("fusion pattern not found")

    monkeypatch.setattr(onnx_route, "optimize_transformer", broken)
    out = tmp_path / "model.int8.onnx"
    facts = onnx_route.quantize_onnx_int8(built["onnx"], out)
    assert facts["optimized"] is False
    assert "optimizer failed" in facts["notes"] and "fusion pattern not found" in facts["notes"]
    assert out.is_file() and out.stat().st_size < built["onnx"].stat().st_size / 2
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.int8.onnx"]


@pytest.mark.parametrize("kind", ["throughput", "unpinned"])
def test_openvino_process_variants_encode_the_same_vectors_and_say_their_settings(built, embeddings, model_dir, kind):
    """--pattern processes' variants change how OpenVINO schedules, never what it computes."""
    from tui.core.onnx_route import mean_cosine
    from tui.core.openvino_route import OpenVinoEncoder

    encoder = OpenVinoEncoder(built["ov_int8"], model_dir, threads=2)
    assert encoder.cpu_pinning in (True, False)  # the plugin's default, reported per route
    encoder.use_variant(kind)
    vectors = encoder.encode(TEXTS, batch_size=2)  # several batches: several requests in flight
    assert mean_cosine(vectors, embeddings["openvino-int8"]) > 0.9999
    if kind == "throughput":
        assert encoder.facts["performance_hint"] == "THROUGHPUT" and encoder.facts["infer_requests"] >= 1
        assert encoder.facts["streams"] >= 1
    else:
        assert encoder.facts["cpu_pinning"] is False


def test_openvino_int8_is_quantized_and_fp32_runs_in_f32(built, embeddings):
    assert built["ov_facts"]["fake_quantize_ops"] > 0
    assert built["ov_facts"]["calibration_texts"] == len(CALIBRATION)
    assert built["ov_int8"].with_suffix(".bin").stat().st_size < built["ov"].with_suffix(".bin").stat().st_size / 2
    # fp32 weights really are fp32: save_model would halve them by default (compress_to_fp16).
    assert built["ov"].with_suffix(".bin").stat().st_size > 0.9 * built["onnx"].stat().st_size
    fp32 = embeddings["encoders"]["openvino-fp32"]
    assert fp32.inference_precision == "f32"
    assert fp32.threads == 2


def test_artefacts_are_written_without_leftover_temp_files(built):
    found = sorted(str(p.relative_to(built["root"])) for p in built["root"].rglob("*") if p.is_file())
    assert found == ["onnx-int8/model.int8.onnx", "onnx/model.onnx", "ov-int8/model.bin", "ov-int8/model.xml",
                     "ov/model.bin", "ov/model.xml"]


def test_a_failed_write_leaves_neither_target_nor_temp_file(tmp_path):
    from tui.core.onnx_route import atomic_target
    from tui.core.openvino_route import atomic_ir

    with pytest.raises(RuntimeError), atomic_target(tmp_path / "model.onnx") as tmp:
        tmp.write_bytes(b"half")
        raise RuntimeError("export crashed")
    with pytest.raises(RuntimeError), atomic_ir(tmp_path / "model.xml") as tmp_xml:
        tmp_xml.write_text("<net/>")
        raise RuntimeError("save crashed")
    assert list(tmp_path.iterdir()) == []


def test_graph_inputs_follow_the_tokenizer():
    from types import SimpleNamespace

    from tui.core.onnx_route import UnsupportedModel, token_input_names

    no_segments = SimpleNamespace(model_input_names=["input_ids", "attention_mask"])
    assert token_input_names(no_segments) == ["input_ids", "attention_mask"]
    bert = SimpleNamespace(model_input_names=["input_ids", "token_type_ids", "attention_mask"])
    assert token_input_names(bert) == ["input_ids", "attention_mask", "token_type_ids"]
    with pytest.raises(UnsupportedModel):
        token_input_names(SimpleNamespace(model_input_names=["pixel_values"]))


def test_unsupported_models_are_refused_as_unavailable_with_the_module_named():
    from tui.core.onnx_route import UnsupportedModel, describe_head, transformer_of
    from tui.core.routes import RouteUnavailable

    assert issubclass(UnsupportedModel, RouteUnavailable)  # the bench shows "unavailable: why", not a crash

    class Transformer: ...

    class Pooling:
        pooling_mode = "mean"

    class Normalize: ...

    class Dense: ...

    assert describe_head([Transformer(), Pooling(), Normalize()]) == ("mean", True)
    assert describe_head([Transformer(), Pooling()]) == ("mean", False)
    with pytest.raises(UnsupportedModel, match="Dense"):
        describe_head([Transformer(), Pooling(), Dense(), Normalize()])
    with pytest.raises(UnsupportedModel, match="no pooling module"):
        describe_head([Transformer(), Normalize()])
    with pytest.raises(UnsupportedModel, match="StaticEmbedding"):
        transformer_of([type("StaticEmbedding", (), {})()])
