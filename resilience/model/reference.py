"""The plain-Python reference engine: docs/model.md, one replication, phase by phase.

A short day loop over the rules of `resilience.model.rules` (with the lane states of
`resilience.model.states` and the release and sharing steps of `resilience.model.emergency`): it
keeps the state of one replication of a compiled `Network` in lists and floats, applies the
phases of section 5 in order and hands its records to `resilience.model.metrics`. The SimPy
engine calls the same rules, and the Numba kernel is checked against this loop, so clarity and
literal fidelity come before speed. Static structure comes from `resilience.model.layout.Layout`
(the Network as lists, and the tables every engine shares).

Quantities keep the model's names: ``S`` stock per buffer, ``pipe`` the cargo of each lane by
arrival day, ``f``/``g``/``gx`` node, lane and export factors, ``x_k`` chokepoint closures, and
so on. Sums are taken left to right in row order (lanes, buffers, days ascending).
"""

from __future__ import annotations

from dataclasses import dataclass

from resilience.model import emergency, rules
from resilience.model.layout import Layout
from resilience.model.metrics import Metrics, Records, replication_metrics
from resilience.model.states import DayStates
from resilience.model.timeline import Occurrence, sample_timeline
from resilience.network.arrays import NODE_KIND_CODES, Network

__all__ = ["ReferenceRun", "ReplicationOutcome", "simulate_replication"]

_SOURCE, _PROCESSOR, _STORAGE = (NODE_KIND_CODES[k] for k in ("source", "processor", "storage"))


@dataclass(frozen=True)
class ReplicationOutcome(Metrics):
    """What one replication reports: the `Metrics` of section 7 and ``timeline``, the sampled
    occurrences (section 4.3) as `sample_timeline` returns them."""

    timeline: list[Occurrence]


def simulate_replication(network: Network, replication: int) -> ReplicationOutcome:
    """Run replication ``replication`` of ``network`` over its horizon (seed ``network.seed``)."""
    if replication < 0:
        raise ValueError(f'"replication" must be >= 0, got {replication}')
    run = ReferenceRun(network, replication)
    for t in range(network.horizon_days):
        run.run_day(t)
    return run.outcome()


class ReferenceRun:
    """All mutable state of one replication, with one method per phase of section 5.

    `simulate_replication` is the usual entry point. Tests that follow the model day by day
    (the tables of section 9) build a run, call `run_day` for ``t = 0, 1, ...`` and read the
    state between days: ``S`` (stock per buffer), `in_transit` (per lane), ``daily_demand`` and
    ``daily_served`` (per consumer node). `outcome` needs every day of the horizon to have run.
    """

    def __init__(
        self, network: Network, replication: int, timeline: list[Occurrence] | None = None
    ) -> None:
        """Day 0's state (section 2.6); ``timeline`` defaults to `sample_timeline`'s."""
        net = self.net = network
        self.replication = replication
        self.timeline = sample_timeline(net, replication) if timeline is None else timeline
        self.days_run = 0
        n_nodes, n_lanes, n_buffers = net.n_nodes, net.n_lanes, net.n_buffers
        self.n_nodes, self.n_lanes, self.n_buffers = n_nodes, n_lanes, n_buffers

        # Static structure, as Python lists (shared with the SimPy engine).
        layout = self.layout = Layout.build(net)
        self.demand = [
            rules.lognormal_parameters(mu, cv) for mu, cv in zip(layout.mu, layout.cv, strict=True)
        ]
        # Positions are needed by the ordering buffers and, in phases 6b and 6c, by the consumers.
        self.positioned_buffers = sorted(set(layout.ordering_buffers) | set(layout.consumers))
        self.donors = emergency.donors(layout)
        self.ranks = (
            [[layout.lane_rank[i] for i in lanes] for lanes in layout.normal_out]
            if layout.priority
            else None
        )
        self.licensing_delay: list[int] = net.dis_licensing_delay.tolist()

        # State (section 2.6): stock on hand and the warm-start pipeline.
        self.S: list[float] = net.buffer_initial.tolist()
        self.pipe: list[dict[int, float]] = [{} for _ in range(n_lanes)]
        for lane, flow in enumerate(net.lane_initial_flow.tolist()):
            if flow > 0.0:
                self.pipe[lane] = dict.fromkeys(range(self.layout.lead[lane]), flow)
        self.counter = [0] * n_lanes  # switching counter c_l, with c_l(-1) = 0
        # Today's disruption states (phase 1), orders and fills (phases 5 and 6).
        states = self.states = DayStates(layout)
        self.f, self.surge, self.g, self.lic = states.f, states.surge, states.g, states.lic
        self.x_l, self.E, self.F, self.phi = states.x_l, states.E, states.F, states.phi
        self.IP = [0.0] * n_buffers
        self.T = list(layout.target)  # today's order-up-to positions (phase 5)
        self.order = [0.0] * n_buffers
        self.fill = [0.0] * n_lanes
        self.need: dict[int, float] = {}

        # Records for the metrics (section 7).
        self.records = Records.start(net)
        self.daily_demand = dict(zip(self.layout.consumers, self.records.demand, strict=True))
        self.daily_served = dict(zip(self.layout.consumers, self.records.served, strict=True))
        self.shipped = [0.0] * n_lanes

    # -- one day -------------------------------------------------------------------------------

    def run_day(self, t: int) -> None:
        """Phases 1 to 7 of section 5, in order, then the end-of-day records."""
        if t != self.days_run:
            raise ValueError(f"day {t} out of order: the next day to run is {self.days_run}")
        self.phase1_states(t)
        self.phase2_arrivals(t)
        self.phase3_production()
        self.phase4_demand(t)
        self.phase5_ordering()
        self.phase6a_allocation()
        self.phase6b_release()
        self.phase6c_sharing()
        self.phase7_shipping(t)
        stock_days = self.records.stock_days
        for b in range(self.n_buffers):
            stock_days[b] += self.S[b]
        self.days_run += 1

    def in_transit(self, lane: int) -> float:
        """Everything in the pipeline of ``lane`` (including cargo held by a lane disruption)."""
        pipe = self.pipe[lane]
        total = 0.0
        for day in sorted(pipe):  # ascending arrival day
            total += pipe[day]
        return total

    def thru(self, lane: int, y: float) -> float:
        """Through-capacity (section 5.1): what lane ``lane`` passes of a request ``y``."""
        layout = self.layout
        return rules.thru(layout.lane_capacity[lane], self.phi[lane], y, layout.initial_flow[lane])

    def phase1_states(self, t: int) -> None:
        """Section 5.1 (and 3.4): factors, closures, surges, lane states, switching counters."""
        levels = [occurrence.level(t) for occurrence in self.timeline]
        on: dict[tuple[str, int], list[float]] = {}  # (kind, target) -> levels, timeline order
        gx_levels: list[list[float]] = [[] for _ in range(self.n_lanes)]
        delays: list[list[int]] = [[] for _ in range(self.n_lanes)]  # paired with gx_levels
        for occurrence, level in zip(self.timeline, levels, strict=True):
            if level == 0.0:  # multiplies by 1 and sets no licensing delay
                continue
            if occurrence.kind == "export_restriction":
                d = self.layout.disruption_row[occurrence.source]
                for lane in self.layout.export_lanes[d]:
                    gx_levels[lane].append(level)
                    delays[lane].append(self.licensing_delay[d])
            else:
                on.setdefault((occurrence.kind, occurrence.target), []).append(level)
        states = self.states
        for n in range(self.n_nodes):
            states.f[n] = rules.combined_factor(on.get(("node", n), ()))
            states.surge[n] = rules.surge_multiplier(on.get(("demand_surge", n), ()))
        for k in range(len(states.x_k)):
            states.x_k[k] = rules.closure(on.get(("chokepoint", k), ()))
        for lane in range(self.n_lanes):
            states.g[lane] = rules.combined_factor(on.get(("lane", lane), ()))
            states.gx[lane] = rules.combined_factor(gx_levels[lane])
            states.lic[lane] = rules.licensing_delay(gx_levels[lane], delays[lane])
            avail = states.settle_lane(lane, self.layout.lane_chokes[lane])
            self.counter[lane] = rules.switching_counter(self.counter[lane], avail)

    def phase2_arrivals(self, t: int) -> None:
        """Section 5.2: deliver ``g_l`` of what is due, carry the rest, then clip overflow."""
        records = self.records
        for lane in range(self.n_lanes):
            pipe = self.pipe[lane]
            if t not in pipe:
                continue
            deliver, carry = rules.delivery(self.g[lane], pipe.pop(t))
            b = self.layout.lane_buffer[lane]
            self.S[b] += deliver
            records.delivered[b] += deliver
            if carry != 0.0:
                pipe[t + 1] = pipe.get(t + 1, 0.0) + carry
        for b in range(self.n_buffers):
            self.S[b], lost = rules.clip(self.S[b], self.layout.capacity[b])
            records.lost[self.layout.buffer_commodity[b]] += lost

    def phase3_production(self) -> None:
        """Section 5.3: sources and processors produce into their stock buffer."""
        S, records, layout = self.S, self.records, self.layout
        for n in range(self.n_nodes):
            if layout.node_kind[n] not in (_SOURCE, _PROCESSOR):
                continue
            bom = layout.bom[n]  # a processor with no BOM rows behaves like a source
            inputs = min((S[i] / q for i, q in bom), default=float("inf"))
            p = rules.production(
                layout.node_capacity[n] * self.f[n], layout.capacity[n] - S[n], inputs
            )
            for i, q in bom:
                S[i] -= q * p
                records.consumed_inputs[layout.buffer_commodity[i]] += q * p
            S[n] += p
            records.produced[layout.node_commodity[n]] += p

    def phase4_demand(self, t: int) -> None:
        """Section 5.4: consumers serve what they can of their (surged) demand; the rest is lost."""
        records = self.records
        for r, b in enumerate(self.layout.consumers):
            parameters = self.demand[b]
            base = (
                self.layout.mu[b]
                if parameters is None
                else rules.lognormal_demand(
                    parameters, self.net.seed, self.replication, self.layout.demand_key[b], t
                )
            )
            d = base * self.surge[b]
            served = rules.serve(self.S[b], d)
            self.S[b] -= served
            records.demand[r].append(d)
            records.served[r].append(served)
            records.consumed_demand[self.layout.node_commodity[b]] += served

    def phase5_ordering(self) -> None:
        """Section 5.5: inventory positions (all modes), today's targets and the orders."""
        for b in self.positioned_buffers:
            in_transit = 0.0
            for lane in self.layout.inbound[b]:
                in_transit += self.in_transit(lane)
            self.IP[b] = self.S[b] + in_transit
        self.order = [0.0] * self.n_buffers
        for b in self.layout.ordering_buffers:
            self.T[b] = self.states.order_target(b)
            self.order[b] = rules.order_up_to(self.T[b], self.IP[b])

    def phase6a_allocation(self) -> None:
        """Section 5.6: effective shares, requests ``thru(O_b e_l)``, each supplier's fills."""
        request = [0.0] * self.n_lanes
        for b in self.layout.ordering_buffers:
            group = self.layout.normal_in[b]
            shares = rules.effective_shares(
                group,
                [self.counter[lane] for lane in group],
                self.layout.share,
                self.states.avail,
                self.layout.lane_capacity,
                self.layout.switch_delay,
            )
            for lane, effective in zip(group, shares, strict=True):
                request[lane] = self.thru(lane, self.order[b] * effective)
        self.fill = [0.0] * self.n_lanes
        for n, lanes in enumerate(self.layout.normal_out):
            if not lanes:
                continue
            available = rules.supplier_available(
                self.S[n],
                self.layout.node_kind[n] == _STORAGE,
                self.layout.node_capacity[n],
                self.f[n],
            )
            ranks = None if self.ranks is None else self.ranks[n]
            flow = self.layout.initial_flow if self.layout.by_share else None
            rules.allocate(request, lanes, available, ranks, self.fill, flow)

    def phase6b_release(self) -> None:
        """Section 5.7: each consumer's need, then strategic stockpiles release to the triggered."""
        self.need = emergency.needs(self.layout, self.IP, self.fill, self.T)
        emergency.release(self.layout, self.S, self.f, self.phi, self.need, self.fill)

    def phase6c_sharing(self) -> None:
        """Section 5.7: donors above their floor share with recipients below the trigger."""
        emergency.share(self.layout, self.S, self.phi, self.need, self.fill, self.donors)

    def phase7_shipping(self, t: int) -> None:
        """Section 5.8: fills leave the supplier and enter the pipeline, direct and by detour."""
        for lane in range(self.n_lanes):
            q = self.fill[lane]
            if not q > 0.0:
                continue
            self.S[self.layout.lane_from[lane]] -= q
            direct, detour = rules.split_shipment(q, self.x_l[lane], self.F[lane])
            pipe = self.pipe[lane]
            arrival = t + self.layout.lead[lane] + self.lic[lane]
            pipe[arrival] = pipe.get(arrival, 0.0) + direct
            if detour != 0.0:
                arrival += self.E[lane]
                pipe[arrival] = pipe.get(arrival, 0.0) + detour
            self.shipped[lane] += q

    # -- results -------------------------------------------------------------------------------

    def outcome(self) -> ReplicationOutcome:
        """Section 7: per-consumer metrics, network costs, conservation terms."""
        if self.days_run != self.net.horizon_days:
            raise ValueError(f"ran {self.days_run} of the horizon's {self.net.horizon_days} days")
        metrics = replication_metrics(
            self.layout,
            self.records,
            final_stock=self.S,
            final_transit=[self.in_transit(lane) for lane in range(self.n_lanes)],
            shipped=self.shipped,
            timeline=self.timeline,
        )
        return ReplicationOutcome(*metrics.arrays(), timeline=self.timeline)
