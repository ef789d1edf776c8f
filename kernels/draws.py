"""Turning counter-based uniforms into numbers (docs/model.md 4.3).

Scalar compiled helpers, callable from kernels and from Python alike (the plain-Python engines
call them through `resilience.model.timeline`, so the arithmetic exists once):

- `round_days`: a draw in days to whole days; `round_duration`: the same for a duration, where a
  positive draw is at least one day.
- `standard_normal`: Box-Muller from two uniforms.
- `distribution_value`: a value of a distribution row of the Network's distribution table from
  its slot pair's two uniforms.
- `draw_days`: the same, drawing the uniforms from a stream.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit, jit_inline
from kernels.codes import (
    EXPONENTIAL,
    FIXED,
    LOGNORMAL,
    MAX_DRAWN_DAYS,
    TRIANGULAR,
    UNIFORM,
    WEIBULL,
)
from kernels.elementary import cos_turns, log
from kernels.rng import uniform

__all__ = ["distribution_value", "draw_days", "round_days", "round_duration", "standard_normal"]


@jit
def round_days(x: float) -> int:
    """Whole days, halves up, in ``[0, MAX_DRAWN_DAYS]``: ``min(max(0, floor(x + 0.5)), cap)``.

    Anything that is not below the cap, infinity and NaN included, becomes the cap, so no draw
    can overflow the int64 day arithmetic.
    """
    if not x < MAX_DRAWN_DAYS:
        return MAX_DRAWN_DAYS
    value = math.floor(x + 0.5)
    return int(value) if value > 0.0 else 0


@jit
def round_duration(x: float) -> int:
    """A drawn duration in whole days: `round_days`, except that a positive draw is at least one
    day (docs/model.md 4.3), so that a short outage is never rounded away."""
    days = round_days(x)
    return 1 if days == 0 and x > 0.0 else days


@jit_inline
def standard_normal(u_a: float, u_b: float) -> float:
    """Box-Muller, cosine branch: ``sqrt(-2 ln u_a) * cos(2 pi u_b)``, with the logarithm and
    cosine of `kernels.elementary`, so that a vector loop of draws gives the scalar call's bits."""
    return math.sqrt(-2.0 * log(u_a)) * cos_turns(u_b)


@jit
def distribution_value(
    dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    u_a: float,
    u_b: float,
) -> float:
    """A value (days, before rounding) of distribution row ``dist`` from its two uniforms.

    The arrays are the Network's distribution table (docs/network.md): ``dist_kind`` (Q,) int8
    codes of `kernels.codes`, ``dist_params`` (Q, 3) float64, and the empirical values and
    cumulative weights in CSR form. A distribution that needs one uniform uses ``u_a``; the
    lognormal's standard normal uses both. Unknown codes are treated as empirical (the wrapper
    validates codes).
    """
    kind = dist_kind[dist]
    p0 = dist_params[dist, 0]
    p1 = dist_params[dist, 1]
    p2 = dist_params[dist, 2]
    if kind == FIXED:
        return p0
    if kind == EXPONENTIAL:
        return -p0 * math.log(u_a)
    if kind == LOGNORMAL:
        return p0 * math.exp(p1 * standard_normal(u_a, u_b))
    if kind == WEIBULL:
        return p1 * (-math.log(u_a)) ** (1.0 / p0)
    if kind == UNIFORM:
        return p0 + (p1 - p0) * u_a
    if kind == TRIANGULAR:
        low, mode, high = p0, p1, p2
        if high == low:
            return low
        split = (mode - low) / (high - low)
        if u_a < split:
            return low + math.sqrt(u_a * (high - low) * (mode - low))
        return high - math.sqrt((1.0 - u_a) * (high - low) * (high - mode))
    # empirical: the smallest i with u < cdf[i] (cdf is cumulative weight / total)
    start = dist_values_ptr[dist]
    end = dist_values_ptr[dist + 1]
    for i in range(start, end):
        if u_a < dist_cdf[i]:
            return dist_values[i]
    return dist_values[end - 1]


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

    Uses counter slots ``slot`` and ``slot + 1`` of the stream (section 4.3); a fixed
    distribution draws nothing, and only the lognormal needs the second uniform.
    """
    kind = dist_kind[dist]
    if kind == FIXED:
        return dist_params[dist, 0]
    u_a = uniform(seed, replication, key, np.uint64(slot))
    u_b = uniform(seed, replication, key, np.uint64(slot + 1)) if kind == LOGNORMAL else 0.5
    return distribution_value(
        dist, dist_kind, dist_params, dist_values_ptr, dist_values, dist_cdf, u_a, u_b
    )
