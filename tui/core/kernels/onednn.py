"""oneDNN's (and MKL's) verbose log, parsed: which primitives ran, with which implementation, on which data types.

oneDNN prints one `onednn_verbose,v1,primitive,exec,cpu,<primitive>,<implementation>,<prop>,<memory
descriptors>,…` line per executed primitive (v3 format; v2 lacks the `v1,` field and says `dnnl_verbose`), and a
header with `info,cpu,isa:<the ISA it may use>`. The implementation names the ISA for JIT kernels
(`brg_matmul:avx512_core_vnni`, `jit:avx2`); `gemm:jit` does not, and then the header's ISA (capped by
ONEDNN_MAX_CPU_ISA) is the most it used. MKL prints `MKL_VERBOSE SGEMM(…)` per call and a version line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from tui.core.kernels import isa as isas
from tui.core.kernels.facts import INFERRED, OBSERVED, Fact, Gemms

GEMM_PRIMITIVES = ("matmul", "inner_product", "convolution")
_DTYPE = {"u8": "int8", "s8": "int8", "bf16": "bf16", "f32": "fp32", "f16": "fp16"}


@dataclass(frozen=True)
class Exec:
    primitive: str
    implementation: str
    src_dtype: str | None  # oneDNN's name: u8, s8, f32, bf16


@dataclass(frozen=True)
class VerboseLog:
    executed: tuple[Exec, ...]
    header_isa: str | None  # canonical ISA of the `isa:` header line, if it was printed
    header_text: str | None
    mkl_calls: Counter  # MKL function → calls
    mkl_header: str | None


def _src_dtype(descriptors: str) -> str | None:
    match = re.search(r"\bsrc(?:_\w+)?:(\w+):", descriptors)
    return match.group(1) if match else None


def parse(text: str) -> VerboseLog:
    executed, header_isa, header_text, mkl, mkl_header = [], None, None, Counter(), None
    for line in text.splitlines():
        if line.startswith("MKL_VERBOSE"):
            call = re.match(r"MKL_VERBOSE (\w+)\(", line)
            if call:
                mkl[call.group(1)] += 1
            elif mkl_header is None:
                mkl_header = line.removeprefix("MKL_VERBOSE").strip()
            continue
        if not (line.startswith("onednn_verbose") or line.startswith("dnnl_verbose")):
            continue
        fields = line.split(",")
        if fields[1] == "v1":  # v3 format carries a version field
            fields = fields[:1] + fields[2:]
        if len(fields) > 3 and fields[1] == "info" and fields[3].startswith("isa:"):
            header_text = fields[3].removeprefix("isa:")
            header_isa = isas.from_onednn_header(header_text)
        elif len(fields) > 6 and fields[1] == "primitive" and fields[2] == "exec":
            executed.append(Exec(fields[4], fields[5], _src_dtype(fields[7] if len(fields) > 7 else "")))
        elif len(fields) > 5 and fields[1] == "exec" and fields[2] == "cpu":  # v2: dnnl_verbose,exec,cpu,…
            executed.append(Exec(fields[3], fields[4], _src_dtype(fields[6] if len(fields) > 6 else "")))
    return VerboseLog(tuple(executed), header_isa, header_text, mkl, mkl_header)


def gemm_groups(log: VerboseLog, env_cap: str | None) -> list[Gemms]:
    """oneDNN's GEMM-like primitives grouped by dtype and implementation. The ISA comes from the implementation
    name (observed), else from oneDNN's `isa:` header (observed: the most it may use), else from the
    ONEDNN_MAX_CPU_ISA cap in the environment (inferred)."""
    counts = Counter((_DTYPE.get(e.src_dtype or "", e.src_dtype or "?"), e.implementation)
                     for e in log.executed if e.primitive in GEMM_PRIMITIVES)
    groups = []
    for (dtype, impl), n in sorted(counts.items(), key=lambda kv: -kv[1]):
        named = isas.from_onednn_implementation(impl)
        if named:
            isa, basis, source = named, OBSERVED, f"oneDNN verbose: implementation {impl}"
        elif log.header_isa:
            isa, basis = log.header_isa, OBSERVED
            source = f"oneDNN verbose: {impl} names no ISA; oneDNN's header says it may use {log.header_text}"
        elif env_cap:
            isa, basis = isas.MAX_CPU_ISA.get(env_cap.upper()), INFERRED
            source = f"{impl} names no ISA; inferred from ONEDNN_MAX_CPU_ISA={env_cap}"
        else:
            isa, basis, source = None, OBSERVED, f"oneDNN verbose: {impl} names no ISA"
        groups.append(Gemms(dtype, n, isa, "oneDNN", impl, basis, source))
    return groups


def facts(log: VerboseLog) -> list[Fact]:
    out = []
    if log.header_text:
        out.append(Fact("oneDNN", "ISA oneDNN may use", log.header_text, OBSERVED, "oneDNN verbose header"))
    kinds = Counter(e.primitive for e in log.executed)
    for primitive, n in kinds.most_common():
        impls = sorted({e.implementation for e in log.executed if e.primitive == primitive})
        out.append(Fact("oneDNN", f"{primitive} calls", f"{n} ({', '.join(impls)})", OBSERVED, "oneDNN verbose"))
    if log.mkl_calls:
        calls = ", ".join(f"{name} ×{n}" for name, n in log.mkl_calls.most_common())
        out.append(Fact("MKL", "calls", calls, OBSERVED, "MKL verbose"))
    if log.mkl_header:
        out.append(Fact("MKL", "build", log.mkl_header, OBSERVED, "MKL verbose header"))
    return out


def mkl_gemms(log: VerboseLog) -> list[Gemms]:
    """MKL's SGEMM calls: fp32 GEMMs. MKL's header names the ISA on Intel CPUs only ("… Intel(R) AVX-512 …
    enabled processors"); elsewhere it says "Intel(R) Architecture processors" and the ISA stays unknown."""
    header = log.mkl_header or ""
    isa = _mkl_isa(header) if "enabled processors" in header else None
    source = (f"MKL verbose: {header}" if isa else "MKL verbose: its header names no ISA on this CPU") + (
        "; one call per matrix, so batched matmuls (attention) count once per text and head")
    groups = []
    for dtype, names in (("fp32", ("SGEMM", "SGEMM_BATCH", "SGEMM_BATCH_STRIDED")),
                         ("bf16", ("GEMM_BF16BF16F32", "GEMM_BF16BF16F32_COMPUTE"))):
        calls = {k: v for k, v in log.mkl_calls.items() if k.upper() in names}
        if calls:
            groups.append(Gemms(dtype, sum(calls.values()), isa, "MKL", ", ".join(calls), OBSERVED, source))
    return groups


def _mkl_isa(header: str) -> str | None:
    if "AMX" in header:
        return "amx"
    if "AVX-512" in header:
        return "avx512_vnni" if "DL Boost" in header else "avx512"
    if "AVX2" in header or "Advanced Vector Extensions 2" in header:
        return "avx2_vnni" if "DL Boost" in header else "avx2"
    return None
