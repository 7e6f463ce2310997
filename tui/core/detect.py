"""`qtui detect`: the CPU profile and the engine recommendation, as `qtui.detect/1` JSON or a table for people."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from tui.core.cpu import CpuProfile, detect, load_cpuinfo_file
from tui.core.engines import Recommendation, installed_torch_engines, recommend

SCHEMA = "qtui.detect/1"

# The capability badges shown to people, per architecture: (label, canonical features any of which count).
X86_BADGES = (
    ("AVX2", ("avx2",)), ("AVX-512", ("avx512f",)), ("VNNI", ("avx512_vnni",)), ("AVX-VNNI", ("avx_vnni",)),
    ("AMX", ("amx_int8",)), ("bf16", ("avx512_bf16", "amx_bf16")),
)
ARM_BADGES = (
    ("NEON", ("neon",)), ("dotprod", ("dotprod",)), ("i8mm", ("i8mm",)), ("SVE", ("sve",)), ("bf16", ("bf16",)),
)


def badges(cpu: CpuProfile) -> list[tuple[str, bool]]:
    """(label, present) for the int8/bf16 features that matter on this CPU's architecture."""
    table = ARM_BADGES if cpu.is_arm else X86_BADGES
    return [(label, cpu.has_any(*features)) for label, features in table]


@dataclass(frozen=True)
class Detection:
    cpu: CpuProfile
    recommendation: Recommendation

    def to_json(self) -> dict:
        return {
            "schema": SCHEMA,
            "source": self.cpu.source,
            "cpu": self.cpu.to_json(),
            "recommendation": self.recommendation.to_json(),
            "engines": [v.to_json() for v in self.recommendation.engines],
        }


def run_detect(cpuinfo_file: str | None = None) -> Detection:
    """This machine, or a saved cpuinfo text (raises CpuInfoError on a file qtui cannot use)."""
    if cpuinfo_file is not None:
        cpu = load_cpuinfo_file(cpuinfo_file)
        return Detection(cpu, recommend(cpu))
    cpu = detect()
    return Detection(cpu, recommend(cpu, installed_torch_engines()))


def describe_cpu(cpu: CpuProfile) -> str:
    """One line: model, generation, architecture, core counts, VM."""
    parts = [cpu.model or "unknown CPU"]
    if cpu.generation and cpu.generation not in (cpu.model or ""):
        parts[0] += f" ({cpu.generation})"
    parts.append(cpu.arch)
    if cpu.logical_cpus:
        cores = f"{cpu.logical_cpus} logical"
        if cpu.physical_cores:
            cores += f" / {cpu.physical_cores} physical"
        parts.append(cores)
    if cpu.hypervisor:
        parts.append("virtual machine")
    return " · ".join(parts)


def format_detection(d: Detection, width: int = 100) -> str:
    """The table `qtui detect` prints for people, reasons wrapped to `width`."""
    cpu, rec = d.cpu, d.recommendation
    source = "this machine" if cpu.source == "this-machine" else "saved cpuinfo file"
    lines = [
        f"CPU          {describe_cpu(cpu)}",
        f"Source       {source}",
        "int8/bf16    " + "  ".join(f"{label} {'✓' if ok else '✗'}" for label, ok in badges(cpu)),
        f"Features     {' '.join(cpu.sorted_features()) or '(none read)'}",
    ]
    lines += [f"Note         {n}" for n in cpu.notes]
    lines += [
        "",
        f"Engine       {rec.engine or 'none'}    int8 expected: {rec.expected_int8}",
    ]
    lines += [textwrap.fill(r, width, initial_indent="  · ", subsequent_indent="    ") for r in rec.reasons]
    lines += ["", "Rank  Engine    Suits  Why"]
    lines += [f"{v.rank:>4}  {v.name:<8}  {'yes' if v.suitable else 'no':<5}  {v.why}" for v in rec.engines]
    if not rec.torch_engines_known:
        lines += ["", "(Engines as in a standard torch build for this architecture; torch was not loaded.)"]
    return "\n".join(lines)
