"""torch.compile routes, built here; their specs live in `torch` (backend "torch": inductor runs them in torch).

- torch-compile-fp32: the fp32 transformer compiled by inductor, the fp32 a user who cares would run.
- torch-pt2e-int8: static int8 through PT2E — torch.export, torchao's X86InductorQuantizer calibrated on the
  calibration texts, compiled by inductor into oneDNN int8 kernels; int8-mixed-bf16 where the CPU has bf16 units.

Both replace only the transformer inside the SentenceTransformer, so tokenising, length sorting, pooling and
normalising stay the model's own `encode`. Imported only inside a worker's prepare: it imports torch at once.

Measured with all-MiniLM-L6-v2 on 2 shared Zen 5 cores: `freezing` (weights folded and prepacked for oneDNN)
is the speed-up, ~2× over eager fp32 against ~1.1× without it; `dynamic=True` ran faster than static shapes
and compiles one graph for every batch shape; "max-autotune-no-cudagraphs" compiled 40 % longer for nothing.
Freezing makes inductor bypass its FX graph and AOT autograd caches (prepacked mkldnn weights cannot be
pickled), so what a second run reuses from TORCHINDUCTOR_CACHE_DIR is the built C++ kernels.
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path

import torch

from tui.core.routes.base import (
    PrepareContext,
    RouteSpec,
    RouteUnavailable,
    TorchRunner,
    cached,
    keep_facts,
    state_dict_mb,
)
from tui.core.simulate import worker_cpu

COMPILE_MODE = "default"
PT2E_CACHE_NAME = "torch-pt2e-int8"
WARM_UP_TEXTS = ["qtui compiles the model before it is timed.",
                 "A second, longer sentence makes the batch padded, as real batches are."]


def prepare_compiled(spec: RouteSpec, model, ctx: PrepareContext) -> TorchRunner:
    """The compiled route, warmed up, so compilation counts as preparation and never as throughput."""
    require_cxx_compiler()
    cache_dir, persistent = use_inductor_cache(ctx)
    use_freezing()
    kernels_before, fx_before = kernel_count(cache_dir), fx_graph_cache_counts()
    start = time.perf_counter()
    runner = compile_fp32(model) if spec.dtype == "fp32" else compile_pt2e_int8(model, ctx)
    if spec.dtype != "fp32":
        runner.facts["quantize_s"] = round(time.perf_counter() - start, 2)  # export..convert, or the cache's load
    compile_start = time.perf_counter()
    warm_up(runner, ctx.calibration)
    runner.facts.update({"compile_mode": COMPILE_MODE, "dynamic": True, "freezing": True,
                         "compile_s": round(time.perf_counter() - compile_start, 2),
                         **kernel_cache_facts(kernels_before, kernel_count(cache_dir), persistent),
                         **fx_graph_cache_facts(fx_before)})
    return runner


# --- the stand-in: what both routes put inside the SentenceTransformer -----------------------------------------


class LastHiddenState(torch.nn.Module):
    """The transformers model as tensors in, last hidden state out: the form torch.export captures."""

    def __init__(self, transformer) -> None:
        super().__init__()
        self.transformer = transformer

    def forward(self, input_ids, attention_mask, token_type_ids=None):
        extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}
        out = self.transformer(input_ids=input_ids, attention_mask=attention_mask, return_dict=True, **extra)
        return out.last_hidden_state


class CompiledTransformer(torch.nn.Module):
    """Stands in for the transformers model inside the SentenceTransformer: takes its features, returns the
    last hidden state in fp32, so the model's own pooling and normalising run unchanged."""

    def __init__(self, program, input_names: tuple[str, ...], config, mixed_bf16: bool) -> None:
        super().__init__()
        self.program = program
        self.input_names = input_names
        self.config = config  # sentence-transformers reads it (output_hidden_states)
        self.mixed_bf16 = mixed_bf16

    def forward(self, **features):
        inputs = {name: features[name] for name in self.input_names}
        # int8-mixed-bf16: what is not int8 runs bf16; autocast must wrap the compiled call, as at compile time.
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.mixed_bf16):
            hidden = self.program(**inputs)
        return {"last_hidden_state": hidden.float()}


# --- torch-compile-fp32 -------------------------------------------------------------------------------------


def compile_fp32(model) -> TorchRunner:
    transformer = model[0].model
    compiled = torch.compile(LastHiddenState(transformer).eval(), dynamic=True)
    model[0].model = CompiledTransformer(compiled, input_names(model), transformer.config, mixed_bf16=False)
    return TorchRunner(model, torch.get_num_threads())


# --- torch-pt2e-int8 ----------------------------------------------------------------------------------------


def compile_pt2e_int8(model, ctx: PrepareContext) -> TorchRunner:
    require_torchao_pt2e()
    from torchao.quantization.pt2e import allow_exported_model_train_eval

    # inductor's int8 lowering copies zero points with torch.tensor(tensor): its own harmless warning
    warnings.filterwarnings("ignore", message="To copy construct from a tensor", category=UserWarning)
    if not ctx.calibration:
        raise RouteUnavailable("static int8 (PT2E) needs calibration texts, and the workload left none")
    mixed_bf16 = worker_cpu().has_bf16_hardware
    names = input_names(model)
    program = load_or_quantize(model, ctx, names)
    allow_exported_model_train_eval(program)  # sentence-transformers calls .eval() on every encode
    size_mb = state_dict_mb(program)
    compiled = torch.compile(program, dynamic=True)
    model[0].model = CompiledTransformer(compiled, names, model[0].model.config, mixed_bf16)
    runner = TorchRunner(model, torch.get_num_threads(), {
        **ctx.facts, "quantizer": "X86InductorQuantizer", "activations": "static per-tensor uint8 (histogram)",
        "weights": "per-channel symmetric int8", "reduce_range": False, "mixed_bf16": mixed_bf16,
        "precision": "int8-mixed-bf16" if mixed_bf16 else "int8-mixed-fp32"})
    runner.size_mb = size_mb
    return runner


def require_torchao_pt2e() -> None:
    """torchao is there (the static check saw to that), but an old one has no PT2E API."""
    try:
        import torchao.quantization.pt2e.quantize_pt2e  # noqa: F401
        import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer  # noqa: F401
    except ImportError as exc:
        raise RouteUnavailable(f"this torchao has no PT2E X86 quantizer ({exc}): pip install -U torchao") from None


def load_or_quantize(model, ctx: PrepareContext, names: tuple[str, ...]):
    """The quantized program from the artefact cache, else exported, calibrated, converted and saved there."""
    from tui.core.workload import fingerprint as texts_fingerprint

    def build(entry: Path) -> dict:
        converted = quantize_pt2e_x86(model, ctx.calibration, names)
        example = features(model, two_texts(ctx.calibration), names)
        torch.export.save(export_program(converted, example, model), entry / "model.pt2")
        return {"calibration_texts": len(ctx.calibration)}

    entry, facts = cached(ctx, PT2E_CACHE_NAME, build, "torch", "torchao", "transformers",
                          extra=texts_fingerprint(ctx.calibration))
    keep_facts(ctx, facts)
    return torch.export.load(entry / "model.pt2").module()


def quantize_pt2e_x86(model, calibration: list[str], names: tuple[str, ...]):
    from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
    from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
        X86InductorQuantizer,
        get_default_x86_inductor_quantization_config,
    )

    graph = export_program(LastHiddenState(model[0].model).eval(), features(model, two_texts(calibration), names),
                           model).module()
    # The unused pooler (dense → tanh) leaves a partition without outputs, on which the quantizer fails.
    graph.graph.eliminate_dead_code()
    graph.recompile()
    # reduce_range stays off even without VNNI, where the quantizer's docs suggest it: with oneDNN capped at AVX2
    # (ONEDNN_MAX_CPU_ISA, the kernels a Zen 3 runs) it measured cosine 0.976 on, 0.992 off.
    quantizer = X86InductorQuantizer().set_global(get_default_x86_inductor_quantization_config(reduce_range=False))
    prepared = prepare_pt2e(graph, quantizer)
    with torch.no_grad():
        for start in range(0, len(calibration), 32):
            prepared(**features(model, calibration[start:start + 32], names))
    converted = convert_pt2e(prepared)
    drop_unreferenced_tensors(converted)
    return converted


def export_program(module, example: dict, model):
    """torch.export with batch and sequence length dynamic, so one program serves every batch."""
    from torch.export import Dim

    max_positions = getattr(model[0].model.config, "max_position_embeddings", None)
    batch, seq = Dim("batch", min=1), Dim("seq", min=1, max=max_positions) if max_positions else Dim("seq", min=1)
    try:
        return torch.export.export(module, (), example, dynamic_shapes={name: {0: batch, 1: seq} for name in example})
    except Exception as exc:  # export's failures are many classes; each means "this model cannot take this route"
        raise RouteUnavailable(f"torch.export could not capture this model for PT2E "
                               f"({exc.__class__.__name__}: {first_line(exc)})") from None


def input_names(model) -> tuple[str, ...]:
    """The tensors the tokenizer makes for this model, in the order LastHiddenState takes them."""
    made = model.preprocess(WARM_UP_TEXTS[:1])
    return tuple(name for name in ("input_ids", "attention_mask", "token_type_ids") if name in made)


def features(model, texts: list[str], names: tuple[str, ...]) -> dict:
    tokenized = model.preprocess(texts)
    return {name: tokenized[name] for name in names}


def drop_unreferenced_tensors(graph) -> None:
    """convert_pt2e folds int8 weights into new constants but keeps the fp32 ones registered: drop those, or
    they would be saved, loaded and counted as the route's size."""
    used = {node.target for node in graph.graph.nodes if node.op == "get_attr"}
    for name in [n for n, _ in graph.named_parameters()] + [n for n, _ in graph.named_buffers()]:
        if name not in used:
            owner, _, attr = name.rpartition(".")
            delattr(graph.get_submodule(owner) if owner else graph, attr)


# --- shared: compiler, cache, warm-up ------------------------------------------------------------------------


def require_cxx_compiler() -> str:
    from torch._inductor import exc
    from torch._inductor.cpp_builder import get_cpp_compiler

    try:
        return get_cpp_compiler()
    except exc.InvalidCxxCompiler:
        raise RouteUnavailable("torch.compile (inductor) builds C++ kernels and found no C++ compiler: install one "
                               "(Debian/Ubuntu: apt install g++) or point CXX at it") from None


def use_freezing() -> None:
    """Process-wide (a worker runs one route): as a torch.compile option it never reaches the freezing pass."""
    import torch._inductor.config as inductor_config

    inductor_config.freezing = True
    inductor_config.fx_graph_cache = True


def use_inductor_cache(ctx: PrepareContext) -> tuple[Path, bool]:
    """Inductor's on-disk cache under qtui's cache, so a second run reuses the built kernels; (dir, persistent).
    Inductor cannot work without a writable directory: an unwritable cache falls back to this run's scratch."""
    from tui.core.cache import default_cache_dir

    for directory, persistent in ((ctx.cache_root or default_cache_dir()) / "inductor", True), \
                                 (ctx.scratch / "inductor", False):
        try:
            directory.mkdir(parents=True, exist_ok=True)
            probe = directory / f".probe-{os.getpid()}"
            probe.touch()
            probe.unlink()
        except OSError:
            continue
        os.environ["TORCHINDUCTOR_CACHE_DIR"] = str(directory)  # read by inductor at each lookup
        return directory, persistent
    raise RouteUnavailable(f"torch.compile needs a writable directory for its kernels; neither the cache "
                           f"({ctx.cache_root or default_cache_dir()}) nor {ctx.scratch} is writable")


def kernel_count(cache_dir: Path) -> int:
    return sum(1 for _ in cache_dir.rglob("*.so"))


def kernel_cache_facts(before: int, after: int, persistent: bool) -> dict:
    built = max(after - before, 0)
    state = "hit" if built == 0 else ("built" if before == 0 else "partly built")
    return {"inductor_cache": state if persistent else "no cache (read-only)", "kernels_built": built}


def fx_graph_cache_counts() -> dict[str, int]:
    counters = torch._dynamo.utils.counters["inductor"]
    return {outcome: counters.get(f"fxgraph_cache_{outcome}", 0) for outcome in ("bypass", "hit", "miss")}


def fx_graph_cache_facts(before: dict[str, int]) -> dict:
    """What inductor's FX graph cache did during this prepare: with freezing it stands aside (measured)."""
    now = fx_graph_cache_counts()
    if now["bypass"] > before["bypass"]:
        return {"fx_graph_cache": "bypassed (freezing: prepacked weights cannot be pickled)"}
    if now["hit"] > before["hit"]:
        return {"fx_graph_cache": "hit"}
    return {"fx_graph_cache": "miss"} if now["miss"] > before["miss"] else {}


def warm_up(runner: TorchRunner, calibration: list[str]) -> None:
    """Compile here, for every batch the run will encode: two texts (batch 2, more than 2 tokens each) keep batch
    and sequence length symbolic; a size of 1 would be specialised, and equal sizes unified."""
    texts = two_texts(calibration)
    try:
        runner.encode(texts, batch_size=len(texts))
    except Exception as exc:  # inductor's failures surface at the first call, as many classes
        if not is_compile_failure(exc):
            raise
        raise RouteUnavailable(f"torch.compile failed on this model or platform ({exc.__class__.__name__}: "
                               f"{first_line(exc)}); the torch-fp32 route runs it uncompiled") from None


def two_texts(calibration: list[str]) -> list[str]:
    """A batch of 2 for warm-up and export examples: size 1 would be specialised (compiled for 1 only)."""
    return calibration[:2] if len(calibration) >= 2 else WARM_UP_TEXTS


def is_compile_failure(exc: Exception) -> bool:
    from torch._dynamo.exc import BackendCompilerFailed, TorchRuntimeError, Unsupported
    from torch._inductor.exc import InductorError

    return isinstance(exc, (BackendCompilerFailed, InductorError, Unsupported, TorchRuntimeError))


def first_line(exc: Exception) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else ""
