"""Every rule fires on its evidence and stays silent without it (synthetic reports and CPU profiles)."""

import pytest

from tests.conftest import FIXTURES
from tests.synthetic import BASE, doc, fp32_profile, route
from tui.core.advice import diagnose, explain
from tui.core.cpu import CpuProfile, load_cpuinfo_file

ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")  # AVX2, no VNNI, 2 cores
ICX = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-icelake-8375c.txt")  # AVX-512 VNNI
SANDY = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sandybridge-e5-2670.txt")  # no AVX2
SPR = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sapphirerapids-8488c.txt")  # bf16, AMX
GRAVITON2 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "arm-graviton2-neoverse-n1.txt")


def codes(cpu, d):
    return [a.code for a in diagnose(cpu, d)]


def advice(cpu, d, code):
    return next(a for a in diagnose(cpu, d) if a.code == code)


SEED = doc([BASE, route("torch-qint8-qnnpack", 0.39, cosine=0.966), route("torch-qint8-x86", 2.3, cosine=0.995)])


def test_seed_case_puts_engine_mismatch_first_with_measured_speeds():
    first = diagnose(ZEN3, SEED)[0]
    assert first.code == "engine-mismatch" and first.severity == "high"
    assert "0.39×" in first.evidence and "2.30×" in first.evidence and "SSE2" in first.evidence
    assert "'x86'" in first.fix and first.gain == pytest.approx(2.3 / 0.39)
    assert "quantize_dynamic" in first.recipe


def test_no_engine_mismatch_without_a_qnnpack_route():
    assert "engine-mismatch" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 2.3, cosine=0.95)]))


def test_no_engine_mismatch_on_arm():
    assert "engine-mismatch" not in codes(GRAVITON2, SEED)


def test_engine_mismatch_without_a_peer_uses_the_slowdown():
    a = advice(ZEN3, doc([BASE, route("torch-qint8-qnnpack", 0.4, cosine=0.97)]), "engine-mismatch")
    assert "not measured" in a.effect


def test_no_int8_dot_fires_without_vnni_and_not_with_it():
    d = doc([BASE, route("torch-qint8-x86", 1.4, cosine=0.95)])
    assert "VPMADDUBSW" in advice(ZEN3, d, "no-int8-dot").evidence
    assert "no-int8-dot" not in codes(ICX, d)
    assert "no-int8-dot" not in codes(ZEN3, doc([BASE]))


def test_no_avx2():
    d = doc([BASE, route("torch-qint8-onednn", 0.8, cosine=0.95)])
    assert "no-avx2" in codes(SANDY, d)
    assert "no-avx2" not in codes(ZEN3, d)


def test_unquantized_share_quotes_share_and_bound():
    base = route("torch-fp32", profile=fp32_profile(linear_ms=70))
    d = doc([base, route("torch-qint8-x86", 1.4, cosine=0.99), route("openvino-int8", 2.5, cosine=0.995)])
    a = advice(ZEN3, d, "unquantized-share")
    # k = 2 on AVX2: 1 / (0.3 + 0.35) = 1.54
    assert "70%" in a.evidence and "1.54×" in a.evidence and "1.40×" in a.evidence
    assert "openvino-int8" in a.effect and a.gain == pytest.approx(2.5 / 1.4)


def test_unquantized_share_needs_a_profile():
    assert "unquantized-share" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 1.4, cosine=0.99)]))


def test_small_workload_from_the_sweep():
    sweep = {"route": "torch-qint8-x86", "cells": [
        {"batch_size": 1, "seq_len": 8, "speedup": 0.7}, {"batch_size": 32, "seq_len": 128, "speedup": 2.1}]}
    a = advice(ZEN3, doc([BASE, route("torch-qint8-x86", 1.5, cosine=0.99)], sweep=sweep), "small-workload")
    assert "0.70× at batch 1 × 8 tokens" in a.evidence and "2.10×" in a.evidence


def test_small_workload_silent_when_int8_wins_everywhere():
    sweep = {"route": "torch-qint8-x86", "cells": [{"batch_size": 1, "seq_len": 8, "speedup": 1.1}]}
    assert "small-workload" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 1.5, cosine=0.99)], sweep=sweep))


def test_small_workload_without_sweep_from_tiny_batches():
    small = doc([BASE, route("torch-qint8-x86", 1.0, cosine=0.99)], batch_size=1, mean_tokens=12)
    assert "small-workload" in codes(ZEN3, small)
    big = doc([BASE, route("torch-qint8-x86", 1.0, cosine=0.99)], batch_size=32, mean_tokens=40)
    assert "small-workload" not in codes(ZEN3, big)


def test_threads():
    assert "threads" in codes(ZEN3, doc([BASE], threads=4))  # 2 physical cores
    assert "threads" in codes(ZEN3, doc([BASE], threads=1))
    assert "threads" not in codes(ZEN3, doc([BASE], threads=2))


def test_noisy_stays_silent_when_noise_changes_no_conclusion():
    spread_only = {"flagged": True, "reasons": ["spread 14 % of median (IQR/median), above 10 %"]}
    assert "noisy" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 1.5, cosine=0.99)], noise=spread_only))
    wide_but_decided = doc([BASE, route("torch-qint8-x86", 1.5, cosine=0.99, ci=[1.2, 1.9])])
    assert "noisy" not in codes(ZEN3, wide_but_decided)


def test_noisy_when_a_verdict_stays_open():
    d = doc([BASE, route("torch-qint8-x86", 1.02, cosine=0.995, ci=[0.85, 1.25])])
    a = advice(ZEN3, d, "noisy")
    assert "torch-qint8-x86 1.02×, 95 % CI 0.85–1.25" in a.evidence and a.kind == "trust"
    # A tight CI around 1.0 is a decided "no faster", not noise.
    assert "noisy" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 1.0, cosine=0.995, ci=[0.98, 1.02])]))


def test_noisy_when_the_recommendation_could_flip():
    d = doc([BASE, route("ort-qint8", 2.0, cosine=0.995, ci=[1.8, 2.2]),
             route("openvino-int8", 2.1, cosine=0.995, ci=[1.9, 2.3])])
    assert "could flip" in advice(ZEN3, d, "noisy").evidence
    apart = doc([BASE, route("ort-qint8", 2.0, cosine=0.995), route("openvino-int8", 3.0, cosine=0.995)])
    assert "noisy" not in codes(ZEN3, apart)


def test_noisy_when_the_baseline_drifted_read_from_samples_or_the_old_summary():
    drifting = dict(BASE, throughput={"median": 100.0, "samples": [100, 101, 99, 100, 102, 100, 80, 79, 81, 80, 78,
                                                                   80]})
    d = doc([drifting, route("torch-qint8-x86", 1.5, cosine=0.995)])
    assert "moved" in advice(ZEN3, d, "noisy").evidence
    steady = dict(BASE, throughput={"median": 100.0, "samples": [100, 101, 99, 100, 102, 100, 99, 101, 100, 98]})
    assert "noisy" not in codes(ZEN3, doc([steady, route("torch-qint8-x86", 1.5, cosine=0.995)]))
    # A report with one sample per route (another writer) falls back to its baseline_noise summary.
    old = {"flagged": True, "reasons": ["median moved -20.0 % from the first half of the samples to the second"]}
    assert "moved" in advice(ZEN3, doc([BASE, route("torch-qint8-x86", 1.5, cosine=0.995)], noise=old),
                             "noisy").evidence


def test_accuracy_per_tensor_quotes_both_cosines():
    d = doc([BASE, route("torch-qint8-x86", 2.3, cosine=0.94), route("torch-qint8-x86-perchannel", 2.1, cosine=0.993)])
    a = advice(ZEN3, d, "accuracy-per-tensor")
    assert "0.9400" in a.evidence and "0.9930" in a.effect and "per_channel_dynamic_qconfig" in a.recipe
    assert "accuracy-per-tensor" not in codes(ZEN3, doc([BASE, route("torch-qint8-x86", 2.3, cosine=0.995)]))


def test_bf16_better():
    d = doc([BASE, route("torch-bf16", 2.0, cosine=0.999), route("torch-qint8-x86", 1.5, cosine=0.995)])
    assert "bf16-better" in codes(SPR, d)
    d2 = doc([BASE, route("torch-bf16", 1.2, cosine=0.999), route("torch-qint8-x86", 1.5, cosine=0.995)])
    assert "bf16-better" not in codes(SPR, d2)


def test_better_backend():
    d = doc([BASE, route("torch-qint8-x86-perchannel", 2.0, cosine=0.993), route("openvino-int8", 3.2, cosine=0.995)])
    a = advice(ZEN3, d, "better-backend")
    assert "3.20×" in a.evidence and a.gain == pytest.approx(1.6) and "nncf" in a.recipe
    d2 = doc([BASE, route("torch-qint8-x86-perchannel", 3.3, cosine=0.993), route("openvino-int8", 3.2, cosine=0.995)])
    assert "better-backend" not in codes(ZEN3, d2)


def test_fp32_fast_path():
    d = doc([BASE, route("torch-qint8-qnnpack", 0.5, cosine=0.97), route("ort-qint8", 1.0, cosine=0.99)])
    assert "fp32-fast-path" in codes(ZEN3, d)
    apple = CpuProfile("arm64", "Apple", "Apple M2", 8, 8, frozenset({"neon", "dotprod"}), "report")
    assert "Accelerate" in advice(apple, d, "fp32-fast-path").evidence
    assert "fp32-fast-path" not in codes(ZEN3, SEED)


def test_ranked_for_the_finding_measured_effects_first_then_by_gain():
    from tui.core.advice import GROUPS, explain

    d = doc([BASE, route("torch-qint8-qnnpack", 0.39, cosine=0.966), route("torch-qint8-x86", 2.3, cosine=0.94),
             route("openvino-int8", 3.2, cosine=0.995)], threads=1)
    diagnosis = explain(ZEN3, d)
    groups = GROUPS[diagnosis.finding.kind]
    keys = [(next(i for i, kinds in enumerate(groups) if a.kind in kinds), a.basis != "measured", -a.gain)
            for a in diagnosis.advice]
    assert diagnosis.finding.kind == "faster" and len(keys) >= 4
    assert keys == sorted(keys)
    assert diagnosis.advice[0].code == "engine-mismatch"  # the biggest measured gain


def test_a_slower_finding_puts_causes_before_gains_and_caveats():
    from tui.core.advice import explain

    d = doc([BASE, route("torch-qint8-qnnpack", 0.4, cosine=0.97)], threads=4)  # 2 physical cores
    diagnosis = explain(ZEN3, d)
    kinds = [a.kind for a in diagnosis.advice]
    assert diagnosis.finding.kind == "slower" and "0.40×" in diagnosis.finding.headline
    assert kinds[:3] == ["cause"] * 3 and kinds[-1] == "context"


def test_better_backend_measures_against_the_fastest_torch_route_not_a_slow_accurate_one():
    d = doc([BASE, route("torch-qint8-qnnpack-perchannel", 0.39, cosine=0.993),
             route("torch-qint8-x86", 1.5, cosine=0.948), route("ort-qint8", 1.88, cosine=0.992)])
    a = advice(ZEN3, d, "better-backend")
    assert a.gain == pytest.approx(1.88 / 1.5) and "torch-qint8-x86" in a.evidence


def test_engine_mismatch_cites_the_engine_the_fix_names():
    d = doc([BASE, route("torch-qint8-qnnpack", 0.4, cosine=0.97), route("torch-qint8-onednn", 1.6, cosine=0.95),
             route("torch-qint8-x86", 1.5, cosine=0.95)])
    a = advice(ZEN3, d, "engine-mismatch")
    assert "on the x86 engine ran at 1.50×" in a.evidence and "'x86'" in a.fix


def test_engine_mismatch_does_not_take_a_mix_for_the_same_quantization_on_another_engine():
    d = doc([BASE, route("torch-qint8-qnnpack-perchannel", 0.4, cosine=0.99),
             {**route("torch-qint8-x86-mixed", 1.4, cosine=0.992), "granularity": "per-channel"}])  # as the registry
    a = advice(ZEN3, d, "engine-mismatch")
    assert "mixed" not in a.evidence + a.effect and "not measured in this run" in a.effect


def test_when_int8_wins_inaccurately_a_measured_cause_outranks_an_estimated_gain():
    from tui.core.advice import explain

    # The seed case on a CPU where per-tensor x86 int8 is fast but below the cosine threshold, run on 1 of 2 cores.
    d = doc([BASE, route("torch-qint8-qnnpack", 0.4, cosine=0.966), route("torch-qint8-x86", 3.6, cosine=0.944)],
            threads=1)
    diagnosis = explain(ZEN3, d)
    codes = [a.code for a in diagnosis.advice]
    assert diagnosis.finding.kind == "inaccurate"
    assert codes[:2] == ["accuracy-per-tensor", "engine-mismatch"] and codes.index("threads") > 1


def test_better_backend_counts_static_and_compiled_torch_routes_as_the_torch_alternative():
    d = doc([BASE, route("torch-qint8-x86-perchannel", 2.7, cosine=0.993),
             route("torch-pt2e-int8", 4.2, cosine=0.993), route("openvino-int8", 5.4, cosine=0.998)])
    a = advice(ZEN3, d, "better-backend")
    assert a.gain == pytest.approx(5.4 / 4.2) and "torch-pt2e-int8" in a.evidence


def test_unquantized_share_offers_torch_static_int8_when_it_is_the_measured_whole_graph_route():
    base = route("torch-fp32", profile=fp32_profile(linear_ms=70))
    d = doc([base, route("torch-qint8-x86-perchannel", 1.4, cosine=0.993), route("torch-pt2e-int8", 2.6, cosine=0.993)])
    a = advice(ZEN3, d, "unquantized-share")
    assert "torch-pt2e-int8" in a.effect and a.basis == "measured" and a.gain == pytest.approx(2.6 / 1.4)


def invariance(worst, mean=None):
    mean = worst if mean is None else mean
    return {"texts_alone": 32, "texts_rebatched": 64, "batch_size": 32, "alone_cos_mean": mean,
            "alone_cos_worst": worst, "order_cos_mean": mean, "order_cos_worst": worst}


def with_invariance(r, worst):
    return {**r, "batch_invariance": invariance(worst)}


def test_batch_dependence_names_the_dynamic_route_and_the_static_one_that_holds_still():
    dynamic = route("torch-qint8-x86-perchannel", 2.7, cosine=0.993)
    d = doc([with_invariance(BASE, 1 - 1e-9), with_invariance(dynamic, 0.948),
             with_invariance(route("ort-qint8", 3.4, cosine=0.993), 0.978),
             with_invariance(route("openvino-int8", 5.4, cosine=0.998), 1.0)])
    a = advice(ZEN3, d, "batch-dependence")
    assert a.kind == "caveat" and a.basis == "measured"
    assert a.title.startswith("torch-qint8-x86-perchannel") and "0.9480" in a.evidence
    assert "ort-qint8 0.9780" in a.evidence
    assert "openvino-int8" in a.effect and a.recipe


def test_batch_dependence_is_silent_when_int8_vectors_move_no_more_than_negligibly():
    d = doc([with_invariance(BASE, 1 - 1e-9), with_invariance(route("openvino-int8", 5.4, cosine=0.998), 1 - 1e-6),
             route("torch-qint8-x86", 2.7, cosine=0.95)])  # not checked: no claim either way
    assert "batch-dependence" not in codes(ZEN3, d)


def layer(name, loss, channel_ratio=60.0, outliers=3, max_abs=76.0, p999=13.8):
    return {"name": name, "max_abs": max_abs, "p999_abs": p999, "ratio": max_abs / p999,
            "channel_ratio": channel_ratio, "outlier_channels": outliers, "cosine_loss": loss}


def with_layers(d, *layers):
    return {**d, "layers": {"scheme": "int8 …", "texts": 32, "source": "calibration texts", "layers": list(layers)}}


def test_activation_outliers_names_the_costly_outlier_layers_and_leads_the_accuracy_advice():
    d = with_layers(doc([BASE, route("torch-qint8-x86", 2.5, cosine=0.95), route("torch-qint8-x86-perchannel", 2.4,
                                                                               cosine=0.975)]),
                    layer("encoder.layer.2.attention.output.dense", 0.0067),
                    layer("encoder.layer.4.attention.output.dense", 0.0039),
                    layer("encoder.layer.0.output.dense", 0.0012, channel_ratio=21, outliers=1),  # real, but cheap
                    layer("encoder.layer.3.intermediate.dense", 0.004, channel_ratio=3, outliers=0))  # no outliers
    diagnosis = explain(ZEN3, d)
    accuracy = [a for a in diagnosis.advice if a.code in ("activation-outliers", "accuracy-per-tensor")]
    assert [a.code for a in accuracy] == ["activation-outliers", "accuracy-per-tensor"]
    a = accuracy[0]
    assert all(f"encoder.layer.{i}.attention.output.dense" in a.evidence for i in (2, 4))
    assert "encoder.layer.0.output.dense" not in a.evidence and "intermediate" not in a.evidence
    assert "60× the median channel" in a.evidence and "−0.0067" in a.evidence and "0.0106" in a.effect


def test_activation_outliers_is_silent_when_int8_meets_the_threshold_or_no_outlier_layer_costs_much():
    costly = layer("encoder.layer.2.attention.output.dense", 0.0067)
    fine = doc([BASE, route("torch-qint8-x86-perchannel", 2.4, cosine=0.993)])
    assert "activation-outliers" not in codes(ZEN3, with_layers(fine, costly))
    missed = doc([BASE, route("torch-qint8-x86", 2.5, cosine=0.95)])
    cheap = layer("encoder.layer.0.output.dense", 0.0012, channel_ratio=21, outliers=1)
    assert "activation-outliers" not in codes(ZEN3, with_layers(missed, cheap))
    assert "activation-outliers" not in codes(ZEN3, missed)  # no layer evidence: no claim


# --threads-sweep (synthetic sweeps through the real statistics; ZEN3 has 2 physical cores)
X86_OK = route("torch-qint8-x86", 2.0, cosine=0.995)


def swept(curves, threads, **kw):
    from tests.synthetic import threads_sweep

    return doc([BASE, X86_OK], threads=threads, threads_sweep=threads_sweep(curves, route="torch-qint8-x86", **kw))


def test_thread_scaling_says_when_more_threads_make_int8_slower():
    d = swept({"torch-fp32": {1: 100, 2: 180, 4: 190}, "torch-qint8-x86": {1: 250, 2: 300, 4: 150}}, threads=4)
    a = advice(ZEN3, d, "thread-scaling")
    assert a.title == "More threads make torch-qint8-x86 slower: 2 threads beat the run's 4"
    assert a.kind == "gain" and a.basis == "measured" and a.gain == pytest.approx(2.0, rel=0.01)
    assert "torch.set_num_threads(2)" in a.fix and "300 vs 150 sent/s" in a.effect
    assert "2→4: -50 %" in a.evidence and "paired speedup over fp32: 2.5" in a.evidence
    assert "0.80× at 4 threads" in a.evidence  # int8 gains less from threads than fp32 here


def test_thread_scaling_says_when_the_run_used_too_few_threads_and_replaces_the_estimate():
    d = swept({"torch-fp32": {1: 100, 2: 190}, "torch-qint8-x86": {1: 200, 2: 390}}, threads=1)
    a = advice(ZEN3, d, "thread-scaling")
    assert a.title == "torch-qint8-x86 runs faster with 2 threads than with the run's 1"
    assert a.gain == pytest.approx(1.95, rel=0.01) and a.basis == "measured"
    assert "threads" not in codes(ZEN3, d)  # the estimate "up to 2× with idle cores" gives way to the measurement


def test_thread_scaling_plateau_estimates_processes_and_says_it_is_an_estimate():
    d = swept({"torch-fp32": {1: 100, 2: 190, 4: 200}, "torch-qint8-x86": {1: 250, 2: 255, 4: 258}}, threads=4)
    a = advice(ZEN3, d, "thread-scaling")
    assert a.title == "Adding threads stops paying after 1 for torch-qint8-x86"
    assert a.kind == "gain" and a.basis.startswith("estimated from the thread sweep: 4 processes")
    assert a.gain == pytest.approx(4 * 250 / 258, rel=0.01) and "upper bound" in a.effect


def test_thread_scaling_silent_while_every_route_still_gains_at_the_run_count():
    d = swept({"torch-fp32": {1: 100, 2: 190}, "torch-qint8-x86": {1: 250, 2: 480}}, threads=2)
    assert "thread-scaling" not in codes(ZEN3, d)


def test_thread_scaling_silent_without_a_sweep_or_with_one_that_measured_nothing():
    from tui.core.thread_sweep import unavailable

    assert "thread-scaling" not in codes(ZEN3, doc([BASE, X86_OK], threads=2))
    d = doc([BASE, X86_OK], threads=1, threads_sweep=unavailable((1, 2), "cancelled", "torch-fp32"))
    assert "thread-scaling" not in codes(ZEN3, d) and "threads" in codes(ZEN3, d)
