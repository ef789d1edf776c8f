"""Phases 6b and 6c of the day (docs/model.md 5.7): stockpile release, then allied sharing.

Both steps work through one shared quantity, each consumer's remaining need, and take
stockpiles and donors in compiled order, so they are stated here once as steps on plain state
(lists indexed by buffer, node or lane row) for the reference day loop and for the SimPy
engine's emergency-policy process. Quantities are in units of each consumer's commodity.
"""

from __future__ import annotations

from collections.abc import Sequence

from resilience.model.layout import Layout
from resilience.model.rules import (
    cover,
    fill_pro_rata,
    need,
    release_available,
    sharing_offer,
    thru,
)

__all__ = ["Fills", "donors", "needs", "release", "share"]

Fills = list[float] | dict[int, float]
"""Today's fill per lane row, written for the release and sharing lanes that get one."""


def donors(layout: Layout) -> list[int]:
    """The consumers with sharing lanes, in compiled order (section 5.7)."""
    return [j for j in layout.consumers if layout.sharing_out[j]]


def needs(
    layout: Layout, IP: Sequence[float], fill: Sequence[float], target: Sequence[float]
) -> dict[int, float]:
    """``N_b = max(0, T_b(t) - IP_b - Q_b)`` of every consumer, with ``Q_b`` its normal fills of
    today (``fill`` per lane row, phase 6a) and ``target`` today's order-up-to position per
    buffer (phase 5)."""
    return {
        b: need(target[b], IP[b], [fill[lane] for lane in layout.normal_in[b]])
        for b in layout.consumers
    }


def release(
    layout: Layout,
    S: Sequence[float],
    f: Sequence[float],
    phi: Sequence[float],
    needs_now: dict[int, float],
    fills: Fills,
) -> None:
    """Phase 6b: each strategic stockpile releases to its consumers below the trigger cover.

    Args:
        S: stock per buffer after phase 4.   f: node factor per node.   phi: throughput factor
            per lane.
        needs_now: the need per consumer (`needs`), reduced by each fill.
        fills: written for every release lane of a triggered consumer.
    """
    net = layout.network
    for z in layout.stockpiles:
        lanes = _triggered(layout, S, layout.release_out[z], net.release_trigger_days)
        if lanes:
            available = release_available(
                S[z], net.release_max_fraction, layout.initial[z], layout.node_capacity[z], f[z]
            )
            _fill_from(layout, lanes, available, phi, needs_now, fills)


def share(
    layout: Layout,
    S: Sequence[float],
    phi: Sequence[float],
    needs_now: dict[int, float],
    fills: Fills,
    donor_nodes: Sequence[int],
) -> None:
    """Phase 6c: donors above their floor cover give to members below the trigger cover.

    ``donor_nodes`` is `donors(layout)`; the other arguments are those of `release`.
    """
    net = layout.network
    floor = net.sharing_floor_days
    for j in donor_nodes:
        if not cover(S[j], layout.mu[j]) > floor:
            continue
        lanes = _triggered(layout, S, layout.sharing_out[j], net.sharing_trigger_days)
        if lanes:
            offer = sharing_offer(net.sharing_max_fraction, S[j], floor, layout.mu[j])
            _fill_from(layout, lanes, offer, phi, needs_now, fills)


def _triggered(layout: Layout, S: Sequence[float], lanes: list[int], trigger: float) -> list[int]:
    """The ``lanes`` whose destination's cover is below ``trigger`` days (section 5.7)."""
    lane_to, mu = layout.lane_to, layout.mu
    return [lane for lane in lanes if cover(S[lane_to[lane]], mu[lane_to[lane]]) < trigger]


def _fill_from(
    layout: Layout,
    lanes: list[int],
    available: float,
    phi: Sequence[float],
    needs_now: dict[int, float],
    fills: Fills,
) -> None:
    """Fill ``r_l = thru_l(N_b)`` on ``lanes`` from ``available``, pro rata when short."""
    capacity, lane_to = layout.lane_capacity, layout.lane_to
    requests = [thru(capacity[lane], phi[lane], needs_now[lane_to[lane]]) for lane in lanes]
    for lane, quantity in zip(lanes, fill_pro_rata(requests, available), strict=True):
        fills[lane] = quantity
        needs_now[lane_to[lane]] -= quantity
