"""Compile a validated `Scenario` into a `Network` of arrays (see `resilience.network.arrays`).

The compiler resolves everything the engines should not have to think about: ids become rows,
days of cover become units, omitted shares become equal shares, the allied-sharing policy becomes
generated sharing lanes, hazard classes become explicit node lists, and every random stream gets
its key from its name (so that adding a disruption leaves the others' draws alone).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence

import numpy as np

from resilience.network.arrays import (
    ALLOCATION_CODES,
    DISRUPTION_KIND_CODES,
    DISTRIBUTION_CODES,
    LANE_MODE_CODES,
    NODE_KIND_CODES,
    Network,
    csr,
)
from resilience.scenario.durations import exponential_mean_for_rounded_mean, up_time_days
from resilience.scenario.schema import DISTRIBUTION_PARAMETERS, Distribution, Node, Scenario

__all__ = ["compile_network", "stream_key"]


def stream_key(name: str) -> int:
    """A 64-bit random-stream key from a stream's name (BLAKE2b, stable across runs)."""
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


class _Distributions:
    """Collects distributions into the Network's distribution table."""

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.params: list[list[float]] = []
        self.values: list[list[float]] = []
        self.cdf: list[list[float]] = []

    def add(self, dist: Distribution) -> int:
        self.kind.append(DISTRIBUTION_CODES[dist.dist])
        if dist.dist == "empirical":
            values = list(dist.values or [])
            weights = list(dist.weights or [1.0] * len(values))
            total = math.fsum(weights)
            cumulative = np.cumsum(weights) / total
            cumulative[-1] = 1.0
            self.params.append([0.0, 0.0, 0.0])
            self.values.append(values)
            self.cdf.append(cumulative.tolist())
        else:
            names = DISTRIBUTION_PARAMETERS[dist.dist]
            row = [float(getattr(dist, name)) for name in names]
            self.params.append(row + [0.0] * (3 - len(row)))
            self.values.append([])
            self.cdf.append([])
        return len(self.kind) - 1

    def arrays(self) -> dict[str, np.ndarray]:
        ptr = np.zeros(len(self.kind) + 1, dtype=np.int64)
        ptr[1:] = np.cumsum([len(v) for v in self.values])
        return {
            "dist_kind": np.array(self.kind, dtype=np.int8),
            "dist_params": np.array(self.params, dtype=np.float64).reshape(len(self.kind), 3),
            "dist_values_ptr": ptr,
            "dist_values": np.array([x for v in self.values for x in v], dtype=np.float64),
            "dist_cdf": np.array([x for c in self.cdf for x in c], dtype=np.float64),
        }


def compile_network(scenario: Scenario) -> Network:
    """Turn a validated scenario into the arrays both engines read.

    The scenario must have passed `resilience.scenario.checks.check_scenario` (the loader
    ensures this); the compiler does not re-check references.
    """
    commodity_ids = tuple(scenario.commodities)
    country_ids = tuple(scenario.countries)
    node_ids = tuple(scenario.nodes)
    chokepoint_ids = tuple(scenario.chokepoints)
    commodity_row = {c: i for i, c in enumerate(commodity_ids)}
    country_row = {c: i for i, c in enumerate(country_ids)}
    node_row = {n: i for i, n in enumerate(node_ids)}
    choke_row = {k: i for i, k in enumerate(chokepoint_ids)}
    nodes = list(scenario.nodes.values())
    n_nodes = len(nodes)
    policies = scenario.policies

    # Bill of materials and buffers
    bom_groups: list[list[int]] = []
    bom_commodity: list[int] = []
    bom_per_unit: list[float] = []
    input_row: dict[tuple[int, int], int] = {}
    for row, node in enumerate(nodes):
        group = []
        for entry in node.inputs:
            m = len(bom_commodity)
            input_row[(row, commodity_row[entry.commodity])] = m
            bom_commodity.append(commodity_row[entry.commodity])
            bom_per_unit.append(entry.per_unit)
            group.append(m)
        bom_groups.append(group)
    bom_ptr, _ = csr(bom_groups)

    # Lanes: the scenario's, then the sharing lanes the policy generates
    lane_ids: list[str] = []
    lane_from: list[int] = []
    lane_to: list[int] = []
    lane_commodity: list[int] = []
    lane_mode: list[int] = []
    lane_lead: list[int] = []
    lane_capacity: list[float] = []
    lane_cost: list[float] = []
    lane_given_share: list[float | None] = []
    lane_detour_days: list[int] = []
    lane_detour_factor: list[float] = []
    lane_chokes: list[list[int]] = []
    for lane_id, spec in scenario.lanes.items():
        origin = node_row[spec.from_]
        lane_ids.append(lane_id)
        lane_from.append(origin)
        lane_to.append(node_row[spec.to])
        lane_commodity.append(commodity_row[spec.commodity])
        strategic = nodes[origin].strategic
        lane_mode.append(LANE_MODE_CODES["release" if strategic else "normal"])
        lane_lead.append(spec.lead_time_days)
        lane_capacity.append(math.inf if spec.capacity_per_day is None else spec.capacity_per_day)
        lane_cost.append(spec.cost_per_unit)
        lane_given_share.append(spec.share)
        lane_detour_days.append(-1 if spec.detour is None else spec.detour.extra_days)
        lane_detour_factor.append(-1.0 if spec.detour is None else spec.detour.capacity_factor)
        lane_chokes.append([choke_row[k] for k in spec.chokepoints])

    sharing = policies.allied_sharing
    if sharing is not None:
        members = set(sharing.members)
        shared = set(sharing.commodities) or set(commodity_ids)
        pact = [
            row
            for row, node in enumerate(nodes)
            if node.kind == "consumer" and node.country in members and node.commodity in shared
        ]
        for a in pact:
            for b in pact:
                same_commodity = nodes[a].commodity == nodes[b].commodity
                if a != b and same_commodity and nodes[a].country != nodes[b].country:
                    lane_ids.append(f"sharing:{node_ids[a]}->{node_ids[b]}")
                    lane_from.append(a)
                    lane_to.append(b)
                    lane_commodity.append(commodity_row[nodes[a].commodity])
                    lane_mode.append(LANE_MODE_CODES["sharing"])
                    lane_lead.append(sharing.lead_time_days)
                    lane_capacity.append(math.inf)
                    lane_cost.append(0.0)
                    lane_given_share.append(None)
                    lane_detour_days.append(-1)
                    lane_detour_factor.append(-1.0)
                    lane_chokes.append([])
    n_lanes = len(lane_ids)

    def destination_buffer(lane: int) -> int:
        to = lane_to[lane]
        if nodes[to].kind == "processor":
            return n_nodes + input_row[(to, lane_commodity[lane])]
        return to

    lane_buffer = [destination_buffer(lane) for lane in range(n_lanes)]
    n_buffers = n_nodes + len(bom_commodity)
    inbound: list[list[int]] = [[] for _ in range(n_buffers)]
    outbound: list[list[int]] = [[] for _ in range(n_nodes)]
    for lane in range(n_lanes):
        inbound[lane_buffer[lane]].append(lane)
        outbound[lane_from[lane]].append(lane)

    # Sourcing shares: equal when none is given, else the given ones (others are alternates)
    lane_share = [0.0] * n_lanes
    for lanes in inbound:
        normal = [lane for lane in lanes if lane_mode[lane] == LANE_MODE_CODES["normal"]]
        if not normal:
            continue
        if all(lane_given_share[lane] is None for lane in normal):
            for lane in normal:
                lane_share[lane] = 1.0 / len(normal)
        else:
            for lane in normal:
                lane_share[lane] = lane_given_share[lane] or 0.0

    delays = policies.switching_delay_by_commodity
    lane_switch_delay = [
        0
        if lane_mode[lane] != LANE_MODE_CODES["normal"]
        else delays.get(commodity_ids[lane_commodity[lane]], policies.switching_delay_days)
        for lane in range(n_lanes)
    ]

    # Buffer quantities: reference rates turn days of cover into units
    reference = _reference_rates(nodes, bom_groups, bom_per_unit, outbound, lane_buffer)
    buffer_node = list(range(n_nodes)) + [
        row for row, group in enumerate(bom_groups) for _ in group
    ]
    buffer_commodity = [commodity_row[node.commodity] for node in nodes] + bom_commodity
    # The expected pipeline (days of the reference rate in transit) of each buffer's normal lanes:
    # order-up-to positions count it, so that target_days means days of stock on hand.
    pipeline_days = [0.0] * n_buffers
    for lane in range(n_lanes):
        if lane_mode[lane] == LANE_MODE_CODES["normal"]:
            pipeline_days[lane_buffer[lane]] += lane_share[lane] * lane_lead[lane]
    lane_initial_flow = [
        min(lane_share[lane] * reference[lane_buffer[lane]], lane_capacity[lane])
        if lane_mode[lane] == LANE_MODE_CODES["normal"]
        else 0.0
        for lane in range(n_lanes)
    ]
    buffer_initial = []
    buffer_target = []
    buffer_capacity = []
    for buffer in range(n_buffers):
        node = nodes[buffer_node[buffer]]
        inventory = node.inventory
        rate = reference[buffer]
        if inventory.initial is not None and buffer < n_nodes:
            initial = inventory.initial
        elif inventory.initial_days is not None:
            initial = inventory.initial_days * rate
        else:
            initial = inventory.target_days * rate
        target = (inventory.target_days + pipeline_days[buffer]) * rate
        if buffer >= n_nodes:
            capacity = math.inf
        elif inventory.capacity is not None:
            capacity = inventory.capacity
        elif node.kind in ("source", "processor"):
            # Producers hold at most their target (at least one day of output), so that a
            # producer with no orders does not pile up stock forever (docs/model.md).
            capacity = max(
                max(1.0, inventory.target_days) * (node.capacity_per_day or 0.0), initial
            )
        else:
            capacity = math.inf
        buffer_initial.append(initial)
        buffer_target.append(target)
        buffer_capacity.append(capacity)

    # Distributions, disruptions, hazards
    distributions = _Distributions()
    dis_kind, dis_target, dis_origin, dis_commodity = [], [], [], []
    dis_destinations = np.zeros((len(scenario.disruptions), len(country_ids)), dtype=np.bool_)
    dis_delay, dis_start, dis_duration, dis_severity = [], [], [], []
    dis_recovery, dis_probability, dis_stream = [], [], []
    lane_row = {lane_id: i for i, lane_id in enumerate(lane_ids)}
    for d, (name, disruption) in enumerate(scenario.disruptions.items()):
        kind = disruption.kind
        dis_kind.append(DISRUPTION_KIND_CODES[kind])
        target_id = disruption.target or ""
        if kind in ("node", "demand_surge"):
            dis_target.append(node_row[target_id])
        elif kind == "lane":
            dis_target.append(lane_row[target_id])
        elif kind == "chokepoint":
            dis_target.append(choke_row[target_id])
        else:
            dis_target.append(-1)
        if kind == "export_restriction":
            origin = country_row[disruption.origin or ""]
            dis_origin.append(origin)
            dis_commodity.append(commodity_row[disruption.commodity or ""])
            if disruption.destinations is None:
                dis_destinations[d, :] = True
                dis_destinations[d, origin] = False
            else:
                for country in disruption.destinations:
                    dis_destinations[d, country_row[country]] = True
        else:
            dis_origin.append(-1)
            dis_commodity.append(-1)
        dis_delay.append(disruption.licensing_delay_days)
        dis_start.append(distributions.add(disruption.start))
        dis_duration.append(distributions.add(disruption.duration))
        dis_severity.append(disruption.severity)
        dis_recovery.append(disruption.recovery_days)
        dis_probability.append(disruption.probability)
        dis_stream.append(stream_key(name))

    haz_groups: list[list[int]] = []
    haz_streams: list[int] = []
    haz_rate, haz_duration, haz_severity, haz_recovery = [], [], [], []
    for name, hazard in scenario.hazards.items():
        struck = [
            row
            for row, node in enumerate(nodes)
            if (not hazard.kinds or node.kind in hazard.kinds)
            and (not hazard.countries or node.country in hazard.countries)
            and (not hazard.commodities or node.commodity in hazard.commodities)
        ]
        haz_groups.append(struck)
        haz_streams.extend(stream_key(f"{name}:{node_ids[row]}") for row in struck)
        # The up time is what a cycle of 365 / annual_rate days leaves after the outage and its
        # ramp (model.md 3.3), so that outages start at the stated rate; checks refuse a rate
        # that leaves none.
        up = up_time_days(hazard.annual_rate, hazard.duration, hazard.recovery_days)
        haz_rate.append(1.0 / exponential_mean_for_rounded_mean(up))
        haz_duration.append(distributions.add(hazard.duration))
        haz_severity.append(hazard.severity)
        haz_recovery.append(hazard.recovery_days)
    haz_node_ptr, haz_nodes = csr(haz_groups)

    priority = np.full(len(country_ids), len(policies.priority_order), dtype=np.int32)
    for rank, country in enumerate(policies.priority_order):
        priority[country_row[country]] = rank

    buffer_lane_ptr, buffer_lanes = csr(inbound)
    node_out_ptr, node_out_lanes = csr(outbound)
    lane_choke_ptr, lane_choke_items = csr(lane_chokes)
    kind_codes = np.array([NODE_KIND_CODES[node.kind] for node in nodes], dtype=np.int8)

    def f8(values: Sequence[float]) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def i4(values: Sequence[int]) -> np.ndarray:
        return np.array(values, dtype=np.int32)

    meta = scenario.scenario
    return Network(
        name=meta.name,
        horizon_days=meta.horizon_days,
        seed=meta.seed,
        replications=meta.replications,
        recovery_threshold=meta.recovery_threshold,
        recovery_window_days=meta.recovery_window_days,
        commodity_ids=commodity_ids,
        commodity_units=tuple(c.unit for c in scenario.commodities.values()),
        country_ids=country_ids,
        node_ids=node_ids,
        lane_ids=tuple(lane_ids),
        chokepoint_ids=chokepoint_ids,
        disruption_ids=tuple(scenario.disruptions),
        hazard_ids=tuple(scenario.hazards),
        commodity_price=f8([c.price_per_unit for c in scenario.commodities.values()]),
        country_priority=priority,
        node_kind=kind_codes,
        node_country=i4([country_row[node.country] for node in nodes]),
        node_commodity=i4([commodity_row[node.commodity] for node in nodes]),
        node_capacity=f8([_capacity(node) for node in nodes]),
        node_holding_cost=f8([node.holding_cost for node in nodes]),
        node_fixed_cost=f8([node.fixed_cost_per_day for node in nodes]),
        node_strategic=np.array([node.strategic for node in nodes], dtype=np.bool_),
        node_demand_mean=f8([node.demand.mean_per_day if node.demand else 0.0 for node in nodes]),
        node_demand_cv=f8([node.demand.cv if node.demand else 0.0 for node in nodes]),
        node_demand_stream=np.array(
            [stream_key(f"demand:{node_id}") for node_id in node_ids], dtype=np.uint64
        ),
        bom_ptr=bom_ptr,
        bom_commodity=i4(bom_commodity),
        bom_per_unit=f8(bom_per_unit),
        buffer_node=i4(buffer_node),
        buffer_commodity=i4(buffer_commodity),
        buffer_reference_rate=f8(reference),
        buffer_initial=f8(buffer_initial),
        buffer_target=f8(buffer_target),
        buffer_pipeline_days=f8(pipeline_days),
        buffer_capacity=f8(buffer_capacity),
        buffer_lane_ptr=buffer_lane_ptr,
        buffer_lanes=buffer_lanes,
        lane_from=i4(lane_from),
        lane_to=i4(lane_to),
        lane_buffer=i4(lane_buffer),
        lane_commodity=i4(lane_commodity),
        lane_mode=np.array(lane_mode, dtype=np.int8),
        lane_lead_time=i4(lane_lead),
        lane_capacity=f8(lane_capacity),
        lane_cost=f8(lane_cost),
        lane_share=f8(lane_share),
        lane_initial_flow=f8(lane_initial_flow),
        lane_switch_delay=i4(lane_switch_delay),
        lane_detour_days=i4(lane_detour_days),
        lane_detour_factor=f8(lane_detour_factor),
        lane_choke_ptr=lane_choke_ptr,
        lane_chokes=lane_choke_items,
        node_out_ptr=node_out_ptr,
        node_out_lanes=node_out_lanes,
        choke_detour_days=i4(
            [-1 if k.detour_days is None else k.detour_days for k in scenario.chokepoints.values()]
        ),
        choke_capacity_factor=f8([k.capacity_factor for k in scenario.chokepoints.values()]),
        **distributions.arrays(),
        dis_kind=np.array(dis_kind, dtype=np.int8),
        dis_target=i4(dis_target),
        dis_origin=i4(dis_origin),
        dis_commodity=i4(dis_commodity),
        dis_destinations=dis_destinations,
        dis_licensing_delay=i4(dis_delay),
        dis_start=i4(dis_start),
        dis_duration=i4(dis_duration),
        dis_severity=f8(dis_severity),
        dis_recovery_days=i4(dis_recovery),
        dis_probability=f8(dis_probability),
        dis_stream=np.array(dis_stream, dtype=np.uint64),
        haz_node_ptr=haz_node_ptr,
        haz_nodes=haz_nodes,
        haz_pair_stream=np.array(haz_streams, dtype=np.uint64),
        haz_rate_per_day=f8(haz_rate),
        haz_duration=i4(haz_duration),
        haz_severity=f8(haz_severity),
        haz_recovery_days=i4(haz_recovery),
        consumers=np.flatnonzero(kind_codes == NODE_KIND_CODES["consumer"]).astype(np.int32),
        allocation=ALLOCATION_CODES[policies.allocation],
        allocation_by_share=policies.pro_rata_by == "share",
        adaptive_ordering=policies.order_target == "adaptive",
        release_trigger_days=policies.stockpile_release.trigger_cover_days,
        release_max_fraction=policies.stockpile_release.max_daily_release_fraction,
        sharing_trigger_days=sharing.trigger_cover_days if sharing else 0.0,
        sharing_floor_days=sharing.donor_floor_days if sharing else 0.0,
        sharing_max_fraction=sharing.max_share_fraction if sharing else 0.0,
    )


def _capacity(node: Node) -> float:
    if node.kind == "consumer" or node.capacity_per_day is None:
        return math.inf
    return node.capacity_per_day


def _reference_rates(
    nodes: list[Node],
    bom_groups: list[list[int]],
    bom_per_unit: list[float],
    outbound: list[list[int]],
    lane_buffer: list[int],
) -> list[float]:
    """The rate (units/day) that each buffer's days of cover refer to (docs/model.md, 2.2).

    Consumer: mean demand. Source, processor: capacity. Processor input: capacity times the input
    per unit. Storage: its outflow capacity, or when that is unbounded, the sum of the rates of
    the buffers its lanes deliver into (resolved over chains of storage nodes).
    """
    rates = [0.0] * len(nodes)
    for row, node in enumerate(nodes):
        if node.kind == "consumer":
            rates[row] = node.demand.mean_per_day if node.demand else 0.0
        elif node.kind in ("source", "processor") or node.capacity_per_day is not None:
            rates[row] = node.capacity_per_day or 0.0
    rates += [
        (nodes[row].capacity_per_day or 0.0) * bom_per_unit[m]
        for row, group in enumerate(bom_groups)
        for m in group
    ]
    unbounded_storage = [
        row
        for row, node in enumerate(nodes)
        if node.kind == "storage" and node.capacity_per_day is None
    ]
    # Each pass settles at least one more link of a storage -> storage chain.
    for _ in range(len(unbounded_storage)):
        changed = False
        for row in unbounded_storage:
            rate = math.fsum(rates[lane_buffer[lane]] for lane in outbound[row])
            if rate != rates[row]:
                rates[row] = rate
                changed = True
        if not changed:
            break
    return rates
