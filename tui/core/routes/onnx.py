"""ONNX Runtime routes: the model exported to ONNX, run fp32 or dynamically quantized to int8.

The export and quantization toolkit lives in `tui.core.onnx_route`; this module only says which routes
exist and how each is built from it (cached).
"""

from __future__ import annotations

from pathlib import Path

from tui.core.routes.base import PrepareContext, RouteSpec, Runtime, cached, encoder_facts, keep_facts

SPECS = (
    RouteSpec("ort-fp32", "onnxruntime", "fp32", summary="ONNX export run by ONNX Runtime"),
    RouteSpec("ort-qint8", "onnxruntime", "qint8", granularity="per-channel",
              summary="ONNX Runtime dynamic int8, per-channel weights, after ORT's transformer optimizer"),
)


def onnx_fp32(ctx: PrepareContext) -> Path:
    """The fp32 ONNX export, shared by every ONNX Runtime and OpenVINO route."""
    from tui.core.onnx_route import export_onnx

    def build(d: Path) -> dict:
        export_onnx(ctx.model_dir, d / "model.onnx")
        return {}

    entry, _ = cached(ctx, "onnx-fp32", build, "torch", "transformers", "onnx")
    return entry / "model.onnx"


def prepare(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.onnx_route import OrtEncoder, quantize_onnx_int8

    fp32 = onnx_fp32(ctx)
    if spec.dtype == "fp32":
        path = fp32
    else:
        def build(d: Path) -> dict:
            return quantize_onnx_int8(fp32, d / "model.int8.onnx")

        entry, facts = cached(ctx, "onnx-int8", build, "onnxruntime", "onnx")
        keep_facts(ctx, facts)
        path = entry / "model.int8.onnx"
    encoder = OrtEncoder(path, ctx.model_dir, threads=ctx.threads)
    encoder.size_mb = path.stat().st_size / 1e6
    encoder.threads = ctx.threads
    encoder.facts = {**ctx.facts, **encoder_facts(encoder)}
    return encoder


RUNTIME = Runtime("onnxruntime", SPECS, ("onnxruntime", "onnx", "onnxscript"),
                  "pip install 'qtui-bench[onnx]' (onnxruntime, onnx, onnxscript)", prepare)
