"""OpenVINO: the runtime model of the compiled network (`compiled_model.get_runtime_model()`), whose per-layer
rt_info names the layer type, the primitive that ran (`brgemm_avx512_I8`) and its runtime precision.

With dynamic shapes the CPU plugin picks a node's implementation at its first inference, so the runtime model
is read after one batch has run (the warm-up and the rounds have run by then).
OpenVINO's oneDNN-based nodes (FullyConnected, MatMul) honour ONEDNN_MAX_CPU_ISA; some of its own JIT kernels
(MVN, FakeQuantize, Reduce) keep the host's ISA (measured: `--simulate-isa avx2` on an AVX-512 CPU).
"""

from __future__ import annotations

import os
from collections import Counter

from tui.core.kernels import isa as isas
from tui.core.kernels.facts import INFERRED, OBSERVED, Capture, Fact, Gemms

GEMM_LAYERS = ("FullyConnected", "MatMul", "Convolution", "GemmCPU")
SKIP_LAYERS = ("Const", "Input", "Parameter", "Output", "Result", "Reshape")
_PRECISION = {"u8": "int8", "i8": "int8", "bf16": "bf16", "f32": "fp32", "f16": "fp16"}


def layers(runtime_model) -> list[tuple[str, str, str]]:
    """(layerType, primitiveType, runtimePrecision) of every node of an OpenVINO runtime model."""
    def get(info, key: str) -> str:
        return str(info[key].astype(str)) if key in info else ""

    out = []
    for op in runtime_model.get_ordered_ops():
        info = op.get_rt_info()
        out.append((get(info, "layerType"), get(info, "primitiveType"), get(info, "runtimePrecision")))
    return out


def from_layers(rows: list[tuple[str, str, str]], env_cap: str | None, host_features=()) -> Capture:
    cap = Capture()
    gemm = Counter((layer, prim, prec) for layer, prim, prec in rows if layer in GEMM_LAYERS)
    grouped: Counter = Counter()
    for (_layer, prim, prec), n in gemm.items():
        grouped[(_PRECISION.get(prec.lower(), prec.lower() or "?"), prim)] += n
    for (dtype, prim), n in sorted(grouped.items(), key=lambda kv: -kv[1]):
        layer_names = sorted({layer for layer, p, prec in gemm if p == prim})
        named = isas.from_openvino_primitive(prim)
        if named:
            isa, basis, source = named, OBSERVED, f"OpenVINO runtime model: {', '.join(layer_names)} ran {prim}"
        elif "mlas" in prim.lower():
            isa, basis = None, OBSERVED
            source = f"OpenVINO runtime model: {prim} (MLAS inside OpenVINO; it names no ISA)"
        elif env_cap:
            isa, basis = isas.MAX_CPU_ISA.get(env_cap.upper()), INFERRED
            source = f"OpenVINO runtime model: {prim} names no ISA; inferred from ONEDNN_MAX_CPU_ISA={env_cap}"
        elif "jit_gemm" in prim.lower() and isas.onednn_jit_gemm_isa(host_features):
            # Seen on AVX2-only CPUs (Zen 2/3): OpenVINO's int8 FullyConnected runs oneDNN's JIT GEMM, unnamed.
            isa, basis = isas.onednn_jit_gemm_isa(host_features), INFERRED
            source = (f"OpenVINO runtime model: {prim} names no ISA; oneDNN's JIT GEMM takes the widest this CPU "
                      "reports (CPUID), inferred")
        else:
            isa, basis, source = None, OBSERVED, f"OpenVINO runtime model: {prim} names no ISA"
        cap.gemms.append(Gemms(dtype, n, isa, "OpenVINO", prim, basis, source))
    others = Counter((layer, prim, prec) for layer, prim, prec in rows
                     if layer not in GEMM_LAYERS and layer not in SKIP_LAYERS and prim and "unknown" not in prim)
    for (layer, prim, prec), n in others.most_common():
        cap.facts.append(Fact("OpenVINO layers", layer, f"{prim} ({prec}) ×{n}", OBSERVED,
                              "runtime model: primitiveType, runtimePrecision"))
    if not gemm:
        cap.why = "the runtime model lists no FullyConnected or MatMul layer"
    return cap


def capture(encoder, texts: list[str], batch_size: int, host_features, simulated: bool) -> Capture:
    """An OpenVINO route: its runtime model after one batch."""
    import openvino as ov

    compiled = getattr(encoder, "compiled", None)
    if compiled is None:
        return Capture(False, "not available: this OpenVINO route exposes no compiled model")
    encoder.encode(texts[:batch_size], batch_size)  # shapes of this batch: implementations are chosen per shape
    cap = from_layers(layers(compiled.get_runtime_model()), os.environ.get("ONEDNN_MAX_CPU_ISA"),
                      host_features)
    cap.facts.insert(0, Fact("OpenVINO", "version", ov.get_version(), OBSERVED, "openvino.get_version()"))
    precision = getattr(encoder, "inference_precision", None)
    if precision:
        cap.facts.insert(1, Fact("OpenVINO", "inference precision", precision, OBSERVED,
                                 "compiled_model.get_property(INFERENCE_PRECISION_HINT)"))
    return cap
