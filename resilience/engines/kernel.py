"""The Monte Carlo engine: runs batches of replications of a Network through the kernel.

`run_batch` is a pure function of the network, its tables (`resilience.network.tables`), the
seed and a replication range, returning arrays; every executor (threads, processes, later Dask)
calls it, so none of them can change a number.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from kernels.daily import BLOCK, N_CONSERVATION, N_CONSUMER_METRICS, N_NETWORK_METRICS, simulate
from resilience.model.outcomes import (
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    NETWORK_METRICS,
    BatchResult,
)
from resilience.network.arrays import Network
from resilience.network.tables import KernelTables

__all__ = ["NETWORK_ARGUMENTS", "network_arguments", "run_batch"]

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
