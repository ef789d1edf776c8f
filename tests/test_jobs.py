"""The runs of a job overlapped on a cluster: order, progress and failure (resilience.runs.jobs).

No cluster is needed: an executor only has to say how many batches it runs at once. The
references are counted by hand: three jobs of 10 replications report 30 in all, and results
come back in the jobs' order whatever order they finish in.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from resilience.runs.jobs import JobProgress, overlapping, run_each


@dataclass(frozen=True)
class _Cluster:
    """Stands for a cluster executor: only its parallelism is read."""

    parallelism: int


def test_runs_overlap_only_on_a_cluster() -> None:
    assert overlapping(None, 10) == 1
    assert overlapping(_Cluster(1), 10) == 1
    assert overlapping(_Cluster(2), 10) == 2
    assert overlapping(_Cluster(40), 10) == 10  # never more than the runs
    assert overlapping(_Cluster(400), 100) == 32


def _job(index: int, delay: float, seen: set[str]) -> Callable[[Callable[[int, int], None]], int]:
    def job(report: Callable[[int, int], None]) -> int:
        seen.add(threading.current_thread().name)
        for done in (5, 10):
            time.sleep(delay)
            report(done, 10)
        return index

    return job


@pytest.mark.parametrize("executor", [None, _Cluster(8)])
def test_results_come_back_in_order_and_progress_adds_up(executor: _Cluster | None) -> None:
    reports: list[tuple[int, int]] = []
    seen: set[str] = set()
    # The first job is the slowest, so overlapped runs finish out of order.
    jobs = [_job(i, delay, seen) for i, delay in enumerate((0.05, 0.0, 0.01))]
    results = run_each(jobs, executor, JobProgress(30, lambda d, t: reports.append((d, t))))
    assert results == [0, 1, 2]
    assert reports[-1] == (30, 30)
    assert all(total == 30 for _, total in reports)
    assert [done for done, _ in reports] == sorted(done for done, _ in reports)
    overlapped = any(name.startswith("resilience-run") for name in seen)
    assert overlapped == (executor is not None)


def test_a_failed_run_stops_the_others() -> None:
    finished: list[int] = []

    def failing(report: Callable[[int, int], None]) -> int:
        time.sleep(0.05)
        raise ValueError("bad point")

    def slow(report: Callable[[int, int], None]) -> int:
        for done in range(1, 200):
            time.sleep(0.01)
            report(done, 200)  # raises once the job is stopped
        finished.append(1)
        return 1

    started = time.monotonic()
    with pytest.raises(ValueError, match="bad point"):
        run_each([failing, slow, slow], _Cluster(8), JobProgress(400, None))
    assert finished == []  # the slow runs were stopped, not run to the end (2 s)
    assert time.monotonic() - started < 1.5
