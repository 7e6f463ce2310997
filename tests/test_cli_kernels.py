"""Acceptance of the kernels capture, with real runs: the report of
`qtui bench --routes torch-fp32,torch-qint8-x86,torch-qint8-onednn,ort-qint8,openvino-int8` names the path of
each int8 route's GEMMs — what is right for this host, asked from `detect()` (AVX-512 VNNI on such a CPU, AVX2 on
an AVX2-only one) — observed for oneDNN and OpenVINO; under `--simulate-isa avx2` they turn AVX2 where the
library honours the cap, and ONNX Runtime (MLAS reads CPUID) says it was not simulated."""

import json
import os

import pytest

from tests.conftest import run_qtui
from tui.core.cpu import detect
from tui.core.kernels import isa

pytestmark = pytest.mark.slow
ROUTES = "torch-fp32,torch-qint8-x86,torch-qint8-onednn,ort-qint8,openvino-int8"
SMALL = ["--num-texts", "16", "--batch-size", "8", "--rounds", "2", "--time-budget", "1", "--no-rescue"]
HOST = detect()


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("kernels-cache")  # shared: the simulated run reuses the built artefacts


def bench(cache, out, *extra):
    result = run_qtui("bench", "--routes", ROUTES, *SMALL, *extra, "--json", str(out / "r.json"), timeout=600,
                      env=dict(os.environ, QTUI_CACHE_DIR=str(cache)))
    return result


def int8_gemms(doc: dict) -> dict:
    """route id → its int8 GEMM groups."""
    return {r["id"]: [g for g in (r.get("kernels") or {}).get("gemms", []) if g["dtype"] == "int8"]
            for r in doc["routes"] if r["status"] == "ok"}


@pytest.fixture(scope="module")
def native(cache, tmp_path_factory):
    out = tmp_path_factory.mktemp("native")
    result = bench(cache, out)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads((out / "r.json").read_text())


def test_each_int8_route_names_the_path_right_for_this_host(native):
    if not HOST.is_x86:  # the x86 and onednn engines cannot run here, and say why
        assert all(r["status"] == "unavailable" for r in native["routes"] if r["id"].startswith("torch-qint8-"))
        return
    best = isa.best_int8(HOST.features)
    gemms = int8_gemms(native)
    for rid in ("torch-qint8-onednn", "openvino-int8"):  # observed where the runtime names it
        assert gemms.get(rid), f"{rid} captured no int8 GEMM: {native['routes']}"
        for g in gemms[rid]:
            named = isa.from_openvino_primitive(g["implementation"]) if rid == "openvino-int8" else True
            # OpenVINO's JIT GEMM names no ISA (AVX2-only CPUs): then inferred from CPUID, and said so
            assert g["basis"] == ("observed" if named else "inferred") and g["count"] > 0, g
            assert isa.FAMILY[g["isa"]] == isa.FAMILY[best], (rid, g, best)
    if HOST.has("avx512_vnni") and not HOST.has("amx_int8"):
        assert {g["isa"] for g in gemms["torch-qint8-onednn"]} <= {"avx512_vnni", "avx512_bf16"}  # VNNI, named
    [fbgemm] = gemms["torch-qint8-x86"]
    assert (fbgemm["library"], fbgemm["basis"]) == ("FBGEMM", "inferred")
    assert fbgemm["isa"] == isa.fbgemm_isa(HOST.features, None) and fbgemm["count"] >= 36  # 6 layers × 6 Linear
    [mlas] = gemms["ort-qint8"]
    assert (mlas["library"], mlas["basis"], mlas["isa"]) == ("MLAS", "inferred", isa.mlas_int8_isa(HOST.features))
    if HOST.has("avx512f", "avx512bw", "avx512vl"):
        for rid, groups in gemms.items():
            if groups:
                assert all("AVX-512" in isa.label(g["isa"]) or g["isa"] == "amx" for g in groups), (rid, groups)
    summary = {r["id"]: r["kernels"]["summary"] for r in native["routes"] if r["status"] == "ok"}
    assert summary["torch-qint8-onednn"][0].startswith(f"int8 GEMMs: {gemms['torch-qint8-onednn'][0]['count']} on ")
    assert "int8-weaker-isa" not in {a["code"] for a in native["advice"]}  # nothing capped them here


def test_simulating_avx2_turns_the_capped_libraries_avx2_and_says_what_was_not(native, cache, tmp_path):
    result = bench(cache, tmp_path, "--simulate-isa", "avx2")
    if not HOST.is_x86:
        assert result.returncode == 2 and "only x86" in result.stderr
        return
    if not HOST.has("avx2"):
        assert result.returncode == 2 and "lacks avx2" in result.stderr  # nothing weaker than this CPU to fake
        return
    assert result.returncode == 0, result.stderr[-2000:]
    doc = json.loads((tmp_path / "r.json").read_text())
    gemms = int8_gemms(doc)
    [onednn] = gemms["torch-qint8-onednn"]
    assert (onednn["isa"], onednn["basis"]) == ("avx2", "observed")  # oneDNN's header: "Intel AVX2"
    [fbgemm] = gemms["torch-qint8-x86"]
    assert fbgemm["isa"] == "avx2" and "FBGEMM_ENABLE_INSTRUCTIONS=AVX2" in fbgemm["source"]
    assert gemms["openvino-int8"] and all(g["isa"] == "avx2" for g in gemms["openvino-int8"])
    ort = next(r for r in doc["routes"] if r["id"] == "ort-qint8")
    assert ort["kernels"]["not_simulated"] and any(s.startswith("not simulated:") for s in ort["kernels"]["summary"])
    leaked = isa.FAMILY[isa.mlas_int8_isa(HOST.features)] > isa.FAMILY["avx2"]
    assert ("simulation-ignored" in {a["code"] for a in doc["advice"]}) == leaked


def test_no_kernels_switches_the_capture_off_in_the_plan():
    from tui.options import QuietParser, add_run_options, build_plan

    parser = QuietParser(prog="qtui")
    add_run_options(parser)
    assert build_plan(parser.parse_args(["--routes", "torch-fp32"])).kernels is True
    assert build_plan(parser.parse_args(["--routes", "torch-fp32", "--no-kernels"])).kernels is False
