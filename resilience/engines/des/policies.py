"""Stockpile release and allied sharing (model.md 5.7) as one process of the emergency policies.

Both steps work through a shared quantity, each consumer's remaining need, and take stockpiles
and donors in compiled order, so they are one process rather than one per stockpile: it wakes at
phase 6b (release), 6c (sharing) and 7 (shipping what it filled). A network without release or
sharing lanes has no such process.
"""

from __future__ import annotations

from resilience.engines.des.clock import RELEASE, SHARING, SHIPPING
from resilience.engines.des.lanes import FluidLane
from resilience.engines.des.nodes import Step
from resilience.engines.des.state import DesState
from resilience.model.layout import MODE_NAMES
from resilience.model.rules import (
    cover,
    fill_pro_rata,
    need,
    release_available,
    sharing_offer,
    thru,
)

__all__ = ["EmergencyPolicy"]


class EmergencyPolicy:
    """Phases 6b and 6c of one model, and the shipping of what they fill."""

    def __init__(self, model: DesState, lanes: list[FluidLane]) -> None:
        """``lanes``: the lane objects of the model, by lane row."""
        layout = model.layout
        net = layout.network
        self.model = model
        self.lanes = lanes
        self.layout = layout
        self.stockpiles = [z for z in layout.stockpiles if layout.release_out[z]]
        self.donors = [j for j in layout.consumers if layout.sharing_out[j]]
        self.release_trigger = net.release_trigger_days
        self.release_fraction = net.release_max_fraction
        self.sharing_trigger = net.sharing_trigger_days
        self.floor = net.sharing_floor_days
        self.sharing_fraction = net.sharing_max_fraction
        self.need: dict[int, float] = {}
        self.fills: dict[int, float] = {}  # today's release and sharing fills, by lane
        self.steps: list[tuple[float, Step]] = []
        if self.stockpiles or self.donors:
            self.steps = [
                (RELEASE, self.release),
                (SHARING, self.sharing),
                (SHIPPING, self.ship),
            ]

    def cover(self, b: int) -> float:
        """Stock after phase 4 over mean demand (no surge), days; inf when ``mu = 0``."""
        return cover(self.model.S[b], self.layout.mu[b])

    def release(self, day: int) -> None:
        """Phase 6b: each consumer's need, then strategic stockpiles release to the triggered."""
        layout = self.layout
        model = self.model
        S, IP, fill = model.S, model.IP, model.fill
        self.fills = {}
        # Q_b: today's normal fills toward b (release and sharing lanes hold 0 until now).
        self.need = {
            b: need(layout.target[b], IP[b], [fill[lane] for lane in layout.normal_in[b]])
            for b in layout.consumers
        }
        for z in self.stockpiles:
            lanes = [
                lane
                for lane in layout.release_out[z]
                if self.cover(layout.lane_to[lane]) < self.release_trigger
            ]
            if not lanes:
                continue
            available = release_available(
                S[z],
                self.release_fraction,
                layout.initial[z],
                layout.node_capacity[z],
                model.board.f[z],
            )
            self._fill(lanes, available)

    def sharing(self, day: int) -> None:
        """Phase 6c: donors above their floor give to members below the trigger."""
        layout = self.layout
        S = self.model.S
        for j in self.donors:
            if not self.cover(j) > self.floor:
                continue
            lanes = [
                lane
                for lane in layout.sharing_out[j]
                if self.cover(layout.lane_to[lane]) < self.sharing_trigger
            ]
            if not lanes:
                continue
            offer = sharing_offer(self.sharing_fraction, S[j], self.floor, layout.mu[j])
            self._fill(lanes, offer)

    def _fill(self, lanes: list[int], available: float) -> None:
        """Fill ``r_l = thru_l(N_b)`` on ``lanes`` from ``available``, pro rata when short."""
        layout = self.layout
        phi = self.model.board.phi
        need = self.need
        capacity = layout.lane_capacity
        requests = [thru(capacity[lane], phi[lane], need[layout.lane_to[lane]]) for lane in lanes]
        for lane, quantity in zip(lanes, fill_pro_rata(requests, available), strict=True):
            self.fills[lane] = quantity
            need[layout.lane_to[lane]] -= quantity

    def ship(self, day: int) -> None:
        """Phase 7 for release and sharing lanes: stock leaves the stockpile or the donor."""
        model = self.model
        S = model.S
        trace = model.trace
        for lane in sorted(self.fills):
            quantity = self.fills[lane]
            if quantity > 0.0:
                S[self.layout.lane_from[lane]] -= quantity
                self.lanes[lane].load(quantity, day)
                if trace is not None:
                    mode = MODE_NAMES[self.layout.lane_mode[lane]]  # release or sharing
                    trace.lane(model.env.now, "ship", lane, quantity, mode)
