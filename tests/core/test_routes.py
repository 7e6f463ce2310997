import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import load_cpuinfo_file
from tui.core.models import packaged_model_dir, resolve_model
from tui.core.routes import (
    BASELINE,
    DEFAULT_ROUTES,
    ROUTES,
    PrepareContext,
    RouteError,
    RouteUnavailable,
    parse_routes,
    prepare,
    static_unavailability,
)

ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")
SPR = load_cpuinfo_file(FIXTURES / "cpuinfo" / "intel-sapphirerapids-8488c.txt")
GRAVITON3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "arm-graviton3-neoverse-v1.txt")


def test_route_ids_follow_the_design():
    expected = {"torch-fp32", "torch-bf16", "ort-fp32", "ort-qint8", "openvino-fp32", "openvino-int8", "torchao-int8",
                "openvino-bf16", "openvino-int8-bf16", "torch-compile-fp32", "torch-pt2e-int8"}
    expected |= {f"torch-qint8-{e}{s}" for e in ("qnnpack", "x86", "fbgemm", "onednn")
                 for s in ("", "-perchannel", "-mixed")}
    expected |= {"ort-qdq-int8", "openvino-int8-fixed", "ort-qint8-mixed", "openvino-int8-mixed", "static-m2v"}
    peers = {"fastembed", "fastembed-parallel", "st-onnx-qint8", "st-openvino-qint8"}  # named after their projects
    assert set(ROUTES) == expected | peers and {r for r in ROUTES if ROUTES[r].peer} == peers
    # Every mix a route names exists and is a rescue route.
    assert all(ROUTES[spec.mix].rescue for spec in ROUTES.values() if spec.mix)


def test_parse_routes_puts_the_baseline_first_once():
    assert parse_routes("torch-qint8-x86,torch-fp32,torch-qint8-x86") == [BASELINE, "torch-qint8-x86"]
    assert parse_routes("default") == list(DEFAULT_ROUTES)
    rescue = [rid for rid, spec in ROUTES.items() if spec.rescue]  # built by the rescue when needed, not by "all"
    peers = [rid for rid, spec in ROUTES.items() if spec.peer]  # other projects' code: asked for by name
    assert parse_routes("all")[0] == BASELINE and len(parse_routes("all")) == len(ROUTES) - len(rescue) - len(peers)
    assert not set(peers) & set(parse_routes("all"))
    assert not set(rescue) & set(parse_routes("all")) and len(rescue) == 6


@pytest.mark.parametrize("value", ["torch-int4", "fp32,nope", ",,"])
def test_unknown_or_empty_routes_are_one_line_errors(value):
    with pytest.raises(RouteError) as info:
        parse_routes(value)
    assert "\n" not in str(info.value)


def test_bf16_needs_bf16_hardware():
    assert "no bf16 hardware" in static_unavailability(ROUTES["torch-bf16"], ZEN3)
    assert static_unavailability(ROUTES["torch-bf16"], SPR) is None
    assert static_unavailability(ROUTES["torch-bf16"], GRAVITON3) is None


def test_x86_engines_are_unavailable_on_arm_with_the_alternative_named():
    why = static_unavailability(ROUTES["torch-qint8-fbgemm"], GRAVITON3)
    assert "x86" in why and "qnnpack" in why
    assert static_unavailability(ROUTES["torch-qint8-qnnpack"], GRAVITON3) is None


def test_missing_packages_name_the_install_command(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openvino" else real(name, *a))
    why = static_unavailability(ROUTES["openvino-int8"], ZEN3)
    assert why.startswith("openvino not installed") and "pip install" in why


def test_torchao_is_unavailable_when_not_installed():
    import importlib.util

    if importlib.util.find_spec("torchao") is None:
        assert "pip install torchao" in static_unavailability(ROUTES["torchao-int8"], ZEN3)
    else:
        assert static_unavailability(ROUTES["torchao-int8"], ZEN3) is None


# --------------------------------------------------------------- real model, in this process (slow)


def _ctx(tmp_path) -> PrepareContext:
    ref = resolve_model(None)
    return PrepareContext(ref.path, ref.fingerprint, threads=2, calibration=["A calibration sentence."],
                          cache_root=tmp_path / "cache", scratch=tmp_path)


@pytest.mark.slow
def test_torch_routes_encode_and_int8_is_smaller(tmp_path):
    import numpy as np

    texts = ["The quick brown fox jumps over the lazy dog.", "Python is a programming language."]
    fp32 = prepare(ROUTES["torch-fp32"], _ctx(tmp_path))
    q = prepare(ROUTES["torch-qint8-qnnpack-perchannel"], _ctx(tmp_path))
    a, b = fp32.encode(texts, 2), q.encode(texts, 2)
    assert a.shape == b.shape == (2, 384) and a.dtype == np.float32
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.9
    # Only nn.Linear is quantized: the 30522×384 fp32 word-embedding table (47 MB) stays, so ~35 % smaller.
    assert q.size_mb < fp32.size_mb * 0.75
    assert q.facts["engine"] == "qnnpack"


@pytest.mark.slow
def test_a_torch_without_torch_ao_makes_the_route_unavailable(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch.ao.quantization", None)  # import now raises ImportError
    with pytest.raises(RouteUnavailable, match="torchao"):
        prepare(ROUTES["torch-qint8-x86"], _ctx(tmp_path))


def test_packaged_model_exists():
    assert (packaged_model_dir() / "modules.json").is_file()


def test_a_package_only_one_route_needs_is_asked_for_after_the_hardware():
    from dataclasses import replace

    spec = replace(ROUTES["torch-pt2e-int8"], requires=("qtui_no_such_module",), requires_hint="pip install it")
    assert static_unavailability(spec, ZEN3) == "qtui_no_such_module not installed: pip install it"
    assert "x86 only" in static_unavailability(spec, GRAVITON3)  # no pip for a CPU that cannot run it
    assert static_unavailability(replace(spec, requires=()), ZEN3) is None


def test_a_length_cap_is_its_route_with_shorter_inputs_derived_on_lookup():
    capped = ROUTES["openvino-int8@len64"]
    base = ROUTES["openvino-int8"]
    assert (capped.id, capped.base, capped.max_seq_length, capped.dtype, capped.builds) == (
        "openvino-int8@len64", "openvino-int8", 64, base.dtype, base.builds)
    assert capped.changes_model and not base.changes_model and capped.mix is None  # the rescue is for uncapped routes
    assert "openvino-int8@len64" in ROUTES and ROUTES.get("openvino-int8@len64") == capped
    assert "openvino-int8@len64" not in list(ROUTES) and "openvino-int8@len64" not in parse_routes("all")
    assert parse_routes("openvino-int8,openvino-int8@len32,openvino-int8@len32") == [
        BASELINE, "openvino-int8", "openvino-int8@len32"]
    assert ROUTES.get("nope@len32") is None and ROUTES.get("openvino-int8@len") is None


@pytest.mark.parametrize("value, says", [
    ("openvino-int8@len4", "the least is 8"),
    ("static-m2v@len64", "no sequence cost to cap"),
    ("ort-qint8-mixed@len64", "cap the route it rescues instead"),
    ("nope@len64", "unknown route nope@len64"),
])
def test_a_bad_length_cap_is_one_line_naming_the_reason(value, says):
    with pytest.raises(RouteError) as info:
        parse_routes(value)
    assert says in str(info.value) and "\n" not in str(info.value)


def test_the_static_route_lives_in_its_own_space_and_names_its_install(monkeypatch):
    import importlib.util

    spec = ROUTES["static-m2v"]
    assert spec.own_space and spec.changes_model and spec.dtype == "static" and spec.builds
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "model2vec" else real(name, *a))
    why = static_unavailability(spec, ZEN3)
    assert why.startswith("model2vec not installed") and "qtui-bench[static]" in why


def test_a_cap_at_or_above_the_models_maximum_is_refused_before_the_run():
    from tui.options import UserError, check_length_caps

    model = resolve_model(None)
    check_length_caps(["torch-fp32", "openvino-int8@len128"], model)
    with pytest.raises(UserError, match="reads at most 256 tokens"):
        check_length_caps(["openvino-int8@len256"], model)


def test_a_model_model2vec_cannot_distill_is_unavailable_with_its_reason(tmp_path, monkeypatch):
    import model2vec.distill

    from tui.core.routes import static

    def refuse(**kwargs):
        raise ValueError("the tokenizer has no vocabulary\nsecond line")

    monkeypatch.setattr(model2vec.distill, "distill", refuse)
    with pytest.raises(RouteUnavailable, match="^model2vec cannot distill this model: the tokenizer has no "
                                                "vocabulary$"):
        static.distil(tmp_path / "model", tmp_path / "out", 1)
