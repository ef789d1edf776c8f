"""Expected whole-day lengths of drawn durations, and the up time that makes a hazard's rate true.

A hazard on a node is an alternating renewal process (docs/model.md 3.3): an up time, an outage of
``D`` whole days, a recovery ramp of ``R`` days, the next up time, and so on. Outages start at the
stated ``annual_rate`` on average only if one cycle lasts ``365 / annual_rate`` days, so the mean
up time is what is left of the cycle: ``365 / annual_rate - E[D] - R`` whole days. This module
computes ``E[D]`` exactly for the rounding rule of docs/model.md 4.3 (halves up, never a positive
draw to 0 days, capped at `MAX_DRAWN_DAYS`), and the exponential mean whose rounded draws have a
given mean. Plain Python and NumPy only (NumPy imported when a hazard needs it): `validate` and
`show` call it and must start fast.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from kernels.codes import MAX_DRAWN_DAYS
from resilience.scenario.schema import Distribution

if TYPE_CHECKING:
    import numpy as np

__all__ = ["exponential_mean_for_rounded_mean", "rounded_duration_mean", "up_time_days"]

_NEGLIGIBLE = 1e-18
"""Survival probability below which further whole days add nothing a float can hold."""


def _survival(dist: Distribution, x: np.ndarray) -> np.ndarray:
    """``P(X >= x)`` for a continuous family at the points ``x`` (days, > 0), shape of ``x``."""
    import numpy as np

    match dist.dist:
        case "exponential":
            return np.exp(-x / float(dist.mean or 1.0))
        case "lognormal":
            scale = float(dist.sigma or 1.0) * math.sqrt(2.0)
            z = np.log(x / float(dist.median or 1.0)) / scale
            erfc: np.ndarray = np.vectorize(math.erfc)(z)
            return 0.5 * erfc
        case "weibull":
            return np.exp(-((x / float(dist.scale or 1.0)) ** float(dist.shape or 1.0)))
        case "uniform":
            low, high = float(dist.low or 0.0), float(dist.high or 0.0)
            return np.clip((high - x) / (high - low), 0.0, 1.0)
        case "triangular":
            low, mode = float(dist.low or 0.0), float(dist.mode or 0.0)
            high = float(dist.high or 0.0)
            span = high - low
            below = 1.0 - (x - low) ** 2 / (span * (mode - low)) if mode > low else np.ones_like(x)
            above = (high - x) ** 2 / (span * (high - mode)) if high > mode else np.zeros_like(x)
            survival = np.where(x <= mode, below, above)
            return np.where(x <= low, 1.0, np.where(x >= high, 0.0, survival))
    raise ValueError(f"no survival function for {dist.dist!r}")


def _upper_days(dist: Distribution) -> float:
    """A number of days past which ``P(X >= x)`` is below `_NEGLIGIBLE` (or the cap)."""
    tail = -math.log(_NEGLIGIBLE)  # about 41.4
    match dist.dist:
        case "exponential":
            upper = float(dist.mean or 0.0) * tail
        case "lognormal":
            upper = float(dist.median or 0.0) * math.exp(float(dist.sigma or 0.0) * 9.0)
        case "weibull":
            upper = float(dist.scale or 0.0) * tail ** (1.0 / float(dist.shape or 1.0))
        case _:
            upper = float(dist.high or 0.0)
    return min(float(MAX_DRAWN_DAYS), upper + 1.0)


def _round_duration(x: float) -> int:
    """docs/model.md 4.3 for a duration: halves up, capped, and a positive draw at least 1 day.

    The same rule as the compiled `kernels.draws.round_duration`, restated here because calling
    a compiled function would import Numba, which `validate` and `show` must not."""
    if not x < MAX_DRAWN_DAYS:
        return MAX_DRAWN_DAYS
    if x <= 0.0:
        return 0
    return max(1, math.floor(x + 0.5))


def rounded_duration_mean(dist: Distribution) -> float:
    """``E[D]`` in days, where ``D`` is a draw of ``dist`` rounded as a duration (model.md 4.3).

    ``E[D] = sum_{k >= 1} P(D >= k)``, with ``P(D >= 1) = P(X > 0)`` (a positive draw is never
    rounded to 0 days) and ``P(D >= k) = P(X >= k - 1/2)`` for ``k >= 2`` (halves round up); the
    sum stops where the survival function is negligible or at the cap of `MAX_DRAWN_DAYS` days.
    Fixed and empirical durations are summed exactly.
    """
    import numpy as np

    if dist.dist == "fixed":
        return float(_round_duration(float(dist.value or 0.0)))
    if dist.dist == "empirical":
        values = dist.values or []
        weights = dist.weights or [1.0] * len(values)
        total = sum(weights)
        weighted = sum(w * _round_duration(float(v)) for v, w in zip(values, weights, strict=True))
        return weighted / total
    bounded = dist.dist in ("uniform", "triangular")
    if bounded and float(dist.low or 0.0) == float(dist.high or 0.0):
        return float(_round_duration(float(dist.low or 0.0)))
    # P(X > 0): draws of the unbounded families are positive (the uniform is inside (0, 1)).
    positive = float(_survival(dist, np.array([0.0]))[0]) if bounded else 1.0
    last = math.ceil(_upper_days(dist))
    k = np.arange(2, max(2, last) + 1, dtype=np.float64)
    return positive + float(np.sum(_survival(dist, k - 0.5)))


def exponential_mean_for_rounded_mean(days: float) -> float:
    """The mean ``m`` of an exponential ``U`` whose draws rounded to whole days average ``days``.

    ``E[floor(U + 1/2)] = sum_{k >= 1} exp(-(k - 1/2) / m) = 1 / (2 sinh(1 / (2 m)))``, so
    ``m = 1 / (2 asinh(1 / (2 days)))``; ``m`` is within ``1 / (24 days)`` of ``days``.
    """
    if not days > 0.0:
        raise ValueError(f"a mean up time must be positive, got {days} days")
    return 0.5 / math.asinh(0.5 / days)


def up_time_days(annual_rate: float, duration: Distribution, recovery_days: int) -> float:
    """The mean rounded up time (days) that makes outages start ``annual_rate`` times a year.

    One renewal cycle is an up time, an outage and its ramp, so the cycle of ``365 /
    annual_rate`` days leaves ``365 / annual_rate - E[D] - recovery_days`` days up on average.
    The result is <= 0 when outages that long cannot start that often.
    """
    return 365.0 / annual_rate - rounded_duration_mean(duration) - recovery_days
