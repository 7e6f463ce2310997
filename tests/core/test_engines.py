import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import CpuProfile, load_cpuinfo_file
from tui.core.engines import int8_capability, recommend

CPUINFO = FIXTURES / "cpuinfo"


def sample(name: str) -> CpuProfile:
    return load_cpuinfo_file(CPUINFO / name)


def profile(arch="x86_64", features=(), vendor="Intel", model="test cpu") -> CpuProfile:
    return CpuProfile(arch, vendor, model, 4, 4, frozenset(features), "cpuinfo-file")


X86_SAMPLES = [
    "intel-haswell-e5-2680v3.txt", "intel-skylake-sp-8175m.txt", "intel-cascadelake-8259cl.txt",
    "intel-icelake-8375c.txt", "intel-sapphirerapids-8488c.txt", "intel-alderlake-i7-12700.txt",
    "amd-zen3-epyc-7r13.txt", "amd-zen4-epyc-9r14.txt",
]


@pytest.mark.parametrize("name", X86_SAMPLES)
def test_avx2_x86_gets_an_x86_family_engine_and_never_qnnpack(name):
    rec = recommend(sample(name))
    assert rec.engine in ("x86", "fbgemm", "onednn")
    qnnpack = next(v for v in rec.engines if v.name == "qnnpack")
    assert not qnnpack.suitable and qnnpack.rank == len(rec.engines)
    assert "SSE2" in qnnpack.why
    assert rec.expected_int8 == "faster"


def test_qnnpack_is_never_recommended_on_x86_even_if_it_is_the_only_engine_in_torch():
    rec = recommend(profile(features={"avx2", "fma", "avx"}), torch_engines=["qnnpack"])
    assert rec.engine is None
    assert rec.expected_int8 == "slower"


def test_pre_avx2_x86_expects_int8_to_be_slower_and_avoids_fbgemm():
    rec = recommend(sample("intel-sandybridge-e5-2670.txt"))
    assert rec.engine == "onednn"
    assert rec.expected_int8 == "slower"
    fbgemm = next(v for v in rec.engines if v.name == "fbgemm")
    assert not fbgemm.suitable and "AVX2" in fbgemm.why


def test_amx_puts_onednn_ahead_of_fbgemm():
    names = [v.name for v in recommend(sample("intel-sapphirerapids-8488c.txt")).engines]
    assert names.index("onednn") < names.index("fbgemm")


@pytest.mark.parametrize(
    "name, instruction",
    [("intel-cascadelake-8259cl.txt", "VNNI"), ("intel-sapphirerapids-8488c.txt", "AMX"),
     ("intel-alderlake-i7-12700.txt", "AVX-VNNI"), ("intel-skylake-sp-8175m.txt", "AVX-512BW"),
     ("amd-zen3-epyc-7r13.txt", "AVX2"), ("arm-graviton3-neoverse-v1.txt", "i8mm"),
     ("arm-graviton2-neoverse-n1.txt", "dotprod"), ("arm-rpi4-cortex-a72.txt", "NEON")],
)
def test_int8_path_follows_the_isa(name, instruction):
    assert instruction in int8_capability(sample(name)).instruction


def test_vnni_reason_mentions_the_instruction():
    rec = recommend(sample("intel-icelake-8375c.txt"))
    assert any("VPDPBUSD" in r for r in rec.reasons)


@pytest.mark.parametrize("name", ["arm-graviton2-neoverse-n1.txt", "arm-graviton3-neoverse-v1.txt",
                                  "arm-rpi4-cortex-a72.txt", "arm-ampere-altra-n1.txt"])
def test_arm_uses_qnnpack_and_is_uncertain(name):
    rec = recommend(sample(name))
    assert rec.engine == "qnnpack"
    assert rec.expected_int8 == "uncertain"
    assert all(not v.suitable for v in rec.engines if v.name in ("x86", "fbgemm"))


def test_arm_with_dotprod_points_at_runtimes_that_use_it():
    rec = recommend(sample("arm-graviton3-neoverse-v1.txt"))
    assert any("ONNX Runtime" in r for r in rec.reasons)
    rec = recommend(sample("arm-rpi4-cortex-a72.txt"))
    assert not any("ONNX Runtime" in r for r in rec.reasons)


def test_apple_silicon_is_uncertain_because_of_accelerate():
    rec = recommend(sample("macos-m2-sysctl.txt"))
    assert rec.engine == "qnnpack"
    assert rec.expected_int8 == "uncertain"
    assert any("Accelerate" in r for r in rec.reasons)


def test_installed_torch_engines_limit_the_choice():
    rec = recommend(sample("amd-zen3-epyc-7r13.txt"), torch_engines=["fbgemm", "qnnpack"])
    assert rec.engine == "fbgemm"
    x86 = next(v for v in rec.engines if v.name == "x86")
    assert not x86.suitable and "not in this torch build" in x86.why
    assert rec.torch_engines_known


def test_unknown_architecture_has_no_engine():
    rec = recommend(profile(arch="riscv64", vendor=None))
    assert rec.engine is None
