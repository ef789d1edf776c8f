"""The runs of a job (a sweep's points, a comparison's alternatives, a criticality ranking's
knockouts): one after another here, or overlapped on a cluster.

In this process each run already uses every thread, so the runs go one after another. On a
cluster (an executor with a `parallelism` above 1), a run's last batches would leave workers
idle while the next run waits its turn, and a small run cannot fill a large cluster at all; so
several runs are kept going at once, each from its own thread of this process, which only
submits batches and adds up results. Each run's numbers are those of the run alone (its batches
are pure functions of its network, the seed and the replication range), and the results come
back in the jobs' order, so the job's output is the same either way.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from resilience.engines.execution import Executor, parallelism

__all__ = ["JobProgress", "overlapping", "run_each"]

T = TypeVar("T")

ProgressCallback = Callable[[int, int], None]

MAX_OVERLAP = 32
"""Runs kept going at once on the largest clusters (each holds its outcomes until it is done)."""


class JobStoppedError(Exception):
    """Raised inside a run's progress report to stop it when another run of the job failed."""


class JobProgress:
    """Replications done over all the runs of a job, reported as one count.

    Args:
        total: replications over every run of the job.
        callback: called as ``callback(done, total)``; None for no report.
    """

    def __init__(self, total: int, callback: ProgressCallback | None) -> None:
        self._total = total
        self._callback = callback
        self._done: dict[int, int] = {}
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def reporter(self, run: int) -> ProgressCallback:
        """The progress callback of run number ``run`` (its own count of replications done)."""

        def report(done: int, _: int) -> None:
            if self._stopped.is_set():
                raise JobStoppedError  # unwinds the run, which cancels its batches
            with self._lock:  # held while reporting, so that the count never goes back
                self._done[run] = done
                if self._callback is not None:
                    self._callback(sum(self._done.values()), self._total)

        return report

    def stop(self) -> None:
        """Make every run still going stop at its next batch."""
        self._stopped.set()


def overlapping(executor: Executor | None, runs: int) -> int:
    """How many of ``runs`` runs to keep going at once with ``executor``: 1 in this process; on a
    cluster, 2 (the next run's first batches fill the gaps of one's last), and more on a large
    cluster, whose workers a single run of a few hundred replications cannot all keep busy."""
    workers = parallelism(executor)
    if workers <= 1:
        return 1
    return max(1, min(runs, MAX_OVERLAP, 2 + workers // 4))


def run_each(
    jobs: Sequence[Callable[[ProgressCallback], T]],
    executor: Executor | None,
    progress: JobProgress,
    *,
    first: int = 0,
) -> list[T]:
    """``[job(report) for job in jobs]``, overlapped on a cluster; results in the jobs' order.

    Args:
        jobs: each runs one scenario with the progress callback it is given, and returns what
            the job keeps of it (rows, impacts), so that finished runs' outcomes are not held.
        executor: where the batches run (see `overlapping`).
        progress: the job's progress; the jobs report as runs ``first``, ``first + 1``, ...

    Raises:
        Whatever the first failing job raised; the other runs are stopped first.
    """
    at_once = overlapping(executor, len(jobs))
    if at_once == 1:
        return [job(progress.reporter(first + i)) for i, job in enumerate(jobs)]
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="resilience-run") as pool:
        futures = [pool.submit(job, progress.reporter(first + i)) for i, job in enumerate(jobs)]
        try:
            return [future.result() for future in futures]
        except BaseException:
            # A failed run, Ctrl-C or SIGTERM: runs not started are dropped, and those going
            # stop at their next batch (cancelling their batches on the cluster) before the
            # pool is left.
            progress.stop()
            for future in futures:
                future.cancel()
            raise
