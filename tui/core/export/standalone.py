"""encode.py, rendered from `encode_template.py`: its docstring, the shared helpers, the tokenizer and batching of
the transformer runtimes (not for a static model2vec route, which tokenizes itself), one runtime's section and the
entry points. The advice recipes for ONNX Runtime and OpenVINO routes are rendered from the same template,
so the code a user copies is the code an exported folder runs."""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

TEMPLATE = Path(__file__).with_name("encode_template.py")
SECTION = re.compile(r"^# ==== section: (\w+) ====\n", re.MULTILINE)
RUNTIMES = ("onnxruntime", "openvino", "torch", "model2vec")  # RouteSpec.backend values an export supports
OWN_TOKENIZER = ("model2vec",)  # runtimes that tokenize and pool by themselves: no `transformer` section
_REDEFINITION_NOTE = "  # noqa: F811  (one runtime's section is kept in encode.py)"


@cache
def sections() -> dict[str, str]:
    """{"head": docstring, "common": …, "transformer": …, "onnxruntime": …, "openvino": …, "torch": …,
    "model2vec": …, "main": …}"""
    parts = SECTION.split(TEMPLATE.read_text(encoding="utf-8"))
    found = {"head": parts[0], **dict(zip(parts[1::2], parts[2::2], strict=True))}
    return {name: text.replace(_REDEFINITION_NOTE, "") for name, text in found.items()}


def encode_py(runtime: str) -> str:
    """The standalone encode.py for a route on `runtime`: only that runtime's code is kept."""
    if runtime not in RUNTIMES:
        raise ValueError(f"no encode.py for runtime {runtime!r}")
    parts = sections()
    shared = ("common",) if runtime in OWN_TOKENIZER else ("common", "transformer")
    return "".join(parts[name] for name in ("head", *shared, runtime, "main"))


BUILT_BY = {  # how each route's model file is made, for the recipe's first line
    "ort-fp32": "torch.onnx.export of transformer + pooling + normalisation",
    "ort-qint8": "ONNX export, ORT's transformer optimizer, onnxruntime.quantization.quantize_dynamic per-channel",
    "ort-qdq-int8": "ONNX export, ORT's optimizer, onnxruntime.quantization.quantize_static QDQ, calibrated",
    "openvino-fp32": "the ONNX export read by OpenVINO, saved as IR with fp32 weights",
    "openvino-int8": "the OpenVINO IR quantized by nncf.quantize (transformer preset), calibrated on other texts",
    "openvino-bf16": "the OpenVINO IR, run with bf16 inference precision",
    "openvino-int8-bf16": "nncf.quantize int8 IR, float layers run bf16",
    "ort-qint8-mixed": "as ort-qint8, with nodes_to_exclude= the nodes of the layers the run kept float",
    "openvino-int8-mixed": "as openvino-int8, with nncf.IgnoredScope(names=) the nodes of the layers kept float",
    "static-m2v": "model2vec.distill of the model (its transformer over the vocabulary, PCA), model2vec's own folder",
}


def export_command(route_id: str, model: str = "") -> str:
    """The `qtui export` command that writes `route_id`'s folder, named after the route; `model` is the report's
    (the packaged default needs no --model)."""
    from tui.core.models import DEFAULT_MODEL_NAME

    model_flag = f" --model {shlex.quote(model)}" if model and model != DEFAULT_MODEL_NAME else ""
    return f"qtui export {route_id} --out {route_id}{model_flag}"


def load_and_encode(folder: str) -> str:
    """The Python a service runs against an exported folder: `encode` from encode.py's main section loads the
    folder it sits in on first use."""
    return (f"import sys; sys.path.insert(0, {folder!r})  # the folder qtui export wrote\n"
            "from encode import encode\n"
            "vectors = encode([\"an example sentence\"])\n")


def short_recipe(route_id: str, model: str = "") -> str:
    """The fewest lines that reproduce the route: the export command (a shell line, `$ `), then the Python."""
    return f"$ {export_command(route_id, model)}\n" + load_and_encode(route_id)


def recipe(route_id: str, runtime: str, model: str = "") -> str:
    """Advice recipe in full: how to get the folder, then the code it runs (public libraries only)."""
    built = f"  ({BUILT_BY[route_id]})" if route_id in BUILT_BY else ""
    return (f"# {export_command(route_id, model)}{built}\n"
            f"# writes the model file, its tokenizer, qtui-export.json and this code as {route_id}/encode.py;\n"
            f"# a service then needs no qtui:\n"
            + "".join(f"#   {line}\n" for line in load_and_encode(route_id).splitlines())
            + encode_py(runtime))
