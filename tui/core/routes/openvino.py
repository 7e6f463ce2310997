"""OpenVINO routes: the ONNX export converted to OpenVINO IR, run fp32 or as static int8 from nncf.

Every OpenVINO route states its inference precision: the CPU plugin would otherwise run "fp32" in bf16 on
CPUs with AVX512-BF16 or AMX. The toolkit lives in `tui.core.openvino_route`.
"""

from __future__ import annotations

from pathlib import Path

from tui.core import rescue
from tui.core.cpu import CpuProfile
from tui.core.routes.base import BF16_MISSING, PrepareContext, RouteSpec, Runtime, cached, encoder_facts, keep_facts
from tui.core.routes.onnx import onnx_fp32

# Of the buckets benchmarks/fixed_shapes.py tried (exact, 4, 8, 16 tokens), the smallest padding measured fastest;
# exact lengths were faster still but need a compilation per distinct length, which no service can warm up.
LENGTH_BUCKET = 4

STATIC_INT8 = "an ONNX export, OpenVINO IR, then nncf static int8 calibrated with three SmoothQuant settings"

SPECS = (
    RouteSpec("openvino-fp32", "openvino", "fp32", summary="OpenVINO IR, fp32 inference precision",
              builds="an ONNX export converted to OpenVINO IR"),
    RouteSpec("openvino-int8", "openvino", "int8", granularity="per-channel",
              summary="OpenVINO static int8 from nncf.quantize (transformer preset), calibrated on other texts; "
                      "SmoothQuant off or at one of two alphas, whichever is closer to fp32 on held-out texts",
              mix="openvino-int8-mixed", builds=STATIC_INT8),
    RouteSpec("openvino-int8-mixed", "openvino", "int8", granularity="per-channel",
              summary="openvino-int8 with the Linear layers most sensitive to int8 left float (nncf ignored_scope, "
                      "same SmoothQuant setting): the fewest that reach --min-cosine on held-out calibration texts "
                      "(built by the rescue when openvino-int8 misses it)", rescue=True,
              builds="the layer search: nncf builds with layers left float"),
    RouteSpec("openvino-int8-fixed", "openvino", "int8", granularity="per-channel",
              summary=f"openvino-int8 with fixed shapes: lengths padded to a multiple of {LENGTH_BUCKET} tokens, "
                      "one static-shape compilation per (batch, length) met, made while warming up",
              builds=STATIC_INT8 + ", then one compilation per shape"),
    RouteSpec("openvino-bf16", "openvino", "bf16", summary="OpenVINO IR, bf16 inference precision (AVX512-BF16/AMX)",
              needs_bf16=True, builds="an ONNX export converted to OpenVINO IR"),
    RouteSpec("openvino-int8-bf16", "openvino", "int8", granularity="per-channel",
              summary="OpenVINO static int8; the layers left in floating point run bf16, not fp32", needs_bf16=True,
              builds=STATIC_INT8),
)


def ir_path(spec: RouteSpec, ctx: PrepareContext) -> Path:
    """The route's IR (.xml beside its .bin), built through the cache: the file the route runs, and exports."""
    from tui.core.openvino_route import convert_openvino_fp32, quantize_openvino_int8, recipe_key
    from tui.core.workload import fingerprint as texts_fingerprint

    fp32_onnx = onnx_fp32(ctx)

    def build_fp32(d: Path) -> dict:
        convert_openvino_fp32(fp32_onnx, d / "model.xml")
        return {}

    fp32_entry, _ = cached(ctx, "openvino-fp32", build_fp32, "openvino")
    xml = fp32_entry / "model.xml"
    if spec.dtype == "int8":
        def build_int8(d: Path) -> dict:
            return quantize_openvino_int8(ctx.model_dir, xml, d / "model.xml", ctx.calibration)

        # The candidates tried are part of the key: a build that tried other settings is another artefact.
        extra = f"{texts_fingerprint(ctx.calibration)};{recipe_key()}"
        entry, facts = cached(ctx, "openvino-int8", build_int8, "openvino", "nncf", extra=extra)
        keep_facts(ctx, facts)
        if spec.rescue:
            return _mixed_ir(ctx, xml, str(facts.get("chosen", "")), extra)
        xml = entry / "model.xml"
    return xml


def _mixed_ir(ctx: PrepareContext, fp32_xml: Path, chosen: str, extra: str) -> Path:
    """openvino-int8 with ctx.keep_fp32 left float (searched first when not given: `search_mix`)."""
    from tui.core.openvino_route import MixedBuild

    build = MixedBuild(ctx.model_dir, fp32_xml, ctx.calibration, chosen, rescue.target(ctx))
    if not ctx.keep_fp32:
        ctx.facts.update(search_mix(ctx, build))
    entry, facts = cached(ctx, "openvino-int8-mixed", lambda d: build.save(ctx.keep_fp32, d / "model.xml"),
                          "openvino", "nncf", extra=f"{extra};{chosen};{','.join(ctx.keep_fp32)}")
    keep_facts(ctx, facts)
    return entry / "model.xml"


def search_mix(ctx: PrepareContext, build) -> dict:
    """The rescue's mix for openvino-int8 (searched, or from the mix cache); sets ctx.keep_fp32, returns its facts."""
    from tui.core.routes.base import RouteUnavailable, versions
    from tui.core.simulate import worker_cpu

    rescue.require_layer_order(ctx)
    bf16 = worker_cpu().has_bf16_hardware
    goal = rescue.target(ctx)
    try:
        mix, hit = rescue.find_mix("openvino-int8-mixed", ctx, list(ctx.layer_order), build.scorer,
                                   versions("openvino", "nncf") + f";{build.candidate.name};bf16 hardware={bf16}",
                                   lambda mix: build.prefer_bf16(mix, goal.threshold) if bf16 and mix.kept_fp32
                                   else mix)
    except rescue.NoMixReachesIt as exc:
        raise RouteUnavailable(f"no mix reaches {goal.unit} {goal.threshold}: {exc}") from None
    ctx.keep_fp32, ctx.kept_dtype = mix.kept_fp32, mix.kept_dtype
    return rescue.mix_facts(mix, hit)


def inference_precision(spec: RouteSpec, kept_dtype: str = "fp32") -> str:
    """bf16 for the bf16 routes, and for a mix whose search measured bf16 faster (kept_dtype)."""
    return "bf16" if spec.needs_bf16 or (spec.rescue and kept_dtype == "bf16") else "f32"


def prepare(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.openvino_route import OpenVinoEncoder

    xml = ir_path(spec, ctx)
    # Stated on every route: left alone, the CPU plugin picks bf16 on bf16 hardware.
    bucket = LENGTH_BUCKET if spec.id.endswith("-fixed") else 0
    encoder = OpenVinoEncoder(xml, ctx.model_dir, threads=ctx.threads,
                              inference_precision=inference_precision(spec, ctx.kept_dtype), length_bucket=bucket)
    encoder.artefact = xml  # the IR the runtime compiled (benchmarks reuse it)
    encoder.size_mb = (xml.stat().st_size + xml.with_suffix(".bin").stat().st_size) / 1e6
    encoder.threads = ctx.threads
    encoder.facts.update({**ctx.facts, **encoder_facts(encoder), **({"length_bucket": bucket} if bucket else {})})
    return encoder


def unavailable_on(spec: RouteSpec, cpu: CpuProfile) -> str | None:
    return BF16_MISSING if spec.needs_bf16 and not cpu.has_bf16_hardware else None


def kernels(runner, texts: list[str], batch_size: int, host_features, simulated: bool):
    from tui.core.kernels.openvino import capture

    return capture(runner, texts, batch_size, host_features, simulated)


RUNTIME = Runtime("openvino", SPECS, ("openvino", "nncf", "onnx", "onnxscript"),
                  "pip install 'qtui-bench[openvino]' (openvino, nncf)", prepare, unavailable_on, kernels)
