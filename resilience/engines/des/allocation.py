"""The arithmetic of ordering and allocation (model.md 5.6 and 5.7), as plain functions.

The processes of `resilience.engines.des.nodes` and `resilience.engines.des.policies` decide
*when* these run; this module says *what* they compute. Sums run left to right in the order the
lanes are given, as the model's reference does.
"""

from __future__ import annotations

import math

__all__ = ["allocate", "effective_shares", "fill_pro_rata"]


def allocate(requests: list[float], available: float, ranks: list[int] | None) -> list[float]:
    """One supplier's fills of ``requests`` (units) from ``available`` units (section 5.6).

    Args:
        requests: the requests on the supplier's outbound normal lanes, in lane order.
        available: the supplier's available stock ``A >= 0``.
        ranks: the allocation rank of each lane's destination (priority allocation), or None
            for pro-rata.
    """
    total = 0.0
    for r in requests:
        total += r
    if total <= available:  # A >= 0, so this holds whenever every request is 0
        return requests
    if ranks is None:
        return [r * available / total for r in requests]
    fills = [0.0] * len(requests)
    remaining = available
    for rank in sorted(set(ranks)):
        members = [i for i, lane_rank in enumerate(ranks) if lane_rank == rank]
        rank_total = 0.0
        for i in members:
            rank_total += requests[i]
        if rank_total <= remaining:
            for i in members:
                fills[i] = requests[i]
            remaining -= rank_total
        else:
            for i in members:
                fills[i] = requests[i] * remaining / rank_total
            break  # later ranks get 0
    return fills


def fill_pro_rata(requests: list[float], available: float) -> list[float]:
    """Release and sharing (section 5.7): every request in full, or pro rata when short."""
    total = 0.0
    for r in requests:
        total += r
    if total <= available:
        return requests
    return [r * available / total for r in requests]


def effective_shares(
    group: list[int],
    counter: list[int],
    share: list[float],
    avail: list[float],
    capacity: list[float],
    delay: list[int],
) -> list[float]:
    """The effective shares ``e_l`` of one share group (section 5.6), in group order.

    Args:
        group: the lanes of the group (rows).
        counter: the switching counter ``c_l(t)`` of each lane of the group, in group order.
        share: sourcing share per lane row.   avail: availability ``a_l`` per lane row.
        capacity: capacity ``K_l`` per lane row (units/day, inf).   delay: switching delay
            per lane row (days).
    """
    switched = [lane for lane, c in zip(group, counter, strict=True) if c > delay[lane]]
    receivers = [lane for lane, c in zip(group, counter, strict=True) if c == 0]
    weight = dict.fromkeys(group, 0.0)
    if receivers:
        unbounded = [lane for lane in receivers if math.isinf(capacity[lane])]
        if unbounded:
            for lane in unbounded:
                weight[lane] = 1.0 / len(unbounded)
        else:
            total = 0.0
            for lane in receivers:
                total += capacity[lane]
            for lane in receivers:
                weight[lane] = capacity[lane] / total
    handed = {j: share[j] * (1.0 - avail[j]) for j in switched}
    shares = []
    for lane in group:
        gives = handed[lane] if (lane in handed and receivers) else 0.0
        takes = 0.0
        if receivers:
            for j in switched:
                takes += handed[j] * weight[lane]
        shares.append(share[lane] - gives + takes)
    return shares
