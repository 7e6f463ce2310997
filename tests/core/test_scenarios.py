"""Saved reports from many machines, each with one injected cause: the finding states what the run found, the
injected cause is advice #1, and no wrong cause appears. Run through `qtui explain` as a user would.

The numbers are chosen (what such machines typically show), the CPUs are the fixtures' real cpuinfo; the last
case is a real report from a Zen 5 VM (AVX-512 VNNI + BF16).
"""

import json
from dataclasses import dataclass

import pytest

from tests.conftest import FIXTURES
from tests.synthetic import doc, fp32_profile, int8_profile, route
from tui.cli import main
from tui.core.advice import explain
from tui.core.cpu import CpuProfile, load_cpuinfo_file

ZEN5_REPORT = FIXTURES / "reports" / "zen5-avx512-vnni-bf16-all-routes.json"


def cpu(name: str) -> CpuProfile:
    return load_cpuinfo_file(FIXTURES / "cpuinfo" / name)


ATOM = CpuProfile("x86_64", "Intel", "Intel(R) Atom(TM) CPU C2750 @ 2.40GHz", 8, 8, frozenset({"sse4_2"}),
                  "cpuinfo-file", max_mhz=2400.0, generation="Silvermont")
BASE = route("torch-fp32", profile=fp32_profile(linear_ms=80))
PROFILE = int8_profile()
CAUSES = {"engine-mismatch", "no-int8-dot", "no-avx2", "threads", "small-workload", "noisy"}


@dataclass(frozen=True)
class Scenario:
    name: str
    cpu: CpuProfile
    report: dict
    finding: str
    first: str
    wrong: frozenset  # codes that must not appear: causes this machine does not have


def scenario(name, cpu_, routes, finding, first, wrong, **options) -> Scenario:
    return Scenario(name, cpu_, doc([BASE, *routes], cpu=cpu_, **options), finding, first, frozenset(wrong))


SCENARIOS = [
    scenario("qnnpack on x86", cpu("amd-zen3-epyc-7r13.txt"),
             [route("torch-qint8-qnnpack", 0.41, cosine=0.966, profile=int8_profile(linear_ms=150))],
             "slower", "engine-mismatch", {"threads", "small-workload", "noisy", "no-avx2", "bf16-better"}),
    scenario("Haswell without VNNI", cpu("intel-haswell-e5-2680v3.txt"),
             [route("torch-qint8-x86-perchannel", 0.93, cosine=0.993, ci=[0.90, 0.96], profile=PROFILE)],
             "slower", "no-int8-dot", {"engine-mismatch", "threads", "small-workload", "noisy", "no-avx2"}),
    scenario("SSE4.2-only Atom", ATOM,
             [route("torch-qint8-onednn", 0.72, cosine=0.993, profile=PROFILE)], "slower", "no-avx2",
             {"engine-mismatch", "no-int8-dot", "threads", "small-workload", "noisy"}, threads=8),
    scenario("per-tensor accuracy loss", cpu("intel-icelake-8375c.txt"),
             [route("torch-qint8-x86", 2.4, cosine=0.951, profile=PROFILE)], "inaccurate", "accuracy-per-tensor",
             CAUSES, threads=1),
    scenario("bf16 beating int8", cpu("amd-zen4-epyc-9r14.txt"),
             [route("torch-bf16", 2.6, cosine=0.9999), route("torch-qint8-x86-perchannel", 1.8, cosine=0.992,
                                                             profile=PROFILE)],
             "faster", "bf16-better", CAUSES, threads=4),
    scenario("ORT beating torch", cpu("intel-icelake-8375c.txt"),
             [route("torch-qint8-x86-perchannel", 1.8, cosine=0.993, profile=PROFILE),
              route("ort-qint8", 3.2, cosine=0.995)], "faster", "better-backend", CAUSES, threads=1),
    scenario("a noisy server", cpu("intel-icelake-8375c.txt"),
             [route("torch-qint8-x86-perchannel", 1.1, cosine=0.993, ci=[0.8, 1.5], profile=PROFILE),
              route("ort-qint8", 1.2, cosine=0.995, ci=[0.85, 1.7])], "undecidable", "noisy",
             CAUSES - {"noisy"}, threads=1),
    scenario("16 threads on 2 cores", cpu("intel-cascadelake-8259cl.txt"),
             [route("torch-qint8-x86-perchannel", 0.90, cosine=0.993, ci=[0.86, 0.94], profile=PROFILE)],
             "slower", "threads", {"engine-mismatch", "no-int8-dot", "small-workload", "noisy", "no-avx2"},
             threads=16),
    scenario("Apple M2 with qnnpack", cpu("macos-m2-sysctl.txt"),
             [route("torch-qint8-qnnpack", 0.62, cosine=0.99, profile=PROFILE)], "slower", "fp32-fast-path",
             CAUSES, threads=8),
    scenario("Raspberry Pi 4", cpu("arm-rpi4-cortex-a72.txt"),
             [route("torch-qint8-qnnpack", 0.74, cosine=0.991, profile=PROFILE)], "slower", "no-int8-dot",
             {"engine-mismatch", "no-avx2", "threads", "small-workload", "noisy"}, threads=4),
    scenario("a healthy Graviton 3", cpu("arm-graviton3-neoverse-v1.txt"),
             [route("torch-qint8-qnnpack-perchannel", 1.4, cosine=0.993, profile=PROFILE),
              route("ort-qint8", 2.2, cosine=0.994)], "faster", "better-backend", CAUSES | {"fp32-fast-path"},
             threads=4),
    scenario("batch size 1 with 4-token texts", cpu("intel-icelake-8375c.txt"),
             [route("torch-qint8-x86-perchannel", 0.8, cosine=0.995, profile=PROFILE)], "slower", "small-workload",
             {"engine-mismatch", "no-int8-dot", "threads", "noisy", "no-avx2"}, threads=1, batch_size=1,
             mean_tokens=4.0),
]


@pytest.mark.parametrize("case", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_the_injected_cause_is_advice_one_and_no_wrong_cause_appears(case):
    diagnosis = explain(case.cpu, case.report)
    codes = [a.code for a in diagnosis.advice]
    assert diagnosis.finding.kind == case.finding, diagnosis.finding.headline
    assert codes[0] == case.first, codes
    assert not case.wrong & set(codes), codes
    assert all(a.basis == "measured" or a.basis.startswith(("estimated", "not")) for a in diagnosis.advice)


HEADLINE_WORDS = {"slower": ("slower", "no faster"), "faster": ("faster",), "inaccurate": ("cosine",),
                  "undecidable": ("cannot decide",)}


@pytest.mark.parametrize("case", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_qtui_explain_states_the_finding_on_its_first_line(case, tmp_path, capsys):
    path = tmp_path / "report.json"
    path.write_text(json.dumps(case.report))
    assert main(["explain", str(path)]) == 0
    out = capsys.readouterr().out
    first_line = out.splitlines()[0]
    assert any(word in first_line for word in HEADLINE_WORDS[case.finding]), first_line
    assert out.splitlines()[2].startswith("1. ") and f"({case.first})" in out.splitlines()[2]


def test_the_real_zen5_report():
    report = json.loads(ZEN5_REPORT.read_text())
    cpu_ = CpuProfile.from_json(report["env"]["cpu"], source="report")
    diagnosis = explain(cpu_, report)
    codes = [a.code for a in diagnosis.advice]
    assert diagnosis.finding.kind == "faster" and "5.51×" in diagnosis.finding.headline
    assert codes[0] == "engine-mismatch"
    assert not {"noisy", "threads", "small-workload", "no-int8-dot", "no-avx2"} & set(codes), codes
