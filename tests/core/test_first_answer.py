"""When the first answer is in (rounds.answered): a direction for every seed route, or a narrow CI, after three
rounds; never later than the stop rule's minimum."""

from types import SimpleNamespace

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
