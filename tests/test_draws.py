"""The draws of kernels/draws.py through the counter RNG, against scipy.stats (issue 8 item 8).

Each continuous distribution is drawn 20,000 times (replications 0..19,999 of one stream, seed
20261201) and compared with scipy's distribution of the same parameters by a one-sample
Kolmogorov-Smirnov test; the empirical distribution by a chi-square test of its frequencies.
The samples are fixed by the seed, so each test is deterministic; the tolerance is p > 0.001,
which a correct sampler fails with probability 0.1% per test and a wrong one (a swapped
parameter, a wrong transform) fails by many orders of magnitude.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from kernels.codes import DISTRIBUTION_CODES, MAX_DRAWN_DAYS
from kernels.draws import draw_days, round_days, standard_normal
from kernels.rng import uniform

SEED = np.uint64(20261201)
KEY = np.uint64(0x5EED)
N = 20_000


def _draws(kind: str, params: tuple[float, ...], values: tuple[float, ...] = (),
           cdf: tuple[float, ...] = ()) -> np.ndarray:  # fmt: skip
    """N draws of one distribution row, one per replication, from slots 3-4 of one stream."""
    dist_kind = np.array([DISTRIBUTION_CODES[kind]], dtype=np.int8)
    dist_params = np.zeros((1, 3))
    dist_params[0, : len(params)] = params
    ptr = np.array([0, len(values)], dtype=np.int64)
    return np.array([
        draw_days(0, dist_kind, dist_params, ptr, np.array(values, dtype=np.float64),
                  np.array(cdf, dtype=np.float64), SEED, np.uint64(r), KEY, 3)
        for r in range(N)
    ])  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "params", "reference"),
    [
        ("exponential", (10.0,), stats.expon(scale=10.0)),
        ("lognormal", (20.0, 0.5), stats.lognorm(s=0.5, scale=20.0)),
        ("weibull", (1.5, 30.0), stats.weibull_min(c=1.5, scale=30.0)),
        ("uniform", (5.0, 25.0), stats.uniform(loc=5.0, scale=20.0)),
        ("triangular", (10.0, 20.0, 50.0), stats.triang(c=0.25, loc=10.0, scale=40.0)),
    ],
)
def test_continuous_draws_follow_scipy(
    kind: str, params: tuple[float, ...], reference: object
) -> None:
    sample = _draws(kind, params)
    result = stats.kstest(sample, reference.cdf)  # type: ignore[attr-defined]
    assert result.pvalue > 0.001, (kind, result)
    assert sample.mean() == pytest.approx(reference.mean(), rel=0.03)  # type: ignore[attr-defined]


def test_empirical_draws_follow_their_weights() -> None:
    """values 5, 10, 30 with weights 1, 2, 1: chi-square of the counts, p > 0.001."""
    values, weights = (5.0, 10.0, 30.0), np.array([1.0, 2.0, 1.0])
    cdf = tuple(np.cumsum(weights) / weights.sum())
    sample = _draws("empirical", (), values, cdf)
    counts = np.array([(sample == v).sum() for v in values])
    assert counts.sum() == N
    result = stats.chisquare(counts, N * weights / weights.sum())
    assert result.pvalue > 0.001, result


def test_fixed_draws_are_the_value() -> None:
    assert set(_draws("fixed", (7.5,))[:100]) == {7.5}


def test_standard_normal_follows_scipy() -> None:
    """Box-Muller from slots 0-1 of a demand-like stream: KS against N(0, 1), p > 0.001."""
    sample = np.array([
        standard_normal(uniform(SEED, np.uint64(r), KEY, np.uint64(0)),
                        uniform(SEED, np.uint64(r), KEY, np.uint64(1)))
        for r in range(N)
    ])  # fmt: skip
    assert stats.kstest(sample, stats.norm.cdf).pvalue > 0.001


@pytest.mark.parametrize(
    ("x", "days"),
    [(0.0, 0), (-3.2, 0), (0.49, 0), (0.5, 1), (2.5, 3), (1e5 + 0.4, 100_000),
     (1e300, MAX_DRAWN_DAYS), (math.inf, MAX_DRAWN_DAYS), (math.nan, MAX_DRAWN_DAYS)],
)  # fmt: skip
def test_round_days_rounds_half_up_and_caps(x: float, days: int) -> None:
    """model.md 4.3: halves up, never below 0, never above 1,000,000 (inf and NaN included)."""
    assert round_days(x) == days


def test_a_heavy_tail_runs_and_shows(tmp_path: Path) -> None:
    """The heaviest lognormal the schema allows (median 1e5 days, sigma 10) draws durations up
    to about 1e42 days: capped, they run (the closure simply lasts past the horizon) and show."""
    heavy = 'disruptions.hormuz_closure.duration={dist="lognormal",median=1e5,sigma=10}'
    for command in (("show", "demo"), ("run", "demo", "-n", "64")):
        result = subprocess.run(
            [sys.executable, "-m", "resilience", *command, "--set", heavy],
            capture_output=True, text=True, cwd=tmp_path, check=False,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
