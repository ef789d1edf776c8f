"""Confidence intervals that hold near the edges (docs/model.md section 8).

Three kinds, each for the statistic it suits:

- `wilson`: the Wilson score interval of a binomial proportion, such as P(short), the share of
  replications with at least one short day. Unlike mean +- 1.96 sd it stays inside [0, 1] and
  does not collapse to a point when no replication (or every one) is short: 0 short out of
  1,000 gives [0, 0.0038], the familiar "rule of three" scale.
- `bounded_mean`: the mean of a quantity bounded in [0, 1], such as the fill rate, by a Wilson
  interval on Kish's effective sample size ``n_eff = n * m (1 - m) / s^2`` (capped below by ``n``
  and used as ``n`` when ``s = 0`` at an edge, where the data cannot tell us the spread). For a
  0/1 variable this is the plain Wilson interval; for a fill rate that varies little it narrows
  accordingly; near 1 it never reaches past 1.
- `tail_intervals`: percentile-bootstrap intervals (`scipy.stats.bootstrap`, seeded) for the
  quantiles, VaR and CVaR of a consumer's shortfall, computed from one set of resamples; above
  `BOOTSTRAP_UP_TO` replications, `large_sample_tail_intervals` instead: binomial
  order-statistic intervals for the quantiles and VaR and the normal interval of the CVaR
  estimator, which need one sort rather than 999 resamples.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "BOOTSTRAP_RESAMPLES",
    "BOOTSTRAP_UP_TO",
    "Z95",
    "bounded_mean",
    "large_sample_tail_intervals",
    "tail_intervals",
    "tail_statistics",
    "wilson",
]

FloatArray = npt.NDArray[np.float64]

Z95 = 1.959963984540054
"""The 97.5% point of the standard normal: two-sided 95% intervals."""

BOOTSTRAP_RESAMPLES = 999
"""Resamples for the tail intervals: enough for a 95% percentile interval (the 25th and 975th of
999 ordered values), few enough that a run's summary takes well under a second per consumer."""

BOOTSTRAP_UP_TO = 100_000
"""Largest sample whose tail intervals are bootstrapped. Beyond it the bootstrap's cost (999
resamples, each a sort of the whole sample: about 28 s per ever-short consumer at 10^6, an hour
at 10^7) buys nothing over the large-sample intervals, which at this size agree with it to a few
percent of the interval's width (tests/test_intervals.py) and cost one sort."""

TAIL_QUANTILES = (0.05, 0.50, 0.95, 0.99)
TAIL_LEVELS = (0.95, 0.99)


def wilson(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` of a proportion ``successes / n``.

    ``n`` may be a non-integer effective sample size. Returns NaNs when ``n <= 0``.
    """
    if n <= 0:
        return math.nan, math.nan
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # At p = 0 (p = 1) the bound is 0 (1) exactly; centre - half leaves a rounding residue.
    low = 0.0 if successes <= 0 else max(0.0, centre - half)
    high = 1.0 if successes >= n else min(1.0, centre + half)
    return low, high


def bounded_mean(values: FloatArray, z: float = Z95) -> tuple[float, float]:
    """95% interval of the mean of values in [0, 1], by Wilson on the effective sample size.

    Args:
        values: (n,) float64, every value in [0, 1], no NaN.
    """
    n = values.size
    if n < 2:
        return math.nan, math.nan
    mean = float(values.mean())
    variance = float(values.var(ddof=1))
    spread = mean * (1.0 - mean)
    if variance > 0.0 and spread > 0.0:
        n_eff = max(float(n), n * spread / variance)
    elif spread > 0.0:
        # Every replication gave the same value strictly inside (0, 1): the run is deterministic
        # in this metric, and the interval is the point.
        return mean, mean
    else:
        n_eff = float(n)  # all at 0 or all at 1: the binomial bound is all we know
    return wilson(mean * n_eff, n_eff, z)


def tail_statistics(sample: FloatArray, axis: int = -1, *, presorted: bool = False) -> FloatArray:
    """Quantiles 5/50/95/99, VaR95, VaR99, CVaR95, CVaR99 of ``sample`` along ``axis``.

    Quantiles use numpy's default (linear) interpolation, as the summary's quantiles do; VaR is the
    inverted-CDF quantile and CVaR the Rockafellar-Uryasev form (model.md section 8). Returns an
    array with a leading axis of 8 statistics and the other axes of ``sample``.

    Each row is sorted once and every statistic read off the sorted values: the bootstrap calls
    this on (999, n) resamples, where numpy's quantile would partition the data once per level.
    ``presorted``: ``sample`` is already sorted along ``axis`` (saves a sort and its copy).
    """
    ordered = np.moveaxis(np.asarray(sample, dtype=np.float64), axis, -1)
    if not presorted:
        ordered = np.sort(ordered, axis=-1)
    n = ordered.shape[-1]
    # Positions by numpy's own rules, read off the positions 0..n-1 themselves.
    positions = np.arange(n, dtype=np.float64)
    linear = np.quantile(positions, TAIL_QUANTILES)
    lower = np.floor(linear).astype(np.int64)
    upper = np.minimum(lower + 1, n - 1)
    weight = linear - lower
    quantiles = ordered[..., lower] + weight * (ordered[..., upper] - ordered[..., lower])
    at_var = np.quantile(positions, TAIL_LEVELS, method="inverted_cdf").astype(np.int64)
    var = ordered[..., at_var]
    cvar = np.stack(
        [
            var[..., i]
            + (ordered[..., k + 1 :] - var[..., i, None]).sum(axis=-1) / n / (1.0 - level)
            for i, (k, level) in enumerate(zip(at_var, TAIL_LEVELS, strict=True))
        ],
        axis=-1,
    )
    return np.moveaxis(np.concatenate([quantiles, var, cvar], axis=-1), -1, 0)


TAIL_STATISTIC_NAMES = ("p5", "p50", "p95", "p99", "var95", "var99", "cvar95", "cvar99")


def large_sample_tail_intervals(
    sample: FloatArray, z: float = Z95
) -> dict[str, tuple[float, float]]:
    """95% intervals of every `tail_statistics` entry without resampling, for large samples.

    - Quantiles and VaR at level ``q``: the distribution-free order-statistic interval
      ``[X_(l), X_(u)]`` (1-based ranks of the sorted sample), with ``l`` the 2.5% point and
      ``u - 1`` the 97.5% point of Binomial(n, q), the count of values at or below the true
      quantile; ranks are clipped to ``1..n``.
    - CVaR at level ``alpha``: the estimate ``+- z * sd((X - VaR)+) / ((1 - alpha) sqrt(n))``,
      the asymptotic normal interval of the Rockafellar-Uryasev estimator (its influence function
      is ``VaR + (x - VaR)+ / (1 - alpha) - CVaR``).

    Args:
        sample: (n,) float64 per-replication values, n >= 2.
        z: the normal quantile of the two-sided level (`Z95`).
    """
    from scipy import stats  # imported where it is used: the file commands never load scipy

    ordered = np.sort(np.asarray(sample, dtype=np.float64))
    n = ordered.size
    point = tail_statistics(ordered, presorted=True)
    intervals: dict[str, tuple[float, float]] = {}
    levels = (*TAIL_QUANTILES, *TAIL_LEVELS)
    tail = float(stats.norm.sf(z))  # 0.025 for Z95
    for name, q in zip(TAIL_STATISTIC_NAMES[:6], levels, strict=True):
        low_rank = int(max(1.0, stats.binom.ppf(tail, n, q)))
        high_rank = int(min(float(n), stats.binom.ppf(1.0 - tail, n, q) + 1.0))
        intervals[name] = (float(ordered[low_rank - 1]), float(ordered[high_rank - 1]))
    for name, alpha, var, cvar in zip(
        TAIL_STATISTIC_NAMES[6:], TAIL_LEVELS, point[4:6], point[6:], strict=True
    ):
        # sd((X - VaR)+) with one temporary of n values (80 MB at 10^7 replications) rather
        # than numpy's three: the steps of numpy's std, done in place.
        excess = ordered - var
        np.maximum(excess, 0.0, out=excess)
        excess -= excess.mean()
        np.multiply(excess, excess, out=excess)
        sd = math.sqrt(float(excess.sum()) / (n - 1))
        half = z * sd / ((1.0 - alpha) * math.sqrt(n))
        intervals[name] = (float(cvar) - half, float(cvar) + half)
    return intervals


def tail_intervals(
    sample: FloatArray, seed: Sequence[int], block: int | None = None
) -> dict[str, tuple[float, float]]:
    """Seeded 95% percentile-bootstrap intervals of every `tail_statistics` entry, or above
    `BOOTSTRAP_UP_TO` values `large_sample_tail_intervals`.

    A sample with a single distinct value (no consumer short, say) has every statistic equal to
    that value in every resample, so its intervals are that point and no resampling is done.

    Args:
        sample: (n,) float64 per-replication values (a consumer's total shortfall, units).
        seed: entropy for the resampling's generator, e.g. ``(run seed, consumer row)``, so the
            same run gives the same intervals and no two consumers share a stream.
        block: resamples drawn and evaluated at a time (default: all at once). Memory is
            O(block x n); the intervals are the same bit for bit whatever the block, since the
            resamples are drawn from the one generator in the same order
            (tests/test_intervals.py).
    """
    from scipy import stats  # imported where it is used: the file commands never load scipy

    if sample.size < 2 or np.all(sample == sample[0]):
        point = tail_statistics(sample) if sample.size else np.full(8, math.nan)
        return {
            name: (float(v), float(v)) for name, v in zip(TAIL_STATISTIC_NAMES, point, strict=True)
        }
    if sample.size > BOOTSTRAP_UP_TO:
        return large_sample_tail_intervals(sample)
    result = stats.bootstrap(
        (sample,),
        tail_statistics,
        n_resamples=BOOTSTRAP_RESAMPLES,
        batch=block,
        method="percentile",
        vectorized=True,
        rng=np.random.default_rng(list(seed)),
    )
    low, high = result.confidence_interval
    return {
        name: (float(lo), float(hi))
        for name, lo, hi in zip(TAIL_STATISTIC_NAMES, low, high, strict=True)
    }
