"""The CPU an export is built for (this one, or a server's saved /proc/cpuinfo or `qtui detect --json`), the
settings that depend on it, and the CPU features the artefact needs — checked again by encode.py where it runs."""

from __future__ import annotations

import json
from pathlib import Path

from tui.core.cpu import CpuInfoError, CpuProfile, load_cpuinfo_file
from tui.core.routes import RouteSpec
from tui.core.routes.onnx import X86_INT8_DOT, wants_reduce_range

__all__ = ["X86_INT8_DOT", "wants_reduce_range", "load_target", "needs", "tuned_for", "int8_dot_features"]
ARM_INT8_DOT = ("dotprod", "i8mm")
ISSUE_SATURATION = "https://github.com/microsoft/onnxruntime/issues/5849"


def load_target(path: str) -> CpuProfile:
    """A `qtui detect --json` (or report) file, else a saved /proc/cpuinfo or macOS sysctl text."""
    p = Path(path)
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        doc = None
    if isinstance(doc, dict):
        cpu = doc.get("cpu") or (doc.get("env") or {}).get("cpu")
        if not isinstance(cpu, dict):
            raise CpuInfoError(f"--for {path}: JSON without a cpu section; pass `qtui detect --json` output or a "
                               f"saved /proc/cpuinfo")
        try:
            return CpuProfile.from_json(cpu, source="detect-json")
        except CpuInfoError as exc:
            raise CpuInfoError(f"--for {path}: {exc}") from None
    try:
        return load_cpuinfo_file(p)
    except CpuInfoError as exc:
        raise CpuInfoError(str(exc).replace("--cpuinfo", "--for", 1)) from None


def int8_dot_features(cpu: CpuProfile) -> tuple[str, ...]:
    return X86_INT8_DOT if cpu.is_x86 else ARM_INT8_DOT if cpu.is_arm else ()


def needs(spec: RouteSpec, cpu: CpuProfile, reduce_range: bool) -> list[dict]:
    """Features without which the artefact loses accuracy (encode.py warns)."""
    if spec.id == "ort-qint8" and cpu.is_x86 and not reduce_range:
        return [{"any_of": ["avx512_vnni", "avx_vnni"],
                 "why": "the int8 ONNX model has full-range 8-bit weights; without VNNI, ONNX Runtime's u8s8 "
                        f"kernels (VPMADDUBSW) can saturate and lose accuracy ({ISSUE_SATURATION}); re-export "
                        "with `qtui export ort-qint8 --for` this machine's /proc/cpuinfo, which sets "
                        "reduce_range"}]
    return []


def tuned_for(spec: RouteSpec, cpu: CpuProfile) -> list[dict]:
    """The int8 dot-product features of the CPU the export was built (and measured) for: without them int8
    runs slower than measured."""
    if spec.dtype not in ("qint8", "int8"):
        return []
    present = [f for f in int8_dot_features(cpu) if cpu.has(f)]
    if not present:
        return []
    return [{"any_of": present,
             "why": f"the export was built for a CPU with {', '.join(present)} (int8 dot products); without "
                    "them int8 runs slower than measured, possibly slower than fp32: measure here with "
                    f"`qtui bench --routes {spec.id}`"}]
