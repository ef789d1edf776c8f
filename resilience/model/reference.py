"""The plain-Python reference engine: docs/model.md, one replication, phase by phase.

This module is the readable statement of the fluid daily model. It runs one replication of a
compiled `Network` with loops, lists and floats, in the order and with the formulas of the model
page, and fills the arrays of `resilience.model.outcomes`. The Numba kernel is checked against
it, so clarity and literal fidelity come before speed. Section numbers below are those of
docs/model.md; ``# model.md ambiguity:`` marks each place where the page left a choice open and
says which reading is implemented.

Quantities keep the model's names: ``S`` stock per buffer, ``pipe`` the cargo of each lane by
arrival day, ``f``/``g``/``gx`` node, lane and export factors, ``x_k`` chokepoint closures, and
so on. Sums are taken left to right in row order (lanes, buffers, days ascending).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from resilience.model.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS
from resilience.model.timeline import Occurrence, sample_timeline, standard_normal, uniform
from resilience.network.arrays import (
    ALLOCATION_CODES,
    DISRUPTION_KIND_CODES,
    LANE_MODE_CODES,
    NODE_KIND_CODES,
    Network,
)

__all__ = [
    "ReferenceRun",
    "ReplicationOutcome",
    "UpstreamSet",
    "simulate_replication",
    "upstream_set",
]

SHORT_DAY_TOLERANCE = 1e-9  # section 7: a day is short when shortfall > 1e-9 * max(1, d_t)

_SOURCE, _PROCESSOR, _STORAGE = (NODE_KIND_CODES[k] for k in ("source", "processor", "storage"))
_NORMAL, _RELEASE, _SHARING = (LANE_MODE_CODES[m] for m in ("normal", "release", "sharing"))
_PRO_RATA = ALLOCATION_CODES["pro_rata"]
_EXPORT = DISRUPTION_KIND_CODES["export_restriction"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class ReplicationOutcome:
    """What one replication reports (resilience.model.outcomes gives the column order).

    Attributes:
        consumer: (R, len(CONSUMER_METRICS)) float64, one row per consumer in network order.
        network: (len(NETWORK_METRICS),) float64, network-wide cost totals.
        conservation: (C, len(CONSERVATION_TERMS)) float64, the material balance per commodity.
        timeline: the sampled occurrences (section 4.3), as `sample_timeline` returns them.
    """

    consumer: FloatArray
    network: FloatArray
    conservation: FloatArray
    timeline: list[Occurrence]


def simulate_replication(network: Network, replication: int) -> ReplicationOutcome:
    """Run replication ``replication`` of ``network`` over its horizon (seed ``network.seed``)."""
    if replication < 0:
        raise ValueError(f'"replication" must be >= 0, got {replication}')
    run = ReferenceRun(network, replication)
    for t in range(network.horizon_days):
        run.run_day(t)
    return run.outcome()


def _scaled_capacity(capacity: float, factor: float) -> float:
    """``K * f`` with ``inf * f = inf`` for ``f > 0`` and ``0`` for ``f = 0`` (section 2.2)."""
    if math.isinf(capacity):
        return math.inf if factor > 0.0 else 0.0
    return capacity * factor


def _in_transit(pipe: dict[int, float]) -> float:
    """Everything in one lane's pipeline, summed in ascending arrival day."""
    total = 0.0
    for day in sorted(pipe):
        total += pipe[day]
    return total


def _add_cargo(pipe: dict[int, float], day: int, quantity: float) -> None:
    pipe[day] = pipe.get(day, 0.0) + quantity


class ReferenceRun:
    """All mutable state of one replication, with one method per phase of section 5.

    `simulate_replication` is the usual entry point. Tests that follow the model day by day
    (the tables of section 9) build a run, call `run_day` for ``t = 0, 1, ...`` and read the
    state between days: ``S`` (stock per buffer), `in_transit` (per lane), ``daily_demand`` and
    ``daily_served`` (per consumer row). `outcome` needs every day of the horizon to have run.
    """

    def __init__(
        self, network: Network, replication: int, timeline: list[Occurrence] | None = None
    ) -> None:
        """Day 0's state (section 2.6); ``timeline`` defaults to `sample_timeline`'s."""
        net = network
        self.net = net
        self.replication = replication
        self.timeline = sample_timeline(net, replication) if timeline is None else timeline
        self.days_run = 0
        self.H = net.horizon_days
        n_nodes, n_lanes, n_buffers = net.n_nodes, net.n_lanes, net.n_buffers
        self.n_nodes, self.n_lanes, self.n_buffers = n_nodes, n_lanes, n_buffers

        # Static structure, as Python lists.
        self.node_kind: list[int] = net.node_kind.tolist()
        self.node_country: list[int] = net.node_country.tolist()
        self.node_commodity: list[int] = net.node_commodity.tolist()
        self.node_capacity: list[float] = net.node_capacity.tolist()
        self.node_strategic: list[bool] = net.node_strategic.tolist()
        self.mu: list[float] = net.node_demand_mean.tolist()
        self.cv: list[float] = net.node_demand_cv.tolist()
        self.demand_key: list[int] = [int(k) for k in net.node_demand_stream]
        self.bom_rows: list[range] = [
            range(int(net.bom_ptr[n]), int(net.bom_ptr[n + 1])) for n in range(n_nodes)
        ]
        self.bom_commodity: list[int] = net.bom_commodity.tolist()
        self.bom_per_unit: list[float] = net.bom_per_unit.tolist()
        self.buffer_node: list[int] = net.buffer_node.tolist()
        self.buffer_commodity: list[int] = net.buffer_commodity.tolist()
        self.target: list[float] = net.buffer_target.tolist()
        self.capacity: list[float] = net.buffer_capacity.tolist()
        self.lane_from: list[int] = net.lane_from.tolist()
        self.lane_to: list[int] = net.lane_to.tolist()
        self.lane_buffer: list[int] = net.lane_buffer.tolist()
        self.lane_commodity: list[int] = net.lane_commodity.tolist()
        self.lane_mode: list[int] = net.lane_mode.tolist()
        self.lead: list[int] = net.lane_lead_time.tolist()
        self.lane_capacity: list[float] = net.lane_capacity.tolist()
        self.lane_cost: list[float] = net.lane_cost.tolist()
        self.share: list[float] = net.lane_share.tolist()
        self.switch_delay: list[int] = net.lane_switch_delay.tolist()
        self.lane_detour_days: list[int] = net.lane_detour_days.tolist()
        self.lane_detour_factor: list[float] = net.lane_detour_factor.tolist()
        self.lane_chokes: list[list[int]] = [
            net.lane_chokes[
                int(net.lane_choke_ptr[lane]) : int(net.lane_choke_ptr[lane + 1])
            ].tolist()
            for lane in range(n_lanes)
        ]
        self.choke_detour_days: list[int] = net.choke_detour_days.tolist()
        self.choke_factor: list[float] = net.choke_capacity_factor.tolist()
        self.consumers: list[int] = net.consumers.tolist()

        inbound = [
            net.buffer_lanes[int(net.buffer_lane_ptr[b]) : int(net.buffer_lane_ptr[b + 1])].tolist()
            for b in range(n_buffers)
        ]
        outbound = [
            net.node_out_lanes[int(net.node_out_ptr[n]) : int(net.node_out_ptr[n + 1])].tolist()
            for n in range(n_nodes)
        ]
        self.inbound: list[list[int]] = inbound
        self.normal_in = [
            [lane for lane in lanes if self.lane_mode[lane] == _NORMAL] for lanes in inbound
        ]
        self.normal_out = [
            [lane for lane in lanes if self.lane_mode[lane] == _NORMAL] for lanes in outbound
        ]
        self.release_out = [
            [lane for lane in lanes if self.lane_mode[lane] == _RELEASE] for lanes in outbound
        ]
        self.sharing_out = [
            [lane for lane in lanes if self.lane_mode[lane] == _SHARING] for lanes in outbound
        ]
        # Section 5.5: every non-strategic buffer with at least one inbound normal lane orders.
        self.ordering_buffers = [
            b
            for b in range(n_buffers)
            if self.normal_in[b] and not self.node_strategic[self.buffer_node[b]]
        ]
        # Positions are needed by the ordering buffers and, in phases 6b and 6c, by the consumers.
        self.positioned_buffers = sorted(set(self.ordering_buffers) | set(self.consumers))
        self.stockpiles = [
            n for n in range(n_nodes) if self.node_kind[n] == _STORAGE and self.node_strategic[n]
        ]
        # The lanes each export restriction matches (section 3.1), by disruption row.
        self.disruption_row = {name: d for d, name in enumerate(net.disruption_ids)}
        self.export_lanes: dict[int, list[int]] = {
            d: _export_matches(net, d)
            for d in range(len(net.disruption_ids))
            if int(net.dis_kind[d]) == _EXPORT
        }

        # State (section 2.6): stock on hand and the warm-start pipeline.
        self.S: list[float] = net.buffer_initial.tolist()
        self.pipe: list[dict[int, float]] = [{} for _ in range(n_lanes)]
        initial_flow: list[float] = net.lane_initial_flow.tolist()
        for lane in range(n_lanes):
            if initial_flow[lane] > 0.0:
                for day in range(self.lead[lane]):
                    self.pipe[lane][day] = initial_flow[lane]
        self.counter = [0] * n_lanes  # switching counter c_l, with c_l(-1) = 0

        # Today's disruption states (phase 1), reset every day.
        self.f = [1.0] * n_nodes
        self.surge = [1.0] * n_nodes
        self.g = [1.0] * n_lanes
        self.gx = [1.0] * n_lanes
        self.x_k = [0.0] * len(net.chokepoint_ids)
        self.x_l = [0.0] * n_lanes
        self.E = [0] * n_lanes
        self.F = [1.0] * n_lanes
        self.phi = [1.0] * n_lanes
        self.avail = [1.0] * n_lanes
        self.lic = [0] * n_lanes
        # Today's orders and fills (phases 5 and 6).
        self.IP = [0.0] * n_buffers
        self.order = [0.0] * n_buffers
        self.request = [0.0] * n_lanes
        self.fill = [0.0] * n_lanes
        self.need: dict[int, float] = {}

        # Records for the metrics (section 7).
        self.daily_demand: dict[int, list[float]] = {b: [] for b in self.consumers}
        self.daily_served: dict[int, list[float]] = {b: [] for b in self.consumers}
        self.delivered = [0.0] * n_buffers  # phase 2, before clipping (procurement)
        self.shipped = [0.0] * n_lanes
        self.stock_days = [0.0] * n_buffers  # sum over days of end-of-day stock (holding)
        n_commodities = len(net.commodity_ids)
        self.produced = [0.0] * n_commodities
        self.consumed_demand = [0.0] * n_commodities
        self.consumed_inputs = [0.0] * n_commodities
        self.lost = [0.0] * n_commodities
        self.initial_stock = [0.0] * n_commodities
        self.initial_transit = [0.0] * n_commodities
        for b in range(n_buffers):
            self.initial_stock[self.buffer_commodity[b]] += self.S[b]
        for lane in range(n_lanes):
            self.initial_transit[self.lane_commodity[lane]] += self.lead[lane] * initial_flow[lane]

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
        for b in range(self.n_buffers):
            self.stock_days[b] += self.S[b]
        self.days_run += 1

    def in_transit(self, lane: int) -> float:
        """Everything in the pipeline of ``lane`` (including cargo held by a lane disruption)."""
        return _in_transit(self.pipe[lane])

    def thru(self, lane: int, y: float) -> float:
        """Through-capacity (section 5.1): what lane ``lane`` passes of a request ``y``."""
        capacity = self.lane_capacity[lane]
        if math.isinf(capacity):
            return self.phi[lane] * y
        return min(y, capacity * self.phi[lane])

    def phase1_states(self, t: int) -> None:
        """Section 5.1 (and 3.4): factors, closures, surges, lane states, switching counters."""
        net = self.net
        f = [1.0] * self.n_nodes
        surge = [1.0] * self.n_nodes
        g = [1.0] * self.n_lanes
        gx = [1.0] * self.n_lanes
        lic = [0] * self.n_lanes
        choke_open = [1.0] * len(self.x_k)  # prod (1 - level) per chokepoint
        # Factors multiply in timeline order. An occurrence whose level is 0 multiplies by 1 and
        # sets no licensing delay, so it is skipped.
        for occurrence in self.timeline:
            level = occurrence.level(t)
            if level == 0.0:
                continue
            kind, target = occurrence.kind, occurrence.target
            if kind == "node":
                f[target] *= 1.0 - level
            elif kind == "lane":
                g[target] *= 1.0 - level
            elif kind == "chokepoint":
                choke_open[target] *= 1.0 - level
            elif kind == "export_restriction":
                d = self.disruption_row[occurrence.source]
                delay = int(net.dis_licensing_delay[d])
                for lane in self.export_lanes[d]:
                    gx[lane] *= 1.0 - level
                    lic[lane] = max(lic[lane], delay)
            else:  # demand_surge
                surge[target] *= 1.0 + level
        self.x_k = [1.0 - p for p in choke_open]
        self.f, self.surge, self.g, self.gx, self.lic = f, surge, g, gx, lic

        for lane in range(self.n_lanes):
            chokes = self.lane_chokes[lane]
            closed = [k for k in chokes if self.x_k[k] > 0.0]  # CK_l(t)
            lane_open = 1.0
            for k in chokes:
                lane_open *= 1.0 - self.x_k[k]
            x = 1.0 - lane_open
            if not closed:
                # model.md ambiguity (5.1): F_l with CK_l empty is a min over an empty set, +inf
                # by the page's notation, which would make x_l * F_l = 0 * inf undefined. Then
                # x_l = 0, so any finite F_l gives the same result; we take E_l = 0, F_l = 1.
                extra, factor = 0, 1.0
            elif self.lane_detour_days[lane] >= 0:
                extra, factor = self.lane_detour_days[lane], self.lane_detour_factor[lane]
            else:
                # model.md ambiguity (5.1): E_l = max detour_days over CK_l, but a chokepoint
                # without a detour has no detour_days. We take the max over those that have one
                # (0 if none); the others force F_l = 0, so nothing but rounding residue takes
                # the detour anyway.
                extra = max(
                    (self.choke_detour_days[k] for k in closed if self.choke_detour_days[k] >= 0),
                    default=0,
                )
                if any(self.choke_detour_days[k] < 0 for k in closed):
                    factor = 0.0
                else:
                    factor = min(self.choke_factor[k] for k in closed)
            self.x_l[lane], self.E[lane], self.F[lane] = x, extra, factor
            self.phi[lane] = g[lane] * gx[lane] * ((1.0 - x) + x * factor)
            self.avail[lane] = min(1.0, self.phi[lane]) * f[self.lane_from[lane]]
            self.counter[lane] = self.counter[lane] + 1 if self.avail[lane] < 1.0 else 0

    def phase2_arrivals(self, t: int) -> None:
        """Section 5.2: deliver ``g_l`` of what is due, carry the rest, then clip overflow."""
        for lane in range(self.n_lanes):
            pipe = self.pipe[lane]
            if t not in pipe:
                continue
            due = pipe.pop(t)
            deliver = self.g[lane] * due
            carry = due - deliver
            b = self.lane_buffer[lane]
            self.S[b] += deliver
            self.delivered[b] += deliver
            if carry != 0.0:
                _add_cargo(pipe, t + 1, carry)
        for b in range(self.n_buffers):
            if self.S[b] > self.capacity[b]:
                self.lost[self.buffer_commodity[b]] += self.S[b] - self.capacity[b]
                self.S[b] = self.capacity[b]

    def phase3_production(self) -> None:
        """Section 5.3: sources and processors produce into their stock buffer."""
        n_nodes = self.n_nodes
        for n in range(n_nodes):
            if self.node_kind[n] not in (_SOURCE, _PROCESSOR):
                continue
            rate = self.node_capacity[n] * self.f[n]
            room = self.capacity[n] - self.S[n]
            rows = self.bom_rows[n]
            if rows:  # a processor with no BOM rows behaves like a source
                inputs = min(self.S[n_nodes + m] / self.bom_per_unit[m] for m in rows)
                p = min(rate, inputs, room)
            else:
                p = min(rate, room)
            # model.md ambiguity (5.3): "p is never below 0" is read as a clamp. It matters
            # only for rounding: I_i -= q_i * p can leave an input a few ulps below 0.
            p = max(0.0, p)
            for m in rows:
                used = self.bom_per_unit[m] * p
                self.S[n_nodes + m] -= used
                self.consumed_inputs[self.bom_commodity[m]] += used
            self.S[n] += p
            self.produced[self.node_commodity[n]] += p

    def base_demand(self, b: int, t: int) -> float:
        """Section 2.3: ``mu`` when ``cv = 0`` (no draw), else lognormal with mean ``mu``."""
        mu, cv = self.mu[b], self.cv[b]
        if cv == 0.0:
            return mu
        if mu == 0.0:
            return 0.0
        sigma2 = math.log(1.0 + cv * cv)
        m = math.log(mu) - sigma2 / 2.0
        key = self.demand_key[b]
        seed, r = self.net.seed, self.replication
        z = standard_normal(uniform(seed, r, key, 2 * t), uniform(seed, r, key, 2 * t + 1))
        return math.exp(m + math.sqrt(sigma2) * z)

    def phase4_demand(self, t: int) -> None:
        """Section 5.4: consumers serve what they can of their (surged) demand; the rest is lost."""
        for b in self.consumers:
            d = self.base_demand(b, t) * self.surge[b]
            served = min(self.S[b], d)
            self.S[b] -= served
            self.daily_demand[b].append(d)
            self.daily_served[b].append(served)
            self.consumed_demand[self.node_commodity[b]] += served

    def phase5_ordering(self) -> None:
        """Section 5.5: inventory positions (all modes) and order-up-to orders."""
        for b in self.positioned_buffers:
            in_transit = 0.0
            for lane in self.inbound[b]:
                in_transit += _in_transit(self.pipe[lane])
            self.IP[b] = self.S[b] + in_transit
        self.order = [0.0] * self.n_buffers
        for b in self.ordering_buffers:
            self.order[b] = max(0.0, self.target[b] - self.IP[b])

    def phase6a_allocation(self) -> None:
        """Section 5.6: effective shares, requests, then each supplier's allocation."""
        request = [0.0] * self.n_lanes
        for b in self.ordering_buffers:
            group = self.normal_in[b]
            switched = [lane for lane in group if self.counter[lane] > self.switch_delay[lane]]
            receivers = [lane for lane in group if self.counter[lane] == 0]
            weight = dict.fromkeys(group, 0.0)
            if receivers:
                unbounded = [lane for lane in receivers if math.isinf(self.lane_capacity[lane])]
                if unbounded:
                    for lane in unbounded:
                        weight[lane] = 1.0 / len(unbounded)
                else:
                    total = 0.0
                    for lane in receivers:
                        total += self.lane_capacity[lane]
                    for lane in receivers:
                        weight[lane] = self.lane_capacity[lane] / total
            handed = {j: self.share[j] * (1.0 - self.avail[j]) for j in switched}
            for lane in group:
                gives = handed[lane] if (lane in handed and receivers) else 0.0
                takes = 0.0
                if receivers:
                    for j in switched:
                        takes += handed[j] * weight[lane]
                effective = self.share[lane] - gives + takes
                request[lane] = self.thru(lane, self.order[b] * effective)
        self.request = request

        fill = [0.0] * self.n_lanes
        for n in range(self.n_nodes):
            lanes = self.normal_out[n]
            if not lanes:
                continue
            if self.node_kind[n] == _STORAGE:
                available = min(self.S[n], _scaled_capacity(self.node_capacity[n], self.f[n]))
            else:
                available = self.S[n]
            available = max(0.0, available)  # never below 0 (section 5.6)
            for lane, quantity in zip(lanes, self._allocate(lanes, available), strict=True):
                fill[lane] = quantity
        self.fill = fill

    def _allocate(self, lanes: list[int], available: float) -> list[float]:
        """One supplier's fills of the requests on ``lanes`` from ``available`` (section 5.6)."""
        requests = [self.request[lane] for lane in lanes]
        total = 0.0
        for r in requests:
            total += r
        if total <= available:  # A >= 0, so this holds whenever every request is 0
            return requests
        if self.net.allocation == _PRO_RATA:
            return [r * available / total for r in requests]
        # priority: ranks ascending, by the destination's country
        ranks = [
            int(self.net.country_priority[self.node_country[self.lane_to[lane]]]) for lane in lanes
        ]
        fills = [0.0] * len(lanes)
        remaining = available
        for rank in sorted(set(ranks)):
            members = [i for i, lane_rank in enumerate(ranks) if lane_rank == rank]
            rank_total = 0.0
            for i in members:
                rank_total += requests[i]
            if rank_total <= remaining:
                for i in members:
                    fills[i] = requests[i]
                remaining -= rank_total
            else:
                for i in members:
                    fills[i] = requests[i] * remaining / rank_total
                break  # later ranks get 0
        return fills

    def cover(self, b: int) -> float:
        """Section 5.7: stock after phase 4 over mean demand (no surge); inf when ``mu = 0``."""
        if self.mu[b] == 0.0:
            return math.inf
        return self.S[b] / self.mu[b]

    def phase6b_release(self) -> None:
        """Section 5.7: strategic stockpiles release to triggered consumers."""
        # The need N_b = max(0, T_b - IP_b - Q_b) of every consumer, with Q_b the normal fills
        # toward b in phase 6a; phases 6b and 6c then subtract their own fills from it.
        need = {}
        for b in self.consumers:
            filled = 0.0
            for lane in self.inbound[b]:
                filled += self.fill[lane]
            need[b] = max(0.0, self.target[b] - self.IP[b] - filled)
        self.need = need

        trigger = self.net.release_trigger_days
        for z in self.stockpiles:
            lanes = [
                lane for lane in self.release_out[z] if self.cover(self.lane_to[lane]) < trigger
            ]
            if not lanes:
                continue
            initial_z = float(self.net.buffer_initial[z])
            available = min(
                self.S[z],
                self.net.release_max_fraction * initial_z,
                _scaled_capacity(self.node_capacity[z], self.f[z]),
            )
            self._fill_from(lanes, max(0.0, available))  # never below 0 (section 5.6)

    def phase6c_sharing(self) -> None:
        """Section 5.7: donors above their floor share with recipients below the trigger."""
        trigger = self.net.sharing_trigger_days
        floor = self.net.sharing_floor_days
        for j in self.consumers:  # donors in compiled order
            if not self.sharing_out[j] or not self.cover(j) > floor:
                continue
            lanes = [
                lane for lane in self.sharing_out[j] if self.cover(self.lane_to[lane]) < trigger
            ]
            if not lanes:
                continue
            offer = self.net.sharing_max_fraction * (self.S[j] - floor * self.mu[j])
            self._fill_from(lanes, max(0.0, offer))  # never below 0 (section 5.6)

    def _fill_from(self, lanes: list[int], available: float) -> None:
        """Fill ``r_l = thru_l(N_b)`` on ``lanes`` from ``available``, pro rata when short."""
        requests = [self.thru(lane, self.need[self.lane_to[lane]]) for lane in lanes]
        total = 0.0
        for r in requests:
            total += r
        for lane, r in zip(lanes, requests, strict=True):
            q = r if total <= available else r * available / total
            self.fill[lane] = q
            self.need[self.lane_to[lane]] -= q

    def phase7_shipping(self, t: int) -> None:
        """Section 5.8: fills leave the supplier and enter the pipeline, direct and by detour."""
        for lane in range(self.n_lanes):
            q = self.fill[lane]
            if not q > 0.0:
                continue
            self.S[self.lane_from[lane]] -= q
            x, factor = self.x_l[lane], self.F[lane]
            den = (1.0 - x) + x * factor
            direct = q * (1.0 - x) / den
            detour = q - direct
            arrival = t + self.lead[lane] + self.lic[lane]
            _add_cargo(self.pipe[lane], arrival, direct)
            if detour != 0.0:
                _add_cargo(self.pipe[lane], arrival + self.E[lane], detour)
            self.shipped[lane] += q

    # -- results -------------------------------------------------------------------------------

    def outcome(self) -> ReplicationOutcome:
        """Section 7: per-consumer metrics, network costs, conservation terms."""
        if self.days_run != self.H:
            raise ValueError(f"ran {self.days_run} of the horizon's {self.H} days")
        net = self.net
        consumer = np.full((len(self.consumers), len(CONSUMER_METRICS)), np.nan)
        for i, b in enumerate(self.consumers):
            consumer[i] = self._consumer_metrics(b)

        shipping_total = 0.0
        for lane in range(self.n_lanes):
            shipping_total += self.lane_cost[lane] * self.shipped[lane]
        holding_total = 0.0
        for b in range(self.n_buffers):
            holding_total += float(net.node_holding_cost[self.buffer_node[b]]) * self.stock_days[b]
        fixed_total = 0.0
        for n in range(self.n_nodes):
            fixed_total += self.H * float(net.node_fixed_cost[n])
        network = np.array([shipping_total, holding_total, fixed_total], dtype=np.float64)
        assert len(network) == len(NETWORK_METRICS)

        final_stock = [0.0] * len(net.commodity_ids)
        final_transit = [0.0] * len(net.commodity_ids)
        for b in range(self.n_buffers):
            final_stock[self.buffer_commodity[b]] += self.S[b]
        for lane in range(self.n_lanes):
            final_transit[self.lane_commodity[lane]] += _in_transit(self.pipe[lane])
        terms = {
            "initial_stock": self.initial_stock,
            "initial_transit": self.initial_transit,
            "produced": self.produced,
            "consumed_demand": self.consumed_demand,
            "consumed_inputs": self.consumed_inputs,
            "final_stock": final_stock,
            "final_transit": final_transit,
            "lost": self.lost,
        }
        conservation = np.array([terms[name] for name in CONSERVATION_TERMS], dtype=np.float64)
        return ReplicationOutcome(
            consumer=np.ascontiguousarray(consumer),
            network=network,
            conservation=np.ascontiguousarray(conservation.T),
            timeline=self.timeline,
        )

    def _consumer_metrics(self, b: int) -> list[float]:
        """One row of CONSUMER_METRICS for consumer ``b`` (sections 7, 7.1, 7.2)."""
        net = self.net
        demands, served = self.daily_demand[b], self.daily_served[b]
        total_demand = 0.0
        total_served = 0.0
        loss_area = 0.0
        days_short = 0
        peak = 0.0
        first_short = -1
        service: list[float] = []
        for t, (d, s) in enumerate(zip(demands, served, strict=True)):
            total_demand += d
            total_served += s
            shortfall = d - s
            peak = max(peak, shortfall)
            if shortfall > SHORT_DAY_TOLERANCE * max(1.0, d):
                days_short += 1
                if first_short < 0:
                    first_short = t
            service.append(s / d if d != 0.0 else 1.0)
            loss_area += 1.0 - service[-1]
        fill_rate = total_served / total_demand if total_demand != 0.0 else 1.0
        tts, ttr, censored = self._survive_and_recover(b, first_short, service)

        shipping = 0.0
        for lane in self.inbound[b]:
            shipping += self.lane_cost[lane] * self.shipped[lane]
        values = {
            "demand": total_demand,
            "served": total_served,
            "shortfall": total_demand - total_served,
            "fill_rate": fill_rate,
            "days_short": float(days_short),
            "peak_shortfall": peak,
            "tts": tts,
            "ttr": ttr,
            "censored": censored,
            "loss_area": loss_area,
            "procurement_cost": float(net.commodity_price[self.node_commodity[b]])
            * self.delivered[b],
            "shipping_cost": shipping,
            "holding_cost": float(net.node_holding_cost[b]) * self.stock_days[b],
        }
        return [values[name] for name in CONSUMER_METRICS]

    def _survive_and_recover(
        self, b: int, t_f: int, service: list[float]
    ) -> tuple[float, float, float]:
        """(TTS, TTR, censored) of section 7.1; ``t_f = -1`` when no day is short."""
        if t_f < 0:
            return math.nan, math.nan, 0.0
        onset = _onset(self.net, b, self.timeline, t_f)
        theta = self.net.recovery_threshold
        t_low = next((t for t in range(t_f, self.H) if service[t] < theta), None)
        if t_low is None:
            return float(t_f - onset), float(t_f + 1 - onset), 0.0
        t_rec = next((t for t in range(t_low + 1, self.H) if service[t] >= theta), None)
        if t_rec is None:
            return float(t_f - onset), float(self.H - onset), 1.0
        return float(t_f - onset), float(t_rec - onset), 0.0


def _export_matches(network: Network, d: int) -> list[int]:
    """Lanes (any mode) matched by export restriction ``d``: origin country, commodity and a
    destination country in its set (section 3.1)."""
    origin, commodity = int(network.dis_origin[d]), int(network.dis_commodity[d])
    return [
        lane
        for lane in range(network.n_lanes)
        if int(network.node_country[network.lane_from[lane]]) == origin
        and int(network.lane_commodity[lane]) == commodity
        and bool(network.dis_destinations[d, network.node_country[network.lane_to[lane]]])
    ]


@dataclass(frozen=True)
class UpstreamSet:
    """The upstream set of a consumer (section 7.1): rows of nodes, lanes, chokepoints, and the
    export restrictions (disruption rows) matching one of the lanes."""

    nodes: frozenset[int]
    lanes: frozenset[int]
    chokepoints: frozenset[int]
    export_restrictions: frozenset[int]


def upstream_set(network: Network, consumer: int) -> UpstreamSet:
    """Everything from which a directed path of lanes (any mode) leads to node ``consumer``."""
    # model.md ambiguity (7.1): the page says the compiler computes this set, but the Network
    # holds no such array; it is computed here from the lanes.
    nodes = {consumer}
    frontier = [consumer]
    while frontier:
        node = frontier.pop()
        for lane in range(network.n_lanes):
            origin = int(network.lane_from[lane])
            if int(network.lane_to[lane]) == node and origin not in nodes:
                nodes.add(origin)
                frontier.append(origin)
    lanes = {lane for lane in range(network.n_lanes) if int(network.lane_to[lane]) in nodes}
    chokes: set[int] = set()
    for lane in lanes:
        start, end = int(network.lane_choke_ptr[lane]), int(network.lane_choke_ptr[lane + 1])
        chokes.update(int(k) for k in network.lane_chokes[start:end])
    exports = {
        d
        for d in range(len(network.disruption_ids))
        if int(network.dis_kind[d]) == _EXPORT and lanes.intersection(_export_matches(network, d))
    }
    return UpstreamSet(frozenset(nodes), frozenset(lanes), frozenset(chokes), frozenset(exports))


def _affects(network: Network, upstream: UpstreamSet, consumer: int, occ: Occurrence) -> bool:
    """Whether an occurrence's target is in the consumer's upstream set (section 7.1)."""
    if occ.kind == "node":
        return occ.target in upstream.nodes
    if occ.kind == "lane":
        return occ.target in upstream.lanes
    if occ.kind == "chokepoint":
        return occ.target in upstream.chokepoints
    if occ.kind == "export_restriction":
        return network.disruption_ids.index(occ.source) in upstream.export_restrictions
    return occ.target == consumer  # demand_surge: only a surge on the consumer itself


def _onset(network: Network, consumer: int, timeline: list[Occurrence], t_f: int) -> int:
    """The onset of the first short day ``t_f`` of ``consumer`` (section 7.1)."""
    upstream = upstream_set(network, consumer)
    affecting = [occ for occ in timeline if _affects(network, upstream, consumer, occ)]
    in_effect = [occ.a for occ in affecting if occ.in_effect(t_f)]
    if in_effect:
        return min(in_effect)
    earlier = [occ.a for occ in affecting if occ.a < t_f]
    if earlier:
        return max(earlier)
    # model.md ambiguity (7.1): "if there is none at all, the onset is 0" is read as: no
    # affecting occurrence is in effect on t_f or starts before it (for instance all of them
    # start after t_f). Taken literally, the latest start over an empty set is -inf.
    return 0
