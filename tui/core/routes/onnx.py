"""ONNX Runtime routes: the model exported to ONNX, run fp32, dynamically quantized to int8, or static QDQ int8.

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
    RouteSpec("ort-qdq-int8", "onnxruntime", "int8", granularity="per-channel",
              summary="ONNX Runtime static QDQ int8 (S8S8, per-channel weights) after ORT's transformer optimizer, "
                      "calibrated on other texts (MinMax or Entropy, whichever is closer to fp32)"),
)


def onnx_fp32(ctx: PrepareContext) -> Path:
    """The fp32 ONNX export, shared by every ONNX Runtime and OpenVINO route."""
    from tui.core.onnx_route import export_onnx

    def build(d: Path) -> dict:
        export_onnx(ctx.model_dir, d / "model.onnx")
        return {}

    entry, _ = cached(ctx, "onnx-fp32", build, "torch", "transformers", "onnx")
    return entry / "model.onnx"


def onnx_dynamic_int8(ctx: PrepareContext, fp32: Path, *, reduce_range: bool = False) -> Path:
    """Dynamic int8; `reduce_range` (7-bit weights) is for x86 CPUs without VNNI (`qtui export --for`)."""
    from tui.core.onnx_route import quantize_onnx_int8

    def build(d: Path) -> dict:
        return quantize_onnx_int8(fp32, d / "model.int8.onnx", reduce_range=reduce_range)

    entry, facts = cached(ctx, "onnx-int8", build, "onnxruntime", "onnx",
                          extra="reduce_range" if reduce_range else "")
    keep_facts(ctx, facts)
    return entry / "model.int8.onnx"


def onnx_qdq_int8(ctx: PrepareContext, fp32: Path) -> Path:
    """Static int8: the artefact depends on the calibration texts too, so they are part of the cache key."""
    from tui.core.onnx_route import quantize_onnx_qdq_int8
    from tui.core.workload import fingerprint as texts_fingerprint

    def build(d: Path) -> dict:
        return quantize_onnx_qdq_int8(fp32, d / "model.qdq.onnx", ctx.model_dir, ctx.calibration)

    entry, facts = cached(ctx, "onnx-qdq-int8", build, "onnxruntime", "onnx",
                          extra=texts_fingerprint(ctx.calibration))
    keep_facts(ctx, facts)
    return entry / "model.qdq.onnx"


def onnx_path(spec: RouteSpec, ctx: PrepareContext, *, reduce_range: bool = False) -> Path:
    """The route's ONNX file, built through the cache: the file the route runs, and exports."""
    fp32 = onnx_fp32(ctx)
    if spec.id == "ort-qdq-int8":
        return onnx_qdq_int8(ctx, fp32)
    if spec.dtype == "qint8":
        return onnx_dynamic_int8(ctx, fp32, reduce_range=reduce_range)
    return fp32


def prepare(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.onnx_route import OrtEncoder

    path = onnx_path(spec, ctx)
    encoder = OrtEncoder(path, ctx.model_dir, threads=ctx.threads)
    encoder.artefact = path  # the file the runtime loaded (benchmarks reuse it)
    encoder.size_mb = path.stat().st_size / 1e6
    encoder.onnx_path = path  # the kernels capture profiles a session of its own on the same file
    encoder.threads = ctx.threads
    encoder.facts = {**ctx.facts, **encoder_facts(encoder)}
    return encoder


def kernels(runner, texts: list[str], batch_size: int, host_features, simulated: bool):
    from tui.core.kernels.ort import capture

    return capture(runner, texts, batch_size, host_features, simulated)


RUNTIME = Runtime("onnxruntime", SPECS, ("onnxruntime", "onnx", "onnxscript"),
                  "pip install 'qtui-bench[onnx]' (onnxruntime, onnx, onnxscript)", prepare, kernels=kernels)
