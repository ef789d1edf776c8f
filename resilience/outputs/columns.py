"""Per-replication outcomes spilled to disk, one file per column, for a run that streams.

A streamed run keeps no per-replication rows in memory. Each batch's outcomes are appended to raw
float64 files, one per consumer x metric (``c{row}.{metric}.f64``) and one per network metric
(``network.{metric}.f64``), in replication order. The summary reads one file at a time (one
metric of one consumer over every replication: 8 bytes a replication), the replications table is
assembled from them in row groups, and a resumed run cuts every file back to the replications its
checkpoint lists, so a batch half-written when the process died is dropped.

Raw files rather than Parquet: they can be appended to and truncated, and one column is one
sequential read.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from resilience.errors import OutputError
from resilience.model.outcomes import CONSUMER_METRICS, NETWORK_METRICS

__all__ = ["ColumnFiles"]

FloatArray = npt.NDArray[np.float64]
_ITEM = 8  # bytes of a float64


class ColumnFiles:
    """The column files of a run with ``n_consumers`` consumers, in ``directory``.

    Args:
        directory: where the files live (created by `create`).
        n_consumers: R, the network's consumers.
    """

    def __init__(self, directory: Path, n_consumers: int) -> None:
        self.directory = directory
        self.n_consumers = n_consumers

    def _paths(self) -> list[Path]:
        """Every file: consumer columns row by row, metric by metric, then the network's."""
        return [
            self._consumer_path(r, i)
            for r in range(self.n_consumers)
            for i in range(len(CONSUMER_METRICS))
        ] + [self._network_path(i) for i in range(len(NETWORK_METRICS))]

    def _consumer_path(self, row: int, metric: int) -> Path:
        return self.directory / f"c{row}.{CONSUMER_METRICS[metric]}.f64"

    def _network_path(self, metric: int) -> Path:
        return self.directory / f"network.{NETWORK_METRICS[metric]}.f64"

    def create(self) -> None:
        """Make the directory with every file empty."""
        self.directory.mkdir(parents=True, exist_ok=True)
        for path in self._paths():
            path.write_bytes(b"")

    def append(self, consumer: FloatArray, network: FloatArray) -> None:
        """Append the next replications' outcomes.

        Args:
            consumer: (count, R, len(CONSUMER_METRICS)) float64.
            network: (count, len(NETWORK_METRICS)) float64.
        """
        # One transposed copy, so that every column written is a contiguous slice.
        by_column = np.ascontiguousarray(np.moveaxis(consumer, 0, -1), dtype=np.float64)
        totals = np.ascontiguousarray(network.T, dtype=np.float64)
        for r in range(self.n_consumers):
            for i in range(len(CONSUMER_METRICS)):
                _append(self._consumer_path(r, i), by_column[r, i])
        for i in range(len(NETWORK_METRICS)):
            _append(self._network_path(i), totals[i])

    def consumer_column(self, row: int, metric: int, count: int) -> FloatArray:
        """(count,) float64: ``metric`` of consumer ``row`` in replications 0 .. count - 1."""
        return self._read(self._consumer_path(row, metric), 0, count)

    def network_column(self, metric: int, count: int) -> FloatArray:
        """(count,) float64: network ``metric`` in replications 0 .. count - 1."""
        return self._read(self._network_path(metric), 0, count)

    def consumer_rows(self, first: int, count: int) -> FloatArray:
        """(count, R, len(CONSUMER_METRICS)) float64: replications first .. first + count - 1."""
        rows = np.empty((count, self.n_consumers, len(CONSUMER_METRICS)))
        for r in range(self.n_consumers):
            for i in range(len(CONSUMER_METRICS)):
                rows[:, r, i] = self._read(self._consumer_path(r, i), first, count)
        return rows

    def truncate(self, count: int) -> None:
        """Cut every file back to its first ``count`` replications (a resumed run).

        Raises:
            OutputError: a file is missing or shorter than ``count`` replications (the checkpoint
                does not belong to these files).
        """
        for path in self._paths():
            size = path.stat().st_size if path.exists() else -1
            if size < count * _ITEM:
                raise OutputError(
                    f"{path}: holds {max(size, 0) // _ITEM} replications where the checkpoint "
                    f"lists {count}; the checkpoint is damaged, so start again with --overwrite"
                )
            os.truncate(path, count * _ITEM)

    @staticmethod
    def _read(path: Path, first: int, count: int) -> FloatArray:
        with path.open("rb") as handle:
            handle.seek(first * _ITEM)
            values = np.fromfile(handle, dtype=np.float64, count=count)
        if values.size != count:
            raise OutputError(
                f"{path}: holds {first + values.size} replications, expected "
                f"{first + count}; the run's column files were changed while it ran"
            )
        return values


def _append(path: Path, values: FloatArray) -> None:
    """Append ``values`` (contiguous) to ``path``: plain system calls, since a run with many
    consumers appends to thousands of files per batch."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        data = memoryview(values.data).cast("B")
        while data:
            data = data[os.write(fd, data) :]
    finally:
        os.close(fd)
