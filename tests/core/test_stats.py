import math
import warnings

import numpy as np
import pytest

from tui.core import stats
from tui.core.stats import Noise, Speedup, converged, median, noise, paired_log_ratios, speedup

ROUNDS = 20
SIGMA = 0.05  # ~5 % multiplicative noise per timing, typical of a quiet CPU


def noisy_times(rng: np.random.Generator, scale: float, n: int = ROUNDS, sigma: float = SIGMA) -> list[float]:
    return (scale * rng.lognormal(0.0, sigma, n)).tolist()


def paired(seed: int, route_scale: float, n: int = ROUNDS) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    return noisy_times(rng, 1.0, n), noisy_times(rng, route_scale, n)


# paired_log_ratios ---------------------------------------------------------------------------------------

def test_log_ratio_is_positive_when_the_route_is_faster():
    assert paired_log_ratios([2.0, 1.0], [1.0, 2.0]) == pytest.approx([math.log(2), -math.log(2)])


def test_log_ratios_reject_unpaired_rounds():
    with pytest.raises(ValueError, match="paired"):
        paired_log_ratios([1.0, 1.0], [1.0])


@pytest.mark.parametrize("bad", [0.0, -1.0, float("nan"), float("inf")])
def test_log_ratios_reject_non_positive_or_non_finite_times(bad):
    with pytest.raises(ValueError, match="positive"):
        paired_log_ratios([1.0, 1.0], [1.0, bad])


# speedup -------------------------------------------------------------------------------------------------

def test_a_route_twice_as_fast_is_faster_with_a_ci_around_two():
    s = speedup(*paired(seed=1, route_scale=0.5))
    assert s.verdict == "faster"
    assert s.point == pytest.approx(2.0, rel=0.10)
    lo, hi = s.ci95
    assert lo <= 2.0 <= hi
    assert lo > 1.0 and s.rounds == ROUNDS


def test_a_route_at_0_4x_is_slower():
    s = speedup(*paired(seed=2, route_scale=2.5))
    assert s.verdict == "slower"
    assert s.point == pytest.approx(0.4, rel=0.10)
    assert s.ci95[1] < 1.0


def test_same_distribution_is_inconclusive_for_a_fixed_seed():
    s = speedup(*paired(seed=3, route_scale=1.0))
    assert s.verdict == "inconclusive"
    assert s.ci95[0] <= 1.0 <= s.ci95[1]


def test_same_distribution_is_inconclusive_in_at_least_90_percent_of_runs():
    # A bootstrap median CI under-covers a little at 20 rounds (~93 % measured, not 95 %), so a 40-seed sample
    # can dip below 90 % by chance; 200 seeds estimate the rate to about ±2 %. A 'basic' interval gets ~81 %.
    verdicts = [speedup(*paired(seed=seed, route_scale=1.0)).verdict for seed in range(200)]
    assert verdicts.count("inconclusive") / len(verdicts) >= 0.90


def test_zero_variance_collapses_the_ci_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = speedup([1.0] * 10, [0.5] * 10)
    assert s.point == pytest.approx(2.0)
    assert s.ci95 == (s.point, s.point)
    assert s.half_width == 0.0
    assert s.verdict == "faster"


def test_zero_variance_at_exactly_one_is_inconclusive():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = speedup([1.0] * 6, [1.0] * 6)
    assert s.ci95 == (1.0, 1.0) and s.verdict == "inconclusive"


def test_few_rounds_with_ties_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = speedup([1.0, 1.0, 1.0], [0.9, 0.9, 0.8])
    assert all(math.isfinite(b) for b in s.ci95)


def test_mostly_tied_rounds_still_give_a_finite_ci():
    # Four identical ratios and one outlier (a coarse timer): BCa's jackknife divides 0 by 0 here.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s = speedup([1.0] * 5, [0.5, 0.5, 0.5, 0.5, 0.6])
    assert s.point == pytest.approx(2.0)
    assert s.ci95[0] == pytest.approx(1 / 0.6) and s.ci95[1] == pytest.approx(2.0)
    assert s.verdict == "faster"


@pytest.mark.parametrize("base,route,point", [([1.0], [0.5], 2.0), ([], [], math.nan)])
def test_fewer_than_two_rounds_is_inconclusive_with_nan_ci(base, route, point):
    s = speedup(base, route)
    assert s.verdict == "inconclusive"
    assert all(math.isnan(b) for b in s.ci95)
    assert s.half_width == math.inf
    assert s.rounds == len(base)
    assert (math.isnan(s.point) and math.isnan(point)) or s.point == pytest.approx(point)


def test_half_width_is_the_relative_half_width_of_the_ci():
    s = speedup(*paired(seed=4, route_scale=0.5))
    lo, hi = s.ci95
    assert s.half_width == pytest.approx(math.exp((math.log(hi) - math.log(lo)) / 2) - 1)
    assert 0 < s.half_width < 0.2


def test_more_rounds_tighten_the_ci():
    few = speedup(*paired(seed=5, route_scale=0.5, n=8))
    many = speedup(*paired(seed=5, route_scale=0.5, n=80))
    assert many.half_width < few.half_width


def test_speedup_is_deterministic_for_a_seed_and_the_seed_matters():
    base, route = paired(seed=6, route_scale=0.8)
    assert speedup(base, route, seed=11) == speedup(base, route, seed=11)
    assert any(speedup(base, route, seed=s).ci95 != speedup(base, route, seed=11).ci95 for s in range(3))


def test_speedup_to_json_follows_the_report_contract():
    s = speedup(*paired(seed=7, route_scale=0.5))
    doc = s.to_json()
    assert set(doc) == {"point", "ci95", "verdict"}
    assert doc["verdict"] == "faster"
    assert isinstance(doc["ci95"], list) and len(doc["ci95"]) == 2
    assert doc["point"] == pytest.approx(s.point, abs=1e-6)


def test_speedup_to_json_turns_nan_into_null():
    assert speedup([1.0], [0.5]).to_json()["ci95"] == [None, None]


# noise ---------------------------------------------------------------------------------------------------

def test_steady_drift_is_flagged_with_a_drift_reason():
    times = [1.01 ** i for i in range(20)]  # 1 % slower every sample, like a throttling CPU
    n = noise(times)
    assert n.flagged
    assert n.drift == pytest.approx(1.01 ** 10 - 1, rel=1e-6)
    assert n.drift_p < 0.05
    assert any("+10.5 %" in r and "Mann–Whitney" in r for r in n.reasons)


def test_a_stable_series_is_not_flagged():
    n = noise(noisy_times(np.random.default_rng(8), 1.0, sigma=0.01))
    assert not n.flagged and n.reasons == ()
    assert n.iqr_over_median < 0.05


def test_a_wide_series_is_flagged_for_spread():
    n = noise(noisy_times(np.random.default_rng(9), 1.0, sigma=0.3))
    assert n.flagged
    assert n.iqr_over_median > 0.10
    assert any(r.startswith("spread") and "above 10 %" in r for r in n.reasons)


def test_a_significant_but_tiny_drift_is_not_flagged():
    n = noise([1.0 + 0.001 * i for i in range(20)])
    assert n.drift_p < 0.05 and abs(n.drift) < 0.05
    assert not n.flagged


def test_a_large_but_insignificant_drift_is_not_flagged():
    # Four samples: halves of two can never reach p < 0.05 with Mann–Whitney.
    n = noise([1.0, 1.0, 1.08, 1.08])
    assert abs(n.drift) > 0.05 and n.drift_p >= 0.05
    assert not n.flagged


def test_spread_is_iqr_over_median():
    n = noise([1.0, 2.0, 3.0, 4.0, 5.0])
    assert n.iqr_over_median == pytest.approx((4.0 - 2.0) / 3.0)


def test_too_few_samples_are_not_flagged_and_say_so():
    n = noise([1.0, 5.0, 1.0])
    assert isinstance(n, Noise)
    assert not n.flagged
    assert len(n.reasons) == 1 and "only 3 samples" in n.reasons[0]
    assert math.isnan(n.drift) and math.isnan(n.drift_p)


def test_noise_rejects_non_positive_samples():
    with pytest.raises(ValueError):
        noise([1.0, 0.0, 1.0, 1.0])


# converged -----------------------------------------------------------------------------------------------

def make(half_width: float) -> Speedup:
    return Speedup(1.5, (1.4, 1.6), "faster", 10, half_width)


def test_converged_when_enough_rounds_and_every_ci_is_tight():
    assert converged([make(0.03), make(0.05)], rounds=5)


def test_not_converged_before_min_rounds():
    assert not converged([make(0.01)], rounds=4)


def test_not_converged_while_one_ci_is_wide():
    assert not converged([make(0.01), make(0.051)], rounds=30)


def test_not_converged_with_an_infinite_half_width():
    assert not converged([make(math.inf)], rounds=30)


def test_converged_respects_custom_limits():
    assert converged([make(0.08)], rounds=3, min_rounds=3, max_half_width=0.10)
    assert not converged([make(0.08)], rounds=3, min_rounds=3, max_half_width=0.05)


# median --------------------------------------------------------------------------------------------------

def test_median_helper():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median(x for x in [4.0, 1.0, 3.0, 2.0]) == 2.5
    with pytest.raises(ValueError):
        median([])


def test_median_ci_brackets_the_median_and_claims_nothing_from_one_sample():
    point, lo, hi = stats.median_ci([100, 102, 98, 101, 99, 97, 103])
    assert point == 100 and lo < 100 < hi and hi - lo < 6
    assert stats.median_ci([5.0])[0] == 5.0 and all(math.isnan(x) for x in stats.median_ci([5.0])[1:])
    assert stats.median_ci([7.0, 7.0, 7.0]) == (7.0, 7.0, 7.0)
    with pytest.raises(ValueError):
        stats.median_ci([1.0, -1.0])


def test_ratio_ci_of_two_independent_series():
    base = [100, 102, 98, 101, 99]
    point, lo, hi = stats.ratio_ci(base, [2 * x for x in (101, 99, 100, 98, 102)])
    assert point == pytest.approx(2.0) and lo < 2.0 < hi and lo > 1.9
    point, lo, hi = stats.ratio_ci(base, [101, 97, 100, 103, 99])
    assert lo < 1.0 < hi  # no difference: the CI includes 1
    assert all(math.isnan(x) for x in stats.ratio_ci([1.0], [2.0, 2.1])[1:])
