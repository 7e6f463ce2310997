"""The route registry: every way to run the model (fp32, bf16, int8 per engine/granularity, ORT, OpenVINO).

Two halves. `RouteSpec`, `ROUTES` and `static_unavailability()` are cheap and run in the coordinator (no
torch import): they rule out routes whose package is missing or whose hardware is absent. `prepare()` runs
inside a route's own worker process, imports the runtime, builds the route from the fp32 model and returns a
`Runner`. A route that turns out to be impossible there raises `RouteUnavailable` with a reason a user can
act on.
"""

from __future__ import annotations

import importlib.util
import io
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tui.core.cpu import CpuProfile

TORCH_ENGINES = ("qnnpack", "x86", "fbgemm", "onednn")


@dataclass(frozen=True)
class RouteSpec:
    id: str
    backend: str  # "torch" | "onnxruntime" | "openvino" | "torchao"
    dtype: str  # "fp32" | "bf16" | "qint8" | "int8"
    engine: str | None = None
    granularity: str | None = None  # "per-tensor" | "per-channel" | None
    summary: str = ""


def _torch_int8_routes() -> list[RouteSpec]:
    routes = []
    for engine in TORCH_ENGINES:
        routes.append(RouteSpec(f"torch-qint8-{engine}", "torch", "qint8", engine, "per-tensor",
                                f"torch quantize_dynamic(nn.Linear, qint8), engine={engine}, per-tensor weights"))
        routes.append(RouteSpec(f"torch-qint8-{engine}-perchannel", "torch", "qint8", engine, "per-channel",
                                f"torch quantize_dynamic with per_channel_dynamic_qconfig, engine={engine}"))
    return routes


ROUTES: dict[str, RouteSpec] = {
    r.id: r
    for r in [
        RouteSpec("torch-fp32", "torch", "fp32", summary="the fp32 SentenceTransformer: the baseline"),
        RouteSpec("torch-bf16", "torch", "bf16", summary="model weights and compute in bfloat16"),
        *_torch_int8_routes(),
        RouteSpec("ort-fp32", "onnxruntime", "fp32", summary="ONNX export run by ONNX Runtime"),
        RouteSpec("ort-qint8", "onnxruntime", "qint8", granularity="per-channel",
                  summary="ONNX Runtime dynamic int8, per-channel weights, after ORT's transformer optimizer"),
        RouteSpec("openvino-fp32", "openvino", "fp32", summary="OpenVINO IR, fp32 inference precision"),
        RouteSpec("openvino-int8", "openvino", "int8", granularity="per-channel",
                  summary="OpenVINO static int8 from nncf.quantize (transformer preset), calibrated on other texts"),
        RouteSpec("torchao-int8", "torchao", "int8", granularity="per-channel",
                  summary="torchao int8 dynamic activations × int8 weights"),
    ]
}
BASELINE = "torch-fp32"
DEFAULT_ROUTES = ("torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86", "torch-qint8-x86-perchannel",
                  "ort-qint8", "openvino-int8")

INSTALL_HINTS = {
    "onnxruntime": "pip install 'qtui-bench[onnx]' (onnxruntime, onnx, onnxscript)",
    "openvino": "pip install 'qtui-bench[openvino]' (openvino, nncf)",
    "torchao": "pip install torchao",
}
REQUIRED_MODULES = {
    "onnxruntime": ("onnxruntime", "onnx", "onnxscript"),
    "openvino": ("openvino", "nncf", "onnx", "onnxscript"),
    "torchao": ("torchao",),
}


class RouteError(ValueError):
    """Bad --routes value; one line for the user."""


class RouteUnavailable(Exception):
    """This route cannot run here; the message says why and what to install or change."""


def parse_routes(value: str | None) -> list[str]:
    """`default`, `all`, or a comma list of route ids; the baseline is always included, first."""
    if value is None or value == "default":
        ids = list(DEFAULT_ROUTES)
    elif value == "all":
        ids = list(ROUTES)
    else:
        ids = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [i for i in ids if i not in ROUTES]
        if unknown:
            raise RouteError(f"--routes: unknown route {', '.join(unknown)}; known: default, all, "
                             f"{', '.join(ROUTES)}")
        if not ids:
            raise RouteError("--routes: empty; give route ids separated by commas, or 'default' or 'all'")
    return [BASELINE] + [i for i in dict.fromkeys(ids) if i != BASELINE]


def _missing_modules(backend: str) -> list[str]:
    return [m for m in REQUIRED_MODULES.get(backend, ()) if importlib.util.find_spec(m) is None]


def static_unavailability(spec: RouteSpec, cpu: CpuProfile) -> str | None:
    """A reason this route cannot run here that is knowable without importing torch, else None."""
    missing = _missing_modules(spec.backend)
    if missing:
        return f"{', '.join(missing)} not installed: {INSTALL_HINTS[spec.backend]}"
    if spec.dtype == "bf16" and not cpu.has_bf16_hardware:
        return ("no bf16 hardware on this CPU (needs avx512_bf16/AMX on x86, bf16 on ARM); torch would emulate "
                "bf16, far slower than fp32")
    if spec.backend == "torch" and spec.engine in ("x86", "fbgemm", "onednn") and cpu.is_arm:
        return f"the {spec.engine} engine is for x86 CPUs; this one is {cpu.arch} (use qnnpack, ORT or OpenVINO)"
    return None


# ------------------------------------------------------------------------------------------- worker side


class Runner(Protocol):
    size_mb: float | None
    threads: int
    facts: dict

    def encode(self, texts: list[str], batch_size: int): ...


@dataclass
class PrepareContext:
    model_dir: Path
    model_fingerprint: str
    threads: int
    calibration: list[str]
    cache_root: Path | None
    scratch: Path
    facts: dict = field(default_factory=dict)


def silence_torch_ao_deprecation() -> None:
    """torch 2.13 warns that torch.ao.quantization is deprecated; that is our concern, not the user's."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
    warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*", category=UserWarning)


def _state_dict_mb(module) -> float:
    import torch

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell() / 1e6


class TorchRunner:
    def __init__(self, model, threads: int, facts: dict | None = None) -> None:
        self.model = model
        self.threads = threads
        self.facts = facts or {}
        self.size_mb = _state_dict_mb(model)

    def encode(self, texts: list[str], batch_size: int):
        import numpy as np
        import torch

        with torch.inference_mode():
            out = self.model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_tensor=True)
        return np.asarray(out.float().cpu().numpy(), dtype=np.float32)


def _quantize_dynamic(model, engine: str, granularity: str):
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
    return quantize_dynamic(model, {torch.nn.Linear: qconfig}, dtype=torch.qint8, inplace=False)


def _torch_runner(spec: RouteSpec, ctx: PrepareContext) -> TorchRunner:
    import torch

    from tui.core.models import load_sentence_transformer

    torch.set_num_threads(ctx.threads)
    model = load_sentence_transformer(ctx.model_dir).eval()
    if spec.dtype == "fp32":
        return TorchRunner(model, torch.get_num_threads())
    if spec.dtype == "bf16":
        return TorchRunner(model.to(torch.bfloat16), torch.get_num_threads())
    quantized = _quantize_dynamic(model, spec.engine, spec.granularity)
    return TorchRunner(quantized, torch.get_num_threads(), {"engine": torch.backends.quantized.engine})


def _torchao_runner(spec: RouteSpec, ctx: PrepareContext) -> TorchRunner:
    import torch

    from tui.core.models import load_sentence_transformer

    torch.set_num_threads(ctx.threads)
    try:
        from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_
    except ImportError as exc:
        raise RouteUnavailable(f"torchao lacks the int8 dynamic API ({exc}); pip install -U torchao") from None
    model = load_sentence_transformer(ctx.model_dir).eval()
    quantize_(model, Int8DynamicActivationInt8WeightConfig())
    return TorchRunner(model, torch.get_num_threads())


def _versions(*modules: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for m in modules:
        try:
            out.append(f"{m}={version(m)}")
        except PackageNotFoundError:
            out.append(f"{m}=?")
    return ",".join(out)


def _cached(ctx: PrepareContext, name: str, build, *version_of: str, extra: str = "") -> tuple[Path, dict]:
    from tui import __version__
    from tui.core.cache import ArtefactCache, cache_key

    cache = ArtefactCache(ctx.cache_root) if ctx.cache_root else ArtefactCache()
    key = cache_key(name, ctx.model_fingerprint, __version__, _versions(*version_of), extra)
    entry, facts, hit = cache.get_or_build(f"{name}-{key}", build, ctx.scratch)
    ctx.facts[f"{name}_cache"] = "hit" if hit else ("built" if cache.writable else "no cache (read-only)")
    return entry, facts


def _onnx_fp32(ctx: PrepareContext) -> Path:
    from tui.core.onnx_route import export_onnx

    def build(d: Path) -> dict:
        export_onnx(ctx.model_dir, d / "model.onnx")
        return {}

    entry, _ = _cached(ctx, "onnx-fp32", build, "torch", "transformers", "onnx")
    return entry / "model.onnx"


def _ort_runner(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.onnx_route import OrtEncoder, quantize_onnx_int8

    fp32 = _onnx_fp32(ctx)
    if spec.dtype == "fp32":
        path = fp32
    else:
        def build(d: Path) -> dict:
            return quantize_onnx_int8(fp32, d / "model.int8.onnx")

        entry, facts = _cached(ctx, "onnx-int8", build, "onnxruntime", "onnx")
        ctx.facts.update({k: v for k, v in facts.items() if isinstance(v, (str, int, float, bool))})
        path = entry / "model.int8.onnx"
    encoder = OrtEncoder(path, ctx.model_dir, threads=ctx.threads)
    encoder.size_mb = path.stat().st_size / 1e6
    encoder.threads = ctx.threads
    encoder.facts = {**ctx.facts, **_encoder_facts(encoder)}
    return encoder


def _openvino_runner(spec: RouteSpec, ctx: PrepareContext):
    from tui.core.openvino_route import OpenVinoEncoder, convert_openvino_fp32, quantize_openvino_int8
    from tui.core.workload import fingerprint as texts_fingerprint

    fp32_onnx = _onnx_fp32(ctx)

    def build_fp32(d: Path) -> dict:
        convert_openvino_fp32(fp32_onnx, d / "model.xml")
        return {}

    fp32_entry, _ = _cached(ctx, "openvino-fp32", build_fp32, "openvino")
    xml = fp32_entry / "model.xml"
    if spec.dtype == "int8":
        def build_int8(d: Path) -> dict:
            return quantize_openvino_int8(ctx.model_dir, xml, d / "model.xml", ctx.calibration)

        entry, facts = _cached(ctx, "openvino-int8", build_int8, "openvino", "nncf",
                               extra=texts_fingerprint(ctx.calibration))
        ctx.facts.update({k: v for k, v in facts.items() if isinstance(v, (str, int, float, bool))})
        xml = entry / "model.xml"
    encoder = OpenVinoEncoder(xml, ctx.model_dir, threads=ctx.threads)
    encoder.size_mb = (xml.stat().st_size + xml.with_suffix(".bin").stat().st_size) / 1e6
    encoder.threads = ctx.threads
    encoder.facts = {**ctx.facts, **_encoder_facts(encoder)}
    return encoder


def _encoder_facts(encoder) -> dict:
    """What the runtime chose for itself (e.g. OpenVINO's inference precision), for the report."""
    precision = getattr(encoder, "inference_precision", None)
    return {"inference_precision": precision} if precision else {}


def prepare(spec: RouteSpec, ctx: PrepareContext) -> Runner:
    """Build the route in this (worker) process. Raises RouteUnavailable when it cannot run here."""
    missing = _missing_modules(spec.backend)
    if missing:
        raise RouteUnavailable(f"{', '.join(missing)} not installed: {INSTALL_HINTS[spec.backend]}")
    if spec.backend == "torch":
        return _torch_runner(spec, ctx)
    if spec.backend == "torchao":
        return _torchao_runner(spec, ctx)
    if spec.backend == "onnxruntime":
        return _ort_runner(spec, ctx)
    if spec.backend == "openvino":
        return _openvino_runner(spec, ctx)
    raise RouteUnavailable(f"unknown backend {spec.backend}")


def runtime_versions() -> dict[str, str]:
    """Versions of the runtimes that are installed (read from metadata; nothing is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in ("torch", "sentence-transformers", "transformers", "onnxruntime", "onnx", "openvino", "nncf",
                 "torchao", "numpy", "scipy", "textual"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            pass
    found["python"] = sys.version.split()[0]
    return found
