"""The rescue: the fewest layers kept fp32 to reach the threshold, which engines get a mixed route, and the
recipe that reproduces a mix."""

import pytest

from tests.conftest import FIXTURES
from tui.core.cpu import load_cpuinfo_file
from tui.core.rescue import NoMixReachesIt, fewest_kept

ORDER = [f"layer{i}" for i in range(10)]
ZEN3 = load_cpuinfo_file(FIXTURES / "cpuinfo" / "amd-zen3-epyc-7r13.txt")


def test_bisection_finds_the_fewest_kept_layers_in_a_few_steps():
    calls = []

    def score(kept):
        calls.append(len(kept))
        return 0.95 + 0.01 * len(kept)  # each kept layer gives 0.01 back

    mix = fewest_kept(ORDER, score, 0.99)
    assert mix.kept_fp32 == tuple(ORDER[:4]) and mix.cosine == pytest.approx(0.99) and mix.total == 10
    assert mix.steps == len(set(calls)) <= 5  # log2(10) + the upper end, never all ten


def test_nothing_kept_when_plain_int8_already_reaches_it():
    assert fewest_kept(ORDER, lambda kept: 0.995, 0.99).kept_fp32 == ()


def test_no_mix_short_of_fp32_is_an_answer_too():
    with pytest.raises(NoMixReachesIt, match="keeping 9 of 10"):
        fewest_kept(ORDER, lambda kept: 0.9, 0.99)


def results(**cosines):
    from tui.core.accuracy import Accuracy
    from tui.core.bench import RouteResult
    from tui.core.routes import ROUTES

    out = {}
    for rid, cos in {"torch-fp32": None, **cosines}.items():
        rid = rid.replace("_", "-")
        r = RouteResult(ROUTES[rid], status="ok")
        r.accuracy = Accuracy(cos, cos, 1.0, 1.0, 10) if cos is not None else None
        out[rid] = r
    return out


def wanted(routes=("torch-fp32",), **cosines):
    from tui.core.bench import BenchResult, _mixes_wanted

    class P:  # the plan fields _mixes_wanted reads
        min_cosine = 0.99
        cpu = ZEN3  # the x86 engine is recommended there

    P.routes = routes
    return _mixes_wanted(P, BenchResult(P, results(**cosines), created=""))


def test_an_engine_gets_a_mixed_route_only_when_all_its_int8_routes_missed():
    missed = wanted(torch_qint8_x86=0.948, torch_qint8_x86_perchannel=0.975)
    assert list(missed) == ["torch-qint8-x86-mixed"] and "0.9750 < 0.99" in missed["torch-qint8-x86-mixed"]
    assert wanted(torch_qint8_x86=0.948, torch_qint8_x86_perchannel=0.993) == {}  # plain int8 reaches it
    assert wanted(ort_qint8=0.95) == {}  # no torch dynamic route: nothing this rescue can mix
    assert list(wanted(("torch-fp32", "torch-qint8-onednn-mixed"))) == ["torch-qint8-onednn-mixed"]
    # The recommended engine measured and fine: a missing qnnpack is not worth a mix.
    assert wanted(torch_qint8_qnnpack=0.966, torch_qint8_x86_perchannel=0.993) == {}
    assert list(wanted(torch_qint8_qnnpack=0.966)) == ["torch-qint8-qnnpack-mixed"]  # the only engine measured


@pytest.mark.slow
def test_the_recipe_keeps_exactly_the_named_layers_in_fp32():
    import torch

    from tui.core.cpu import detect
    from tui.core.engines import recommend
    from tui.core.recipes import recipe_for

    engine = recommend(detect()).engine or "qnnpack"  # an engine this host has
    kept = ["encoder.layer.2.attention.output.dense", "encoder.layer.0.output.dense"]
    scope: dict = {}
    exec(recipe_for(f"torch-qint8-{engine}-mixed", "", 1, {"kept_fp32": kept}), scope)  # noqa: S102 - our recipe
    bert = scope["model"][0].auto_model
    quantized = {n: "quantized" in type(m).__module__ for n, m in bert.named_modules()
                 if type(m).__name__ == "Linear"}
    assert {n for n, q in quantized.items() if not q} == set(kept)
    assert sum(quantized.values()) == len(quantized) - len(kept) > 30
    assert scope["embeddings"].shape == (1, 384) and torch.backends.quantized.engine == engine
