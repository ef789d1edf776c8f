"""Stockpile release and allied sharing (model.md 5.7) as one process of the emergency policies.

Both steps work through a shared quantity, each consumer's remaining need, and take stockpiles
and donors in compiled order, so they are one process rather than one per stockpile: it wakes at
phase 6b (release), 6c (sharing) and 7 (shipping what it filled). The steps themselves are
`resilience.model.emergency`'s, which the reference day loop takes too. A network without
release or sharing lanes has no such process.
"""

from __future__ import annotations

from resilience.engines.des.clock import RELEASE, SHARING, SHIPPING
from resilience.engines.des.lanes import FluidLane
from resilience.engines.des.nodes import Step
from resilience.engines.des.state import DesState
from resilience.model.emergency import donors, needs, release, share
from resilience.model.layout import MODE_NAMES

__all__ = ["EmergencyPolicy"]


class EmergencyPolicy:
    """Phases 6b and 6c of one model, and the shipping of what they fill."""

    def __init__(self, model: DesState, lanes: list[FluidLane]) -> None:
        """``lanes``: the lane objects of the model, by lane row."""
        layout = model.layout
        self.model = model
        self.lanes = lanes
        self.layout = layout
        self.stockpiles = [z for z in layout.stockpiles if layout.release_out[z]]
        self.donors = donors(layout)
        self.need: dict[int, float] = {}
        self.fills: dict[int, float] = {}  # today's release and sharing fills, by lane
        self.steps: list[tuple[float, Step]] = []
        if self.stockpiles or self.donors:
            self.steps = [
                (RELEASE, self.release),
                (SHARING, self.sharing),
                (SHIPPING, self.ship),
            ]

    def release(self, day: int) -> None:
        """Phase 6b: each consumer's need, then strategic stockpiles release to the triggered."""
        model = self.model
        self.fills = {}
        self.need = needs(self.layout, model.IP, model.fill, model.T)
        release(self.layout, model.S, model.board.f, model.board.phi, self.need, self.fills)

    def sharing(self, day: int) -> None:
        """Phase 6c: donors above their floor give to members below the trigger."""
        model = self.model
        share(self.layout, model.S, model.board.phi, self.need, self.fills, self.donors)

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
