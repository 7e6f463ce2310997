"""torch routes: the fp32 baseline, bf16, dynamic int8 per engine and weight granularity, and the compiled
routes (torch.compile of fp32; static int8 through PT2E), which `compiled` builds.

`import torch` below is the PyTorch package (absolute import), not this module.
"""

from __future__ import annotations

from tui.core.cpu import CpuProfile
from tui.core.routes.base import (
    BF16_MISSING,
    PrepareContext,
    RouteSpec,
    RouteUnavailable,
    Runtime,
    TorchRunner,
    silence_torch_ao_deprecation,
)

TORCH_ENGINES = ("qnnpack", "x86", "fbgemm", "onednn")
COMPILED_ROUTES = ("torch-compile-fp32", "torch-pt2e-int8")


def _int8_specs() -> list[RouteSpec]:
    specs = []
    for engine in TORCH_ENGINES:
        mix = f"torch-qint8-{engine}-mixed"
        specs.append(RouteSpec(f"torch-qint8-{engine}", "torch", "qint8", engine, "per-tensor",
                               f"torch quantize_dynamic(nn.Linear, qint8), engine={engine}, per-tensor weights",
                               mix=mix))
        specs.append(RouteSpec(f"torch-qint8-{engine}-perchannel", "torch", "qint8", engine, "per-channel",
                               f"torch quantize_dynamic with per_channel_dynamic_qconfig, engine={engine}", mix=mix))
        specs.append(RouteSpec(mix, "torch", "qint8", engine, "per-channel",
                               f"per-channel dynamic int8 (engine={engine}) with the Linear layers most sensitive "
                               "to int8 kept fp32: the fewest that reach --min-cosine on calibration texts "
                               "(built by the rescue when int8 misses it)", rescue=True,
                               builds="the layer search: int8 builds with layers kept fp32"))
    return specs


SPECS = (
    RouteSpec("torch-fp32", "torch", "fp32", summary="the fp32 SentenceTransformer: the baseline"),
    RouteSpec("torch-bf16", "torch", "bf16", summary="model weights and compute in bfloat16", needs_bf16=True),
    *_int8_specs(),
    RouteSpec("torch-compile-fp32", "torch", "fp32",
              summary="torch.compile (inductor, frozen weights, dynamic shapes) of the fp32 model",
              builds="an inductor compile (kept in the inductor cache)"),
    RouteSpec("torch-pt2e-int8", "torch", "int8", granularity="per-channel",
              summary="static int8: torch.export + torchao X86InductorQuantizer calibrated on other texts, "
                      "torch.compile'd; int8-mixed-bf16 on bf16 hardware",
              requires=("torchao",), requires_hint="pip install torchao (PT2E quantization moved out of torch.ao "
                                                    "into torchao)",
              builds="torch.export, calibration and an inductor compile"),
)


def quantize_dynamic_linear(model, engine: str, granularity: str, only: list[str] | None = None):
    """`only`: module names to quantize (the rest stay fp32); None quantizes every nn.Linear."""
    import torch

    silence_torch_ao_deprecation()
    try:
        from torch.ao.quantization import default_dynamic_qconfig, per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:
        raise RouteUnavailable(
            f"torch {torch.__version__} has no torch.ao.quantization (deprecated, then removed): use the "
            f"torchao-int8 route (pip install torchao) or the ORT/OpenVINO int8 routes"
        ) from None
    supported = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if engine not in supported:
        raise RouteUnavailable(f"this torch build has no '{engine}' quantized engine (it has: {', '.join(supported)})")
    torch.backends.quantized.engine = engine  # weights are packed for the engine set at quantization time
    qconfig = per_channel_dynamic_qconfig if granularity == "per-channel" else default_dynamic_qconfig
    spec = {torch.nn.Linear: qconfig} if only is None else dict.fromkeys(only, qconfig)
    return quantize_dynamic(model, spec, dtype=torch.qint8, inplace=False)


def prepare(spec: RouteSpec, ctx: PrepareContext) -> TorchRunner:
    import torch

    from tui.core.models import load_sentence_transformer

    torch.set_num_threads(ctx.threads)
    model = load_sentence_transformer(ctx.model_dir).eval()
    if spec.id in COMPILED_ROUTES:
        from tui.core.routes.compiled import prepare_compiled

        return prepare_compiled(spec, model, ctx)
    if spec.dtype == "fp32":
        return TorchRunner(model, torch.get_num_threads())
    if spec.dtype == "bf16":
        return TorchRunner(model.to(torch.bfloat16), torch.get_num_threads())
    if spec.rescue:
        return _prepare_mixed(spec, model, ctx)
    quantized = quantize_dynamic_linear(model, spec.engine, spec.granularity)
    return TorchRunner(quantized, torch.get_num_threads(), {"engine": torch.backends.quantized.engine})


def keep_in_bf16(model, names: list[str]) -> None:
    """Replace the named Linear layers of `model` (module names) by bf16 copies that take and give the caller's
    dtype: the layers a mix keeps out of int8, in bf16 on CPUs with bf16 units."""
    import torch

    class Bf16Linear(torch.nn.Module):
        def __init__(self, linear: torch.nn.Linear) -> None:
            super().__init__()
            self.linear = linear.to(torch.bfloat16)

        def forward(self, x):
            return self.linear(x.to(torch.bfloat16)).to(x.dtype)

    for name in names:
        model.set_submodule(name, Bf16Linear(model.get_submodule(name)))


def _prepare_mixed(spec: RouteSpec, model, ctx: PrepareContext) -> TorchRunner:
    """Per-channel int8 on every Linear but the kept ones: those given (an export), else the fewest that reach
    --min-cosine on calibration texts (searched, or from the mix cache); on bf16 hardware the kept layers run bf16
    when that measured faster and still meets the threshold."""
    import torch

    from tui.core import rescue
    from tui.core.layers import linear_layers, transformer_prefix
    from tui.core.simulate import worker_cpu

    rescue.require_layer_order(ctx)
    prefix, names = transformer_prefix(model), list(linear_layers(model))
    goal = rescue.target(ctx)
    texts = list(goal.texts)

    def quantized(kept, kept_dtype: str = "fp32"):
        mixed = quantize_dynamic_linear(model, spec.engine, "per-channel", [prefix + n for n in names if n not in kept])
        if kept_dtype == "bf16":
            keep_in_bf16(mixed, [prefix + n for n in kept])
        return mixed

    def encode(st_model):
        with torch.inference_mode():
            return st_model.encode(texts, batch_size=32, show_progress_bar=False)

    reference = []  # the fp32 vectors, computed when a mix is scored (a cached mix needs none)

    def cosine(st_model) -> float:
        reference[:] = reference or [encode(model)]
        return goal.score(reference[0], encode(st_model))

    compared: dict[str, object] = {}  # the two builds refine timed, by kept dtype: the chosen one is the route

    def refine(mix: rescue.Mix) -> rescue.Mix:
        if not mix.kept_fp32 or not worker_cpu().has_bf16_hardware:
            return mix
        compared.update({dtype: quantized(mix.kept_fp32, dtype) for dtype in ("fp32", "bf16")})
        return rescue.prefer_bf16(mix, lambda: encode(compared["fp32"]), lambda: encode(compared["bf16"]),
                                  cosine(compared["bf16"]), goal.threshold)

    facts = {"kept_fp32": list(ctx.keep_fp32), "kept": len(ctx.keep_fp32), "linear_layers": len(names),
             "kept_dtype": ctx.kept_dtype}
    if not ctx.keep_fp32:
        bf16 = worker_cpu().has_bf16_hardware
        try:
            mix, hit = rescue.find_mix(spec.id, ctx, names, lambda: lambda kept: cosine(quantized(kept)),
                                       f"{torch.__version__};bf16 hardware={bf16}", refine)
        except rescue.NoMixReachesIt as exc:
            raise RouteUnavailable(f"no mix reaches {goal.unit} {goal.threshold}: {exc}") from None
        ctx.keep_fp32, ctx.kept_dtype, facts = mix.kept_fp32, mix.kept_dtype, rescue.mix_facts(mix, hit)
    mixed = compared.get(ctx.kept_dtype) or quantized(ctx.keep_fp32, ctx.kept_dtype)
    return TorchRunner(mixed, torch.get_num_threads(), {"engine": torch.backends.quantized.engine, **facts})


def unavailable_on(spec: RouteSpec, cpu: CpuProfile) -> str | None:
    if spec.id == "torch-pt2e-int8":
        return _pt2e_unavailable_on(cpu)
    if spec.needs_bf16 and not cpu.has_bf16_hardware:
        return BF16_MISSING
    if spec.engine in ("x86", "fbgemm", "onednn") and cpu.is_arm:
        return f"the {spec.engine} engine is for x86 CPUs; this one is {cpu.arch} (use qnnpack, ORT or OpenVINO)"
    return None


def _pt2e_unavailable_on(cpu: CpuProfile) -> str | None:
    if not cpu.is_x86:
        return (f"PT2E int8 here uses the X86InductorQuantizer, whose int8 kernels are x86 only; this CPU is "
                f"{cpu.arch} (use torch-qint8-qnnpack, ORT or OpenVINO)")
    return None


def kernels(runner, texts: list[str], batch_size: int, host_features, simulated: bool):
    from tui.core.kernels.torch_kernels import capture

    return capture(runner, texts, batch_size, host_features, simulated)


RUNTIME = Runtime("torch", SPECS, (), "", prepare, unavailable_on, kernels)
