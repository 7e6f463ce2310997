"""The kernels capture's pure parts: oneDNN/MKL verbose parsing, ORT profile op counts, OpenVINO runtime-model rows,
FBGEMM's and MLAS's dispatch rules on real CPUs' features, the summary lines and the degraded answers.
The logs under fixtures/kernels/ are verbatim output of oneDNN 3.12 and MKL 2024 (torch 2.13) on a Zen 5 VM,
natively and under ONEDNN_MAX_CPU_ISA=AVX2."""

from __future__ import annotations

import os
from collections import Counter

import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import load_cpuinfo_file
from tui.core.kernels import capture_with, isa, not_available, onednn, ort, to_report
from tui.core.kernels import openvino as ov_kernels
from tui.core.kernels.facts import INFERRED, OBSERVED, Capture
from tui.core.kernels.summary import route_findings, summary_lines
from tui.core.simulate import simulation

CPUS = FIXTURES / "cpuinfo"
ZEN3 = load_cpuinfo_file(CPUS / "amd-zen3-epyc-7r13.txt")
SPR = load_cpuinfo_file(CPUS / "intel-sapphirerapids-8488c.txt")
LOGS = FIXTURES / "kernels"


def log(name: str) -> onednn.VerboseLog:
    return onednn.parse((LOGS / name).read_text())


def test_onednn_int8_matmuls_name_their_isa_in_the_implementation():
    parsed = log("onednn-v3-avx512-vnni.log")
    groups = onednn.gemm_groups(parsed, None)
    assert [(g.dtype, g.count, g.isa, g.basis) for g in groups] == [("int8", 2, "avx512_vnni", OBSERVED)]
    assert "brg_matmul:avx512_core_vnni" in groups[0].source
    assert parsed.header_isa == "avx512_bf16"  # "AVX-512 with Intel DL Boost and bfloat16 support"
    mkl = onednn.mkl_gemms(parsed)
    assert [(g.dtype, g.count, g.isa) for g in mkl] == [("fp32", 2, None)]  # MKL names no ISA on an AMD CPU
    names = {(f.group, f.name) for f in onednn.facts(parsed)}
    assert ("oneDNN", "matmul calls") in names and ("MKL", "calls") in names


def test_gemm_jit_takes_its_isa_from_onednns_header_or_else_the_cap():
    parsed = log("onednn-v3-capped-avx2.log")
    [group] = onednn.gemm_groups(parsed, "AVX2")
    assert (group.dtype, group.count, group.implementation, group.isa, group.basis) == (
        "int8", 2, "gemm:jit", "avx2", OBSERVED)
    headerless = onednn.VerboseLog(parsed.executed, None, None, Counter(), None)
    [group] = onednn.gemm_groups(headerless, "AVX2")
    assert (group.isa, group.basis) == ("avx2", INFERRED) and "ONEDNN_MAX_CPU_ISA=AVX2" in group.source
    [group] = onednn.gemm_groups(headerless, None)
    assert group.isa is None  # nothing says: no guess


def test_bf16_gemms_are_bf16_in_onednn_and_mkl():
    parsed = log("onednn-v3-bf16-matmul.log")
    assert [(g.dtype, g.isa) for g in onednn.gemm_groups(parsed, None)] == [("bf16", "avx512_bf16")]
    assert [(g.dtype, g.count) for g in onednn.mkl_gemms(parsed)] == [("bf16", 1)]


def test_onednn_v2_lines_parse_too():
    text = ("dnnl_verbose,info,cpu,isa:Intel AVX2\n"
            "dnnl_verbose,exec,cpu,inner_product,gemm:jit,forward_inference,src_u8::blocked:ab:f0 wei_s8::blocked:"
            "ab:f0,,,mb32ic384oc1536,0.1\n")
    parsed = onednn.parse(text)
    assert parsed.header_isa == "avx2" and [e.primitive for e in parsed.executed] == ["inner_product"]


@pytest.mark.parametrize("name, expected", [
    ("brg_matmul:avx512_core_amx", "amx"), ("brg_matmul:avx512_core_vnni", "avx512_vnni"),
    ("brg_matmul:avx512_core", "avx512"), ("brg_matmul:avx2_vnni", "avx2_vnni"), ("jit:avx2", "avx2"),
    ("gemm:jit", None), ("ref:any", None), ("jit:uni", None),
])
def test_onednn_implementation_names(name, expected):
    assert isa.from_onednn_implementation(name) == expected


@pytest.mark.parametrize("name, expected", [
    ("brgemm_avx512_I8", "avx512"), ("brgemm_avx512_amx_I8", "amx"), ("brgemm_avx2_f32", "avx2"),
    ("jit_gemm_I8", None), ("gemm_mlas_f32", None), ("ref_any_f32", None),
])
def test_openvino_primitive_names(name, expected):
    assert isa.from_openvino_primitive(name) == expected


def test_fbgemm_follows_cpuid_and_its_environment_cap_never_above_the_host():
    assert isa.fbgemm_isa(ZEN3.features, None) == "avx2"
    assert isa.fbgemm_isa(SPR.features, None) == "avx512_vnni"
    assert isa.fbgemm_isa(SPR.features, "AVX2") == "avx2"
    assert isa.fbgemm_isa(SPR.features, "avx512") == "avx512"
    assert isa.fbgemm_isa(ZEN3.features, "AVX512_E1") == "avx2"  # a cap above the host is ignored, as FBGEMM does
    assert isa.fbgemm_isa(frozenset({"sse4_2", "avx"}), None) is None  # no AVX2: reference code


def test_simulating_a_level_caps_fbgemm_where_it_has_kernels():
    env, _ = simulation("avx512", SPR)
    assert dict(env)["FBGEMM_ENABLE_INSTRUCTIONS"] == "AVX512"
    env, cpu = simulation("avx", SPR)
    assert "FBGEMM_ENABLE_INSTRUCTIONS" not in dict(env) and any("below AVX2" in n for n in cpu.notes)


def test_mlas_int8_path_per_cpu():
    assert isa.mlas_int8_isa(ZEN3.features) == "avx2"
    assert isa.mlas_int8_isa(SPR.features) == "amx"
    assert isa.mlas_int8_isa(SPR.features - {"amx_tile", "amx_int8"}) == "avx512_vnni"
    assert isa.mlas_int8_isa({"avx2", "avx_vnni"}) == "avx2_vnni"


def test_best_int8_and_weaker_compare_by_family_and_vnni_only_where_named():
    assert isa.best_int8(SPR.features) == "amx" and isa.best_int8(ZEN3.features) == "avx2"
    assert isa.weaker("avx2", "avx512_vnni") and not isa.weaker("avx512_vnni", "avx512_vnni")
    assert isa.weaker("avx512", "avx512_vnni") and not isa.weaker("avx512", "avx512_vnni", names_vnni=False)
    assert not isa.weaker(None, "avx512_vnni") and not isa.weaker("avx2", None)


def test_ort_profile_counts_int8_gemm_ops_and_fusions():
    events = [{"cat": "Session", "name": "model_run"}]
    for op, n in (("DynamicQuantizeMatMul", 18), ("QAttention", 6), ("SkipLayerNormalization", 12), ("Cast", 4)):
        events += [{"cat": "Node", "name": f"{op}_{i}_kernel_time", "args": {"op_name": op}} for i in range(n)]
        events += [{"cat": "Node", "name": f"{op}_{i}_fence_before", "args": {"op_name": op}} for i in range(n)]
    counts = ort.op_counts(events)
    assert counts == Counter({"DynamicQuantizeMatMul": 18, "SkipLayerNormalization": 12, "QAttention": 6, "Cast": 4})
    cap = ort.from_ops(counts, SPR.features, simulated=False)
    [int8] = cap.gemms
    assert (int8.dtype, int8.count, int8.isa, int8.basis, int8.library) == ("int8", 24, "amx", INFERRED, "MLAS")
    assert cap.not_simulated is None
    assert ort.from_ops(counts, ZEN3.features, simulated=True).not_simulated  # MLAS cannot be capped: it says so
    fp32 = ort.from_ops(Counter({"MatMul": 36, "Attention": 6}), SPR.features, simulated=False)
    assert [(g.dtype, g.count, g.isa) for g in fp32.gemms] == [("fp32", 42, None)]


def test_openvino_runtime_rows_group_gemm_layers_by_precision_and_primitive():
    rows = [("FullyConnected", "brgemm_avx512_I8", "u8")] * 36 + [("MVN", "jit_avx512_f32", "f32")] * 13 + [
        ("Const", "unknown_f32", "f32")] * 50
    cap = ov_kernels.from_layers(rows, None)
    assert [(g.dtype, g.count, g.isa, g.basis) for g in cap.gemms] == [("int8", 36, "avx512", OBSERVED)]
    assert [f.name for f in cap.facts] == ["MVN"]
    capped = ov_kernels.from_layers([("FullyConnected", "jit_gemm_I8", "u8")] * 36, "AVX2")
    assert [(g.isa, g.basis) for g in capped.gemms] == [("avx2", INFERRED)]
    # An AVX2-only CPU (seen on Zen 2 and 3): the int8 layers run an unnamed JIT GEMM, whose ISA follows CPUID.
    unnamed = ov_kernels.from_layers([("FullyConnected", "jit_gemm_I8", "u8")] * 36, None, ZEN3.features)
    assert [(g.isa, g.basis) for g in unnamed.gemms] == [("avx2", INFERRED)] and "CPUID" in unnamed.gemms[0].source
    assert [g.isa for g in ov_kernels.from_layers([("FullyConnected", "jit_gemm_I8", "u8")], None).gemms] == [None]
    bf16 = ov_kernels.from_layers([("FullyConnected", "brgemm_avx512_bf16", "bf16")] * 36, None)
    assert bf16.gemms[0].dtype == "bf16"
    assert ov_kernels.from_layers([("MVN", "jit_avx512_f32", "f32")], None).why  # no GEMM layer: said, not empty


def test_summary_reads_like_the_issue_and_an_unavailable_capture_says_why():
    cap = ov_kernels.from_layers([("FullyConnected", "brgemm_avx512_I8", "u8")] * 36, None)
    assert summary_lines(to_report(cap)) == ["int8 GEMMs: 36 on AVX-512 (observed, OpenVINO)"]
    assert summary_lines(not_available("no verbose in this build")) == ["not available: no verbose in this build"]
    assert summary_lines(to_report(Capture())) == ["GEMMs: none captured"]


def test_capture_with_never_raises_and_says_why():
    def broken(*args):
        raise RuntimeError("verbose mode is not supported\nmore")

    doc = capture_with(broken, "torch", None, ["a"], 1, SPR.features, False)
    assert doc["available"] is False and "RuntimeError: verbose mode is not supported" in doc["why"]
    assert doc["summary"][0].startswith("not available: the capture failed")
    doc = capture_with(None, "tensorrt", None, ["a"], 1, SPR.features, False)
    assert doc["summary"] == ["not available: qtui has no kernel capture for the tensorrt runtime"]


def _route(rid, dtype, gemms, status="ok"):
    return {"id": rid, "dtype": dtype, "status": status,
            "kernels": {"available": True, "gemms": [{"dtype": d, "count": n, "isa": i, "library": lib,
                                                      "implementation": impl, "basis": b, "source": "s"}
                                                     for d, n, i, lib, impl, b in gemms]}}


def test_route_findings_name_a_weaker_isa_fp32_work_and_bf16_behind_an_fp32_label():
    weak = _route("torch-qint8-onednn", "qint8", [("int8", 36, "avx2", "oneDNN", "gemm:jit", OBSERVED)])
    [found] = route_findings(weak, SPR.features, simulated=False)
    assert found.kind == "weaker-isa" and found.count == 36 and found.observed and "AMX" in found.text
    assert route_findings(weak, ZEN3.features, simulated=False) == []  # AVX2 is the best Zen 3 has
    stayed = _route("ort-qint8", "qint8", [("fp32", 42, None, "MLAS", "MatMul", OBSERVED)])
    assert [f.kind for f in route_findings(stayed, SPR.features, False)] == ["stayed-fp32"]
    unknown = _route("torchao-int8", "int8", [("fp32", 576, None, "MKL", "SGEMM", OBSERVED)])
    unknown["kernels"]["why"] = "torchao reports no kernel of its own"
    assert route_findings(unknown, SPR.features, False) == []  # the int8 path is unknown, not absent
    bf16 = _route("openvino-fp32", "fp32", [("bf16", 36, "avx512", "OpenVINO", "brgemm_avx512_bf16", OBSERVED)])
    assert [f.kind for f in route_findings(bf16, SPR.features, False)] == ["ran-bf16"]
    above = _route("ort-qint8", "qint8", [("int8", 24, "amx", "MLAS", "QAttention", INFERRED)])
    _, avx2_server = simulation("avx2", SPR)
    [leak] = route_findings(above, avx2_server.features, simulated=True)
    assert leak.kind == "not-simulated" and not leak.observed
    assert route_findings(above, SPR.features, simulated=False) == []
    assert route_findings(_route("x", "qint8", [], status="failed"), SPR.features, False) == []


def test_the_markdown_lists_each_routes_kernels_and_the_summary_says_where_they_are(monkeypatch):
    from tests.synthetic import doc, route
    from tui.core.report import format_summary, to_markdown

    x86 = route("torch-qint8-x86", 2.0, cosine=0.995)
    from tui.core.kernels.torch_kernels import fbgemm_gemms

    monkeypatch.delenv("FBGEMM_ENABLE_INSTRUCTIONS", raising=False)
    x86["kernels"] = to_report(Capture(gemms=[fbgemm_gemms(37, SPR.features)]))
    d = doc([route("torch-fp32"), x86])
    summary = format_summary(d, "r.json")
    assert "int8 GEMMs: 37" not in summary  # a line per route and dtype would bury the diagnosis
    assert "the kernels each route ran (k)" in summary and "`qtui explain r.json --markdown report.md`" in summary
    assert "- torch-qint8-x86: int8 GEMMs: 37 on AVX-512 VNNI (inferred, FBGEMM)" in to_markdown(d)
    assert "kernels" not in format_summary(doc([route("torch-fp32"), route("torch-qint8-x86", 2.0)]))


def test_stdout_to_file_catches_what_c_code_prints_on_fd_1_and_restores_it():
    import os

    from tui.core.kernels.torch_kernels import stdout_to_file

    before = os.fstat(1).st_ino
    with stdout_to_file() as captured:
        os.write(1, b"onednn_verbose,v1,info,cpu,isa:Intel AVX2\n")
    assert captured() == "onednn_verbose,v1,info,cpu,isa:Intel AVX2\n"
    assert os.fstat(1).st_ino == before


def test_a_real_onednn_int8_linear_is_observed_on_the_path_right_for_this_host():
    """In-process: torch's onednn engine, one dynamic int8 Linear, oneDNN's verbose log read back."""
    import torch

    from tui.core.cpu import detect
    from tui.core.kernels.torch_kernels import _verbose_batch

    host = detect()
    if "onednn" not in torch.backends.quantized.supported_engines:
        assert not host.is_x86  # x86 builds of torch have it
        return
    engine = torch.backends.quantized.engine
    torch.backends.quantized.engine = "onednn"
    try:  # the engine is process-wide: other tests in this process expect it back
        model = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.Linear(64, 64)),
                                                       {torch.nn.Linear}, dtype=torch.qint8)
        with torch.inference_mode():
            text, why = _verbose_batch(lambda: model(torch.randn(8, 64)))
    finally:
        torch.backends.quantized.engine = engine
    assert why is None
    [group] = onednn.gemm_groups(onednn.parse(text), os.environ.get("ONEDNN_MAX_CPU_ISA"))
    assert group.dtype == "int8" and group.count == 1
    assert isa.FAMILY[group.isa] == isa.FAMILY[isa.best_int8(host.features)]


def test_qnnpack_runs_sse2_on_any_x86_which_the_advice_calls_weaker_there():
    from tui.core.kernels.torch_kernels import qnnpack_gemms

    graviton = load_cpuinfo_file(CPUS / "arm-graviton3-neoverse-v1.txt")
    assert isa.qnnpack_isa(SPR.features) == "sse2" and isa.qnnpack_isa(ZEN3.features) == "sse2"
    assert isa.qnnpack_isa(graviton.features) == "neon"
    q = _route("torch-qint8-qnnpack", "qint8", [])
    q["kernels"] = to_report(Capture(gemms=[qnnpack_gemms(37, ZEN3.features)]))
    [found] = route_findings(q, ZEN3.features, simulated=False)
    assert found.kind == "weaker-isa" and "SSE2" in found.text and not found.observed
    q["kernels"] = to_report(Capture(gemms=[qnnpack_gemms(37, graviton.features)]))
    assert route_findings(q, graviton.features, simulated=False) == []  # NEON is the ARM engine's own path
