"""Where a command's batches run: this process (threads), or a Dask cluster.

`ExecutorChoice` is what the user asked for (``--executor``, ``--workers``, ``--scheduler``);
`open_executor` turns it into an executor for the whole command, so that a sweep, a comparison
or a criticality ranking sends every scenario's batches to the same cluster, started (or
connected to) once. Whatever the choice, the numbers are the same
(`resilience.engines.dask_executor`).

This module imports no engine at import time: the command line builds an `ExecutorChoice`
before it knows whether it will run anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from resilience.engines.execution import Executor

__all__ = ["CONNECT_TIMEOUT", "ExecutorChoice", "ExecutorKind", "open_executor"]

ExecutorKind = Literal["local", "dask"]

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler by default (the same as
`resilience.engines.dask_executor.DEFAULT_CONNECT_TIMEOUT`; a test checks it)."""


@dataclass(frozen=True)
class ExecutorChoice:
    """Where batches run.

    Attributes:
        kind: ``local`` (this process, the run's threads) or ``dask``.
        workers: with ``dask``, worker processes of a local cluster started for the command
            (one thread each); None with ``scheduler``.
        scheduler: with ``dask``, the address of a running scheduler to connect to.
        connect_timeout: seconds to wait for ``scheduler`` to answer.
    """

    kind: ExecutorKind = "local"
    workers: int | None = None
    scheduler: str | None = None
    connect_timeout: float = CONNECT_TIMEOUT

    def __post_init__(self) -> None:
        if self.kind == "local" and (self.workers is not None or self.scheduler is not None):
            raise ValueError("workers and scheduler go with the dask executor")
        if self.kind == "dask" and (self.workers is None) == (self.scheduler is None):
            raise ValueError("the dask executor needs either workers or a scheduler")


@contextmanager
def open_executor(choice: ExecutorChoice) -> Iterator[Executor | None]:
    """The executor for ``choice``, open for the ``with`` block: None for ``local`` (each run then
    uses its own threads), a `DaskExecutor` on a connected client for ``dask`` (a local cluster
    is closed on exit; a remote scheduler and its workers are left running).

    Raises:
        DaskMissingError: ``dask`` asked for but not installed.
        DaskConnectError: the scheduler did not answer in time, or the local cluster did not start.
    """
    if choice.kind == "local":
        yield None
        return
    from resilience.engines.dask_executor import dask_cluster

    with dask_cluster(
        scheduler=choice.scheduler, workers=choice.workers, timeout=choice.connect_timeout
    ) as executor:
        yield executor
