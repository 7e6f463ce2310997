"""ONNX Runtime routes: the model exported to ONNX, run fp32, dynamically quantized to int8, or static QDQ int8.

The export and quantization toolkit lives in `tui.core.onnx_route`; this module only says which routes
exist and how each is built from it (cached).
"""

from __future__ import annotations

from pathlib import Path

from tui.core.routes.base import PrepareContext, RouteSpec, Runtime, cached, encoder_facts, keep_facts

SPECS = (
    RouteSpec("ort-fp32", "onnxruntime", "fp32", summary="ONNX export run by ONNX Runtime",
              builds="an ONNX export"),
    RouteSpec("ort-qint8", "onnxruntime", "qint8", granularity="per-channel",
              summary="ONNX Runtime dynamic int8, per-channel weights, after ORT's transformer optimizer",
              mix="ort-qint8-mixed", builds="an ONNX export, optimized, then int8 weights"),
    RouteSpec("ort-qint8-mixed", "onnxruntime", "qint8", granularity="per-channel",
              summary="ort-qint8 with the Linear layers most sensitive to int8 left float (nodes_to_exclude): the "
                      "fewest that reach --min-cosine on calibration texts (built by the rescue when ort-qint8 "
                      "misses it)", rescue=True, builds="the layer search: int8 builds with layers left float"),
    RouteSpec("ort-qdq-int8", "onnxruntime", "int8", granularity="per-channel",
              summary="ONNX Runtime static QDQ int8 (S8S8, per-channel weights) after ORT's transformer optimizer, "
                      "calibrated on other texts (MinMax or Entropy, whichever is closer to fp32)",
              builds="an ONNX export, then static int8 calibrated twice (MinMax, Entropy)"),
)


def onnx_fp32(ctx: PrepareContext) -> Path:
    """The fp32 ONNX export, shared by every ONNX Runtime and OpenVINO route."""
    from tui.core.onnx_route import export_onnx

    def build(d: Path) -> dict:
        export_onnx(ctx.model_dir, d / "model.onnx")
        return {}

    entry, _ = cached(ctx, "onnx-fp32", build, "torch", "transformers", "onnx")
    return entry / "model.onnx"


def onnx_dynamic_int8(ctx: PrepareContext, fp32: Path, *, reduce_range: bool = False,
                      keep_float: tuple[str, ...] = ()) -> Path:
    """Dynamic int8; `reduce_range` (7-bit weights) is for x86 CPUs without VNNI (this one, or `export --for`);
    `keep_float`: a mixed route's layers left float."""
    from tui.core.onnx_route import quantize_onnx_int8

    def build(d: Path) -> dict:
        return quantize_onnx_int8(fp32, d / "model.int8.onnx", reduce_range=reduce_range, keep_float=keep_float)

    entry, facts = cached(ctx, "onnx-int8-mixed" if keep_float else "onnx-int8", build, "onnxruntime", "onnx",
                          extra=("reduce_range" if reduce_range else "") + ",".join(keep_float))
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


X86_INT8_DOT = ("avx512_vnni", "avx_vnni", "amx_int8")  # u8×s8 products summed in 32 bits, no saturation


def wants_reduce_range(spec: RouteSpec, cpu) -> bool:
    """ORT dynamic int8 for an x86 CPU without VNNI: 7-bit weights keep u8s8 sums from saturating
    (onnxruntime#5849). The run builds the route so on such a host, and export ships the same file."""
    return spec.id == "ort-qint8" and cpu.is_x86 and not cpu.has_any(*X86_INT8_DOT)


def onnx_path(spec: RouteSpec, ctx: PrepareContext, *, reduce_range: bool = False) -> Path:
    """The route's ONNX file, built through the cache: the file the route runs, and exports."""
    fp32 = onnx_fp32(ctx)
    if spec.id == "ort-qdq-int8":
        return onnx_qdq_int8(ctx, fp32)
    if spec.dtype == "qint8":
        return onnx_dynamic_int8(ctx, fp32, reduce_range=reduce_range, keep_float=ctx.keep_fp32 if spec.rescue else ())
    return fp32


def search_mix(spec: RouteSpec, ctx: PrepareContext) -> dict:
    """The rescue's mix for ort-qint8 (searched, or from the mix cache); sets ctx.keep_fp32, returns its facts."""
    from tui.core import rescue
    from tui.core.onnx_route import OrtEncoder, quantize_onnx_int8
    from tui.core.routes.base import RouteUnavailable, versions

    rescue.require_layer_order(ctx)
    fp32 = onnx_fp32(ctx)
    goal = rescue.target(ctx)
    texts = list(goal.texts)
    trial = ctx.scratch / f"{spec.id}.trial.onnx"

    def make_score():
        reference = OrtEncoder(fp32, ctx.model_dir, threads=ctx.threads).encode(texts, 32)

        def score(kept: tuple[str, ...]) -> float:
            quantize_onnx_int8(fp32, trial, keep_float=kept)
            return goal.score(reference, OrtEncoder(trial, ctx.model_dir, threads=ctx.threads).encode(texts, 32))

        return score

    try:
        mix, hit = rescue.find_mix(spec.id, ctx, list(ctx.layer_order), make_score, versions("onnxruntime", "onnx"))
    except rescue.NoMixReachesIt as exc:
        raise RouteUnavailable(f"no mix reaches {goal.unit} {goal.threshold}: {exc}") from None
    finally:
        trial.unlink(missing_ok=True)
    ctx.keep_fp32 = mix.kept_fp32
    # Checked with onnxruntime 1.32: the CPU provider has no bf16 MatMul kernel ("NOT_IMPLEMENTED"), so no choice.
    return {**rescue.mix_facts(mix, hit), "kept_dtype_note": "ONNX Runtime's CPU provider has no bf16 MatMul"}


def prepare(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.cpu import detect
    from tui.core.onnx_route import OrtEncoder

    mix_facts = search_mix(spec, ctx) if spec.rescue and not ctx.keep_fp32 else {}
    path = onnx_path(spec, ctx, reduce_range=wants_reduce_range(spec, detect()))
    encoder = OrtEncoder(path, ctx.model_dir, threads=ctx.threads)
    encoder.artefact = path  # the file the runtime loaded (benchmarks reuse it)
    encoder.size_mb = path.stat().st_size / 1e6
    encoder.onnx_path = path  # the kernels capture profiles a session of its own on the same file
    encoder.threads = ctx.threads
    encoder.facts = {**ctx.facts, **encoder_facts(encoder), **mix_facts}
    return encoder


def kernels(runner, texts: list[str], batch_size: int, host_features, simulated: bool):
    from tui.core.kernels.ort import capture

    return capture(runner, texts, batch_size, host_features, simulated)


RUNTIME = Runtime("onnxruntime", SPECS, ("onnxruntime", "onnx", "onnxscript"),
                  "pip install 'qtui-bench[onnx]' (onnxruntime, onnx, onnxscript)", prepare, kernels=kernels)
