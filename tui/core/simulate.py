"""Predict a weaker server: cap the ISA that oneDNN and ATen kernels may use in the worker processes.

Only a weaker ISA than this CPU's can be simulated. FBGEMM, ONNX Runtime's MLAS and OpenVINO pick their
kernels themselves and ignore these variables, so their routes still run at this CPU's ISA: reports say so.
"""

from __future__ import annotations

from dataclasses import replace

from tui.core.cpu import CpuProfile

# name → (features the CPU must have, ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY, features kept)
LEVELS: dict[str, tuple[tuple[str, ...], str, str, frozenset[str]]] = {}
_kept: set[str] = set()
for _name, _needs, _onednn, _aten, _adds in [
    ("sse4_2", ("sse4_2",), "SSE41", "default", ("sse4_2",)),
    ("avx", ("avx",), "AVX", "default", ("avx",)),
    ("avx2", ("avx2",), "AVX2", "avx2", ("avx2", "fma")),
    ("avx2_vnni", ("avx_vnni",), "AVX2_VNNI", "avx2", ("avx_vnni",)),
    ("avx512", ("avx512f", "avx512bw", "avx512vl"), "AVX512_CORE", "avx512", ("avx512f", "avx512bw", "avx512vl")),
    ("avx512_vnni", ("avx512_vnni",), "AVX512_CORE_VNNI", "avx512", ("avx512_vnni",)),
    ("avx512_bf16", ("avx512_bf16",), "AVX512_CORE_BF16", "avx512", ("avx512_bf16",)),
    ("amx", ("amx_int8",), "AVX512_CORE_AMX", "avx512", ("amx_tile", "amx_int8", "amx_bf16")),
]:
    _kept |= set(_adds)
    LEVELS[_name] = (_needs, _onednn, _aten, frozenset(_kept))

NOT_SIMULATED = "FBGEMM (torch x86/fbgemm engines), ONNX Runtime and OpenVINO ignore the cap and use this CPU's ISA"


class SimulationError(ValueError):
    """An ISA that cannot be simulated here; one line for the user."""


def simulation(name: str, cpu: CpuProfile) -> tuple[tuple[tuple[str, str], ...], CpuProfile]:
    """(worker environment, the CPU profile as the simulated server would look) for `--simulate-isa NAME`."""
    if name not in LEVELS:
        raise SimulationError(f"--simulate-isa {name}: unknown; choose one of {', '.join(LEVELS)}")
    if not cpu.is_x86:
        raise SimulationError(f"--simulate-isa: only x86 ISAs can be simulated, and this CPU is {cpu.arch}")
    needs, onednn, aten, kept = LEVELS[name]
    missing = [f for f in needs if f not in cpu.features]
    if missing:
        raise SimulationError(f"--simulate-isa {name}: this CPU lacks {', '.join(missing)}; only a weaker ISA than "
                              f"this one can be simulated")
    env = (("ONEDNN_MAX_CPU_ISA", onednn), ("DNNL_MAX_CPU_ISA", onednn), ("ATEN_CPU_CAPABILITY", aten))
    note = f"Simulated {name}: features above it removed; {NOT_SIMULATED}."
    simulated = replace(cpu, features=cpu.features & kept, notes=(*cpu.notes, note))
    return env, simulated
