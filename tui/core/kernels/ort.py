"""ONNX Runtime: the op types that ran, from a profile of one batch (`enable_profiling`), and the ISA of MLAS's
int8 GEMM inferred from the CPU features it dispatches on (MLAS reads CPUID itself; nothing caps it).

The profile needs a session of its own (profiling is a session option), built after the timed rounds.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections import Counter
from pathlib import Path

from tui.core.kernels import isa as isas
from tui.core.kernels.facts import INFERRED, OBSERVED, Capture, Fact, Gemms

# Op types whose work is an int8 GEMM (QAttention: the fused Q, K and V projections; QGemm/QLinearMatMul: QDQ).
INT8_GEMM_OPS = ("MatMulInteger", "DynamicQuantizeMatMul", "QAttention", "MatMulIntegerToFloat", "QGemm",
                 "QLinearMatMul", "DynamicQuantizeLSTM")
FP32_GEMM_OPS = ("MatMul", "Gemm", "FusedMatMul", "Attention", "MultiHeadAttention", "FusedGemm")
FUSED_OPS = ("Attention", "QAttention", "MultiHeadAttention", "SkipLayerNormalization", "EmbedLayerNormalization",
             "QEmbedLayerNormalization", "BiasGelu", "FastGelu", "Gelu", "LayerNormalization")
NOT_SIMULATED = "MLAS picks its kernels from CPUID and has no switch to cap them: this route ran at the host's ISA"


def op_counts(events: list[dict]) -> Counter:
    """Node executions per op type in an ORT profile (`cat: Node`, `name: <node>_kernel_time`)."""
    counts: Counter = Counter()
    for event in events:
        if event.get("cat") == "Node" and str(event.get("name", "")).endswith("_kernel_time"):
            op = (event.get("args") or {}).get("op_name")
            if op:
                counts[op] += 1
    return counts


def from_ops(counts: Counter, host_features, simulated: bool) -> Capture:
    cap = Capture()
    int8 = sum(n for op, n in counts.items() if op in INT8_GEMM_OPS)
    fp32 = sum(n for op, n in counts.items() if op in FP32_GEMM_OPS)
    isa = isas.mlas_int8_isa(host_features)
    if int8:
        ops = ", ".join(f"{op} ×{n}" for op, n in counts.items() if op in INT8_GEMM_OPS)
        cap.gemms.append(Gemms("int8", int8, isa, "MLAS", ops, INFERRED,
                               f"op types observed in ORT's profile ({ops}); MLAS's kernel inferred from this "
                               f"CPU's features (it picks AMX, AVX-512 VNNI, AVX-512, AVX-VNNI or AVX2 from CPUID)"))
    if fp32:
        ops = ", ".join(f"{op} ×{n}" for op, n in counts.items() if op in FP32_GEMM_OPS)
        cap.gemms.append(Gemms("fp32", fp32, None, "MLAS", ops, OBSERVED,
                               f"op types observed in ORT's profile ({ops}); ORT does not name the ISA of fp32 GEMMs"))
    for op, n in counts.most_common():
        group = "fused" if op in FUSED_OPS else "int8 GEMM" if op in INT8_GEMM_OPS else "other"
        cap.facts.append(Fact(f"ONNX Runtime ops ({group})", op, f"×{n}", OBSERVED, "ORT profile of one batch"))
    if simulated and int8:
        cap.not_simulated = NOT_SIMULATED
    return cap


def capture(encoder, texts: list[str], batch_size: int, host_features, simulated: bool) -> Capture:
    """An ONNX Runtime route: a profiled session over one batch."""
    import onnxruntime as ort

    path = getattr(encoder, "onnx_path", None)
    if path is None:
        return Capture(False, "not available: this ONNX Runtime route does not say which model file it runs")
    from tui.core.onnx_route import session_options

    with tempfile.TemporaryDirectory(prefix="qtui-ort-profile-") as tmp:
        options = session_options(encoder.threads)
        options.enable_profiling = True
        options.profile_file_prefix = str(Path(tmp) / "profile")
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
        names = [i.name for i in session.get_inputs()]
        feeds = encoder.tokenize(texts[:batch_size], names)
        session.run(None, feeds)
        profile = session.end_profiling()
        events = json.loads(Path(profile).read_text(encoding="utf-8")) if os.path.exists(profile) else []
    cap = from_ops(op_counts(events), host_features, simulated)
    cap.facts.insert(0, Fact("ONNX Runtime", "version", ort.__version__, OBSERVED, "onnxruntime.__version__"))
    if not events:
        cap.available, cap.why = False, "not available: ONNX Runtime wrote no profile"
    return cap
