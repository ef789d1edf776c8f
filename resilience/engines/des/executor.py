"""Batches of replications on the SimPy engine, in the shape the run machinery expects.

`run_des_batch` returns the same `resilience.model.outcomes.BatchResult` as the kernel's
`run_batch`, so `resilience run --engine des` aggregates and writes its run directory with the
same code (`resilience.analysis.summary`, `resilience.outputs.rundir`). `DesExecutor` follows the
executor interface of `resilience.engines.execution`; it runs replications one after another in
this process (slow by design: the SimPy engine is for validation and detail, the kernel for volume).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from resilience.engines.des.model import DesModel
from resilience.engines.des.options import FLUID, DetailOptions
from resilience.engines.execution import BatchPlan
from resilience.model.layout import Layout
from resilience.model.outcomes import BatchResult
from resilience.network.arrays import Network

__all__ = ["DesExecutor", "run_des_batch"]


def run_des_batch(
    layout: Layout,
    first: int,
    count: int,
    *,
    seed: int | None = None,
    daily: bool = False,
    options: DetailOptions = FLUID,
) -> BatchResult:
    """Replications ``first .. first + count - 1`` on the SimPy engine.

    Returns a `BatchResult` with the kernel's layout: consumer (count, R, metrics), network
    (count, 3), conservation (count, C, 8) and, with ``daily``, served/demand per day as
    float32 (count, R, H).
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    outcomes = [
        DesModel(layout, replication, seed=seed, options=options).run()
        for replication in range(first, first + count)
    ]
    return BatchResult(
        first,
        np.stack([o.consumer for o in outcomes]),
        np.stack([o.network for o in outcomes]),
        np.stack([o.conservation for o in outcomes]),
        np.stack([o.daily_service for o in outcomes]).astype(np.float32) if daily else None,
    )


@dataclass(frozen=True)
class DesExecutor:
    """Runs batches on the SimPy engine in this process, one replication after another."""

    options: DetailOptions = field(default=FLUID)

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]:
        layout = Layout.build(network)
        for plan in batches:
            yield run_des_batch(
                layout, plan.first, plan.count, seed=seed, daily=daily, options=self.options
            )
