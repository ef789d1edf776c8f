"""One replication of a compiled Network on SimPy: the processes, their shared state, the run.

`DesModel` wires the pieces together. State lives here and in the element objects, never in
modules: stock per buffer (``S``), today's positions, requests and fills, the running records,
the disruption board, one lane object per lane and one agent per node. Processes:

- one per occurrence of the sampled timeline (`resilience.engines.des.disruptions`);
- one per lane, delivering the goods in transit (`resilience.engines.des.lanes`,
  `resilience.engines.des.cargo`);
- one per node that takes part in any phase (`resilience.engines.des.nodes`);
- one for the emergency policies, when the network has release or sharing lanes
  (`resilience.engines.des.policies`);
- the books, recording end-of-day stock;
- in detailed mode, canal slot servers and per-cargo voyages (`resilience.engines.des.cargo`).

`simulate` is the usual entry point.
"""

from __future__ import annotations

import dataclasses
import operator

import simpy

from resilience.engines.des.cargo import CanalSlots, CargoLane
from resilience.engines.des.clock import BOOKS
from resilience.engines.des.disruptions import time_of_day_shifts
from resilience.engines.des.lanes import FluidLane
from resilience.engines.des.metrics import Outcome
from resilience.engines.des.nodes import NodeAgent, daily_routine
from resilience.engines.des.options import FLUID, DetailOptions
from resilience.engines.des.policies import EmergencyPolicy
from resilience.engines.des.state import DesState
from resilience.model.layout import Layout
from resilience.model.metrics import replication_metrics

__all__ = ["DesModel", "simulate"]


class DesModel(DesState):
    """Replication ``replication`` of ``layout.network`` (seed: the network's, or ``seed``).

    Args:
        layout: `Layout.build(network)`, shared by every replication of a network.
        replication: the replication index (streams depend on it).
        seed: overrides the network's seed.
        options: the detailed-mode options (docs/des.md); the default is the fluid model.
        trace: keep the event log (`TraceLog`) of the run in ``self.trace``.
    """

    def __init__(
        self,
        layout: Layout,
        replication: int,
        *,
        seed: int | None = None,
        options: DetailOptions = FLUID,
        trace: bool = False,
    ) -> None:
        if replication < 0:
            raise ValueError(f'"replication" must be >= 0, got {replication}')
        network = layout.network
        if seed is not None and seed != network.seed:
            network = dataclasses.replace(network, seed=seed)
        super().__init__(layout, network, replication, options, trace)
        n_lanes = layout.n_lanes
        self.canals = {k: CanalSlots(self, k, slots) for k, slots in options.slots.items()}
        self.berths = {
            n: (simpy.Resource(self.env, capacity=berths.count), berths.hours_per_cargo / 24.0)
            for n, berths in options.berths.items()
        }
        self.lanes: list[FluidLane] = [
            CargoLane(self, lane, options.vessels[lane], self.canals, self.berths)
            if lane in options.vessels
            else FluidLane(self, lane)
            for lane in range(n_lanes)
        ]
        self.agents = [NodeAgent(self, n, self.lanes) for n in range(layout.n_nodes)]
        self.policy = EmergencyPolicy(self, self.lanes)
        self._started = False

    def start(self) -> None:
        """Start every process (done by `simulate`; call it to step the environment by hand)."""
        if self._started:
            return
        self._started = True
        env = self.env
        horizon = self.layout.horizon
        shifts = (
            time_of_day_shifts(self.seed, self.replication, self.timeline)
            if self.options.time_of_day
            else None
        )
        self.board.start(horizon, shifts)
        for canal in self.canals.values():
            canal.start()
        for lane in self.lanes:
            lane.start()
        for agent in self.agents:
            if agent.steps:
                env.process(daily_routine(env, agent.steps))
        if self.policy.steps:
            env.process(daily_routine(env, self.policy.steps))
        env.process(daily_routine(env, [(BOOKS, self.books)]))

    def books(self, day: int) -> None:
        """End of day: record the stock on hand of every buffer (holding cost, model.md 7.2)."""
        records = self.records
        # stock_days[b] + S[b] for every buffer, each sum the same float as a loop's, in C.
        records.stock_days = list(map(operator.add, records.stock_days, self.S))

    def simulate(self) -> None:
        """Run days ``0 .. H-1`` (the first call only; later calls do nothing)."""
        self.start()
        if self.env.now < self.layout.horizon:
            self.env.run(until=self.layout.horizon)

    def outcome(self) -> Outcome:
        """The replication's outcome (model.md 7), once `simulate` has run."""
        if self.env.now < self.layout.horizon:
            raise ValueError(
                f"simulated {self.env.now} of the horizon's {self.layout.horizon} days"
            )
        metrics = replication_metrics(
            self.layout,
            self.records,
            final_stock=list(self.S),
            final_transit=[lane.in_transit() for lane in self.lanes],
            shipped=[lane.shipped for lane in self.lanes],
            timeline=self.timeline,
        )
        return Outcome(*metrics.arrays(), events=self.env.events_processed)

    def run(self) -> Outcome:
        """Simulate the horizon and return the outcome."""
        self.simulate()
        return self.outcome()


def simulate(
    layout: Layout,
    replication: int,
    *,
    seed: int | None = None,
    options: DetailOptions = FLUID,
) -> Outcome:
    """Run one replication on the SimPy engine and return its outcome."""
    return DesModel(layout, replication, seed=seed, options=options).run()
