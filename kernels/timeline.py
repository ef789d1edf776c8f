"""The sampled timeline of docs/model.md sections 3.2, 3.3 and 4.3, compiled once for everyone.

The kernel calls these inside its blocks; the plain-Python reference and the SimPy engine call
the same functions from Python (through `resilience.model.timeline`), so occurrence, start,
duration and hazard renewals are computed by one implementation.

Stream slots (section 4.3): a scenario disruption draws its Bernoulli from slot 0, its start from
slots 1-2 and its duration from slots 3-4; hazard event j of a (hazard, node) pair draws its up
time from slot 3j and its duration from slots 3j+1, 3j+2. Days are whole days (int64).
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit, jit_inline
from kernels.draws import draw_days, round_days, round_duration
from kernels.rng import uniform

__all__ = [
    "disruption_occurrence",
    "disruption_occurrences",
    "hazard_event",
    "hazard_events",
    "occurrence_level",
]


@jit_inline
def occurrence_level(t: int, a: int, e: int, severity: float, ramp: int) -> float:
    """Level (a fraction) of an occurrence ``(a, e, severity, ramp)`` on day ``t`` (section 3.2):
    ``severity`` on ``a <= t < e``, then a linear ramp down over ``ramp`` days, else 0.

    Written with selects rather than early returns, and inlined, so that a loop over the
    replications of a block that calls it (the hazards of `kernels.states`) vectorises."""
    u = t - e
    ramping = severity * (ramp - u) / (ramp + 1.0)
    level = severity if t < e else (ramping if u < ramp else 0.0)
    return level if a <= t else 0.0


@jit
def disruption_occurrence(
    probability: float,
    start_dist: int,
    duration_dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    seed: np.uint64,
    replication: np.uint64,
    key: np.uint64,
) -> tuple[bool, int, int]:
    """Whether a scenario disruption occurs, and its ``(a, e)`` days (section 3.2).

    ``start_dist``/``duration_dist`` are rows of the distribution table (`kernels.draws`);
    ``key`` is the disruption's stream key. Returns ``(False, 0, 0)`` when it does not occur.
    """
    if not uniform(seed, replication, key, np.uint64(0)) < probability:
        return False, 0, 0
    a = round_days(
        draw_days(start_dist, dist_kind, dist_params, dist_values_ptr, dist_values, dist_cdf,
                  seed, replication, key, np.int64(1))
    )  # fmt: skip
    e = a + round_duration(
        draw_days(duration_dist, dist_kind, dist_params, dist_values_ptr, dist_values, dist_cdf,
                  seed, replication, key, np.int64(3))
    )  # fmt: skip
    return True, a, e


@jit
def hazard_event(
    j: int,
    previous_end: int,
    rate_per_day: float,
    duration_dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    seed: np.uint64,
    replication: np.uint64,
    key: np.uint64,
) -> tuple[int, int]:
    """Event ``j`` of a hazard-node pair's renewal sequence: its ``(a, e)`` days (section 3.3).

    The up time before it is Exponential with mean ``1 / rate_per_day`` days, counted from
    ``previous_end`` (the previous event's ``e`` plus its recovery ramp; 0 for ``j == 0``).
    ``rate_per_day`` is the compiler's calibrated up-time rate, not ``annual_rate / 365``: with
    it, outages start ``annual_rate`` times a year on average (section 3.3).
    """
    up = -math.log(uniform(seed, replication, key, np.uint64(3 * j))) / rate_per_day
    a = previous_end + round_days(up)
    e = a + round_duration(
        draw_days(duration_dist, dist_kind, dist_params, dist_values_ptr, dist_values, dist_cdf,
                  seed, replication, key, 3 * j + 1)
    )  # fmt: skip
    return a, e


@jit
def disruption_occurrences(
    probability: float,
    start_dist: int,
    duration_dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    seed: np.uint64,
    replications: np.ndarray,
    key: np.uint64,
    on: np.ndarray,
    a: np.ndarray,
    e: np.ndarray,
) -> None:
    """`disruption_occurrence` for each of ``replications`` (n,) uint64, written into ``on``
    (n,) bool and ``a``, ``e`` (n,) int64 (0 where it does not occur)."""
    for i in range(replications.shape[0]):
        on[i], a[i], e[i] = disruption_occurrence(
            probability, start_dist, duration_dist, dist_kind, dist_params, dist_values_ptr,
            dist_values, dist_cdf, seed, replications[i], key,
        )  # fmt: skip


@jit
def hazard_events(
    j: np.ndarray,
    previous_end: np.ndarray,
    rate_per_day: float,
    duration_dist: int,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    seed: np.uint64,
    replications: np.ndarray,
    keys: np.ndarray,
    a: np.ndarray,
    e: np.ndarray,
) -> None:
    """`hazard_event` for each item of the (n,) arrays ``j``, ``previous_end`` (int64),
    ``replications`` and ``keys`` (uint64), written into ``a`` and ``e`` (n,) int64."""
    for i in range(j.shape[0]):
        a[i], e[i] = hazard_event(
            j[i], previous_end[i], rate_per_day, duration_dist, dist_kind, dist_params,
            dist_values_ptr, dist_values, dist_cdf, seed, replications[i], keys[i],
        )  # fmt: skip
