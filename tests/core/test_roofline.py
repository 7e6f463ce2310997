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
