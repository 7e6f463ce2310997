import pytest

from tests.conftest import FIXTURES
from tests.synthetic import BASE, doc, route
from tui.core.cpu import load_cpuinfo_file
from tui.core.roofline import EncoderShape, encoder_flops, padded_batches, roofline, route_rooflines

MINILM = EncoderShape(layers=6, hidden=384, intermediate=1536)
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")
ICX = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-icelake-8375c.txt")


def test_batches_pad_to_their_longest_text():
    assert padded_batches([5, 20, 10, 7], 2) == [(2, 20), (2, 7)]


def test_flops_by_hand_for_one_token():
    # one text of one token: 6 layers × (8·384² + 4·384·1536 + 4·1·384)
    assert encoder_flops(MINILM, [1], 32) == 6 * (8 * 384 ** 2 + 4 * 384 * 1536 + 4 * 384)


def test_padding_costs_flops():
    assert encoder_flops(MINILM, [10, 50], 2) > encoder_flops(MINILM, [10, 50], 1)


def test_peaks_follow_the_isa_and_say_their_assumptions():
    zen3, icx = roofline(ZEN3, 2), roofline(ICX, 2)
    ghz = ZEN3.max_mhz / 1000
    assert zen3.peak_fp32_gflops == pytest.approx(2 * 32 * ghz)
    assert zen3.peak_int8_gops == pytest.approx(2 * zen3.peak_fp32_gflops)  # AVX2: k = 2
    assert icx.peak_int8_gops == pytest.approx(4 * icx.peak_fp32_gflops)  # VNNI: k = 4
    assert any("FMA" in a for a in zen3.assumptions)


def test_no_clock_no_roofline():
    from dataclasses import replace

    assert roofline(replace(ZEN3, max_mhz=None), 2) is None


def test_route_percentages():
    d = doc([route("torch-fp32", 1.0), route("torch-qint8-x86", 2.0, cosine=0.99)], threads=2)
    out = route_rooflines(d, ZEN3, MINILM, [20] * 128)
    fp32, int8 = out["routes"]["torch-fp32"], out["routes"]["torch-qint8-x86"]
    assert int8["gflops"] == pytest.approx(2 * fp32["gflops"], rel=0.01)
    assert 0 < fp32["percent"] < 100 and int8["percent"] == pytest.approx(fp32["percent"], rel=0.01)
    assert BASE["id"] == "torch-fp32"


ZEN5_REPORT = FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"


def zen5_report():
    import json

    from tui.core.cpu import CpuProfile

    report = json.loads(ZEN5_REPORT.read_text())
    return report, CpuProfile.from_json(report["env"]["cpu"], source="report")


def test_no_share_above_100_percent_in_the_real_zen5_report_and_the_failed_assumption_is_named():
    from tui.core.roofline import assess

    report, cpu = zen5_report()
    judged = assess(report["roofline"], report["routes"], cpu)
    assert all(j["percent"] is None or j["percent"] <= 100 for j in judged.values())
    assert judged["torch-bf16"]["dtype"] == "bf16" and judged["torch-bf16"]["percent"] < 100  # its own peak
    over = judged["openvino-fp32"]
    assert over["percent"] is None and "clock assumption" in over["exceeds"] and "GHz" in over["exceeds"]


def test_a_measured_ceiling_is_the_bound_and_a_faster_runtime_says_its_kernels_beat_it():
    from tui.core.roofline import assess

    roof = {"routes": {"torch-fp32": {"gflops": 100.0}, "openvino-int8": {"gflops": 900.0},
                       "torch-qint8-x86": {"gflops": 400.0}},
            "ceilings": {"fp32": {"gflops": 200.0, "kernel": "aten::linear fp32"},
                         "int8": {"gflops": 800.0, "kernel": "quantized dynamic Linear (engine x86)"}},
            "peak_fp32_gflops": 50.0, "peak_int8_gops": 100.0, "assumptions": []}
    routes = [route("torch-fp32", 1.0), route("openvino-int8", 9.0, cosine=0.99), route("torch-qint8-x86", 4.0)]
    judged = assess(roof, routes, ZEN3)
    assert judged["torch-fp32"]["percent"] == 50.0 and judged["torch-fp32"]["of"] == "measured fp32 ceiling"
    assert judged["torch-qint8-x86"]["percent"] == 50.0
    assert judged["openvino-int8"]["percent"] is None and "openvino's own kernels" in judged["openvino-int8"]["exceeds"]


def test_a_route_that_ran_bf16_is_judged_as_bf16():
    from tui.core.roofline import effective_dtype

    ov = route("openvino-fp32", 2.0, cosine=1.0)
    assert effective_dtype(ov) == "fp32"
    assert effective_dtype(dict(ov, facts={"inference_precision": "bf16"})) == "bf16"
    assert effective_dtype(route("ort-qint8", 2.0)) == "int8"


def test_bf16_has_a_spec_peak_only_with_bf16_hardware():
    spr = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sapphirerapids-8488c.txt")
    zen5 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen5-epyc-vm-avx512-vnni-bf16.txt")
    assert roofline(ZEN3, 2).peak_bf16_gflops is None
    assert roofline(zen5, 2).peak_bf16_gflops == pytest.approx(2 * roofline(zen5, 2).peak_fp32_gflops)
    assert roofline(spr, 2).peak_bf16_gflops > roofline(zen5, 2).peak_bf16_gflops
