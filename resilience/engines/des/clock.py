"""The SimPy engine's clock: one simulated day per unit of time, phases at fixed times of day.

Day ``t`` of docs/model.md is the interval ``[t, t + 1)`` of simulated time (unit: days). Every
phase of section 5 happens at a fixed offset into the day, so the heap of the `Environment`
orders the phases of a day the way the model page does, whatever process runs them:

======================  ======  =========================================================
phase (model.md)        offset  who acts
======================  ======  =========================================================
1 disruption states     0       occurrence processes set levels; the board settles
2 arrivals              1/16    lane processes deliver what is due
2 overflow clipping     2/16    nodes with a bounded buffer that lanes deliver into
3 production            3/16    sources and processors
4 demand                4/16    consumers
5 ordering              5/16    every buffer that orders (and every consumer's position)
6a allocation           6/16    suppliers
6b stockpile release    7/16    the emergency-policy process
6c allied sharing       8/16    the emergency-policy process
7 shipping              9/16    suppliers and the emergency-policy process load lanes
end-of-day books        15/16   stock on hand is recorded for holding cost
======================  ======  =========================================================

The offsets are multiples of 1/16, so every phase time ``t + k/16`` is exact in binary floating
point and differences of phase times are exact too: the fluid model never sees a rounded clock.
In detailed mode (docs/des.md) vessels, berths and canal slots act at any time in between.
"""

from __future__ import annotations

import simpy

__all__ = [
    "ALLOCATION",
    "ARRIVALS",
    "BOOKS",
    "CLIPPING",
    "DEMAND",
    "ORDERING",
    "PRODUCTION",
    "RELEASE",
    "SHARING",
    "SHIPPING",
    "STATES",
    "DesEnvironment",
]

STATES = 0.0
ARRIVALS = 1 / 16
CLIPPING = 2 / 16
PRODUCTION = 3 / 16
DEMAND = 4 / 16
ORDERING = 5 / 16
ALLOCATION = 6 / 16
RELEASE = 7 / 16
SHARING = 8 / 16
SHIPPING = 9 / 16
BOOKS = 15 / 16


class DesEnvironment(simpy.Environment):
    """A SimPy environment (time in days) that can say how many events it has processed."""

    @property
    def events_processed(self) -> int:
        """Events taken off the queue so far (timeouts, process starts, triggered events).

        SimPy numbers every scheduled event from 0; the events scheduled but not yet processed
        are those left on the queue. Counting this way costs nothing per event, unlike an
        overridden `step`. (Reading the counter uses up one id; ids only need to increase.)
        """
        scheduled: int = next(self._eid)
        return scheduled - len(self._queue)
