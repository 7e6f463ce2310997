import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import load_cpuinfo_file
from tui.core.engines import int8_capability
from tui.core.simulate import LEVELS, SimulationError, simulation

SPR = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sapphirerapids-8488c.txt")
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")
GRAVITON3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "arm-graviton3-neoverse-v1.txt")


def test_simulating_avx2_on_sapphire_rapids_caps_onednn_and_aten_and_the_profile():
    env, cpu = simulation("avx2", SPR)
    assert dict(env) == {"ONEDNN_MAX_CPU_ISA": "AVX2", "DNNL_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2",
                         "FBGEMM_ENABLE_INSTRUCTIONS": "AVX2"}
    assert "avx512f" not in cpu.features and "amx_int8" not in cpu.features and "avx2" in cpu.features
    assert int8_capability(cpu).ratio == 2.0 and not cpu.has_bf16_hardware
    assert any("Simulated avx2" in n and "ignore" in n for n in cpu.notes)


def test_vnni_level_keeps_vnni():
    _, cpu = simulation("avx512_vnni", SPR)
    assert "avx512_vnni" in cpu.features and "avx512_bf16" not in cpu.features


@pytest.mark.parametrize("name, cpu, phrase", [
    ("avx512", ZEN3, "lacks avx512f"), ("avx9000", ZEN3, "unknown"), ("avx2", GRAVITON3, "only x86"),
])
def test_impossible_simulations_are_one_line_errors(name, cpu, phrase):
    with pytest.raises(SimulationError, match=phrase):
        simulation(name, cpu)


def test_levels_are_ordered_weak_to_strong():
    kept = [LEVELS[n][3] for n in LEVELS]
    assert all(a < b for a, b in zip(kept, kept[1:], strict=False))
