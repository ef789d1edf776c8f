"""The Monte Carlo engine: prepares a Network for the kernel and runs batches of replications.

`KernelTables` holds the static index tables the kernel needs beyond the Network (share groups,
suppliers with their lanes in priority order, release and sharing lanes, export matches, upstream
masks for the onset rule, per-lane pipeline sizes). `run_batch` is a pure function of the
network, its tables, the seed and a replication range, returning arrays; every executor
(threads now, processes or Dask later) calls it, so none of them can change a number.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy import sparse

from kernels.daily import BLOCK, N_CONSERVATION, N_CONSUMER_METRICS, N_NETWORK_METRICS, simulate
from resilience.network import DISRUPTION_KIND_CODES, LANE_MODE_CODES, Network, csr
from resilience.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS

__all__ = [
    "NETWORK_ARGUMENTS",
    "BatchResult",
    "KernelTables",
    "build_tables",
    "network_arguments",
    "run_batch",
]

assert len(CONSUMER_METRICS) == N_CONSUMER_METRICS
assert len(NETWORK_METRICS) == N_NETWORK_METRICS
assert len(CONSERVATION_TERMS) == N_CONSERVATION

NETWORK_ARGUMENTS: tuple[str, ...] = (
    "commodity_price", "node_kind", "node_commodity", "node_capacity", "node_holding_cost",
    "node_strategic", "node_demand_mean", "node_demand_cv", "node_demand_stream", "bom_ptr",
    "bom_per_unit", "bom_commodity", "buffer_node", "buffer_commodity", "buffer_initial",
    "buffer_target", "buffer_capacity", "lane_from", "lane_buffer", "lane_commodity",
    "lane_lead_time", "lane_capacity", "lane_cost", "lane_share", "lane_initial_flow",
    "lane_switch_delay", "lane_detour_days", "lane_detour_factor", "lane_choke_ptr",
    "lane_chokes", "choke_detour_days", "choke_capacity_factor", "dist_kind", "dist_params",
    "dist_values_ptr", "dist_values", "dist_cdf", "dis_kind", "dis_target",
    "dis_licensing_delay", "dis_start", "dis_duration", "dis_severity", "dis_recovery_days",
    "dis_probability", "dis_stream", "haz_node_ptr", "haz_nodes", "haz_pair_stream",
    "haz_rate_per_day", "haz_duration", "haz_severity", "haz_recovery_days", "consumers",
    "release_trigger_days", "release_max_fraction", "sharing_trigger_days",
    "sharing_floor_days", "sharing_max_fraction",
)  # fmt: skip
"""The Network fields the kernel reads, in the order of its parameters."""

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


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Outcomes of replications ``first .. first + count - 1`` (resilience.outcomes layout).

    Attributes:
        first: index of the first replication.
        consumer: (count, R, len(CONSUMER_METRICS)) float64.
        network: (count, len(NETWORK_METRICS)) float64.
        conservation: (count, C, len(CONSERVATION_TERMS)) float64.
        daily_service: (count, R, H) float32 served/demand per day, or None when not asked for.
    """

    first: int
    consumer: npt.NDArray[np.float64]
    network: npt.NDArray[np.float64]
    conservation: npt.NDArray[np.float64]
    daily_service: npt.NDArray[np.float32] | None

    @property
    def count(self) -> int:
        return int(self.consumer.shape[0])


def network_arguments(network: Network) -> tuple[object, ...]:
    """The Network fields the kernel reads, in its parameter order."""
    return tuple(getattr(network, name) for name in NETWORK_ARGUMENTS)


def run_batch(
    network: Network,
    tables: KernelTables,
    first: int,
    count: int,
    *,
    seed: int | None = None,
    daily: bool = False,
    threads: int = 1,
) -> BatchResult:
    """Simulate replications ``first .. first + count - 1``: a pure function of its inputs.

    Args:
        network: the compiled network.
        tables: `build_tables(network)`.
        first: index of the first replication (streams depend on it, not on the batch).
        count: number of replications (>= 1).
        seed: overrides ``network.seed``.
        daily: also return each replication's daily service per consumer.
        threads: threads to split the batch's blocks among (the kernel releases the GIL); the
            numbers do not depend on it.
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    n_consumers = len(network.consumers)
    horizon = network.horizon_days
    consumer = np.empty((count, n_consumers, N_CONSUMER_METRICS))
    totals = np.empty((count, N_NETWORK_METRICS))
    conservation = np.empty((count, len(network.commodity_ids), N_CONSERVATION))
    daily_service = (
        np.empty((count, n_consumers, horizon), dtype=np.float32)
        if daily
        else np.empty((0, 0, 0), dtype=np.float32)
    )
    arguments = (
        first,
        count,
        np.uint64(network.seed if seed is None else seed),
        horizon,
        network.recovery_threshold,
        network_arguments(network),
        tables.as_tuple(),
        consumer,
        totals,
        conservation,
        daily_service,
    )
    n_blocks = -(-count // BLOCK)
    workers = max(1, min(threads, n_blocks))
    if workers == 1:
        simulate(*arguments, 0, n_blocks)
    else:
        # Contiguous block ranges, one per thread; each block writes only its own rows.
        bounds = np.linspace(0, n_blocks, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [
                pool.submit(simulate, *arguments, int(lo), int(hi))
                for lo, hi in itertools.pairwise(bounds)
                if hi > lo
            ]
            for job in jobs:
                job.result()
    totals[:, 2] = horizon * float(network.node_fixed_cost.sum())
    return BatchResult(first, consumer, totals, conservation, daily_service if daily else None)
