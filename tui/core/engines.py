"""PyTorch's quantized engines: which CPU each serves, what its int8 kernels need, and a ranking with reasons.

The ranking is derived from CPU facts (the profile's features), never from a benchmark; `qtui bench`
then measures whether the prediction holds on this machine.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui.core.cpu import CpuProfile

ENGINE_NAMES = ("x86", "fbgemm", "onednn", "qnnpack")


@dataclass(frozen=True)
class Engine:
    name: str
    serves: str  # architecture family the kernels are written for
    kernels: str  # what its int8 GEMM kernels use, in a sentence


CATALOGUE: dict[str, Engine] = {
    "x86": Engine(
        "x86", "x86_64",
        "PyTorch's default on x86 since 2.0: dispatches each op to FBGEMM or oneDNN, whichever is faster",
    ),
    "fbgemm": Engine("fbgemm", "x86_64", "FBGEMM: AVX2 / AVX-512 int8 GEMM kernels (VNNI when present); needs AVX2"),
    "onednn": Engine("onednn", "x86_64", "oneDNN: int8 kernels for SSE4.1 up to AVX-512 VNNI and AMX"),
    "qnnpack": Engine(
        "qnnpack", "arm",
        "QNNPACK: written for ARM NEON; on x86 it has only 128-bit SSE2 micro-kernels (no AVX2, no VNNI)",
    ),
}


@dataclass(frozen=True)
class Int8Capability:
    """How many int8 multiply-accumulates this ISA does per fp32 FMA lane-op, roughly, and why."""

    ratio: float  # k: peak int8 MAC rate / peak fp32 FMA rate per core
    instruction: str
    why: str


def int8_capability(cpu: CpuProfile) -> Int8Capability:
    """The best int8 dot-product path the CPU offers, against its fp32 FMA path (per-core peaks)."""
    if cpu.is_x86:
        if cpu.has("amx_int8"):
            return Int8Capability(16.0, "AMX (TDPBUSD)",
                                  "AMX tiles multiply int8 matrices at ~16× the AVX-512 fp32 rate")
        if cpu.has("avx512_vnni"):
            return Int8Capability(4.0, "AVX-512 VNNI (VPDPBUSD)",
                                  "VPDPBUSD does 64 int8 MACs where an fp32 FMA does 16")
        if cpu.has("avx_vnni"):
            return Int8Capability(4.0, "AVX-VNNI (VPDPBUSD, 256-bit)",
                                  "VPDPBUSD does 32 int8 MACs where an fp32 FMA does 8")
        if cpu.has("avx512bw"):
            return Int8Capability(
                2.0, "AVX-512BW (VPMADDUBSW)",
                "without VNNI, int8 takes a VPMADDUBSW/VPMADDWD/VPADDD sequence: about 2× the fp32 MAC rate",
            )
        if cpu.has("avx2"):
            return Int8Capability(
                2.0, "AVX2 (VPMADDUBSW)",
                "without VNNI, int8 takes a VPMADDUBSW/VPMADDWD/VPADDD sequence: about 2× the fp32 MAC rate",
            )
        return Int8Capability(
            1.0, "SSE4 (PMADDUBSW, 128-bit)",
            "no 256-bit integer SIMD: int8 kernels are 128-bit while fp32 uses 256-bit AVX",
        )
    if cpu.is_arm:
        if cpu.has("i8mm"):
            return Int8Capability(8.0, "i8mm (SMMLA)", "SMMLA does 32 int8 MACs where a NEON fp32 FMA does 4")
        if cpu.has("dotprod"):
            return Int8Capability(4.0, "dotprod (SDOT)", "SDOT does 16 int8 MACs where a NEON fp32 FMA does 4")
        return Int8Capability(
            1.0, "NEON (SMLAL)", "without dotprod, int8 widens to 16 bits (SMLAL): about the fp32 FMA rate"
        )
    return Int8Capability(1.0, "unknown", "unknown architecture: no int8 dot-product instructions known")


@dataclass(frozen=True)
class EngineVerdict:
    name: str
    rank: int
    suitable: bool
    why: str

    def to_json(self) -> dict:
        return {"name": self.name, "rank": self.rank, "suitable": self.suitable, "why": self.why}


@dataclass(frozen=True)
class Recommendation:
    engine: str | None
    expected_int8: str  # "faster" | "uncertain" | "slower"
    reasons: tuple[str, ...]
    engines: tuple[EngineVerdict, ...]
    torch_engines_known: bool  # True when the installed torch's supported_engines were consulted

    def to_json(self) -> dict:
        return {"engine": self.engine, "expected_int8": self.expected_int8, "reasons": list(self.reasons)}


def _x86_verdicts(cpu: CpuProfile) -> list[tuple[str, bool, str]]:
    avx2 = cpu.has("avx2")
    amx = cpu.has("amx_int8")
    verdicts = [
        ("x86", avx2, "default x86 engine; picks FBGEMM or oneDNN per op" if avx2
         else "dispatches linear layers to FBGEMM, which needs AVX2 (missing here)"),
        ("onednn", True, "uses AMX tiles for int8 here" if amx else
         "runs on any x86 from SSE4.1; uses VNNI when present" if not avx2 else
         "good int8 kernels, but FBGEMM is usually ahead for dynamic Linear"),
        ("fbgemm", avx2, "AVX2 int8 GEMM" + (" with VNNI" if cpu.has_any("avx512_vnni", "avx_vnni") else "")
         if avx2 else "needs AVX2, which this CPU lacks: falls back to slow reference kernels"),
        ("qnnpack", False, "ARM engine: on x86 only 128-bit SSE2 micro-kernels, typically slower than fp32 — "
         "never use it on x86"),
    ]
    if not avx2:
        order = ["onednn", "x86", "fbgemm", "qnnpack"]  # oneDNN is the one with pre-AVX2 kernels
    elif amx:
        order = ["x86", "onednn", "fbgemm", "qnnpack"]  # oneDNN is where the AMX kernels are
    else:
        order = ["x86", "fbgemm", "onednn", "qnnpack"]
    return sorted(verdicts, key=lambda v: order.index(v[0]))


def _arm_verdicts(cpu: CpuProfile) -> list[tuple[str, bool, str]]:
    return [
        ("qnnpack", True, "the ARM engine: NEON int8 kernels"),
        ("onednn", False, "x86-first; on aarch64 only in builds with Arm Compute Library — not the usual path"),
        ("x86", False, "x86 only"),
        ("fbgemm", False, "x86 only (needs AVX2)"),
    ]


def _expected(cpu: CpuProfile, cap: Int8Capability) -> tuple[str, list[str]]:
    reasons = [f"Best int8 path: {cap.instruction} — {cap.why}."]
    if cpu.is_apple:
        reasons.append(
            "Apple silicon runs fp32 matmuls on the Accelerate framework's matrix units, which torch's "
            "int8 kernels do not use: int8 is uncertain at best; measure before switching."
        )
        return "uncertain", reasons
    if cpu.is_arm:
        if cap.ratio >= 4:
            reasons.append(
                "PyTorch's QNNPACK kernels are plain NEON and do not use SDOT/SMMLA; ONNX Runtime's and "
                "OpenVINO's int8 kernels do, so they are the likelier int8 win here."
            )
        return "uncertain", reasons
    if cap.ratio >= 2:
        reasons.append(
            "Dynamic int8 also quantizes activations on every call and leaves attention, GELU and LayerNorm "
            "in fp32, so the whole-model gain differs from the ISA ratio: `qtui bench` measures it."
        )
        return "faster", reasons
    reasons.append("int8 kernels are no wider than fp32 here, and quantize/dequantize adds work: expect a slowdown.")
    return "slower", reasons


def recommend(cpu: CpuProfile, torch_engines: list[str] | None = None) -> Recommendation:
    """Rank the engines for this CPU. `torch_engines` is torch.backends.quantized.supported_engines, if known."""
    if cpu.is_x86:
        ranked = _x86_verdicts(cpu)
    elif cpu.is_arm:
        ranked = _arm_verdicts(cpu)
    else:
        ranked = [(name, False, "unknown architecture") for name in ENGINE_NAMES]

    if torch_engines is not None:
        ranked = [
            (name, ok and name in torch_engines, why if name in torch_engines else f"{why}; not in this torch build")
            for name, ok, why in ranked
        ]
    verdicts = tuple(EngineVerdict(name, i + 1, ok, why) for i, (name, ok, why) in enumerate(ranked))
    best = next((v for v in verdicts if v.suitable), None)

    cap = int8_capability(cpu)
    expected, reasons = _expected(cpu, cap)
    if best is None:
        return Recommendation(None, "slower", ("No quantized engine suits this CPU and torch build.", *reasons),
                              verdicts, torch_engines is not None)
    head = f"Use torch.backends.quantized.engine = {best.name!r}: {best.why}."
    if cpu.is_x86:
        head += " Not 'qnnpack': on x86 it runs 128-bit SSE2 kernels and is typically slower than fp32."
    if not cpu.features:
        reasons.append("No CPU feature flags could be read, so this is a guess from the architecture alone.")
    return Recommendation(best.name, expected, (head, *reasons), verdicts, torch_engines is not None)


def installed_torch_engines() -> list[str] | None:
    """torch's supported quantized engines, only if torch is imported already (never imports it)."""
    import sys

    torch = sys.modules.get("torch")
    try:
        return [e for e in torch.backends.quantized.supported_engines if e != "none"] if torch else None
    except AttributeError:
        return None
