"""Turning counter-based uniforms into days (docs/model.md 4.3).

Scalar compiled helpers: a distribution row of the Network's distribution table plus two
uniforms in, a number of days out. Used inside the simulation kernel when it samples a
replication's disruption timeline.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit
from kernels.rng import uniform

__all__ = ["draw_days", "round_days"]

FIXED, EXPONENTIAL, LOGNORMAL, WEIBULL, UNIFORM, TRIANGULAR, EMPIRICAL = 0, 1, 2, 3, 4, 5, 6


@jit
def round_days(x: float) -> int:
    """Whole days, halves up, never below 0: ``max(0, floor(x + 0.5))``."""
    value = math.floor(x + 0.5)
    return int(value) if value > 0.0 else 0


@jit
def draw_days(
    dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    seed: np.uint64,
    replication: np.uint64,
    key: np.uint64,
    slot: int,
) -> float:
    """A draw (in days, not yet rounded) from distribution row ``dist``.

    Uses counter slots ``slot`` and ``slot + 1`` of the stream; distributions that need one
    uniform use the first (section 4.3).
    """
    kind = dist_kind[dist]
    p0 = dist_params[dist, 0]
    p1 = dist_params[dist, 1]
    p2 = dist_params[dist, 2]
    if kind == FIXED:
        return p0
    u = uniform(seed, replication, key, np.uint64(slot))
    if kind == EXPONENTIAL:
        return -p0 * math.log(u)
    if kind == LOGNORMAL:
        u2 = uniform(seed, replication, key, np.uint64(slot + 1))
        z = math.sqrt(-2.0 * math.log(u)) * math.cos(2.0 * math.pi * u2)
        return p0 * math.exp(p1 * z)
    if kind == WEIBULL:
        return p1 * (-math.log(u)) ** (1.0 / p0)
    if kind == UNIFORM:
        return p0 + (p1 - p0) * u
    if kind == TRIANGULAR:
        low, mode, high = p0, p1, p2
        if high == low:
            return low
        split = (mode - low) / (high - low)
        if u < split:
            return low + math.sqrt(u * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u) * (high - low) * (high - mode))
    # empirical: the smallest i with u < cdf[i] (cdf is cumulative weight / total)
    start = dist_values_ptr[dist]
    end = dist_values_ptr[dist + 1]
    for i in range(start, end):
        if u < dist_cdf[i]:
            return dist_values[i]
    return dist_values[end - 1]
