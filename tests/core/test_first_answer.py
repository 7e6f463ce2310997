"""When the first answer is in (rounds.answered): a direction for every seed route, or a narrow CI, after three
rounds; never later than the stop rule's minimum."""

from types import SimpleNamespace

from tests.conftest import FIXTURES
from tui.core.rounds import answered
from tui.core.stats import Speedup


def speedup(rounds, lo, hi, verdict):
    point = (lo * hi) ** 0.5
    return Speedup(point, (lo, hi), verdict, rounds, (hi - lo) / (2 * point))


PLAN = SimpleNamespace(min_rounds=5, max_half_width=0.05)


def test_two_directions_after_three_rounds_answer():
    assert answered([speedup(3, 0.38, 0.47, "slower"), speedup(3, 1.8, 2.6, "faster")], PLAN)


def test_fewer_than_three_rounds_never_answer_even_with_directions():
    assert not answered([speedup(2, 0.38, 0.47, "slower"), speedup(2, 1.8, 2.6, "faster")], PLAN)


def test_an_inconclusive_wide_route_waits_until_the_minimum_rounds():
    near_one = speedup(4, 0.9, 1.2, "inconclusive")
    assert not answered([speedup(4, 0.38, 0.47, "slower"), near_one], PLAN)
    assert answered([speedup(5, 0.38, 0.47, "slower"), speedup(5, 0.9, 1.2, "inconclusive")], PLAN)


def test_a_narrow_inconclusive_route_is_an_answer_too():
    assert answered([speedup(3, 0.98, 1.02, "inconclusive")], PLAN)


def test_a_small_minimum_lowers_the_three_rounds():
    assert answered([speedup(2, 0.38, 0.47, "slower")], SimpleNamespace(min_rounds=2, max_half_width=0.05))


def test_which_routes_answer_first():
    from tui.core.bench import first_answer_routes
    from tui.core.cpu import parse_proc_cpuinfo
    from tui.core.engines import recommend

    cpu = parse_proc_cpuinfo((FIXTURES / "cpuinfo" / "intel-haswell-e5-2680v3.txt").read_text())
    assert recommend(cpu).engine == "x86"
    plan = SimpleNamespace(cpu=cpu)
    default = ["torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86", "torch-qint8-x86-perchannel", "ort-qint8"]
    seed = ["torch-fp32", "torch-qint8-qnnpack", "torch-qint8-x86"]
    assert first_answer_routes(plan, default, rescue_may_run=False) == seed
    # The rescue alone is reason enough: the seed routes answer, then the layer pass runs.
    assert first_answer_routes(plan, seed, rescue_may_run=True) == seed
    assert first_answer_routes(plan, seed, rescue_may_run=False) is None  # nothing slow: one stretch of rounds
    # Without the seed routes, every quick route answers first.
    assert first_answer_routes(plan, ["torch-fp32", "torch-bf16", "ort-qint8"], rescue_may_run=False) == [
        "torch-fp32", "torch-bf16"]
    # fp32 alone would answer nothing (an export's own measurement: fp32 and one ONNX route).
    assert first_answer_routes(plan, ["torch-fp32", "ort-qint8"], rescue_may_run=True) is None
