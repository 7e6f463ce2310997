"""How close each route gets to the CPU's peak: FLOPs of the encoder per round from the model config and the
token counts, against a per-core peak derived from the ISA and the clock. Every assumption is returned
with the numbers, because a peak is a model of the hardware, not a measurement.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from tui.core.cpu import CpuProfile
from tui.core.engines import int8_capability


@dataclass(frozen=True)
class EncoderShape:
    layers: int
    hidden: int
    intermediate: int

    @classmethod
    def from_model_dir(cls, model_dir: Path) -> EncoderShape | None:
        try:
            config = json.loads((Path(model_dir) / "config.json").read_text())
            return cls(int(config["num_hidden_layers"]), int(config["hidden_size"]),
                       int(config["intermediate_size"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None


def padded_batches(token_counts: list[int], batch_size: int) -> list[tuple[int, int]]:
    """(texts, padded length) per batch. sentence-transformers sorts by length before batching, so each batch
    pads to its longest text; sorting token counts is the same up to ties."""
    ordered = sorted(token_counts, reverse=True)
    return [(len(chunk), max(chunk)) for chunk in (ordered[i:i + batch_size]
                                                   for i in range(0, len(ordered), batch_size))]


def encoder_flops(shape: EncoderShape, token_counts: list[int], batch_size: int) -> float:
    """FLOPs (2 per multiply-add) to encode every text once: per token per layer, the Q/K/V/output
    projections 8·H², the FFN 4·H·I, and attention scores and weighted sum 4·L·H."""
    total = 0.0
    for n, length in padded_batches(token_counts, batch_size):
        per_token = 8 * shape.hidden ** 2 + 4 * shape.hidden * shape.intermediate + 4 * length * shape.hidden
        total += n * length * shape.layers * per_token
    return total


def fp32_flops_per_cycle(cpu: CpuProfile) -> tuple[float, str]:
    """Per-core fp32 peak and the assumption behind it."""
    if cpu.is_x86:
        if cpu.has("avx512f"):
            return 64.0, "AVX-512: 2 FMA units × 16 fp32 lanes × 2 FLOPs (some SKUs have 1 unit: half this)"
        if cpu.has("avx2", "fma"):
            return 32.0, "AVX2: 2 FMA units × 8 fp32 lanes × 2 FLOPs"
        if cpu.has("avx"):
            return 16.0, "AVX without FMA: 1 multiply + 1 add unit × 8 fp32 lanes"
        return 8.0, "SSE: 1 multiply + 1 add unit × 4 fp32 lanes"
    if cpu.is_arm:
        return 16.0, "NEON: 2 FMA pipes × 4 fp32 lanes × 2 FLOPs (wider cores such as Neoverse-V1 have 4 pipes)"
    return 4.0, "unknown ISA: 4 FLOPs per cycle assumed"


@dataclass(frozen=True)
class Roofline:
    peak_fp32_gflops: float
    peak_int8_gops: float
    assumptions: tuple[str, ...]

    def percent(self, gflops: float, dtype: str) -> float:
        peak = self.peak_int8_gops if dtype in ("qint8", "int8") else self.peak_fp32_gflops
        return 100.0 * gflops / peak if peak else 0.0


def roofline(cpu: CpuProfile, threads: int) -> Roofline | None:
    """Peak rates for `threads` cores of this CPU, or None when its clock is unknown."""
    if not cpu.max_mhz:
        return None
    per_cycle, why = fp32_flops_per_cycle(cpu)
    cap = int8_capability(cpu)
    cores = min(threads, cpu.physical_cores or threads)
    ghz = cpu.max_mhz / 1000
    fp32 = cores * per_cycle * ghz
    return Roofline(fp32, fp32 * cap.ratio, (
        f"{cores} cores × {ghz:.2f} GHz (the clock the OS reports; turbo and throttling change it)",
        f"fp32 peak per core: {per_cycle:.0f} FLOPs/cycle — {why}",
        f"int8 peak: {cap.ratio:.0f}× fp32 — {cap.instruction}: {cap.why}",
        "FLOPs counted for the encoder's matmuls only (embeddings, LayerNorm, GELU, softmax are extra work)",
    ))


def route_rooflines(doc: dict, cpu: CpuProfile, shape: EncoderShape, token_counts: list[int]) -> dict | None:
    """{"assumptions": [...], "peak_*": …, "routes": {id: {"gflops", "percent"}}} for a report document."""
    threads = doc.get("env", {}).get("threads") or 1
    roof = roofline(cpu, threads)
    if roof is None or not token_counts:
        return None
    flops = encoder_flops(shape, token_counts, doc["workload"]["batch_size"])
    routes = {}
    texts = doc["workload"]["texts"]
    for r in doc["routes"]:
        tp = r.get("throughput")
        if r.get("status") == "ok" and tp and tp.get("median"):
            seconds = texts / tp["median"]
            gflops = flops / seconds / 1e9
            routes[r["id"]] = {"gflops": round(gflops, 1), "percent": round(roof.percent(gflops, r["dtype"]), 1)}
    return {"gflop_per_round": round(flops / 1e9, 2), "peak_fp32_gflops": round(roof.peak_fp32_gflops, 1),
            "peak_int8_gops": round(roof.peak_int8_gops, 1), "assumptions": list(roof.assumptions), "routes": routes}
