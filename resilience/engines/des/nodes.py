"""Nodes as long-lived processes: each node runs the phases of the day it takes part in.

A `NodeAgent` is one node's daily routine (`daily_routine`): a source produces (phase 3),
allocates its stock to the requests on its lanes (6a) and ships (7); a processor also orders
inputs (5); a storage node orders, allocates and ships; a consumer meets its demand (4) and
places its order (5). Each step is one SimPy timeout at the phase's time of day (see
`resilience.engines.des.clock`), so a node sleeps through the phases it has no part in.

Quantities are in units of the buffer's commodity; the formulas are those of docs/model.md,
section 5, with the sums in the same order as there.
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from collections.abc import Callable, Generator
from typing import Any

import simpy

from resilience.engines.des.clock import (
    ALLOCATION,
    CLIPPING,
    DEMAND,
    ORDERING,
    PRODUCTION,
    SHIPPING,
)
from resilience.engines.des.lanes import FluidLane
from resilience.engines.des.state import DesState
from resilience.model.layout import CONSUMER, PROCESSOR, SOURCE, STORAGE
from resilience.model.rules import (
    allocate,
    clip,
    effective_shares,
    lognormal_demand,
    lognormal_parameters,
    order_up_to,
    production,
    serve,
    supplier_available,
    thru,
)

__all__ = ["NodeAgent", "daily_routine"]

Step = Callable[[int], None]
Position = tuple[
    int,  # the buffer
    list[deque[float]] | None,  # the pipelines of its inbound lanes, when all are fluid
    list[FluidLane],  # its inbound lanes (all modes)
    list[int] | None,  # its share group (normal inbound lanes), None when it does not order
    list[tuple[int, float, float, float]],  # (lane, share, capacity, undisrupted flow) per lane
    float,  # its undisrupted order-up-to target T_b, units
]


def daily_routine(
    env: simpy.Environment, steps: list[tuple[float, Step]]
) -> Generator[Any, Any, None]:
    """Call each ``step(day)`` at its time of day (offset in days, ascending), every day."""
    offsets = [offset for offset, _ in steps]
    calls = [step for _, step in steps]
    delays = [b - a for a, b in itertools.pairwise(offsets)]
    delays.append(1.0 + offsets[0] - offsets[-1])
    plan = list(zip(calls, delays, strict=True))
    timeout = env.timeout
    day = 0
    yield timeout(offsets[0])
    while True:
        for step, delay in plan:
            step(day)
            yield timeout(delay)
        day += 1


class NodeAgent:
    """Node row ``n`` of a model: its steps, in the order of the phases of a day."""

    def __init__(self, model: DesState, n: int, lanes: list[FluidLane]) -> None:
        """``lanes``: the lane objects of the model, by lane row."""
        layout = model.layout
        self.model = model
        self.layout = layout
        self.n = n
        self.env = model.env
        self.S = model.S
        self.board = model.board
        self.records = model.records
        self.trace = model.trace
        self.request_of = model.request  # per lane, today's request
        self.fill_of = model.fill  # per lane, today's normal fill
        self.kind = layout.node_kind[n]
        self.commodity = layout.node_commodity[n]
        self.capacity = layout.node_capacity[n]
        self.room = layout.capacity[n]  # the stock buffer's capacity
        self.bom = [(i, q, layout.buffer_commodity[i]) for i, q in layout.bom[n]]
        self.out = layout.normal_out[n]
        self.loads = [(lane, lanes[lane].load) for lane in self.out]
        self.ranks = [layout.lane_rank[lane] for lane in self.out] if layout.priority else None
        buffers = [n] + [i for i, _, _ in self.bom]
        ordering = layout.orders
        # Positions are kept for every buffer that orders and for every consumer (phases 6b
        # and 6c read them).
        self.positions: list[Position] = []
        for b in buffers:
            if not (ordering[b] or (b == n and self.kind == CONSUMER)):
                continue
            group = layout.normal_in[b] if ordering[b] else None
            inbound = [lanes[lane] for lane in layout.inbound[b]]
            fluid = all(type(lane) is FluidLane for lane in inbound)
            queues = [lane.queue for lane in inbound] if fluid else None
            members = [
                (i, layout.share[i], layout.lane_capacity[i], layout.initial_flow[i])
                for i in group or []
            ]
            self.positions.append((b, queues, inbound, group, members, layout.target[b]))
        self.bounded = [
            b for b in buffers if layout.inbound[b] and not math.isinf(layout.capacity[b])
        ]
        if self.kind == CONSUMER:
            self.row = model.consumer_row[n]
            self.log_demand = model.records.demand[self.row].append
            self.log_served = model.records.served[self.row].append
            self.mu = layout.mu[n]
            self.lognormal = lognormal_parameters(self.mu, layout.cv[n])
            self.key = layout.demand_key[n]

        self._shares: dict[int, tuple[int, float, list[float] | None]] = {}
        steps: list[tuple[float, Step]] = []
        if self.bounded:
            steps.append((CLIPPING, self.clip))
        if self.kind in (SOURCE, PROCESSOR):
            steps.append((PRODUCTION, self.produce))
        if self.kind == CONSUMER:
            steps.append((DEMAND, self.demand))
        if self.positions:
            steps.append((ORDERING, self.order))
        if self.out:
            steps += [(ALLOCATION, self.allocate), (SHIPPING, self.ship)]
        self.steps = sorted(steps, key=lambda item: item[0])

    # -- phase 2: overflow -------------------------------------------------------------------

    def clip(self, day: int) -> None:
        """Remove stock above a bounded buffer's capacity as lost (model.md 5.2)."""
        layout = self.layout
        S = self.S
        for b in self.bounded:
            S[b], excess = clip(S[b], layout.capacity[b])
            if excess:
                self.records.lost[layout.buffer_commodity[b]] += excess
                if self.trace is not None:
                    self.trace.buffer(self.env.now, "lost", b, excess, "over capacity")

    # -- phase 3: production -----------------------------------------------------------------

    def produce(self, day: int) -> None:
        """Produce up to capacity, inputs and room (model.md 5.3)."""
        S = self.S
        n = self.n
        bom = self.bom
        rate, room = self.capacity * self.board.f[n], self.room - S[n]
        if bom:
            p = production(rate, room, min(S[i] / q for i, q, _ in bom))
        else:
            p = production(rate, room)
        records = self.records
        for i, q, c in bom:
            used = q * p
            S[i] -= used
            records.consumed_inputs[c] += used
        S[n] += p
        records.produced[self.commodity] += p
        if self.trace is not None and p > 0.0:
            self.trace.node(self.env.now, "produce", n, p)

    # -- phase 4: demand ---------------------------------------------------------------------

    def base_demand(self, day: int) -> float:
        """Model.md 2.3: ``mu`` when ``cv = 0``, else lognormal with mean ``mu``."""
        if self.lognormal is None:
            return self.mu
        model = self.model
        return lognormal_demand(self.lognormal, model.seed, model.replication, self.key, day)

    def demand(self, day: int) -> None:
        """Serve what stock allows of the (surged) demand; the rest is lost (model.md 5.4)."""
        S = self.S
        n = self.n
        d = (self.mu if self.lognormal is None else self.base_demand(day)) * self.board.surge[n]
        served = serve(S[n], d)
        S[n] -= served
        self.log_demand(d)
        self.log_served(served)
        self.records.consumed_demand[self.commodity] += served
        trace = self.trace
        if trace is not None:
            trace.node(self.env.now, "demand", n, d)
            if d - served > 0.0:
                trace.node(self.env.now, "shortfall", n, d - served, "stockout")

    # -- phase 5: ordering (and the requests of phase 6a) ---------------------------------------

    def order(self, day: int) -> None:
        """Positions and order-up-to orders (5.5), then the requests on each lane (5.6)."""
        S = self.S
        IP = self.model.IP
        T = self.model.T
        request = self.request_of
        board = self.board
        phi = board.phi
        impaired = board.impaired
        trace = self.trace
        pass_through, order_up_to_ = thru, order_up_to  # local names: called per lane and day
        adaptive = self.layout.adaptive
        for b, queues, inbound, group, members, target in self.positions:
            if queues is not None:  # fluid lanes: the same sums as `FluidLane.in_transit`, in C
                total = sum(map(sum, queues), 0.0)
            else:
                total = 0.0
                for lane_object in inbound:
                    total += lane_object.in_transit()
            position = S[b] + total
            IP[b] = position
            if group is None:
                continue
            # Today's target follows the board's detours, licensing delays and surge (5.5).
            target = T[b] = board.order_target(b) if adaptive else target
            quantity = order_up_to_(target, position)
            if trace is not None and quantity > 0.0:
                trace.buffer(self.env.now, "order", b, quantity)
            # r_l = thru_l(O_b * e_l) (5.6); e_l = s_l - 0 + 0 = s_l unless a lane is switched.
            shares = None if impaired.isdisjoint(group) else self._shares_now(b, group, day)
            if shares is None:
                for lane, share, cap, flow in members:
                    request[lane] = pass_through(cap, phi[lane], quantity * share, flow)
            else:
                for (lane, _, cap, flow), effective in zip(members, shares, strict=True):
                    request[lane] = pass_through(cap, phi[lane], quantity * effective, flow)

    def _shares_now(self, b: int, group: list[int], day: int) -> list[float] | None:
        """The effective shares of buffer ``b``'s group today, None when they are the shares."""
        cached = self._shares.get(b)
        if cached is None or cached[0] != self.board.version or day >= cached[1]:
            cached = self._effective_shares(group, day)
            self._shares[b] = cached
        return cached[2]

    def _effective_shares(
        self, group: list[int], day: int
    ) -> tuple[int, float, list[float] | None]:
        """(board version, first day they may differ, effective shares or None if plain).

        The shares depend on the board's state and on which lanes are switched, which changes
        only on a board change or on the day an impaired lane's counter passes its delay, so
        they are kept until then.
        """
        board = self.board
        since = board.since
        delay = self.layout.switch_delay
        counter = [day - since[lane] + 1 if since[lane] >= 0 else 0 for lane in group]
        switched = False
        until = math.inf
        for lane, c in zip(group, counter, strict=True):
            if c > delay[lane]:
                switched = True
            elif c > 0:
                until = min(until, since[lane] + delay[lane])  # counter passes delay then
        if not switched:
            return board.version, until, None
        shares = effective_shares(
            group, counter, self.layout.share, board.avail, self.layout.lane_capacity, delay
        )
        return board.version, until, shares

    # -- phases 6a and 7: allocation and shipping --------------------------------------------

    def allocate(self, day: int) -> None:
        """Fill the requests on the outbound normal lanes from the available stock (5.6)."""
        n = self.n
        available = supplier_available(
            self.S[n], self.kind == STORAGE, self.capacity, self.board.f[n]
        )
        flow = self.layout.initial_flow if self.layout.by_share else None
        allocate(self.request_of, self.out, available, self.ranks, self.fill_of, flow)

    def ship(self, day: int) -> None:
        """Every filled lane leaves this node's stock and enters its pipeline (5.8)."""
        fill = self.fill_of
        S = self.S
        n = self.n
        trace = self.trace
        for lane, load in self.loads:
            quantity = fill[lane]
            if quantity > 0.0:
                S[n] -= quantity
                load(quantity, day)
                if trace is not None:
                    trace.lane(self.env.now, "ship", lane, quantity, "normal")
