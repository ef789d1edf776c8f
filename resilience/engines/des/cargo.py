"""Detailed mode: whole cargoes on finite fleets, canal transit slots and unloading berths.

A `CargoLane` replaces the fluid pipeline of a lane that has ``[lanes.ID.vessels]``. What a
supplier ships (phase 7) waits on the quay until it makes a full cargo; the cargo waits for a
free vessel of the lane's fleet (a `simpy.Resource`), waits out any licensing delay, sails (round
the detour when the route's closure sends it there), queues for the slots of each canal with
``[chokepoints.ID.slots]`` on its way, waits for a berth at a destination with
``[nodes.ID.berths]``, unloads, and the vessel sails back in ballast before it is free again.
One long-lived loader process per lane forms cargoes and finds vessels; each voyage is a process
that lives as long as the vessel is away. A `CanalSlots` process per canal lets vessels through
at most ``per_day * (1 - closure) - other_traffic_per_day`` times a day, first come first served.

The warm-start pipeline of model.md 2.6 is still delivered day by day (vessels start at the
loading port), and a cargo that arrives while a lane disruption holds the lane delivers the
share ``g_l`` and leaves the rest to the fluid pipeline for the next day, as in model.md 5.2.
docs/des.md lists every difference from the fluid model.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Generator
from typing import Any

import simpy

from resilience.engines.des.clock import ARRIVALS, SHIPPING
from resilience.engines.des.lanes import FluidLane
from resilience.engines.des.state import DesState
from resilience.model.rules import delivery
from resilience.scenario.schema import Slots, Vessels

__all__ = ["LOADED_OFFSET", "CanalSlots", "CargoLane"]

LOADED_OFFSET = SHIPPING - ARRIVALS
"""Days by which a loaded passage is shorter than the lead time: a cargo that sails at the
shipping phase of day ``t`` then lands at the arrivals phase of day ``t + L``, as in fluid mode."""

_FULL = 1.0 - 1e-12  # a quay holding this share of a cargo holds a full cargo (rounding)


class CanalSlots:
    """The transit slots of chokepoint row ``k``: a FIFO queue served one vessel per slot.

    Slots come at most ``rate()`` per day and are spaced ``1 / rate()`` days apart; a vessel
    that finds no queue and no recent transit passes at once. The closure level of the
    chokepoint (the board's ``x_k``) removes that share of the slots.
    """

    def __init__(self, model: DesState, k: int, slots: Slots) -> None:
        self.model = model
        self.k = k
        self.name = model.layout.network.chokepoint_ids[k]
        self.per_day = slots.per_day
        self.other = slots.other_traffic_per_day
        self.queue: deque[simpy.Event] = deque()
        self.next_slot = 0.0  # the earliest time the next vessel may pass, days
        self._arrival: simpy.Event | None = None
        self.diverted = 0  # vessels that took the detour instead of the queue
        self.waits: list[tuple[float, float]] = []  # (time of transit, days waited), days

    def start(self) -> None:
        self.model.env.process(self.server())

    def rate(self) -> float:
        """Transits per day left for the modelled vessels now."""
        return max(0.0, self.per_day * (1.0 - self.model.board.x_k[self.k]) - self.other)

    def expected_wait(self) -> float:
        """Days a vessel arriving now would wait behind the queue (inf with no slots)."""
        rate = self.rate()
        if rate <= 0.0:
            return math.inf
        return max(0.0, self.next_slot - self.model.env.now) + len(self.queue) / rate

    def detour_days(self, lane: int) -> int:
        """Extra days of the way round for ``lane`` (its own detour first), -1 for none."""
        layout = self.model.layout
        if layout.lane_detour_days[lane] >= 0:
            return layout.lane_detour_days[lane]
        return layout.choke_detour_days[self.k]

    def pass_through(self, lane: int, quantity: float) -> Generator[Any, Any, float]:
        """Queue for a slot, or take the detour when that is quicker; return the extra days."""
        env = self.model.env
        trace = self.model.trace
        detour = self.detour_days(lane)
        if detour >= 0 and self.expected_wait() > detour:
            self.diverted += 1
            if trace is not None:
                trace.lane(env.now, "divert", lane, quantity, f"{self.name}: queue too long")
            return float(detour)
        arrived = env.now
        turn = env.event()
        self.queue.append(turn)
        if trace is not None:
            trace.lane(env.now, "queue", lane, quantity, self.name)
        if self._arrival is not None:
            wake, self._arrival = self._arrival, None
            wake.succeed()
        yield turn
        self.waits.append((env.now, env.now - arrived))
        if trace is not None:
            trace.lane(env.now, "transit", lane, quantity, f"{self.name}: waited "
                       f"{env.now - arrived:.2f} d")  # fmt: skip
        return 0.0

    def server(self) -> Generator[Any, Any, None]:
        """Let the head of the queue through at each slot time."""
        env = self.model.env
        board = self.model.board
        while True:
            if not self.queue:
                self._arrival = env.event()
                yield self._arrival
            rate = self.rate()
            if rate <= 0.0:
                yield board.next_change()
                continue
            if self.next_slot > env.now:
                yield env.timeout(self.next_slot - env.now)
                continue  # the rate may have changed meanwhile
            self.queue.popleft().succeed()
            self.next_slot = env.now + 1.0 / rate


class CargoLane(FluidLane):
    """Lane row ``lane`` with whole cargoes of ``vessels.cargo_size`` units on a finite fleet."""

    def __init__(
        self,
        model: DesState,
        lane: int,
        vessels: Vessels,
        canals: dict[int, CanalSlots],
        berths: dict[int, tuple[simpy.Resource, float]],
    ) -> None:
        """``canals``: the slot servers by chokepoint row; ``berths``: per node row, its berths
        and the days a cargo takes to unload."""
        super().__init__(model, lane)
        layout = model.layout
        self.size = vessels.cargo_size
        self.ballast = float(self.lead if vessels.ballast_days is None else vessels.ballast_days)
        self.fleet = simpy.Resource(model.env, capacity=vessels.fleet)
        self.canals = [canals[k] for k in layout.lane_chokes[lane] if k in canals]
        self.berths = berths.get(layout.lane_to[lane])
        self.quay = 0.0  # units shipped that wait for a full cargo
        self.afloat = 0.0  # units in cargoes formed and not yet delivered
        self.credit = 0.0  # detour rounding: cargoes owed to the detour, see `_route`
        self._cargo: simpy.Event | None = None
        self.cargoes = 0
        self.vessel_wait = 0.0  # days cargoes waited for a vessel, summed

    def start(self) -> None:
        super().start()
        self.model.env.process(self.loader())

    def in_transit(self) -> float:
        """Fluid pipeline (warm start, held cargo), the quay and every cargo not yet delivered."""
        return super().in_transit() + self.quay + self.afloat

    def load(self, quantity: float, day: int) -> None:
        """Phase 7: the shipped quantity goes onto the quay to wait for a full cargo."""
        self.quay += quantity
        self.shipped += quantity
        if self._cargo is not None and self.quay >= self.size * _FULL:
            wake, self._cargo = self._cargo, None
            wake.succeed()

    def loader(self) -> Generator[Any, Any, None]:
        """Form a cargo whenever the quay holds one, find it a vessel, send it off."""
        env = self.model.env
        trace = self.model.trace
        while True:
            if self.quay < self.size * _FULL:
                self._cargo = env.event()
                yield self._cargo
            cargo = min(self.size, self.quay)
            self.quay -= cargo
            self.afloat += cargo
            self.cargoes += 1
            formed = env.now
            if trace is not None:
                trace.lane(env.now, "cargo", self.lane, cargo)
            vessel = self.fleet.request()
            yield vessel
            self.vessel_wait += env.now - formed
            if trace is not None:
                trace.lane(env.now, "sail", self.lane, cargo,
                           f"waited {env.now - formed:.2f} d for a vessel")  # fmt: skip
            env.process(self.voyage(vessel, cargo))

    def _route(self) -> Generator[Any, Any, int]:
        """Wait while the route is shut; then the extra days of this cargo's route.

        The fluid model sends the share ``x_l F_l / den`` of a shipment round the detour. A
        cargo goes whole: the lane adds that share to a credit and a cargo takes the detour when
        the credit reaches one half, which then drops by one. Over many cargoes the share on
        the detour is the fluid share.
        """
        board = self.board
        lane = self.lane
        while True:
            x, factor = board.x_l[lane], board.F[lane]
            den = (1.0 - x) + x * factor
            if den > 0.0:
                break
            yield board.next_change()  # every chokepoint of the route closed, no way round
        self.credit += x * factor / den
        if self.credit >= 0.5:
            self.credit -= 1.0
            return board.E[lane]
        return 0

    def _passage(self, days: float, quantity: float) -> Generator[Any, Any, float]:
        """Sail ``days`` with the lane's canals half way; return the days added by diverting."""
        timeout = self.model.env.timeout
        half = days / 2.0
        yield timeout(half)
        extra = 0.0
        for canal in self.canals:
            diverted = yield from canal.pass_through(self.lane, quantity)
            extra += diverted
        if extra > 0.0:
            yield timeout(extra)
        yield timeout(days - half)
        return extra

    def voyage(self, vessel: Any, cargo: float) -> Generator[Any, Any, None]:
        """Licensing, the loaded passage, a berth, unloading, delivery, the ballast passage."""
        model = self.model
        env = model.env
        board = self.board
        lane = self.lane
        trace = model.trace
        licensing = board.lic[lane]
        if licensing:
            yield env.timeout(licensing)
        extra = yield from self._route()
        if extra and trace is not None:
            trace.lane(env.now, "detour", lane, cargo, "closed chokepoint")
        yield from self._passage(max(0.0, self.lead - LOADED_OFFSET) + extra, cargo)
        if self.berths is not None:
            berths, days = self.berths
            arrived = env.now
            with berths.request() as berth:
                yield berth
                if trace is not None:
                    trace.lane(env.now, "berth", lane, cargo,
                               f"waited {env.now - arrived:.2f} d for a berth")  # fmt: skip
                yield env.timeout(days)
        self._deliver(cargo)
        yield from self._passage(self.ballast + extra, 0.0)
        self.fleet.release(vessel)
        if trace is not None:
            trace.lane(env.now, "ballast", lane, 0.0, "vessel free")

    def _deliver(self, cargo: float) -> None:
        """Land a cargo: the share ``g_l`` now, the rest held on the fluid pipeline a day."""
        model = self.model
        now = model.env.now
        deliver, held = delivery(self.board.g[self.lane], cargo)
        self.afloat -= cargo
        model.S[self.buffer] += deliver
        model.records.delivered[self.buffer] += deliver
        if held != 0.0:
            day = math.floor(now)
            self._file(day + 1, held, day)
        if model.trace is not None:
            model.trace.lane(now, "deliver", self.lane, deliver)
            if held != 0.0:
                model.trace.lane(now, "hold", self.lane, held, "lane disruption")
