import json

import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import (
    CANONICAL_FEATURES,
    CpuInfoError,
    CpuProfile,
    cross_check_with_torch,
    detect,
    load_cpuinfo_file,
    parse_cpuinfo_text,
    parse_proc_cpuinfo,
    parse_sysctl,
)

CPUINFO = FIXTURES / "cpuinfo"
EXPECTED = json.loads((CPUINFO / "expected.json").read_text())


def test_there_are_samples_of_at_least_eight_distinct_cpus():
    assert len(EXPECTED) >= 8
    assert {e["arch"] for e in EXPECTED.values()} >= {"x86_64", "aarch64"}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses_to_the_known_truth(name):
    truth = EXPECTED[name]
    cpu = load_cpuinfo_file(CPUINFO / name)
    assert cpu.arch == truth["arch"] or (truth["arch"] == "aarch64" and cpu.arch == "arm64")
    assert truth["model_contains"] in (cpu.model or "")
    assert cpu.logical_cpus == truth["logical_cpus"]
    assert cpu.physical_cores == truth["physical_cores"]
    assert cpu.hypervisor == truth["hypervisor"]
    missing = set(truth["has"]) - cpu.features
    extra = set(truth["lacks"]) & cpu.features
    assert not missing, f"{name}: should have {missing}"
    assert not extra, f"{name}: should lack {extra}"
    assert cpu.features <= set(CANONICAL_FEATURES)
    assert cpu.source == "cpuinfo-file"


def test_vendor_names_are_human():
    assert load_cpuinfo_file(CPUINFO / "amd-zen3-epyc-7r13.txt").vendor == "AMD"
    assert load_cpuinfo_file(CPUINFO / "intel-icelake-8375c.txt").vendor == "Intel"
    assert load_cpuinfo_file(CPUINFO / "arm-graviton2-neoverse-n1.txt").vendor == "ARM"


def test_arm_cores_are_named_from_implementer_and_part():
    assert load_cpuinfo_file(CPUINFO / "arm-graviton2-neoverse-n1.txt").generation == "Neoverse-N1"
    assert load_cpuinfo_file(CPUINFO / "arm-graviton3-neoverse-v1.txt").generation == "Neoverse-V1"
    assert load_cpuinfo_file(CPUINFO / "arm-rpi4-cortex-a72.txt").generation == "Cortex-A72"


def test_a_vm_hiding_avx512_on_zen4_is_called_out():
    cpu = load_cpuinfo_file(CPUINFO / "amd-zen4-hidden-by-vm.txt")
    assert "avx512f" not in cpu.features
    assert cpu.generation == "AMD Zen 4"
    assert any("hides" in n and "avx512_vnni" in n for n in cpu.notes)
    exposed = load_cpuinfo_file(CPUINFO / "amd-zen4-epyc-9r14.txt")
    assert not any("hides" in n for n in exposed.notes)


def test_minimal_x86_text():
    cpu = parse_proc_cpuinfo("processor\t: 0\nvendor_id\t: GenuineIntel\nflags\t\t: fpu lm avx2 fma avx\n")
    assert cpu.features == {"avx", "avx2", "fma"}
    assert cpu.hypervisor is False


def test_sysctl_is_recognised_by_its_keys():
    cpu = parse_cpuinfo_text("machdep.cpu.brand_string: Apple M1\nhw.optional.arm.FEAT_DotProd: 1\nhw.ncpu: 8\n")
    assert cpu.vendor == "Apple" and cpu.is_apple and cpu.is_arm
    assert {"neon", "dotprod"} <= cpu.features


def test_sysctl_zero_means_absent():
    cpu = parse_sysctl("machdep.cpu.brand_string: Intel(R) Core(TM) i9\nhw.optional.avx2_0: 1\n"
                       "hw.optional.avx512f: 0\n")
    assert "avx2" in cpu.features and "avx512f" not in cpu.features


@pytest.mark.parametrize("text", ["hello world\n", "foo: bar\n", "processor: x\n"])
def test_unrecognised_text_is_a_clear_error(text):
    with pytest.raises(CpuInfoError):
        parse_cpuinfo_text(text)


def _bad_cpuinfo(tmp_path, kind):
    path = tmp_path / kind
    if kind == "directory":
        path.mkdir()
    elif kind == "empty":
        path.write_text("  \n")
    elif kind == "binary":
        path.write_bytes(b"\x7fELF\x02\x01\x00\x00" * 64)
    elif kind == "junk":
        path.write_text("just some words\n")
    return path


@pytest.mark.parametrize(
    "kind, phrase",
    [("missing", "no such file"), ("directory", "is a directory"), ("empty", "is empty"),
     ("binary", "binary"), ("junk", "not a Linux /proc/cpuinfo")],
)
def test_bad_files_raise_one_line_errors_naming_the_path(tmp_path, kind, phrase):
    path = _bad_cpuinfo(tmp_path, kind)
    with pytest.raises(CpuInfoError) as info:
        load_cpuinfo_file(path)
    message = str(info.value)
    assert phrase in message and str(path) in message and "\n" not in message


def test_profile_json_round_trip():
    cpu = load_cpuinfo_file(CPUINFO / "intel-sapphirerapids-8488c.txt")
    again = CpuProfile.from_json(cpu.to_json(), source="cpuinfo-file")
    assert again == cpu


def test_this_machine_matches_torchs_own_cpuid_view():
    # The cross-check the design asks for: the kernel's flags and torch's CPUID probe agree here.
    import torch  # noqa: F401  (loads the probe)

    cpu = detect()
    assert cpu.source == "this-machine" and cpu.logical_cpus
    checked = cross_check_with_torch(cpu)
    assert checked.torch_view is not None
    assert set(checked.torch_view) - {"fp16"} == set(cpu.features) - {"fp16"}, checked.notes


def test_zen5_is_named_from_family_26_and_nothing_is_said_hidden():
    cpu = load_cpuinfo_file(CPUINFO / "amd-zen5-epyc-vm-avx512-vnni-bf16.txt")
    assert cpu.generation == "AMD Zen 5" and cpu.has_bf16_hardware
    assert not any("hides" in n for n in cpu.notes)
