"""One executor interface for batches of replications: threads here, processes, or Dask.

A batch is a pure function of the network, the seed and a replication range
(`resilience.engines.kernel.run_batch`), so an executor only decides where batches run. Whatever it
chooses, the numbers are the same: tests compare threads, processes and batch sizes bit for bit.
Results come back in replication order, so callers can aggregate as they go.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from resilience.engines.kernel import run_batch
from resilience.model.outcomes import BatchResult
from resilience.network.arrays import Network
from resilience.network.tables import KernelTables, build_tables

__all__ = [
    "BatchPlan",
    "Executor",
    "LocalExecutor",
    "ProcessExecutor",
    "parallelism",
    "plan_batches",
]


@dataclass(frozen=True)
class BatchPlan:
    """Replications ``first .. first + count - 1``."""

    first: int
    count: int


def plan_batches(replications: int, batch_size: int) -> list[BatchPlan]:
    """Split ``replications`` into consecutive batches of at most ``batch_size``."""
    if replications < 1 or batch_size < 1:
        raise ValueError("replications and batch_size must be >= 1")
    return [
        BatchPlan(first, min(batch_size, replications - first))
        for first in range(0, replications, batch_size)
    ]


class Executor(Protocol):
    """Runs batches of one network and yields their results in replication order.

    An executor that spreads batches over a cluster also says how many it runs at once, as a
    ``parallelism`` attribute (see `parallelism`); runs then size their batches, and jobs of
    several runs overlap them, to keep the cluster busy.
    """

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]: ...


def parallelism(executor: Executor | None) -> int:
    """Batches a cluster executor runs at once (its ``parallelism``, e.g. a Dask cluster's worker
    threads); 1 for an executor in this process, whose threads split each batch instead."""
    return max(1, int(getattr(executor, "parallelism", 1)))


@dataclass(frozen=True)
class LocalExecutor:
    """Batches one after another in this process; each batch split among ``threads``."""

    threads: int = 1

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]:
        tables = build_tables(network)
        for plan in batches:
            yield run_batch(
                network, tables, plan.first, plan.count, seed=seed, daily=daily,
                threads=self.threads,
            )  # fmt: skip


def _run_in_worker(
    network: Network, tables: KernelTables, plan: BatchPlan, seed: int, daily: bool
) -> BatchResult:
    return run_batch(network, tables, plan.first, plan.count, seed=seed, daily=daily)


@dataclass(frozen=True)
class ProcessExecutor:
    """Batches spread over ``workers`` processes (each compiles or loads the cached kernel)."""

    workers: int = max(1, os.cpu_count() or 1)

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]:
        tables = build_tables(network)
        # Each task carries the network and tables (pickled arrays, small beside a batch's work)
        # so that workers hold no state between tasks.
        with ProcessPoolExecutor(max_workers=self.workers) as pool:
            futures: list[Future[BatchResult]] = [
                pool.submit(_run_in_worker, network, tables, plan, seed, daily) for plan in batches
            ]
            try:
                for future in futures:
                    yield future.result()
            finally:
                for future in futures:
                    future.cancel()
