"""torch-compile-fp32 and torch-pt2e-int8: measured against fp32 on the packaged model where this host can run
them; unavailable with the reason where it cannot (no C++ compiler, no torchao, not x86) — asserted both ways.

The two model tests compile on the host's cores with a cold inductor cache: about 20 s and 25 s on 2 cores.
"""

import importlib.util
import os
import sys

import pytest

from tests.conftest import FIXTURES
from tests.routes_on_model import fp32_reference, mean_cosine, run_route
from tui.core.cpu import detect, load_cpuinfo_file
from tui.core.routes import ROUTES, RouteUnavailable, static_unavailability

CACHE_ENV = "TORCHINDUCTOR_CACHE_DIR"
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")
GRAVITON3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "arm-graviton3-neoverse-v1.txt")


@pytest.fixture(autouse=True)
def inductor_settings_restored():
    """prepare() sets inductor's freezing and cache directory for its process — a worker's; pytest's is shared."""
    import torch._inductor.config as inductor_config

    saved = inductor_config.freezing, inductor_config.fx_graph_cache, os.environ.get(CACHE_ENV)
    yield
    inductor_config.freezing, inductor_config.fx_graph_cache = saved[:2]
    if saved[2] is None:
        os.environ.pop(CACHE_ENV, None)
    else:
        os.environ[CACHE_ENV] = saved[2]


def no_compiler_reason() -> str | None:
    from tui.core.routes.compiled import require_cxx_compiler

    try:
        require_cxx_compiler()
    except RouteUnavailable as exc:
        return str(exc)
    return None


def test_pt2e_is_for_x86_and_needs_torchao():
    assert "x86 only" in static_unavailability(ROUTES["torch-pt2e-int8"], GRAVITON3)
    if importlib.util.find_spec("torchao") is None:
        assert "pip install torchao" in static_unavailability(ROUTES["torch-pt2e-int8"], ZEN3)
    else:
        assert static_unavailability(ROUTES["torch-pt2e-int8"], ZEN3) is None
    assert static_unavailability(ROUTES["torch-compile-fp32"], GRAVITON3) is None


def test_a_torchao_without_pt2e_is_unavailable_with_the_upgrade(monkeypatch):
    from tui.core.routes.compiled import require_torchao_pt2e

    monkeypatch.setitem(sys.modules, "torchao.quantization.pt2e.quantize_pt2e", None)  # import now fails
    with pytest.raises(RouteUnavailable, match="pip install -U torchao"):
        require_torchao_pt2e()


@pytest.mark.slow
def test_compiled_fp32_matches_fp32_and_fills_the_kernel_cache(tmp_path):
    run = run_route("torch-compile-fp32", tmp_path)
    if no_compiler_reason():
        assert run.why_unavailable and "C++ compiler" in run.why_unavailable
        return
    assert run.why_unavailable is None
    assert mean_cosine(run.embeddings, fp32_reference()) >= 0.9999
    assert run.facts["freezing"] is True and run.facts["dynamic"] is True
    assert run.facts["inductor_cache"] == "built" and run.facts["kernels_built"] > 0  # a fresh cache
    assert any((tmp_path / "cache" / "inductor").rglob("*.so"))  # kept for the next run
    profiling_needs_no_recompile(run.runner)


def profiling_needs_no_recompile(runner) -> None:
    """The profile pass feeds the compiled graph inputs made as encode makes them: no second compilation."""
    from torch._dynamo.utils import counters

    from tests.routes_on_model import TEXTS
    from tui.core.profile import profile_runner

    graphs = counters["stats"]["unique_graphs"]
    profile = profile_runner(runner, TEXTS, 4)
    assert counters["stats"]["unique_graphs"] == graphs
    assert profile.linear_work_ms > 0


@pytest.mark.slow
def test_pt2e_int8_is_close_to_fp32_and_states_its_precision(tmp_path):
    from tui.core.simulate import worker_cpu

    run = run_route("torch-pt2e-int8", tmp_path)
    if not detect().is_x86:
        assert run.why_unavailable and "x86 only" in run.why_unavailable
        return
    if importlib.util.find_spec("torchao") is None:
        assert run.why_unavailable and "pip install torchao" in run.why_unavailable
        return
    if no_compiler_reason():
        assert run.why_unavailable and "C++ compiler" in run.why_unavailable
        return
    assert run.why_unavailable is None
    assert mean_cosine(run.embeddings, fp32_reference()) >= 0.97  # measured 0.991 on 8 calibration texts
    bf16 = worker_cpu().has_bf16_hardware
    assert run.facts["mixed_bf16"] is bf16
    assert run.facts["precision"] == ("int8-mixed-bf16" if bf16 else "int8-mixed-fp32")
    assert run.facts["torch-pt2e-int8_cache"] == "built" and run.facts["quantizer"] == "X86InductorQuantizer"
    saved = next((tmp_path / "cache").glob("torch-pt2e-int8-*/model.pt2"))
    profiling_needs_no_recompile(run.runner)
    assert saved.stat().st_size < 65e6  # int8 Linear weights, fp32 embeddings; fp32 is 91 MB (and so was the
    # program before convert_pt2e's orphaned fp32 weights were dropped)


@pytest.mark.slow
def test_without_a_cxx_compiler_compile_is_unavailable_with_the_fix(tmp_path, monkeypatch):
    import torch._inductor.config as inductor_config

    monkeypatch.setattr(inductor_config.cpp, "cxx", ("/nonexistent/c++",))
    run = run_route("torch-compile-fp32", tmp_path)
    assert run.why_unavailable and "no C++ compiler" in run.why_unavailable and "CXX" in run.why_unavailable
