"""Paired statistics for interleaved benchmark rounds: speedup with a bootstrap CI, noise checks, stop rule.

Each round times the fp32 baseline and every route once, so round i of the baseline and round i of a route
saw the same machine state. Working on the per-round log ratio cancels most of that shared drift, and the
median of those ratios shrugs off the odd round a background process spoiled.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import DegenerateDataWarning, bootstrap, mannwhitneyu

FASTER, SLOWER, INCONCLUSIVE = "faster", "slower", "inconclusive"
MIN_NOISE_SAMPLES = 4
DRIFT_ALPHA = 0.05


def _json_float(x: float, digits: int = 6) -> float | None:
    # NaN is not valid JSON; null says "not measurable" to any parser.
    return None if math.isnan(x) else round(float(x), digits)


def median(xs: Iterable[float]) -> float:
    """Median of a non-empty sequence of numbers."""
    values = np.asarray(list(xs), dtype=float)
    if values.size == 0:
        raise ValueError("median of an empty sequence")
    return float(np.median(values))


def _positive_finite(name: str, values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != 1:
        raise ValueError(f"{name} must be a flat sequence of numbers, got shape {array.shape}")
    bad = ~np.isfinite(array) | (array <= 0)
    if bad.any():
        raise ValueError(f"{name} must be positive and finite; bad value {array[bad][0]!r} "
                         f"at index {int(np.flatnonzero(bad)[0])}")
    return array


def paired_log_ratios(base_times: Sequence[float], route_times: Sequence[float]) -> list[float]:
    """log(base / route) per round: positive means the route was faster in that round."""
    base = _positive_finite("base_times", base_times)
    route = _positive_finite("route_times", route_times)
    if base.shape != route.shape:
        raise ValueError(f"paired rounds needed: {base.size} baseline times vs {route.size} route times")
    return np.log(base / route).tolist()


@dataclass(frozen=True)
class Speedup:
    point: float  # exp(median log ratio); 2.0 means the route takes half the baseline's time
    ci95: tuple[float, float]
    verdict: str  # "faster" | "slower" | "inconclusive"
    rounds: int
    half_width: float  # relative CI half-width: 0.05 means ±5 %

    def to_json(self) -> dict:
        lo, hi = self.ci95
        return {"point": _json_float(self.point), "ci95": [_json_float(lo), _json_float(hi)],
                "verdict": self.verdict}


def _verdict(lo: float, hi: float) -> str:
    # Only a CI that excludes 1.0 earns a direction; NaN bounds compare False and stay inconclusive.
    if lo > 1:
        return FASTER
    if hi < 1:
        return SLOWER
    return INCONCLUSIVE


def _relative_half_width(log_lo: float, log_hi: float) -> float:
    return math.expm1((log_hi - log_lo) / 2)


def _bootstrap_median_ci(logs: np.ndarray, confidence: float, n_resamples: int, seed: int) -> tuple[float, float]:
    # Percentile, not BCa, on purpose:
    # - BCa's acceleration comes from a jackknife, which is known to be inconsistent for the median (a
    #   non-smooth statistic), and its bias correction counts how many resampled medians fall below the
    #   observed one — with few rounds the resampled medians take only a handful of values, so that count
    #   jumps around and the interval with it. With mostly tied rounds (a coarse timer) every jackknife median
    #   is equal and BCa divides 0 by 0: NaN bounds plus warnings. Simulated coverage at 5–40 rounds is the
    #   same for both (~92–95 %), so BCa buys nothing here.
    # - Percentile intervals are transformation-respecting, so exp() of the log-ratio interval is exactly the
    #   interval for the speedup, and they need no jackknife pass (cheap enough to run after every round).
    with warnings.catch_warnings():
        # Scoped to this one category: only reachable on degenerate data, which speedup() already
        # short-circuits. (catch_warnings swaps process-global state; harmless here, as nothing else is muted.)
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap((logs,), np.median, n_resamples=n_resamples, confidence_level=confidence,
                           method="percentile", vectorized=True, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def speedup(base_times: Sequence[float], route_times: Sequence[float], *,
            confidence: float = 0.95, n_resamples: int = 2000, seed: int = 0) -> Speedup:
    """Route speedup over the baseline from paired rounds, with a bootstrap CI and a verdict."""
    logs = np.asarray(paired_log_ratios(base_times, route_times))
    rounds = int(logs.size)
    if rounds < 2:
        # One round has no spread to resample: report what we saw, claim nothing.
        point = math.exp(logs[0]) if rounds else math.nan
        return Speedup(point, (math.nan, math.nan), INCONCLUSIVE, rounds, math.inf)
    log_point = float(np.median(logs))
    if np.ptp(logs) == 0:
        # Every round agrees exactly: every resample has the same median, so the CI is the point itself.
        log_lo = log_hi = log_point
    else:
        log_lo, log_hi = _bootstrap_median_ci(logs, confidence, n_resamples, seed)
    lo, hi = math.exp(log_lo), math.exp(log_hi)
    return Speedup(math.exp(log_point), (lo, hi), _verdict(lo, hi), rounds, _relative_half_width(log_lo, log_hi))


@dataclass(frozen=True)
class Noise:
    iqr_over_median: float
    drift: float  # relative change of the median from the first half of the samples to the second
    drift_p: float  # Mann–Whitney U p-value between the halves
    flagged: bool
    reasons: tuple[str, ...]


def _halves(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # Equal-sized halves; with an odd count the middle sample belongs to neither.
    half = values.size // 2
    return values[:half], values[values.size - half:]


def _iqr_over_median(values: np.ndarray) -> float:
    if values.size == 0:
        return math.nan
    q75, q25 = np.percentile(values, [75, 25])
    return float((q75 - q25) / np.median(values))


def _spread_reason(iqr_over_median: float, limit: float) -> str:
    return f"spread {iqr_over_median * 100:.1f} % of median (IQR/median), above {limit * 100:.0f} %"


def _drift_reason(drift: float, p: float, limit: float) -> str:
    return (f"median moved {drift * 100:+.1f} % from the first half of the samples to the second "
            f"(Mann–Whitney p = {p:.2g}), beyond ±{limit * 100:.0f} %")


def noise(samples: Sequence[float], *, iqr_limit: float = 0.10, drift_limit: float = 0.05) -> Noise:
    """Is this series too noisy, or drifting (thermal throttling, a neighbour waking up), to trust?"""
    values = _positive_finite("samples", samples)
    if values.size < MIN_NOISE_SAMPLES:
        reason = f"only {values.size} samples; at least {MIN_NOISE_SAMPLES} are needed to judge noise"
        return Noise(_iqr_over_median(values), math.nan, math.nan, False, (reason,))
    spread = _iqr_over_median(values)
    first, second = _halves(values)
    drift = float(np.median(second) / np.median(first) - 1)
    drift_p = float(mannwhitneyu(first, second, alternative="two-sided").pvalue)
    reasons = []
    if spread > iqr_limit:
        reasons.append(_spread_reason(spread, iqr_limit))
    # Both conditions: a big move that could be chance, or a real but tiny move, is not worth a warning.
    if abs(drift) > drift_limit and drift_p < DRIFT_ALPHA:
        reasons.append(_drift_reason(drift, drift_p, drift_limit))
    return Noise(spread, drift, drift_p, bool(reasons), tuple(reasons))


def converged(speedups: Iterable[Speedup], *, rounds: int, min_rounds: int = 5, max_half_width: float = 0.05) -> bool:
    """The stop rule: enough rounds, and every route's CI is tight enough (inf/NaN widths never are)."""
    return rounds >= min_rounds and all(s.half_width <= max_half_width for s in speedups)


def median_ci(samples: Sequence[float], *, confidence: float = 0.95, n_resamples: int = 2000,
              seed: int = 0) -> tuple[float, float, float]:
    """(median, lo, hi) of one series (e.g. throughput per round) with a percentile bootstrap CI of the median;
    one sample has no spread to resample: (point, NaN, NaN)."""
    values = _positive_finite("samples", samples)
    if values.size == 0:
        raise ValueError("median of an empty sequence")
    point = float(np.median(values))
    if values.size < 2:
        return point, math.nan, math.nan
    if np.ptp(values) == 0:
        return point, point, point
    lo, hi = _bootstrap_median_ci(values, confidence, n_resamples, seed)
    return point, lo, hi


def ratio_ci(before: Sequence[float], after: Sequence[float], *, confidence: float = 0.95,
             n_resamples: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    """median(after) / median(before) of two independent series (not paired: measured in different processes
    at different times), with a two-sample percentile bootstrap CI; (point, NaN, NaN) below two samples each."""
    a = _positive_finite("before", before)
    b = _positive_finite("after", after)
    if a.size == 0 or b.size == 0:
        raise ValueError("ratio of medians needs samples on both sides")
    point = float(np.median(b) / np.median(a))
    if a.size < 2 or b.size < 2:
        return point, math.nan, math.nan
    if np.ptp(a) == 0 and np.ptp(b) == 0:
        return point, point, point

    def statistic(x, y, axis=-1):
        return np.median(y, axis=axis) / np.median(x, axis=axis)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DegenerateDataWarning)
        result = bootstrap((a, b), statistic, n_resamples=n_resamples, confidence_level=confidence,
                           method="percentile", vectorized=True, paired=False, rng=np.random.default_rng(seed))
    return point, float(result.confidence_interval.low), float(result.confidence_interval.high)
