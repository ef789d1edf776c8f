"""The disruption state of one day (docs/model.md 3.4 and 5.1), shared by the plain-Python engines.

`DayStates` holds the factors and lane states that phase 1 computes and the later phases read:
node factors, surges, lane and export factors, licensing delays, chokepoint closures, and per
lane its closure, detour, throughput factor and availability. The reference day loop fills it
from scratch every day; the SimPy engine's `DisruptionBoard` extends it and updates only what a
change of level touches. Both compute a lane's state with `DayStates.settle_lane`.
"""

from __future__ import annotations

from collections.abc import Sequence

from resilience.model.layout import Layout
from resilience.model.rules import (
    availability,
    extra_lead_days,
    lane_route,
    order_target,
    throughput,
)

__all__ = ["DayStates"]


class DayStates:
    """Today's disruption state, lists indexed by row (factors are fractions).

    Attributes:
        f: node factor ``f_n``.         surge: demand multiplier ``prod (1 + level)``.
        g: lane factor ``g_l``.         gx: export factor ``gx_l``.
        lic: licensing delay ``Lic_l``, days.
        x_k: chokepoint closure.        x_l: combined closure of a lane's route chokepoints.
        E: detour extra days.           F: detour capacity factor.
        phi: throughput factor.         avail: availability ``a_l``.
    """

    def __init__(self, layout: Layout) -> None:
        """A day with nothing in effect: every factor 1, every closure 0."""
        self.layout = layout
        n_nodes, n_lanes = layout.n_nodes, layout.n_lanes
        self.f = [1.0] * n_nodes
        self.surge = [1.0] * n_nodes
        self.g = [1.0] * n_lanes
        self.gx = [1.0] * n_lanes
        self.lic = [0] * n_lanes
        self.x_k = [0.0] * len(layout.choke_detour_days)
        self.x_l = [0.0] * n_lanes
        self.E = [0] * n_lanes
        self.F = [1.0] * n_lanes
        self.phi = [1.0] * n_lanes
        self.avail = [1.0] * n_lanes

    def settle_lane(self, lane: int, chokes: Sequence[int]) -> float:
        """Section 5.1, step 2, for ``lane`` whose route passes ``chokes``: ``x_l``, ``E_l``,
        ``F_l``, ``phi_l`` and ``a_l`` from today's factors. Returns ``a_l``."""
        layout = self.layout
        x, extra, factor = lane_route(
            chokes,
            self.x_k,
            (layout.lane_detour_days[lane], layout.lane_detour_factor[lane]),
            layout.choke_detour_days,
            layout.choke_factor,
        )
        phi = throughput(self.g[lane], self.gx[lane], x, factor)
        avail = availability(phi, self.f[layout.lane_from[lane]])
        self.x_l[lane], self.E[lane], self.F[lane] = x, extra, factor
        self.phi[lane], self.avail[lane] = phi, avail
        return avail

    def order_target(self, b: int) -> float:
        """Buffer ``b``'s order-up-to position ``T_b(t)`` today (section 5.5), units: the
        adaptive rule on today's lane states and surge, or ``T_b`` under ``order_target =
        "fixed"``."""
        layout = self.layout
        if not layout.adaptive:
            return layout.target[b]
        x_l, lic = self.x_l, self.lic
        extra = 0.0
        for lane in layout.normal_in[b]:
            if x_l[lane] == 0.0 and lic[lane] == 0:
                continue  # extra_lead_days is 0: no detour, no licensing delay (most lane-days)
            extra += layout.share[lane] * extra_lead_days(
                x_l[lane], self.E[lane], self.F[lane], lic[lane]
            )
        surges = self.surge  # by node: stock buffer b is node b, input buffers come after
        surge = surges[b] if b < len(surges) else 1.0
        return order_target(layout.target[b], layout.rate[b], layout.pipeline[b], surge, extra)
