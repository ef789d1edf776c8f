"""Lanes as long-lived processes: the goods in transit on one lane and their arrival.

A `FluidLane` holds its pipeline as a deque of quantities by arrival day, the first entry due on
``day0``. Its process wakes at the arrivals phase of each day while the pipeline holds anything,
delivers the fraction ``g_l`` of what is due into the destination buffer and carries the rest to
the next day (model.md 5.2); when the pipeline empties it sleeps until a supplier loads it again.
Shipping (phase 7) is a call from the supplier's process: `load` splits the quantity into the
direct and the detour part and files both under their arrival days (section 5.8).

Sums over a pipeline run in ascending arrival day, as the model's reference does, so positions
(section 5.5) are computed from the same additions in the same order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator
from typing import Any

from resilience.engines.des.clock import ARRIVALS
from resilience.engines.des.state import DesState
from resilience.model.rules import delivery, split_shipment

__all__ = ["FluidLane"]


class FluidLane:
    """Lane row ``lane`` of a model in fluid mode (quantities in units of its commodity)."""

    def __init__(self, model: DesState, lane: int) -> None:
        layout = model.layout
        self.model = model
        self.lane = lane
        self.buffer = layout.lane_buffer[lane]
        self.lead = layout.lead[lane]
        self.board = model.board
        self._x, self._lic = model.board.x_l, model.board.lic  # closure, licensing, by lane
        self.queue: deque[float] = deque()  # queue[i]: units due on day day0 + i
        self.day0 = 0
        self._wake: Any = None
        flow = layout.initial_flow[lane]
        if flow > 0.0:
            # Warm start (model.md 2.6): flow due on each of the days 0 .. L-1.
            self.queue.extend([flow] * self.lead)
        self.shipped = 0.0  # units loaded within the horizon (shipping cost)

    def start(self) -> None:
        """Start the lane's process."""
        self.model.env.process(self.process())

    def in_transit(self) -> float:
        """Everything in transit on the lane, held cargo included, units.

        The pipeline is summed in ascending arrival day, left to right, as in the reference.
        """
        return sum(self.queue, 0.0)

    def load(self, quantity: float, day: int) -> None:
        """Phase 7 of day ``day``: ``quantity`` leaves the supplier and enters the pipeline."""
        lane = self.lane
        x = self._x[lane]
        arrival = day + self.lead + self._lic[lane]
        self.shipped += quantity
        if x == 0.0:  # nothing closed: q * (1 - 0) / (1 - 0 + 0 * F) = q, all direct
            queue = self.queue
            if queue and arrival - self.day0 == len(queue):  # a new last day: the usual case
                queue.append(quantity)
            else:
                self._file(arrival, quantity, day)
            return
        board = self.board
        direct, detour = split_shipment(quantity, x, board.F[lane])
        self._file(arrival, direct, day)
        if detour != 0.0:
            self._file(arrival + board.E[lane], detour, day)
            trace = self.model.trace
            if trace is not None:
                trace.lane(self.model.env.now, "detour", lane, detour, "closed chokepoint")

    def _file(self, arrival: int, quantity: float, day: int) -> None:
        """Add ``quantity`` to the cargo due on ``arrival`` (after day ``day``'s arrivals)."""
        queue = self.queue
        if queue:
            index = arrival - self.day0
            if index < len(queue):
                queue[index] += quantity
                return
        else:
            self.day0 = day + 1
            index = arrival - self.day0
            if self._wake is not None:
                wake, self._wake = self._wake, None
                wake.succeed()
        queue.extend([0.0] * (index - len(queue)))
        queue.append(quantity)  # 0.0 + quantity, as when the reference files into a new day

    def _deliver_part(self, factor: float, due: float) -> None:
        """Deliver ``g_l * due`` and carry the rest to the next day (model.md 5.2)."""
        model = self.model
        deliver, carry = delivery(factor, due)
        model.S[self.buffer] += deliver
        model.records.delivered[self.buffer] += deliver
        queue = self.queue
        if carry != 0.0:
            if queue:
                queue[0] += carry
            else:
                queue.append(carry)
        if model.trace is not None:
            model.trace.lane(model.env.now, "deliver", self.lane, deliver)
            if carry != 0.0:
                model.trace.lane(model.env.now, "hold", self.lane, carry, "lane disruption")

    def process(self) -> Generator[Any, Any, None]:
        """Deliver what is due at the arrivals phase of every day the pipeline is not empty."""
        model = self.model
        env = model.env
        timeout = env.timeout
        queue = self.queue
        S = model.S
        delivered = model.records.delivered
        g = self.board.g
        lane, b = self.lane, self.buffer
        trace = model.trace
        while True:
            if not queue:
                self._wake = env.event()
                yield self._wake
            yield timeout(self.day0 + ARRIVALS - env.now)
            while queue:
                due = queue.popleft()
                self.day0 += 1
                if due != 0.0:
                    factor = g[lane]
                    if factor == 1.0:  # no lane disruption: g * due = due, nothing held
                        S[b] += due
                        delivered[b] += due
                        if trace is not None:
                            trace.lane(env.now, "deliver", lane, due)
                    else:
                        self._deliver_part(factor, due)
                if queue:
                    yield timeout(1.0)
