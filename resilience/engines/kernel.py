"""The Monte Carlo engine: runs batches of replications of a Network through the kernel.

`run_batch` is a pure function of the network, its tables (`resilience.network.tables`), the
seed and a replication range, returning arrays; every executor (threads, processes, later Dask)
calls it, so none of them can change a number.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from kernels import daily
from kernels.daily import block_width, simulate
from kernels.records import NetworkArrays, Outputs, Tables
from resilience.model.outcomes import (
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    NETWORK_METRICS,
    BatchResult,
)
from resilience.network.arrays import Network
from resilience.network.tables import KernelTables

__all__ = [
    "NETWORK_ARGUMENTS",
    "kernel_is_compiled",
    "kernel_records",
    "network_arguments",
    "run_batch",
]

NETWORK_ARGUMENTS: tuple[str, ...] = NetworkArrays._fields
"""The Network fields the kernel reads, in the order of `kernels.records.NetworkArrays`."""

_SCALARS = frozenset(
    name
    for name, kind in NetworkArrays.__annotations__.items()
    # NamedTuple keeps a postponed annotation as a ForwardRef
    if getattr(kind, "__forward_arg__", kind) in (float, "float")
)


def kernel_is_compiled(width: int = daily.BLOCK) -> bool | None:
    """Whether the kernel for blocks of ``width`` replications is ready without compiling:
    compiled in this process, or in Numba's on-disk cache from an earlier run. None when this
    cannot be told (Numba's cache layout is not public API, so a Numba that changes it gets no
    answer rather than a wrong one). The default is the width of every network up to
    `kernels.records.LARGE_NETWORK_LANES` lanes; larger networks compile their own."""
    block: Any = daily.block_function(width)  # a Numba dispatcher
    if block.signatures:
        return True
    try:
        index = Path(block._cache._cache_file._index_path)
    except AttributeError:
        return None
    return index.exists()


def network_arguments(network: Network) -> tuple[Any, ...]:
    """The Network fields the kernel reads, in its record's field order."""
    return tuple(
        float(getattr(network, name)) if name in _SCALARS else getattr(network, name)
        for name in NETWORK_ARGUMENTS
    )


def kernel_records(network: Network, tables: KernelTables) -> tuple[NetworkArrays, Tables]:
    """The kernel's read-only records, matched to the Network and tables by field name."""
    net = NetworkArrays(*network_arguments(network))
    tab = Tables(**{name: getattr(tables, name) for name in Tables._fields})
    return net, tab


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
    consumer = np.empty((count, n_consumers, len(CONSUMER_METRICS)))
    totals = np.empty((count, len(NETWORK_METRICS)))
    conservation = np.empty((count, len(network.commodity_ids), len(CONSERVATION_TERMS)))
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
        float(network.recovery_threshold),
        int(network.recovery_window_days),
        *kernel_records(network, tables),
        Outputs(consumer, totals, conservation, daily_service),
    )
    width = block_width(network.n_lanes)
    n_blocks = -(-count // width)
    workers = max(1, min(threads, n_blocks))
    if workers == 1:
        simulate(*arguments, 0, n_blocks, width)
    else:
        # Contiguous block ranges, one per thread; each block writes only its own rows.
        bounds = np.linspace(0, n_blocks, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            jobs = [
                pool.submit(simulate, *arguments, int(lo), int(hi), width)
                for lo, hi in itertools.pairwise(bounds)
                if hi > lo
            ]
            for job in jobs:
                job.result()
    totals[:, NETWORK_METRICS.index("fixed_cost_total")] = horizon * float(
        network.node_fixed_cost.sum()
    )
    return BatchResult(first, consumer, totals, conservation, daily_service if daily else None)
