"""ort-qdq-int8 on the packaged model: static S8S8 QDQ int8 after ORT's fusions, calibrated with MinMax and
Entropy on texts other than the measured ones; unavailable with the install hint where ONNX Runtime is missing."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from tests.core.test_onnx_openvino import captured_output
from tests.routes_on_model import CALIBRATION, fp32_reference, mean_cosine, run_route
from tui.core.cpu import detect
from tui.core.routes import ROUTES, RUNTIMES, static_unavailability

ORT_INSTALLED = not RUNTIMES["onnxruntime"].missing_modules()
INSTALL_HINT = RUNTIMES["onnxruntime"].install_hint


@pytest.mark.slow
def test_ort_qdq_int8_runs_close_to_fp32_and_says_which_calibration_won(tmp_path):
    if not ORT_INSTALLED:
        run = run_route("ort-qdq-int8", tmp_path)
        assert run.why_unavailable and INSTALL_HINT in run.why_unavailable
        return
    # The fp32 export (and loading torch with it) first, outside the capture: this test is about the QDQ build.
    assert run_route("ort-fp32", tmp_path).why_unavailable is None
    with captured_output() as out:
        run = run_route("ort-qdq-int8", tmp_path)
    assert run.why_unavailable is None
    assert out["text"] == ""  # calibrators print progress: it must not reach a terminal UI
    cosine = mean_cosine(run.embeddings, fp32_reference())
    assert 0.98 <= cosine < 0.99999, cosine  # close, but not identical: it really is quantized
    facts = run.facts
    cosines = {"minmax": facts["cosine_minmax"], "entropy": facts["cosine_entropy"]}
    assert facts["calibration"] == max(cosines, key=cosines.get)
    assert facts["calibration_texts"] == len(CALIBRATION)
    assert facts["optimized"] is True and "Attention" in facts["fused"]
    assert facts["int8_matmuls"] == facts["matmuls"] > 0, "a MatMul was left without int8 activations"
    assert "Attention" in facts["excluded_op_types"]
    assert facts["onnx-qdq-int8_cache"] == "built"
    [entry] = [p for p in (tmp_path / "cache").glob("onnx-qdq-int8-*") if p.is_dir()]
    assert sorted(p.name for p in entry.iterdir()) == ["model.qdq.onnx", "qtui-manifest.json"]
    assert not list(tmp_path.rglob(".model.qdq.onnx.*")), "calibration candidates left behind"


@pytest.mark.slow
def test_ort_qdq_int8_is_reused_for_the_same_calibration_texts_only(tmp_path):
    if not ORT_INSTALLED:
        pytest.skip("needs onnxruntime")
    assert run_route("ort-qdq-int8", tmp_path).facts["onnx-qdq-int8_cache"] == "built"
    assert run_route("ort-qdq-int8", tmp_path).facts["onnx-qdq-int8_cache"] == "hit"
    other = run_route("ort-qdq-int8", tmp_path, calibration=CALIBRATION[:5])
    assert other.facts["onnx-qdq-int8_cache"] == "built" and other.facts["calibration_texts"] == 5


def test_ort_qdq_int8_is_unavailable_with_the_install_hint_without_onnxruntime(monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real_find_spec(name, *a))
    why = static_unavailability(ROUTES["ort-qdq-int8"], detect())
    assert why and "onnxruntime not installed" in why and INSTALL_HINT in why


@pytest.mark.slow
def test_calibration_reader_feeds_tokenized_batches_longest_first():
    from tui.core.models import resolve_model
    from tui.core.onnx_route import CalibrationReader, Tokenize

    model_dir = resolve_model(None).path
    texts = ["Short.", "A somewhat longer calibration sentence about rivers.", "Medium length text here.",
             "The longest calibration sentence of them all, about trains, bread, compilers and the weather.", "Hi"]
    names = ["input_ids", "attention_mask"]
    reader = CalibrationReader(model_dir, texts, names, batch_size=2)
    assert len(reader) == 3
    batches = list(iter(reader.get_next, None))
    assert [b["input_ids"].shape[0] for b in batches] == [2, 2, 1]
    assert all(set(b) == set(names) and b["input_ids"].dtype == np.int64 for b in batches)
    # Padded per batch as the encoder pads: the first batch holds the two longest texts, exactly as Tokenize sees them.
    expected = Tokenize(model_dir)([texts[3], texts[1]], names)
    assert np.array_equal(batches[0]["input_ids"], expected["input_ids"])
    assert batches[0]["input_ids"].shape[1] > batches[2]["input_ids"].shape[1]
    assert reader.get_next() is None  # exhausted until rewound or given a range
    reader.set_range(start_index=1, end_index=2)  # the keywords quantize_static calls it with
    assert np.array_equal(reader.get_next()["input_ids"], batches[1]["input_ids"]) and reader.get_next() is None
    reader.rewind()
    assert len(list(iter(reader.get_next, None))) == 3


def test_calibration_reader_is_an_onnxruntime_data_reader():
    quantization = pytest.importorskip("onnxruntime.quantization")
    from tui.core.onnx_route import CalibrationReader

    assert issubclass(CalibrationReader, quantization.CalibrationDataReader)


def test_unquantized_consumers_get_the_float_tensor_back(tmp_path):
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    from tui.core.onnx_route import keep_unquantized_inputs_float

    # x → Q → DQ feeds a MatMul (int8 in ORT) and a residual Add (fp32): only the MatMul should see the rounded x.
    nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["x_q"]),
             helper.make_node("DequantizeLinear", ["x_q", "s", "z"], ["x_dq"]),
             helper.make_node("MatMul", ["x_dq", "w"], ["y"]),
             helper.make_node("Add", ["x_dq", "y"], ["out"])]
    inits = [helper.make_tensor("s", TensorProto.FLOAT, [], [0.1]), helper.make_tensor("z", TensorProto.INT8, [], [0]),
             helper.make_tensor("w", TensorProto.FLOAT, [2, 2], [1, 0, 0, 1])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 2])], inits)
    path = tmp_path / "g.onnx"
    onnx.save(helper.make_model(graph), str(path))
    assert keep_unquantized_inputs_float(path) == 1
    inputs = {n.op_type: list(n.input) for n in onnx.load(str(path)).graph.node}
    assert inputs["MatMul"] == ["x_dq", "w"] and inputs["Add"] == ["x", "y"]
