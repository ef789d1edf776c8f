"""Static index tables derived from a compiled Network (docs/network.md, model.md 7.1).

`KernelTables` holds what every engine needs beyond the Network itself: share groups, suppliers
with their lanes in priority order, release and sharing lanes, export matches, upstream masks for
the onset rule and per-lane pipeline sizes. The kernel, the reference day loop and the SimPy
model all read the same tables, so none of them derives a structure of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy import sparse

from resilience.network.arrays import DISRUPTION_KIND_CODES, LANE_MODE_CODES, Network, csr

__all__ = ["KernelTables", "build_tables"]

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class KernelTables:
    """Static index tables derived from a Network (kernel parameter order).

    Shapes use docs/network.md's symbols; G is the number of ordering buffers, S of suppliers.
    """

    consumer_of_node: IntArray  # (N,) consumer row of a consumer node, else -1
    lane_consumer: IntArray  # (L,) consumer row of the lane's destination, else -1
    pipe_ptr: IntArray  # (L+1,) each lane's ring of pipeline slots (days in flight)
    export_ptr: IntArray  # (D+1,) lanes matched by export restriction d
    export_lanes: IntArray
    order_buffers: IntArray  # (G,) buffers that order: non-strategic, with normal inbound lanes
    group_ptr: IntArray  # (G+1,) normal lanes of each ordering buffer (its share group)
    group_lanes: IntArray
    supplier_nodes: IntArray  # (S,) nodes with outbound normal lanes
    supplier_ptr: IntArray  # (S+1,) their outbound normal lanes, sorted by destination rank
    supplier_lanes: IntArray
    supplier_rank: IntArray  # rank of each entry of supplier_lanes (all 0 under pro_rata)
    release_nodes: IntArray  # strategic stockpiles with release lanes, node order
    release_ptr: IntArray
    release_lanes: IntArray
    sharing_nodes: IntArray  # donor consumers with sharing lanes, node order
    sharing_ptr: IntArray
    sharing_lanes: IntArray
    upstream_node: BoolArray  # (R, N) node n is upstream of consumer r (or is r)
    dis_affects: BoolArray  # (R, D) disruption d affects consumer r (section 7.1)

    def as_tuple(self) -> tuple[np.ndarray, ...]:
        return tuple(getattr(self, spec.name) for spec in fields(self))


def build_tables(network: Network) -> KernelTables:
    """Derive the kernel's index tables from a compiled Network."""
    n_nodes, n_lanes = network.n_nodes, network.n_lanes
    consumers = network.consumers
    consumer_of_node = np.full(n_nodes, -1, dtype=np.int64)
    consumer_of_node[consumers] = np.arange(len(consumers))
    lane_consumer = consumer_of_node[network.lane_to].astype(np.int64)
    normal = network.lane_mode == LANE_MODE_CODES["normal"]
    release = network.lane_mode == LANE_MODE_CODES["release"]
    sharing = network.lane_mode == LANE_MODE_CODES["sharing"]

    # Export restrictions: the lanes each one matches (all modes, section 3.1).
    from_country = network.node_country[network.lane_from]
    to_country = network.node_country[network.lane_to]
    export_groups: list[list[int]] = []
    for d in range(len(network.disruption_ids)):
        if network.dis_kind[d] != DISRUPTION_KIND_CODES["export_restriction"]:
            export_groups.append([])
            continue
        match = (
            (from_country == network.dis_origin[d])
            & (network.lane_commodity == network.dis_commodity[d])
            & network.dis_destinations[d][to_country]
        )
        export_groups.append(np.flatnonzero(match).tolist())
    export_ptr, export_lanes = csr(export_groups, np.int64)

    # Ring sizes: the longest delay a lane can give a shipment, plus the day a held cargo waits.
    most_licensing = np.zeros(n_lanes, dtype=np.int64)
    for d, matched in enumerate(export_groups):
        for lane in matched:
            delay = int(network.dis_licensing_delay[d])
            most_licensing[lane] = max(most_licensing[lane], delay)
    sizes = np.empty(n_lanes, dtype=np.int64)
    for lane in range(n_lanes):
        chokes = network.lane_chokes[
            network.lane_choke_ptr[lane] : network.lane_choke_ptr[lane + 1]
        ]
        detour = max([0, int(network.lane_detour_days[lane])] +
                     [int(network.choke_detour_days[k]) for k in chokes])  # fmt: skip
        sizes[lane] = int(network.lane_lead_time[lane]) + detour + most_licensing[lane] + 2
    pipe_ptr = np.zeros(n_lanes + 1, dtype=np.int64)
    pipe_ptr[1:] = np.cumsum(sizes)

    # Share groups of the ordering buffers.
    order_buffers: list[int] = []
    groups: list[list[int]] = []
    for b in range(network.n_buffers):
        inbound = network.buffer_lanes[network.buffer_lane_ptr[b] : network.buffer_lane_ptr[b + 1]]
        members = [int(lane) for lane in inbound if normal[lane]]
        node = int(network.buffer_node[b])
        if members and not network.node_strategic[node]:
            order_buffers.append(b)
            groups.append(members)
    group_ptr, group_lanes = csr(groups, np.int64)

    # Suppliers: outbound normal lanes, sorted (stably) by the destination country's rank.
    priority = network.allocation == 1
    supplier_nodes: list[int] = []
    supplier_groups: list[list[int]] = []
    rank_groups: list[list[int]] = []
    for n in range(n_nodes):
        out = network.node_out_lanes[network.node_out_ptr[n] : network.node_out_ptr[n + 1]]
        lanes = [int(lane) for lane in out if normal[lane]]
        if not lanes:
            continue
        ranks = [
            int(network.country_priority[to_country[lane]]) if priority else 0 for lane in lanes
        ]
        order = sorted(range(len(lanes)), key=lambda i: ranks[i])
        supplier_nodes.append(n)
        supplier_groups.append([lanes[i] for i in order])
        rank_groups.append([ranks[i] for i in order])
    supplier_ptr, supplier_lanes = csr(supplier_groups, np.int64)
    supplier_rank = np.array([r for group in rank_groups for r in group], dtype=np.int64)

    def by_origin(mask: np.ndarray) -> tuple[IntArray, IntArray, IntArray]:
        nodes: list[int] = []
        lanes_of: list[list[int]] = []
        for n in range(n_nodes):
            out = network.node_out_lanes[network.node_out_ptr[n] : network.node_out_ptr[n + 1]]
            lanes = sorted(int(lane) for lane in out if mask[lane])
            if lanes:
                nodes.append(n)
                lanes_of.append(lanes)
        ptr, items = csr(lanes_of, np.int64)
        return np.array(nodes, dtype=np.int64), ptr, items

    release_nodes, release_ptr, release_lanes = by_origin(release)
    sharing_nodes, sharing_ptr, sharing_lanes = by_origin(sharing)

    upstream_node, dis_affects = _upstream(network, export_groups)
    return KernelTables(
        consumer_of_node=consumer_of_node,
        lane_consumer=lane_consumer,
        pipe_ptr=pipe_ptr,
        export_ptr=export_ptr,
        export_lanes=export_lanes,
        order_buffers=np.array(order_buffers, dtype=np.int64),
        group_ptr=group_ptr,
        group_lanes=group_lanes,
        supplier_nodes=np.array(supplier_nodes, dtype=np.int64),
        supplier_ptr=supplier_ptr,
        supplier_lanes=supplier_lanes,
        supplier_rank=supplier_rank,
        release_nodes=release_nodes,
        release_ptr=release_ptr,
        release_lanes=release_lanes,
        sharing_nodes=sharing_nodes,
        sharing_ptr=sharing_ptr,
        sharing_lanes=sharing_lanes,
        upstream_node=upstream_node,
        dis_affects=dis_affects,
    )


def _upstream(network: Network, export_groups: list[list[int]]) -> tuple[BoolArray, BoolArray]:
    """Which nodes are upstream of each consumer, and which disruptions affect it (7.1)."""
    n_nodes, n_lanes = network.n_nodes, network.n_lanes
    consumers = network.consumers
    n_consumers = len(consumers)
    # into[m, n] = 1 when a lane runs from n into m.
    into = sparse.csr_matrix(
        (np.ones(n_lanes, dtype=np.int8), (network.lane_to, network.lane_from)),
        shape=(n_nodes, n_nodes),
    )
    into.data[:] = 1
    reach = sparse.csr_matrix(
        (np.ones(n_consumers, dtype=np.int8), (np.arange(n_consumers), consumers)),
        shape=(n_consumers, n_nodes),
    )
    # Walk upstream one lane at a time until nothing new is reached.
    frontier = reach
    for _ in range(n_nodes):
        step = frontier @ into
        step.data[:] = 1
        new = step - step.multiply(reach)
        new.eliminate_zeros()
        if new.nnz == 0:
            break
        reach = reach + new
        frontier = new
    upstream_node = reach.toarray().astype(np.bool_)

    lane_upstream = upstream_node[:, network.lane_to]  # (R, L): the lane leads into the set
    n_dis = len(network.disruption_ids)
    affects = np.zeros((n_consumers, n_dis), dtype=np.bool_)
    kinds = DISRUPTION_KIND_CODES
    for d in range(n_dis):
        kind = int(network.dis_kind[d])
        target = int(network.dis_target[d])
        if kind == kinds["node"]:
            affects[:, d] = upstream_node[:, target]
        elif kind == kinds["lane"]:
            affects[:, d] = lane_upstream[:, target]
        elif kind == kinds["chokepoint"]:
            passes = np.zeros(n_lanes, dtype=np.bool_)
            for lane in range(n_lanes):
                chokes = network.lane_chokes[
                    network.lane_choke_ptr[lane] : network.lane_choke_ptr[lane + 1]
                ]
                passes[lane] = target in chokes
            affects[:, d] = (lane_upstream & passes[None, :]).any(axis=1)
        elif kind == kinds["export_restriction"]:
            lanes = export_groups[d]
            affects[:, d] = lane_upstream[:, lanes].any(axis=1) if lanes else False
        else:  # demand surge: only on the consumer itself
            affects[:, d] = consumers == target
    return upstream_node, affects
