"""ISA names: canonical names for what oneDNN, OpenVINO, FBGEMM and MLAS call their code paths, their order,
and the best int8 path a CPU offers, so "ran on a weaker ISA than the CPU has" is one comparison.

Canonical names, weakest first: sse2, sse4_1, avx, avx2, avx2_vnni, avx512, avx512_vnni, avx512_bf16, amx (x86);
neon, dotprod, i8mm on ARM are named but not ranked.
For int8 GEMMs what matters is the family (128-bit, 256-bit, 512-bit, AMX tiles) and whether VNNI is used;
OpenVINO's names give the family only ("brgemm_avx512_I8"), so comparisons are by family unless both sides
name VNNI.
"""

from __future__ import annotations

ORDER = ("sse2", "sse4_1", "avx", "avx2", "avx2_vnni", "avx512", "avx512_vnni", "avx512_bf16", "amx")
FAMILY = {"sse2": 1, "sse4_1": 1, "avx": 2, "avx2": 3, "avx2_vnni": 3, "avx512": 4, "avx512_vnni": 4,
          "avx512_bf16": 4, "amx": 5}
LABEL = {"sse2": "SSE2", "sse4_1": "SSE4.1", "neon": "NEON", "avx": "AVX", "avx2": "AVX2",
         "avx2_vnni": "AVX2 + AVX-VNNI", "avx512": "AVX-512", "avx512_vnni": "AVX-512 VNNI",
         "avx512_bf16": "AVX-512 VNNI + BF16", "amx": "AMX"}

# oneDNN's ISA tokens in implementation names (`brg_matmul:avx512_core_vnni`, `jit:avx2`), longest first.
_ONEDNN_TOKENS = (
    ("avx512_core_amx", "amx"), ("avx10_1_512_amx", "amx"), ("avx512_core_bf16", "avx512_bf16"),
    ("avx512_core_fp16", "avx512_bf16"), ("avx512_core_vnni", "avx512_vnni"), ("avx512_core", "avx512"),
    ("avx2_vnni_2", "avx2_vnni"), ("avx2_vnni", "avx2_vnni"), ("avx512", "avx512"), ("avx2", "avx2"),
    ("sse41", "sse4_1"), ("avx", "avx"),
)
# oneDNN's verbose header, `isa:Intel AVX-512 with Intel DL Boost and bfloat16 support`: the ISA it may use.
_ONEDNN_HEADER = (
    ("AMX", "amx"), ("bfloat16", "avx512_bf16"), ("AVX-512 with Intel DL Boost", "avx512_vnni"),
    ("AVX-512", "avx512"), ("AVX2 with Intel DL Boost", "avx2_vnni"), ("AVX2", "avx2"), ("AVX", "avx"),
    ("SSE4.1", "sse4_1"),
)
# ONEDNN_MAX_CPU_ISA values (as --simulate-isa sets them) → canonical.
MAX_CPU_ISA = {"SSE41": "sse4_1", "AVX": "avx", "AVX2": "avx2", "AVX2_VNNI": "avx2_vnni", "AVX2_VNNI_2": "avx2_vnni",
               "AVX512_CORE": "avx512", "AVX512_CORE_VNNI": "avx512_vnni", "AVX512_CORE_BF16": "avx512_bf16",
               "AVX512_CORE_FP16": "avx512_bf16", "AVX512_CORE_AMX": "amx", "AVX512_CORE_AMX_FP16": "amx"}


def rank(isa: str | None) -> int:
    return ORDER.index(isa) if isa in ORDER else -1


def label(isa: str | None) -> str:
    return LABEL.get(isa or "", isa or "unknown ISA")


def from_onednn_implementation(name: str) -> str | None:
    """`brg_matmul:avx512_core_vnni` → avx512_vnni; `gemm:jit`, `ref:any`, `jit:uni` → None (no ISA named)."""
    low = name.lower()
    for token, isa in _ONEDNN_TOKENS:
        if token in low:
            return isa
    return None


def from_onednn_header(text: str) -> str | None:
    for token, isa in _ONEDNN_HEADER:
        if token in text:
            return isa
    return None


def from_openvino_primitive(name: str) -> str | None:
    """OpenVINO CPU primitive types: `brgemm_avx512_I8`, `brgemm_avx512_amx_I8`, `jit_avx2_f32`, `jit_gemm_I8`."""
    low = name.lower()
    if "amx" in low:
        return "amx"
    if "avx512" in low:
        return "avx512_vnni" if "vnni" in low else "avx512"
    if "avx2" in low:
        return "avx2_vnni" if "vnni" in low else "avx2"
    if "sse42" in low or "sse41" in low:
        return "sse4_1"
    return None


def onednn_jit_gemm_isa(features) -> str | None:
    """oneDNN's JIT int8 GEMM (`gemm:jit`, OpenVINO's `jit_gemm_I8`) picks its kernels from CPUID at run time:
    AVX-512 core (VNNI when present), AVX2 (AVX-VNNI when present), else SSE4.1; it has no AMX kernels."""
    f = set(features)
    if {"avx512f", "avx512bw", "avx512vl"} <= f:
        return "avx512_vnni" if "avx512_vnni" in f else "avx512"
    if "avx2" in f:
        return "avx2_vnni" if "avx_vnni" in f else "avx2"
    return "sse4_1" if "sse4_2" in f else None


def best_int8(features) -> str | None:
    """The best int8 GEMM path a CPU with these canonical features offers (x86), None elsewhere."""
    f = set(features)
    if "amx_int8" in f:
        return "amx"
    if {"avx512f", "avx512bw", "avx512vl"} <= f:
        return "avx512_vnni" if "avx512_vnni" in f else "avx512"
    if "avx2" in f:
        return "avx2_vnni" if "avx_vnni" in f else "avx2"
    if "avx" in f:
        return "avx"
    if "sse4_2" in f:
        return "sse4_1"
    return None


def weaker(ran: str | None, best: str | None, names_vnni: bool = True) -> bool:
    """Did int8 work on `ran` use a weaker path than `best`? Across families always; within a family (VNNI or
    not) only when the library's names say VNNI — OpenVINO's do not, so its "avx512" is not called weaker."""
    if ran not in FAMILY or best not in FAMILY:
        return False
    if FAMILY[ran] != FAMILY[best]:
        return FAMILY[ran] < FAMILY[best]
    return names_vnni and rank(ran) < rank(best)


# ------------------------------------------------------------------------------------- dispatch rules

# FBGEMM_ENABLE_INSTRUCTIONS values FBGEMM reads (fbgemmEnvGetIsa): a cap it honours only at or below the ISA
# it detects itself.
FBGEMM_ENV = {"AVX2": "avx2", "AVX512": "avx512", "AVX512_E1": "avx512_vnni", "AVX512_256": "avx512",
              "AVX512_E1_256": "avx512_vnni"}


def fbgemm_isa(features, forced: str | None) -> str | None:
    """FBGEMM's GEMM ISA (fbgemmInstructionSet): AVX-512 VNNI, AVX-512 (F, BW, DQ, VL) or AVX2 from CPUID,
    lowered by FBGEMM_ENABLE_INSTRUCTIONS when it names one the CPU has. None: no AVX2, reference code."""
    f = set(features)
    if "avx512_vnni" in f and {"avx512f", "avx512bw", "avx512vl"} <= f:
        detected = "avx512_vnni"
    elif {"avx512f", "avx512bw", "avx512vl"} <= f:
        detected = "avx512"
    elif "avx2" in f:
        detected = "avx2"
    else:
        return None
    wanted = FBGEMM_ENV.get((forced or "").strip().upper())
    if wanted and rank(wanted) <= rank(detected):
        return wanted
    return detected


def qnnpack_isa(features) -> str | None:
    """QNNPACK's int8 GEMM micro-kernels: 128-bit SSE2 on x86 (it has no AVX2/VNNI kernels), NEON on ARM."""
    f = set(features)
    if f & {"sse4_2", "avx", "avx2"}:
        return "sse2"
    return "neon" if "neon" in f else None


def mlas_int8_isa(features) -> str | None:
    """ONNX Runtime's MLAS U8S8 GEMM (platform.cpp): AMX (AMX-TILE + AMX-INT8, Linux), AVX-512 VNNI, AVX-512 core,
    AVX-VNNI, AVX2, else SSE; chosen from CPUID alone — no environment variable caps it."""
    f = set(features)
    if {"amx_tile", "amx_int8"} <= f:
        return "amx"
    if {"avx512f", "avx512bw", "avx512vl"} <= f:
        return "avx512_vnni" if "avx512_vnni" in f else "avx512"
    if "avx2" in f:
        return "avx2_vnni" if "avx_vnni" in f else "avx2"
    return "sse4_1" if "sse4_2" in f else None
