"""How close each route gets to its ceiling: FLOPs of the encoder per round from the model config and the
token counts, against the ceiling of the route's own dtype.

The ceiling is measured where the run measured one (a large GEMM per dtype, `core.ceilings`); otherwise it
is the spec-sheet peak derived from the ISA and the clock the OS reports, with every assumption listed,
because a peak is a model of the hardware, not a measurement. A route above its bound is never shown as
">100 %": the bound's assumption failed, and `assess` says which and by how much.
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


def bf16_ratio(cpu: CpuProfile) -> tuple[float | None, str]:
    """Spec-sheet bf16 rate over fp32 per core, or None without bf16 hardware."""
    if cpu.has("amx_bf16"):
        return 16.0, "AMX (TDPBF16PS): tiles multiply bf16 matrices at ~16× the AVX-512 fp32 rate"
    if cpu.has("avx512_bf16"):
        return 2.0, "AVX512-BF16 (VDPBF16PS): 32 bf16 products per 512-bit op where an fp32 FMA does 16"
    if cpu.is_arm and cpu.has("bf16"):
        return 2.0, "BFDOT: 8 bf16 products per 128-bit op where an fp32 FMA does 4"
    return None, "no bf16 hardware"


@dataclass(frozen=True)
class Roofline:
    peak_fp32_gflops: float
    peak_int8_gops: float
    assumptions: tuple[str, ...]
    peak_bf16_gflops: float | None = None


def roofline(cpu: CpuProfile, threads: int) -> Roofline | None:
    """Peak rates for `threads` cores of this CPU, or None when its clock is unknown."""
    if not cpu.max_mhz:
        return None
    per_cycle, why = fp32_flops_per_cycle(cpu)
    cap = int8_capability(cpu)
    cores = min(threads, cpu.physical_cores or threads)
    ghz = cpu.max_mhz / 1000
    fp32 = cores * per_cycle * ghz
    bf16, bf16_why = bf16_ratio(cpu)
    return Roofline(fp32, fp32 * cap.ratio, (
        f"{cores} cores × {ghz:.2f} GHz (the clock the OS reports; turbo and throttling change it)",
        f"fp32 peak per core: {per_cycle:.0f} FLOPs/cycle — {why}",
        f"int8 peak: {cap.ratio:.0f}× fp32 — {cap.instruction}: {cap.why}",
        f"bf16 peak: {bf16:.0f}× fp32 — {bf16_why}" if bf16 else "bf16: no bf16 hardware",
        "FLOPs counted for the encoder's matmuls only (embeddings, LayerNorm, GELU, softmax are extra work)",
    ), fp32 * bf16 if bf16 else None)


def effective_dtype(route: dict) -> str:
    """The dtype a route computed in: its label, unless the runtime recorded another precision (bf16)."""
    if route.get("dtype") in ("qint8", "int8"):
        return "int8"
    precision = (route.get("facts") or {}).get("inference_precision")
    return "bf16" if precision == "bf16" else route.get("dtype") or "fp32"


def _spec_peak(roof: dict, dtype: str, cpu: CpuProfile) -> float | None:
    if dtype == "int8":
        return roof.get("peak_int8_gops")
    if dtype == "bf16":
        if roof.get("peak_bf16_gflops"):
            return roof["peak_bf16_gflops"]
        ratio, _ = bf16_ratio(cpu)  # reports written before bf16 had a peak of its own
        return roof["peak_fp32_gflops"] * ratio if ratio and roof.get("peak_fp32_gflops") else None
    return roof.get("peak_fp32_gflops")


def _clock_ghz(roof: dict) -> tuple[int, float] | None:
    import re

    for line in roof.get("assumptions", []):
        m = re.match(r"(\d+) cores × ([\d.]+) GHz", line)
        if m:
            return int(m.group(1)), float(m.group(2))
    return None


def _spec_exceeded(route: dict, dtype: str, gflops: float, peak: float, roof: dict, cpu: CpuProfile) -> str:
    """Which spec-sheet assumption a measurement above the spec-sheet peak broke, and by how much."""
    over = gflops / peak - 1
    text = f"{over:.0%} above the spec-sheet {dtype} peak ({peak:.0f})"
    clock = _clock_ghz(roof)
    if clock:
        cores, ghz = clock
        needed = ghz * gflops / peak
        text += (f": reaching {gflops:.0f} needs ≥ {needed:.2f} GHz on {cores} cores, so the clock assumption "
                 f"({ghz:.2f} GHz, what the OS reports) failed — the cores boosted above it")
    if dtype == "fp32" and route.get("backend") == "openvino" and cpu.has_bf16_hardware and \
            not (route.get("facts") or {}).get("inference_precision"):
        text += "; or it ran bf16, OpenVINO's default on this CPU (this report records no precision hint)"
    return text


def _ceiling_exceeded(route: dict, dtype: str, gflops: float, ceiling: dict) -> str:
    over = gflops / ceiling["gflops"] - 1
    text = f"{over:.0%} above the measured {dtype} ceiling ({ceiling['gflops']:.0f}, {ceiling.get('kernel', 'GEMM')})"
    if route.get("backend") not in (None, "torch"):
        return text + f": {route['backend']}'s own kernels beat the kernel the ceiling was measured with"
    return text + ": the calibration GEMM missed this CPU's best rate (clock boost or shape), so it is a floor"


def assess(roof: dict, routes: list[dict], cpu: CpuProfile) -> dict[str, dict]:
    """Per route: its share of its own dtype's bound (measured ceiling, else spec-sheet peak), or — when the
    measurement beats the bound — `percent` None and `exceeds` naming the assumption that failed."""
    ceilings = roof.get("ceilings") or {}
    by_id = {r["id"]: r for r in routes}
    out = {}
    for rid, entry in roof.get("routes", {}).items():
        route, gflops = by_id.get(rid, {"id": rid}), entry["gflops"]
        dtype = effective_dtype(route)
        ceiling = ceilings.get(dtype) if isinstance(ceilings.get(dtype), dict) else None
        if ceiling and ceiling.get("gflops"):
            bound, of = ceiling["gflops"], f"measured {dtype} ceiling"
            exceeds = _ceiling_exceeded(route, dtype, gflops, ceiling) if gflops > bound else None
        else:
            bound, of = _spec_peak(roof, dtype, cpu), f"spec-sheet {dtype} peak"
            exceeds = _spec_exceeded(route, dtype, gflops, bound, roof, cpu) if bound and gflops > bound else None
        percent = None if exceeds or not bound else round(100.0 * gflops / bound, 1)
        out[rid] = {"gflops": gflops, "dtype": dtype, "of": of, "percent": percent, "exceeds": exceeds}
    return out


def route_rooflines(doc: dict, cpu: CpuProfile, shape: EncoderShape, token_counts: list[int],
                    ceilings: dict | None = None) -> dict | None:
    """{"assumptions", "peak_*", "ceilings", "routes": {id: {"gflops", "dtype", "of", "percent", "exceeds"}}}."""
    threads = doc.get("env", {}).get("threads") or 1
    roof = roofline(cpu, threads)
    if (roof is None and not ceilings) or not token_counts:
        return None
    flops = encoder_flops(shape, token_counts, doc["workload"]["batch_size"])
    routes = {}
    texts = doc["workload"]["texts"]
    for r in doc["routes"]:
        tp = r.get("throughput")
        # A static route runs no GEMMs and a capped one fewer tokens than counted: no FLOPs model for either.
        if r.get("status") == "ok" and tp and tp.get("median") and not (r.get("own_space") or r.get("max_seq_length")):
            seconds = texts / tp["median"]
            routes[r["id"]] = {"gflops": round(flops / seconds / 1e9, 1)}
    out = {"gflop_per_round": round(flops / 1e9, 2), "ceilings": ceilings, "routes": routes,
           "peak_fp32_gflops": round(roof.peak_fp32_gflops, 1) if roof else None,
           "peak_int8_gops": round(roof.peak_int8_gops, 1) if roof else None,
           "peak_bf16_gflops": round(roof.peak_bf16_gflops, 1) if roof and roof.peak_bf16_gflops else None,
           "assumptions": list(roof.assumptions) if roof else []}
    out["routes"] = assess(out, doc["routes"], cpu)
    return out
