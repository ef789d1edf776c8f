"""The static structure of a Network as Python lists, built once and shared by replications.

The plain-Python engines (the reference day loop and the SimPy processes) read the same
compiled `Network` as the kernel. They do scalar work on one element at a time, where Python
lists index much faster than NumPy arrays, so `Layout` converts the arrays once per network and
derives the relations the engines need (inbound and outbound lanes by mode, share groups,
suppliers, the buffers that order). Relations the kernel also uses (ordering buffers, export
matches, upstream masks for the onset rule of section 7.1) come from the shared static tables
(`resilience.network.tables.build_tables`), so that every engine reads the same ones.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.network.arrays import (
    ALLOCATION_CODES,
    DISRUPTION_KIND_CODES,
    LANE_MODE_CODES,
    NODE_KIND_CODES,
    Network,
)
from resilience.network.tables import KernelTables, build_tables

__all__ = ["Layout"]

SOURCE, PROCESSOR, STORAGE, CONSUMER = (
    NODE_KIND_CODES[k] for k in ("source", "processor", "storage", "consumer")
)
NORMAL, RELEASE, SHARING = (LANE_MODE_CODES[m] for m in ("normal", "release", "sharing"))
MODE_NAMES = {code: name for name, code in LANE_MODE_CODES.items()}
EXPORT = DISRUPTION_KIND_CODES["export_restriction"]


@dataclass(frozen=True, eq=False)
class Layout:
    """Per-element lists of one Network (rows as in the Network) and the relations between them.

    Quantities keep the Network's units: stocks and flows in units of the element's commodity,
    rates in units/day, times in whole days. Lists of lanes are in ascending lane row unless
    said otherwise.
    """

    network: Network
    tables: KernelTables
    horizon: int
    # nodes (N)
    node_ids: tuple[str, ...]
    node_kind: list[int]
    node_country: list[int]
    node_commodity: list[int]
    node_capacity: list[float]
    node_strategic: list[bool]
    mu: list[float]
    cv: list[float]
    demand_key: list[int]
    bom: list[list[tuple[int, float]]]  # per node: (input buffer row, units per unit of output)
    # buffers (B)
    buffer_node: list[int]
    buffer_commodity: list[int]
    target: list[float]
    rate: list[float]  # reference rate r_b, units/day
    pipeline: list[float]  # expected pipeline P_b, days
    capacity: list[float]
    initial: list[float]
    # lanes (L)
    lane_ids: tuple[str, ...]
    lane_from: list[int]
    lane_to: list[int]
    lane_buffer: list[int]
    lane_commodity: list[int]
    lane_mode: list[int]
    lead: list[int]
    lane_capacity: list[float]
    lane_cost: list[float]
    share: list[float]
    initial_flow: list[float]
    switch_delay: list[int]
    lane_detour_days: list[int]
    lane_detour_factor: list[float]
    lane_chokes: list[list[int]]
    # chokepoints (K)
    choke_detour_days: list[int]
    choke_factor: list[float]
    # relations
    inbound: list[list[int]]  # per buffer, every lane into it (all modes), Network order
    normal_in: list[list[int]]  # per buffer, its share group
    normal_out: list[list[int]]  # per node, its outbound normal lanes
    release_out: list[list[int]]
    sharing_out: list[list[int]]
    ordering_buffers: list[int]  # non-strategic buffers with an inbound normal lane
    consumers: list[int]
    stockpiles: list[int]  # strategic storage nodes, node order
    lane_rank: list[int]  # allocation rank of each lane's destination country (priority)
    priority: bool
    by_share: bool  # pro rata by undisrupted flow (else by request)
    adaptive: bool  # order-up-to positions follow detours, licensing delays and surges
    export_lanes: dict[int, list[int]]  # disruption row -> lanes it matches
    disruption_row: dict[str, int]

    @classmethod
    def build(cls, network: Network, tables: KernelTables | None = None) -> Layout:
        """Derive the layout of ``network`` (``tables`` defaults to `build_tables`)."""
        net = network
        n_nodes, n_lanes = net.n_nodes, net.n_lanes
        kernel_tables = build_tables(net) if tables is None else tables
        lane_mode: list[int] = net.lane_mode.tolist()
        inbound = _rows(net.buffer_lane_ptr, net.buffer_lanes)
        outbound = [sorted(lanes) for lanes in _rows(net.node_out_ptr, net.node_out_lanes)]
        strategic: list[bool] = net.node_strategic.tolist()
        buffer_node: list[int] = net.buffer_node.tolist()
        normal_in = [[lane for lane in lanes if lane_mode[lane] == NORMAL] for lanes in inbound]
        kinds: list[int] = net.node_kind.tolist()
        chokes = _rows(net.lane_choke_ptr, net.lane_chokes)
        bom = [
            [
                (n_nodes + m, float(net.bom_per_unit[m]))
                for m in range(int(net.bom_ptr[n]), int(net.bom_ptr[n + 1]))
            ]
            for n in range(n_nodes)
        ]
        lane_to: list[int] = net.lane_to.tolist()
        country: list[int] = net.node_country.tolist()
        priority = net.allocation == ALLOCATION_CODES["priority"]
        lane_rank = [int(net.country_priority[country[lane_to[lane]]]) for lane in range(n_lanes)]
        matched = _rows(kernel_tables.export_ptr, kernel_tables.export_lanes)
        export_lanes = {
            d: matched[d] for d in range(len(net.disruption_ids)) if int(net.dis_kind[d]) == EXPORT
        }
        return cls(
            network=net,
            tables=kernel_tables,
            horizon=net.horizon_days,
            node_ids=net.node_ids,
            node_kind=kinds,
            node_country=country,
            node_commodity=net.node_commodity.tolist(),
            node_capacity=net.node_capacity.tolist(),
            node_strategic=strategic,
            mu=net.node_demand_mean.tolist(),
            cv=net.node_demand_cv.tolist(),
            demand_key=[int(k) for k in net.node_demand_stream],
            bom=bom,
            buffer_node=buffer_node,
            buffer_commodity=net.buffer_commodity.tolist(),
            target=net.buffer_target.tolist(),
            rate=net.buffer_reference_rate.tolist(),
            pipeline=net.buffer_pipeline_days.tolist(),
            capacity=net.buffer_capacity.tolist(),
            initial=net.buffer_initial.tolist(),
            lane_ids=net.lane_ids,
            lane_from=net.lane_from.tolist(),
            lane_to=lane_to,
            lane_buffer=net.lane_buffer.tolist(),
            lane_commodity=net.lane_commodity.tolist(),
            lane_mode=lane_mode,
            lead=net.lane_lead_time.tolist(),
            lane_capacity=net.lane_capacity.tolist(),
            lane_cost=net.lane_cost.tolist(),
            share=net.lane_share.tolist(),
            initial_flow=net.lane_initial_flow.tolist(),
            switch_delay=net.lane_switch_delay.tolist(),
            lane_detour_days=net.lane_detour_days.tolist(),
            lane_detour_factor=net.lane_detour_factor.tolist(),
            lane_chokes=chokes,
            choke_detour_days=net.choke_detour_days.tolist(),
            choke_factor=net.choke_capacity_factor.tolist(),
            inbound=inbound,
            normal_in=normal_in,
            normal_out=[[lane for lane in out if lane_mode[lane] == NORMAL] for out in outbound],
            release_out=[[lane for lane in out if lane_mode[lane] == RELEASE] for out in outbound],
            sharing_out=[[lane for lane in out if lane_mode[lane] == SHARING] for out in outbound],
            ordering_buffers=kernel_tables.order_buffers.tolist(),
            consumers=net.consumers.tolist(),
            stockpiles=[n for n in range(n_nodes) if kinds[n] == STORAGE and strategic[n]],
            lane_rank=lane_rank,
            priority=priority,
            by_share=bool(net.allocation_by_share),
            adaptive=bool(net.adaptive_ordering),
            export_lanes=export_lanes,
            disruption_row={name: d for d, name in enumerate(net.disruption_ids)},
        )

    @cached_property
    def orders(self) -> list[bool]:
        """Per buffer: whether it places orders (model.md 5.5)."""
        orders = [False] * self.n_buffers
        for b in self.ordering_buffers:
            orders[b] = True
        return orders

    @property
    def n_nodes(self) -> int:
        return len(self.node_kind)

    @property
    def n_lanes(self) -> int:
        return len(self.lane_from)

    @property
    def n_buffers(self) -> int:
        return len(self.buffer_node)


def _rows(ptr: npt.NDArray[np.int64], items: npt.NDArray[np.integer[Any]]) -> list[list[int]]:
    """The rows of a CSR relation (``ptr`` of length rows + 1) as lists of Python ints."""
    bounds: list[int] = ptr.tolist()
    values: list[int] = items.tolist()
    return [values[start:end] for start, end in itertools.pairwise(bounds)]
