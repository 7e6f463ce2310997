"""The advice reads each route's kernels: int8 on a weaker ISA than the CPU has, int8 work that stayed fp32, an
fp32 route that ran bf16, and routes an ISA simulation did not reach — each with its count, measured when the
runtime said so. CPUs come from fixtures; the documents are synthetic (numbers chosen, not measured)."""

from __future__ import annotations

from tests.conftest import FIXTURES
from tests.synthetic import doc, fp32_profile, route
from tui.core.advice import explain
from tui.core.cpu import load_cpuinfo_file
from tui.core.simulate import simulation

SPR = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sapphirerapids-8488c.txt")
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")


def kernels(*gemms, available=True, why=None):
    return {"available": available, "why": why, "not_simulated": None,
            "gemms": [{"dtype": d, "count": n, "isa": i, "library": lib, "implementation": impl, "basis": b,
                       "source": "test"} for d, n, i, lib, impl, b in gemms], "facts": []}


def with_kernels(r: dict, k: dict) -> dict:
    r["kernels"] = k
    return r


def codes(cpu, d) -> dict:
    return {a.code: a for a in explain(cpu, d).advice}


def test_int8_on_avx2_on_a_cpu_with_amx_is_a_measured_cause_with_its_count():
    onednn = with_kernels(route("torch-qint8-onednn", 1.3, cosine=0.995),
                          kernels(("int8", 36, "avx2", "oneDNN", "gemm:jit", "observed")))
    found = codes(SPR, doc([route("torch-fp32", profile=fp32_profile()), onednn], cpu=SPR))["int8-weaker-isa"]
    assert found.basis == "measured" and found.kind == "cause"
    assert "36 int8 GEMMs of torch-qint8-onednn ran on AVX2" in found.evidence and "AMX" in found.evidence
    # the same kernels on a CPU whose best int8 path is AVX2 are right: no item
    assert "int8-weaker-isa" not in codes(ZEN3, doc([route("torch-fp32"), onednn], cpu=ZEN3))


def test_an_inferred_path_is_not_called_measured():
    x86 = with_kernels(route("torch-qint8-x86", 1.3, cosine=0.995),
                       kernels(("int8", 36, "avx2", "FBGEMM", "dynamic quantized Linear", "inferred")))
    found = codes(SPR, doc([route("torch-fp32"), x86], cpu=SPR))["int8-weaker-isa"]
    assert found.basis.startswith("inferred from")


def test_int8_that_stayed_fp32_and_fp32_that_ran_bf16_are_said_with_counts():
    ort = with_kernels(route("ort-qint8", 1.1, cosine=0.999), kernels(("fp32", 42, None, "MLAS", "MatMul", "observed")))
    ov = with_kernels(route("openvino-fp32", 2.0, cosine=0.999),
                      kernels(("bf16", 36, "avx512", "OpenVINO", "brgemm_avx512_bf16", "observed")))
    found = codes(SPR, doc([route("torch-fp32"), ort, ov], cpu=SPR))
    assert "ran 42 fp32 GEMMs and no int8 one" in found["int8-ran-fp32"].evidence
    assert "36 of its GEMMs ran in bf16" in found["fp32-ran-bf16"].evidence
    assert found["fp32-ran-bf16"].kind == "caveat"


def test_under_simulation_a_route_above_the_simulated_isa_is_a_trust_item_not_a_cause():
    env, avx2_server = simulation("avx2", SPR)
    ort = with_kernels(route("ort-qint8", 3.0, cosine=0.995),
                       kernels(("int8", 24, "amx", "MLAS", "DynamicQuantizeMatMul", "inferred")))
    onednn = with_kernels(route("torch-qint8-onednn", 1.3, cosine=0.995),
                          kernels(("int8", 36, "avx2", "oneDNN", "gemm:jit", "observed")))
    d = doc([route("torch-fp32"), ort, onednn], cpu=avx2_server)
    d["env"]["simulated_isa"] = dict(env)
    found = codes(avx2_server, d)
    assert found["simulation-ignored"].kind == "trust" and "ort-qint8" in found["simulation-ignored"].title
    assert "int8-weaker-isa" not in found  # AVX2 is what the simulated server has


def test_reports_without_kernels_or_with_an_unavailable_capture_get_no_kernel_items():
    bare = doc([route("torch-fp32"), route("torch-qint8-x86", 1.5, cosine=0.995)], cpu=SPR)
    assert not {"int8-weaker-isa", "int8-ran-fp32", "fp32-ran-bf16", "simulation-ignored"} & set(codes(SPR, bare))
    missing = with_kernels(route("torchao-int8", 1.2, cosine=0.995), kernels(available=False, why="not known"))
    assert "int8-ran-fp32" not in codes(SPR, doc([route("torch-fp32"), missing], cpu=SPR))
