import json
import os
import time
from dataclasses import replace

import pytest

from tui.core import ceilings
from tui.core.ceilings import (
    _build_cells,
    ceilings_cache_key,
    load_cached,
    measure_ceilings,
    store,
)
from tui.core.cpu import CpuProfile, detect
from tui.core.engines import recommend

torch = pytest.importorskip("torch")

TINY = [(32, 64, 64)]  # real kernels, measured in milliseconds: structure, not speed, is under test
BUDGET = 0.2


def host_int8_engine() -> str | None:
    engine = recommend(detect()).engine
    return engine if engine in torch.backends.quantized.supported_engines else None


@pytest.fixture(scope="module")
def measured() -> dict:
    return measure_ceilings(1, host_int8_engine(), detect().has_bf16_hardware, budget_s=BUDGET, shapes=TINY)


def test_fp32_ceiling_has_a_positive_rate_and_says_how_it_was_measured(measured):
    fp32 = measured["fp32"]
    assert fp32["gflops"] > 0 and fp32["shape"] == [32, 64, 64] and fp32["repeats"] >= 1
    # The best of MKL's and oneDNN's fp32 kernels: the ceiling is the hardware's, not one library's.
    kernels = {t["kernel"] for t in fp32["tried"]}
    assert "aten::linear fp32 (MKL)" in kernels and fp32["kernel"] in kernels
    onednn = torch.backends.mkldnn.is_available()
    assert kernels == {"aten::linear fp32 (MKL)"} | ({"mkldnn_linear fp32 (oneDNN)"} if onednn else set())
    assert fp32["gflops"] == max(t["gflops"] for t in fp32["tried"])
    assert measured["threads"] == 1 and measured["torch"] == torch.__version__ and measured["calibration_s"] > 0


def test_int8_ceiling_uses_the_recommended_engine(measured):
    engine = host_int8_engine()
    if engine is None:
        assert "unavailable" in measured["int8"]
        return
    int8 = measured["int8"]
    assert int8["gflops"] > 0 and f"engine {engine}" in int8["kernel"] and "dynamic" in int8["note"]


def test_bf16_is_measured_exactly_when_the_host_has_bf16_hardware(measured):
    has_bf16 = detect().has_bf16_hardware
    assert ("bf16" in measured) == has_bf16
    if has_bf16:
        assert measured["bf16"]["gflops"] > 0 and measured["bf16"]["kernel"] == "aten::linear bf16"


def test_no_bf16_when_not_wanted():
    result = measure_ceilings(1, None, want_bf16=False, budget_s=BUDGET, shapes=TINY)
    assert "bf16" not in result and result["fp32"]["gflops"] > 0


@pytest.mark.parametrize("engine, words", [(None, "no quantized engine"), ("bogus", "no 'bogus' quantized engine")])
def test_int8_unavailable_says_why(engine, words):
    result = measure_ceilings(1, engine, want_bf16=False, budget_s=BUDGET, shapes=TINY)
    assert words in result["int8"]["unavailable"] and "gflops" not in result["int8"]
    assert result["engine"] == engine


def test_the_callers_threads_and_engine_are_restored():
    threads, engine = torch.get_num_threads(), torch.backends.quantized.engine
    measure_ceilings(1, host_int8_engine(), want_bf16=False, budget_s=BUDGET, shapes=TINY)
    assert torch.get_num_threads() == threads and torch.backends.quantized.engine == engine


def test_the_best_of_several_shapes_is_the_ceiling():
    result = measure_ceilings(1, None, want_bf16=False, budget_s=BUDGET, shapes=[(16, 32, 32), (32, 64, 64)])
    tried = [t for t in result["fp32"]["tried"] if t["kernel"] == "aten::linear fp32 (MKL)"]
    assert [t["shape"] for t in tried] == [[16, 32, 32], [32, 64, 64]]
    assert result["fp32"]["gflops"] == max(t["gflops"] for t in tried)


def test_a_shape_too_slow_for_the_time_slice_is_skipped():
    def make(shape):
        return lambda: time.sleep(0.01)  # at most 2·1·1·1000 FLOPs per 10 ms on the small shape

    cells = _build_cells("fp32", [(1000, 1000, 1000), (1, 1, 1000)], make, slice_s=1.0)
    assert [c.shape for c in cells] == [(1, 1, 1000)]


# ---------------------------------------------------------------------------------------------- cache

CEILINGS = {"fp32": {"gflops": 200.0, "shape": [512, 1024, 1024], "kernel": "aten::linear fp32", "repeats": 9},
            "int8": {"unavailable": "no engine"}, "threads": 2, "engine": None, "calibration_s": 2.1,
            "torch": "2.13.0"}


def test_cache_round_trip(tmp_path):
    store(tmp_path, "k1", CEILINGS)
    assert load_cached(tmp_path, "k1") == CEILINGS
    assert load_cached(tmp_path, "other") is None
    assert [p.name for p in (tmp_path / "ceilings").iterdir()] == ["k1.json"]  # no temp file left behind


def test_no_cache_root_means_the_default_cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("QTUI_CACHE_DIR", str(tmp_path))
    store(None, "k1", CEILINGS)
    assert (tmp_path / "ceilings" / "k1.json").exists() and load_cached(None, "k1") == CEILINGS


@pytest.mark.parametrize("content", [
    "{not json", "", "[1, 2]",
    json.dumps({"schema": "qtui.ceilings/0", "key": "k1", "ceilings": CEILINGS}),
    json.dumps({"schema": ceilings.SCHEMA, "key": "another", "ceilings": CEILINGS}),
    json.dumps({"schema": ceilings.SCHEMA, "key": "k1", "ceilings": {"fp32": {"gflops": "fast"}}}),
    json.dumps({"schema": ceilings.SCHEMA, "key": "k1", "ceilings": [1]}),
])
def test_a_corrupt_entry_reads_as_no_entry(tmp_path, content):
    (tmp_path / "ceilings").mkdir()
    (tmp_path / "ceilings" / "k1.json").write_text(content)
    assert load_cached(tmp_path, "k1") is None


def test_an_unwritable_cache_is_skipped_silently(tmp_path):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")  # a directory cannot be made inside a file, even as root
    store(not_a_dir, "k1", CEILINGS)
    assert load_cached(not_a_dir, "k1") is None


def test_a_failed_rename_leaves_no_temp_file(tmp_path, monkeypatch):
    def refuse(*args):
        raise OSError("read-only file system")

    monkeypatch.setattr(os, "replace", refuse)
    store(tmp_path, "k1", CEILINGS)
    assert list((tmp_path / "ceilings").iterdir()) == []


CPU = CpuProfile(arch="x86_64", vendor="AMD", model="AMD EPYC 9B45", logical_cpus=8, physical_cores=4,
                 features=frozenset({"avx2", "fma", "avx512f"}), source="cpuinfo-file", generation="AMD Zen 5")


def test_the_cache_key_follows_everything_a_ceiling_depends_on():
    key = ceilings_cache_key(CPU, 4, "x86", "2.13.0")
    assert key == ceilings_cache_key(replace(CPU, features=frozenset({"avx512f", "fma", "avx2"})), 4, "x86", "2.13.0")
    others = {
        ceilings_cache_key(replace(CPU, features=CPU.features | {"avx512_bf16"}), 4, "x86", "2.13.0"),
        ceilings_cache_key(replace(CPU, model="AMD EPYC 7B13"), 4, "x86", "2.13.0"),
        ceilings_cache_key(replace(CPU, generation="AMD Zen 4"), 4, "x86", "2.13.0"),
        ceilings_cache_key(CPU, 2, "x86", "2.13.0"),
        ceilings_cache_key(CPU, 4, "fbgemm", "2.13.0"),
        ceilings_cache_key(CPU, 4, None, "2.13.0"),
        ceilings_cache_key(CPU, 4, "x86", "2.14.0"),
    }
    assert key not in others and len(others) == 7
