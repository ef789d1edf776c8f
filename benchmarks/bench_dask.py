"""The Dask executor's local speed-up: a local cluster of 2 worker processes against 1 (issue 12
item 5).

The work is the shipped baseline scenario (112 nodes, 204 lanes, 365 days), 2,048 replications
in 16 batches of 128, sent through `DaskExecutor` to a `LocalCluster` of worker processes with
one thread each, as ``resilience run baseline --executor dask --workers N`` does. Each cluster
is started, and every worker has loaded the compiled kernel, before the clock starts: the figure
is the executor's throughput, not the cluster's start-up (reported separately). Every time is
the best of three rounds.
The benchmark asserts the work done (every replication, once, in order) and that both clusters
return the local executor's numbers bit for bit. The ratio is reported, not asserted: on a
shared 2-core machine the second worker competes with everything else running.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pytest

from resilience.engines.execution import LocalExecutor, plan_batches
from resilience.engines.kernel import run_batch
from resilience.model.outcomes import BatchResult
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.scenario.loader import load_scenario

REPLICATIONS = 2_048
BATCH = 128
SEED = 3
ROUNDS = 3


@pytest.fixture(scope="module")
def baseline() -> Network:
    return compile_network(load_scenario("baseline").scenario)


def _warm(network: Network) -> int:
    """Load the compiled kernel in this worker (from Numba's cache); return the replications."""
    return run_batch(network, build_tables(network), 0, 64).count


@contextmanager
def _cluster(workers: int, network: Network) -> Iterator[tuple[Any, float]]:
    """A DaskExecutor on a local cluster of ``workers`` processes, warmed, and its start-up time."""
    distributed = pytest.importorskip("distributed", reason="needs the dask extra")
    from resilience.engines.dask_executor import DaskExecutor

    started = time.perf_counter()
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as client,
    ):  # fmt: skip
        warmed = client.run(_warm, network)
        assert len(warmed) == workers
        assert set(warmed.values()) == {64}
        yield DaskExecutor(client), time.perf_counter() - started


def _run(executor: Any, network: Network) -> list[BatchResult]:
    batches = plan_batches(REPLICATIONS, BATCH)
    return list(executor.run(network, batches, seed=SEED, daily=False))


def _check(results: list[BatchResult], local: list[BatchResult]) -> None:
    assert sum(batch.count for batch in results) == REPLICATIONS
    assert [batch.first for batch in results] == list(range(0, REPLICATIONS, BATCH))
    for a, b in zip(local, results, strict=True):
        np.testing.assert_array_equal(b.consumer, a.consumer)


def test_two_dask_workers_against_one(benchmark: Any, baseline: Network) -> None:
    _warm(baseline)  # this process's kernel too, before it is timed
    local_seconds = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        local = _run(LocalExecutor(threads=1), baseline)
        local_seconds.append(time.perf_counter() - started)

    with _cluster(1, baseline) as (one, startup_one):
        one_seconds = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            _check(_run(one, baseline), local)
            one_seconds.append(time.perf_counter() - started)

    with _cluster(2, baseline) as (two, startup_two):
        results = benchmark.pedantic(
            _run, args=(two, baseline), rounds=ROUNDS, iterations=1, warmup_rounds=0
        )
    _check(results, local)

    two_seconds = benchmark.stats.stats.min
    benchmark.extra_info.update(
        scenario="baseline",
        replications=REPLICATIONS,
        batch_size=BATCH,
        local_one_thread_seconds=min(local_seconds),
        one_worker_seconds=min(one_seconds),
        two_workers_seconds=two_seconds,
        speedup_two_over_one=min(one_seconds) / two_seconds,
        one_worker_over_local=min(one_seconds) / min(local_seconds),
        cluster_startup_seconds=max(startup_one, startup_two),
    )
