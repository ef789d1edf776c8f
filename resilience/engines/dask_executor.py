"""Batches of replications on a Dask cluster: `DaskExecutor`, and `dask_cluster` to get one.

A batch is a pure function of the network, its tables, the seed and a replication range
(`resilience.engines.kernel.run_batch`), so a Dask worker computes exactly the arrays this process
would: the numbers do not depend on the number of workers, the batch size, which worker ran which
batch, or a worker lost and its batches run again (Dask reschedules the tasks of a dead worker).

What is shipped: the compiled `Network` and its `KernelTables` go to the cluster once per run, as
the result of one task that holds them (so that a worker lost with them is recomputed from the
scheduler's copy, which a scattered object could not be); each batch task then carries only
``(first, count, seed, daily)`` and returns its `BatchResult` (a few KB per replication). The
workers need the same ``resilience`` and its kernel installed; each compiles the kernel on its
first batch or loads it from Numba's on-disk cache.

``dask.distributed`` is imported only when a cluster is asked for, so the package works without
the ``dask`` extra; without it, `DaskMissingError` says what to install.
"""

from __future__ import annotations

import itertools
import json
import logging
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from resilience.engines.execution import BatchPlan
from resilience.engines.kernel import run_batch
from resilience.errors import ResilienceError
from resilience.model.outcomes import BatchResult
from resilience.network.arrays import Network
from resilience.network.tables import KernelTables, build_tables

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DaskConnectError",
    "DaskExecutor",
    "DaskMissingError",
    "DaskRunError",
    "dask_cluster",
]

DEFAULT_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a scheduler to answer before giving up."""


class DaskMissingError(ResilienceError):
    """``dask.distributed`` is not installed."""


class DaskConnectError(ResilienceError):
    """No scheduler answered at the address given, or the local cluster could not start."""


class DaskRunError(ResilienceError):
    """A batch failed on the cluster for a reason Dask does not retry (a task that killed its
    workers too often, a worker whose ``resilience`` cannot run the batch)."""


def _distributed() -> ModuleType:
    try:
        import distributed
    except ImportError:
        raise DaskMissingError(
            "--executor dask needs Dask's distributed scheduler, which is not installed: "
            "pip install 'resilience[dask]'"
        ) from None
    return distributed


def _hold(network: Network, tables: KernelTables) -> tuple[Network, KernelTables]:
    """The network and its tables, as a task's result: what every batch task depends on."""
    return network, tables


def _batch(
    payload: tuple[Network, KernelTables], first: int, count: int, seed: int, daily: bool
) -> BatchResult:
    network, tables = payload
    # One thread per task: the cluster's parallelism is its worker threads, one batch each.
    return run_batch(network, tables, first, count, seed=seed, daily=daily, threads=1)


@dataclass(frozen=True)
class DaskExecutor:
    """Batches spread over the workers of a Dask cluster, results yielded in replication order.

    Attributes:
        client: a connected ``distributed.Client`` (see `dask_cluster`).
        ahead: batches submitted beyond those being yielded, per worker thread: enough to keep
            every thread busy while results travel back, few enough that results waiting to be
            yielded stay bounded (memory does not grow with the number of batches).
    """

    client: Any  # distributed.Client; typed loosely so that this module imports without Dask
    ahead: int = 2

    @property
    def parallelism(self) -> int:
        """Worker threads in the cluster now (at least 1; a cluster may still be scaling up)."""
        threads: dict[str, int] = self.client.nthreads()
        return max(1, sum(threads.values()))

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]:
        client = self.client
        payload = client.submit(_hold, network, build_tables(network), pure=False)
        plans = iter(enumerate(batches))

        def submit(index: int, plan: BatchPlan) -> Any:
            # Earlier batches first (higher priority runs first), so results arrive in order.
            return client.submit(
                _batch, payload, plan.first, plan.count, seed, daily,
                priority=-index, pure=False,
            )  # fmt: skip

        window = self.ahead * self.parallelism + 1
        pending = deque(submit(i, plan) for i, plan in itertools.islice(plans, window))
        try:
            while pending:
                future = pending.popleft()
                result = _result(future)
                del future  # released: the cluster forgets the batch's arrays
                window = self.ahead * self.parallelism + 1
                for i, plan in itertools.islice(plans, max(0, window - len(pending))):
                    pending.append(submit(i, plan))
                yield result
        finally:
            # Stopped early (an error, Ctrl-C) or done: nothing is left running for this run.
            client.cancel([*pending, payload])


def _result(future: Any) -> BatchResult:
    distributed = _distributed()
    try:
        result: BatchResult = future.result()
    except distributed.KilledWorker as error:
        raise DaskRunError(
            f"a batch was lost with its worker too many times to retry ({error}); the workers "
            "may be running out of memory"
        ) from None
    except distributed.client.FutureCancelledError as error:
        raise DaskRunError(
            f"the cluster dropped a batch ({error.reason}): the scheduler was lost or restarted"
        ) from None
    except Exception as error:  # raised on a worker and sent back (Dask does not retry these)
        raise DaskRunError(
            f"a batch failed on a Dask worker ({type(error).__name__}: {error}); the workers "
            "need the same resilience, numba and numpy as this process (docs/scale-out.md)"
        ) from error
    return result


@contextmanager
def dask_cluster(
    *,
    scheduler: str | None = None,
    workers: int | None = None,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
) -> Iterator[DaskExecutor]:
    """A `DaskExecutor` on an existing scheduler, or on a local cluster closed on exit.

    Args:
        scheduler: address of a running scheduler (``tcp://host:8786``), e.g. one started by
            dask-jobqueue or dask-kubernetes, or the path of its scheduler file; its workers are
            left running afterwards.
        workers: without ``scheduler``, start a `distributed.LocalCluster` of this many worker
            processes, one thread each, and close it on exit.
        timeout: seconds to wait for the scheduler to answer.

    Raises:
        DaskMissingError: ``dask.distributed`` is not installed.
        DaskConnectError: no scheduler answered within ``timeout``, or the cluster did not start.
        ValueError: neither or both of ``scheduler`` and ``workers``.
    """
    if (scheduler is None) == (workers is None):
        raise ValueError("give either a scheduler address or a number of workers")
    distributed = _distributed()
    if scheduler is not None:
        with _connect(distributed, scheduler, timeout) as client:
            yield DaskExecutor(client)
        return
    try:
        cluster = distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: two local clusters must not clash
            silence_logs=logging.ERROR,  # a restarted worker is routine here, not news
        )
    except (OSError, TimeoutError) as error:
        raise DaskConnectError(
            f"--workers {workers}: the local Dask cluster did not start ({_reason(error)})"
        ) from None
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield DaskExecutor(client)


def _connect(distributed: ModuleType, scheduler: str, timeout: float) -> Any:
    """A client of the scheduler at ``scheduler``: an address, or the path of the JSON file a
    scheduler wrote with ``--scheduler-file`` (as on a shared file system under SLURM)."""
    address = _scheduler_file(scheduler) if Path(scheduler).is_file() else scheduler
    try:  # a malformed address is refused here, before a client exists to be cleaned up
        distributed.comm.get_address_host_port(address)
    except ValueError as error:
        raise DaskConnectError(
            f"--scheduler {scheduler}: not a scheduler address ({_reason(error)}); expected e.g. "
            "tcp://host:8786, or the path of a scheduler file"
        ) from None
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False)
    except OSError as error:  # refused, unknown host, or no answer in time
        raise DaskConnectError(
            f"--scheduler {scheduler}: no Dask scheduler answered within {timeout:g} s "
            f"({_reason(error)}); is it running and reachable from here? (--connect-timeout "
            "waits longer)"
        ) from None


def _scheduler_file(path: str) -> str:
    """The address in a scheduler file (JSON with an ``address``, as ``dask scheduler
    --scheduler-file`` writes it)."""
    try:
        address = json.loads(Path(path).read_text(encoding="utf-8"))["address"]
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError):
        address = None
    if not isinstance(address, str):
        raise DaskConnectError(
            f"--scheduler {path}: a file, but not a Dask scheduler file (JSON with an "
            '"address", as dask scheduler --scheduler-file writes)'
        )
    return address


def _reason(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
