"""What every route module shares: the spec, the reasons a route cannot run, the runner protocol, the
context a route is prepared in, and the artefact cache. Imports nothing of qtui's routes: the bottom layer.
"""

from __future__ import annotations

import importlib.util
import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from tui.core.cpu import CpuProfile


@dataclass(frozen=True)
class RouteSpec:
    id: str
    backend: str  # "torch" | "onnxruntime" | "openvino" | "torchao" | "model2vec" | "peer"
    dtype: str  # "fp32" | "bf16" | "qint8" | "int8" | "static": what the route's name promises
    engine: str | None = None
    granularity: str | None = None  # "per-tensor" | "per-channel" | None
    summary: str = ""
    needs_bf16: bool = False  # computes in bf16 (some or all of it): needs bf16 hardware
    requires: tuple[str, ...] = ()  # modules this route needs beyond its runtime's (checked after the hardware)
    requires_hint: str = ""  # how to install them
    rescue: bool = False  # built from the layer evidence when int8 misses --min-cosine (not part of "all")
    mix: str | None = None  # the rescue route built when this route (and the others with that mix) miss it
    # What a cold prepare builds, when that takes more than a few seconds (cached afterwards): such a route joins
    # the rounds after the first answer (fp32 and the quick routes), "" for a route that prepares in seconds.
    builds: str = ""
    # Its vectors live in a space of their own (a distilled static model): no cosine to fp32, judged by a task only.
    own_space: bool = False
    max_seq_length: int | None = None  # a length cap (`<route>@len<N>`): inputs cut at N tokens
    base: str | None = None  # the route a length-capped route caps
    # What a user would run instead of qtui (fastembed, sentence-transformers' recipes): measured beside qtui's routes
    # in the same rounds, never recommended or exported by qtui itself (routes/peers.py).
    peer: bool = False

    def missing_modules(self) -> list[str]:
        return _missing(self.requires)

    @property
    def changes_model(self) -> bool:
        """Beyond int8: a length cap or a static model trades accuracy by design, so it is never the int8 route
        a finding, a sweep or the fastest fp32 rests on; the task score judges it."""
        return self.own_space or self.base is not None

    @property
    def aside(self) -> bool:
        """Never what the int8 question, the thread sweep, the rescue or the fastest fp32 rest on: a route beyond
        int8, or a peer (measured for comparison, not one of qtui's answers)."""
        return self.changes_model or self.peer


class RouteError(ValueError):
    """Bad --routes value; one line for the user."""


class RouteUnavailable(Exception):
    """This route cannot run here; the message says why and what to install or change."""


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
    layer_order: tuple[str, ...] = ()  # Linear layers, most int8-sensitive first (rescue routes)
    min_cosine: float = 0.99  # what a rescue route's mix must reach on calibration texts
    task: object | None = None  # with --task: the tasks.Task split a rescue tunes on (its kept share is the goal)
    min_task_kept: float = 0.99  # the kept share a mix must reach on it
    keep_fp32: tuple[str, ...] = ()  # a rescue route's layers left in floating point, when already known (export)
    kept_dtype: str = "fp32"  # the dtype they run in ("bf16": measured faster on bf16 hardware)
    model_name: str = ""  # what the user calls the model, recorded with cached artefacts for `qtui cache`


@dataclass(frozen=True)
class Runtime:
    """One runtime's routes: a module per runtime fills one of these, the registry lists them."""

    backend: str
    specs: tuple[RouteSpec, ...]
    required_modules: tuple[str, ...]  # importable names, checked without importing them
    install_hint: str
    prepare: Callable[[RouteSpec, PrepareContext], Runner]
    unavailable_on: Callable[[RouteSpec, CpuProfile], str | None] = lambda spec, cpu: None  # hardware reasons
    # (runner, texts, batch_size, host features, simulated) -> kernels.facts.Capture: the kernels one batch ran,
    # called in the worker after the timed rounds; None: no capture for this runtime ("not available")
    kernels: Callable | None = None

    def missing_modules(self) -> list[str]:
        return _missing(self.required_modules)


def _missing(modules: tuple[str, ...]) -> list[str]:
    """The importable names among `modules` that are not installed (found without importing them)."""
    return [m for m in modules if importlib.util.find_spec(m) is None]


BF16_MISSING = ("no bf16 hardware on this CPU (needs avx512_bf16/AMX on x86, bf16 on ARM); it would emulate bf16, "
                "far slower than fp32")


def silence_torch_ao_deprecation() -> None:
    """torch 2.13 warns that torch.ao.quantization is deprecated; that is our concern, not the user's."""
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", message=".*torch.ao.quantization.*")
    warnings.filterwarnings("ignore", message=".*quantized tensor creation functions.*", category=UserWarning)


def state_dict_mb(module) -> float:
    import torch

    buffer = io.BytesIO()
    torch.save(module.state_dict(), buffer)
    return buffer.tell() / 1e6


class TorchRunner:
    """A torch nn.Module route (eager, quantized, compiled): SentenceTransformer.encode under inference_mode."""

    def __init__(self, model, threads: int, facts: dict | None = None) -> None:
        self.model = model
        self.threads = threads
        self.facts = facts or {}
        self.size_mb = state_dict_mb(model)

    def encode(self, texts: list[str], batch_size: int):
        import numpy as np
        import torch

        with torch.inference_mode():
            out = self.model.encode(texts, batch_size=batch_size, show_progress_bar=False, convert_to_tensor=True)
        return np.asarray(out.float().cpu().numpy(), dtype=np.float32)


def versions(*modules: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    out = []
    for m in modules:
        try:
            out.append(f"{m}={version(m)}")
        except PackageNotFoundError:
            out.append(f"{m}=?")
    return ",".join(out)


def cached(ctx: PrepareContext, name: str, build, *version_of: str, extra: str = "") -> tuple[Path, dict]:
    """An artefact built once per model, qtui version, library versions (and `extra`), then reused."""
    from tui import __version__
    from tui.core.cache import ArtefactCache, cache_key

    cache = ArtefactCache(ctx.cache_root) if ctx.cache_root else ArtefactCache()
    key = cache_key(name, ctx.model_fingerprint, __version__, versions(*version_of), extra)
    entry, facts, hit = cache.get_or_build(f"{name}-{key}", build, ctx.scratch,
                                           about={"kind": name, "model": ctx.model_name or str(ctx.model_dir)})
    ctx.facts[f"{name}_cache"] = "hit" if hit else ("built" if cache.writable else "no cache (read-only)")
    return entry, facts


def keep_facts(ctx: PrepareContext, facts: dict) -> None:
    """Plain facts of a cached build into the route's report facts."""
    ctx.facts.update({k: v for k, v in facts.items() if isinstance(v, (str, int, float, bool))})


def encoder_facts(encoder) -> dict:
    """What the runtime chose for itself (e.g. OpenVINO's inference precision), for the report."""
    precision = getattr(encoder, "inference_precision", None)
    pinning = getattr(encoder, "cpu_pinning", None)
    return ({"inference_precision": precision} if precision else {}) | (
        {"cpu_pinning": pinning} if pinning is not None else {})
