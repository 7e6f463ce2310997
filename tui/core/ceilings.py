"""Measured compute ceilings per dtype: an empirical roofline.

A spec-sheet peak (cores × the clock the OS reports × FLOPs/cycle) is a model of the hardware: turbo clocks
beat it, and a library that does not use the widest instructions never reaches it. So qtui also measures
the ceiling — the best rate of a large GEMM per dtype, through the kernels the torch routes run (and, for
fp32, oneDNN's too, since MKL's sgemm can sit far below the hardware) — and `roofline.assess` reports each
route's share of its own dtype's ceiling. Measuring costs about `budget_s` seconds, so the
result is cached per CPU, thread count, engine and torch version.

torch is imported inside functions only: detection and reports must not pay for it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from tui.core.cache import cache_key
from tui.core.cpu import CpuProfile
from tui.core.json_cache import JsonCache

SCHEMA = "qtui.ceilings/1"

# (M rows, K in, N out). Both are compute-bound on a 2-core Zen 5 (all within a few % of each other there);
# the larger one keeps many-core machines busy. Shapes too slow for the budget are skipped on slow CPUs.
DEFAULT_SHAPES: tuple[tuple[int, int, int], ...] = ((512, 1024, 1024), (1024, 2048, 2048))

# Timed passes over every (dtype, shape) cell, interleaved so a burst of load from another process hits
# one pass of every cell rather than all of one cell's samples.
PASSES = 3

# Timed standalone on a 2-core Zen 5, quantizing the input took 14 % of the call at K=N=1024, 6 % at 2048.
INT8_NOTE = ("includes dynamic activation quantization (a min/max and a rounding pass over the input), as the "
             "int8 routes do; its share shrinks as 1/N: a few to ~15 % of the time at these shapes")

Gemm = Callable[[], object]


# ---------------------------------------------------------------------------------------------- kernels


def _onednn_fp32_gemm(torch, shape: tuple[int, int, int]) -> Gemm:
    """fp32 through oneDNN (torch's mkldnn_linear). The fp32 routes' aten::linear calls MKL's sgemm, which on
    some CPUs (AMD Zen) stays far below the hardware: measuring both keeps the ceiling a hardware figure, so a
    slow fp32 kernel shows as a low share instead of raising the bar for everyone."""
    m, k, n = shape
    x, w = torch.randn(m, k).to_mkldnn(), torch.randn(n, k).to_mkldnn()
    return lambda: torch._C._nn.mkldnn_linear(x, w, None)


def _float_gemm(torch, shape: tuple[int, int, int], dtype) -> Gemm:
    """aten::linear, the call every nn.Linear of the fp32 and bf16 routes makes."""
    m, k, n = shape
    x = torch.randn(m, k).to(dtype)
    w = torch.randn(n, k).to(dtype)
    return lambda: torch.nn.functional.linear(x, w)


def _int8_gemm(torch, shape: tuple[int, int, int]) -> Gemm:
    """quantize_dynamic on an nn.Linear, as the torch int8 routes do (the engine must already be set).

    The Linear sits in a Sequential because quantize_dynamic swaps child modules only: quantizing a bare
    Linear silently returns it unchanged, and its "int8" rate would be the fp32 one.
    """
    from torch.ao.quantization import quantize_dynamic

    m, k, n = shape
    x = torch.randn(m, k)
    model = torch.nn.Sequential(torch.nn.Linear(k, n, bias=False)).eval()
    quantized = quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
    if type(quantized[0]) is torch.nn.Linear:
        raise RuntimeError("quantize_dynamic left the Linear in fp32")
    return lambda: quantized(x)


def _int8_unavailable(torch, engine: str | None) -> str | None:
    """Why the int8 ceiling cannot be measured with this engine, or None when it can."""
    if engine is None:
        return "no quantized engine suits this CPU, so no int8 route runs here"
    supported = [e for e in torch.backends.quantized.supported_engines if e != "none"]
    if engine not in supported:
        return f"this torch build has no '{engine}' quantized engine (it has: {', '.join(supported)})"
    try:
        import torch.ao.quantization  # noqa: F401
    except ImportError:
        return f"torch {torch.__version__} has no torch.ao.quantization"
    return None


# ---------------------------------------------------------------------------------------------- timing


def _seconds(fn: Gemm) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class _Cell:
    """One (dtype, shape) GEMM and the best time seen for it."""

    def __init__(self, dtype: str, shape: tuple[int, int, int], gemm: Gemm) -> None:
        self.dtype, self.shape, self.gemm = dtype, shape, gemm
        gemm()  # the first call builds kernels, packs weights and JIT-compiles (oneDNN)
        self.best_s = _seconds(gemm)
        self.repeats = 1

    @property
    def flops(self) -> int:
        m, k, n = self.shape
        return 2 * m * k * n

    @property
    def gflops(self) -> float:
        return self.flops / self.best_s / 1e9

    def run_for(self, seconds: float) -> None:
        """Timed calls for about `seconds`, at least one."""
        end = time.perf_counter() + seconds
        while True:
            self.best_s = min(self.best_s, _seconds(self.gemm))
            self.repeats += 1
            if time.perf_counter() >= end:
                return


def _build_cells(dtype: str, shapes: Sequence[tuple[int, int, int]], make: Callable, slice_s: float) -> list[_Cell]:
    """Warmed-up cells for one dtype, smallest shape first; a shape whose call would take longer than its
    time slice (estimated from the previous shape's rate) is skipped, so a slow CPU stays within budget."""
    cells: list[_Cell] = []
    for shape in sorted(shapes, key=lambda s: s[0] * s[1] * s[2]):
        if cells:
            estimate_s = 2 * shape[0] * shape[1] * shape[2] / (cells[-1].gflops * 1e9)
            if estimate_s > slice_s:
                continue
        cells.append(_Cell(dtype, shape, make(shape)))
    return cells


def _result(cells_by_kernel: dict[str, list[_Cell]]) -> dict:
    """The best rate over every kernel and shape of one dtype, and what else was tried."""
    kernel, best = max(((k, c) for k, cells in cells_by_kernel.items() for c in cells), key=lambda kc: kc[1].gflops)
    return {"gflops": round(best.gflops, 1), "shape": list(best.shape), "kernel": kernel, "repeats": best.repeats,
            "tried": [{"kernel": k, "shape": list(c.shape), "gflops": round(c.gflops, 1)}
                      for k, cells in cells_by_kernel.items() for c in cells]}


@contextlib.contextmanager
def _torch_settings(torch, threads: int) -> Iterator[None]:
    """Set the thread count for the measurement and restore it, and the quantized engine, afterwards: the
    worker calling us goes on to run a route that depends on both."""
    threads_before, engine_before = torch.get_num_threads(), torch.backends.quantized.engine
    torch.set_num_threads(threads)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao.quantization's deprecation notices
            yield
    finally:
        torch.set_num_threads(threads_before)
        with contextlib.suppress(RuntimeError):
            torch.backends.quantized.engine = engine_before


# ---------------------------------------------------------------------------------------------- measuring


def measure_ceilings(threads: int, engine: str | None, want_bf16: bool, budget_s: float = 2.0,
                     shapes: Sequence[tuple[int, int, int]] = DEFAULT_SHAPES) -> dict:
    """Best GEMM rate per dtype on this machine: fp32, int8 (with `engine`) and, if `want_bf16`, bf16.

    Costs about `budget_s` seconds plus one warm-up call per shape. Call it where torch may be imported.
    """
    import torch

    start = time.perf_counter()
    doc: dict = {}
    with _torch_settings(torch, threads), torch.inference_mode():
        # (dtype, kernel) → how to build its GEMM for a shape.
        makers: dict[tuple[str, str], Callable] = {
            ("fp32", "aten::linear fp32 (MKL)"): lambda s: _float_gemm(torch, s, torch.float32),
        }
        if torch.backends.mkldnn.is_available():
            makers[("fp32", "mkldnn_linear fp32 (oneDNN)")] = lambda s: _onednn_fp32_gemm(torch, s)
        why_no_int8 = _int8_unavailable(torch, engine)
        if why_no_int8:
            doc["int8"] = {"unavailable": why_no_int8}
        else:
            torch.backends.quantized.engine = engine  # weights are packed for the engine set at quantization
            makers[("int8", f"quantized dynamic Linear (engine {engine})")] = lambda s: _int8_gemm(torch, s)
        if want_bf16:
            makers[("bf16", "aten::linear bf16")] = lambda s: _float_gemm(torch, s, torch.bfloat16)

        slice_s = budget_s / (PASSES * len(makers) * max(1, len(shapes)))
        cells: dict[tuple[str, str], list[_Cell]] = {}
        failed: dict[str, str] = {}
        for (dtype, kernel), make in makers.items():
            try:
                cells[(dtype, kernel)] = _build_cells(dtype, shapes, make, slice_s)
            except Exception as exc:  # a kernel this build or CPU lacks: the other kernels and dtypes still count
                failed[dtype] = _one_line(exc)
        for _ in range(PASSES):
            for kernel_cells in cells.values():
                for cell in kernel_cells:
                    cell.run_for(slice_s)
        for dtype in dict.fromkeys(d for d, _ in makers):
            by_kernel = {kernel: c for (d, kernel), c in cells.items() if d == dtype and c}
            doc[dtype] = _result(by_kernel) if by_kernel else {"unavailable": failed.get(dtype, "not measured")}
        if "gflops" in doc.get("int8", {}):
            doc["int8"]["note"] = INT8_NOTE
    ordered = {dtype: doc[dtype] for dtype in ("fp32", "int8", "bf16") if dtype in doc}
    return {**ordered, "threads": threads, "engine": engine,
            "calibration_s": round(time.perf_counter() - start, 3), "torch": torch.__version__}


def _one_line(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    return f"{exc.__class__.__name__}: {lines[0] if lines else ''}"[:300]


# ---------------------------------------------------------------------------------------------- cache


def ceilings_cache_key(cpu: CpuProfile, threads: int, engine: str | None, torch_version: str) -> str:
    """Everything a ceiling depends on: the CPU (and what the VM exposes of it), threads, kernel library.
    bf16 is measured when the features say the CPU has it, so the features cover that choice too."""
    return cache_key(SCHEMA, cpu.arch, cpu.model or "", cpu.generation or "", ",".join(sorted(cpu.features)),
                     str(threads), engine or "", torch_version)


CACHE = JsonCache("ceilings", SCHEMA, "ceilings")


def load_cached(cache_root: Path | None, key: str) -> dict | None:
    """The ceilings stored under `key`, or None when absent, unreadable or not a ceilings entry."""
    ceilings = CACHE.load(cache_root, key)
    fp32 = ceilings.get("fp32") if isinstance(ceilings, dict) else None
    if not isinstance(fp32, dict) or not isinstance(fp32.get("gflops"), (int, float)):
        return None
    return ceilings


def store(cache_root: Path | None, key: str, ceilings: dict) -> None:
    CACHE.store(cache_root, key, ceilings)
