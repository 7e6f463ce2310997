"""Predict a weaker server: cap the ISA that oneDNN, ATen and FBGEMM kernels may use in the worker processes.

Only a weaker ISA than this CPU's can be simulated. What honours the caps was checked with the kernels capture
(`tui.core.kernels`) on an AVX-512 VNNI CPU under `avx2`: torch's oneDNN int8 matmuls and OpenVINO's
FullyConnected/MatMul layers (OpenVINO's oneDNN fork reads ONEDNN_MAX_CPU_ISA) drop to AVX2 code, FBGEMM follows
FBGEMM_ENABLE_INSTRUCTIONS (timed: its int8 Linear slows to its AVX2 speed); ONNX Runtime's MLAS picks its kernels
from CPUID with no switch, and some of OpenVINO's own JIT kernels (MVN, FakeQuantize) keep the host's ISA.
"""

from __future__ import annotations

from dataclasses import replace

from tui.core.cpu import CpuProfile

# name → (features the CPU must have, ONEDNN_MAX_CPU_ISA, ATEN_CPU_CAPABILITY, features kept)
LEVELS: dict[str, tuple[tuple[str, ...], str, str, frozenset[str]]] = {}
# FBGEMM's own cap (FBGEMM_ENABLE_INSTRUCTIONS): AVX2 is its floor, and it has no AVX-VNNI or AMX path.
FBGEMM_CAP = {"avx2": "AVX2", "avx2_vnni": "AVX2", "avx512": "AVX512", "avx512_vnni": "AVX512_E1",
              "avx512_bf16": "AVX512_E1", "amx": "AVX512_E1"}
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

NOT_SIMULATED = ("ONNX Runtime's MLAS ignores the cap (it reads CPUID; no switch exists), and so do some of OpenVINO's "
                 "own JIT kernels (MVN, FakeQuantize); the kernels view says what each route ran")


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
    if name in FBGEMM_CAP:  # below AVX2 FBGEMM cannot be capped: it has no kernels there, and its engines say so
        env += (("FBGEMM_ENABLE_INSTRUCTIONS", FBGEMM_CAP[name]),)
    fbgemm = "" if name in FBGEMM_CAP else "; FBGEMM (the x86/fbgemm engines) has no kernels below AVX2 to cap to"
    note = f"Simulated {name}: features above it removed; {NOT_SIMULATED}{fbgemm}."
    simulated = replace(cpu, features=cpu.features & kept, notes=(*cpu.notes, note))
    return env, simulated


def worker_cpu() -> CpuProfile:
    """This CPU as a worker's oneDNN sees it: --simulate-isa caps the ISA through ONEDNN_MAX_CPU_ISA."""
    import os

    from tui.core.cpu import detect

    cpu = detect()
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA")
    kept = next((level[3] for level in LEVELS.values() if level[1] == cap), None)
    return replace(cpu, features=cpu.features & kept) if kept is not None else cpu
