"""The replications table, written in row groups while a run goes on (one row per replication x
consumer, every metric a column; docs/decisions.md, "Memory and resumable runs").

`ReplicationsWriter` takes each batch's outcomes as they come and writes them to a temporary
file with `pyarrow.parquet.ParquetWriter` (or `pyarrow.csv.CSVWriter` for ``--format csv``), one
row group of `ROW_GROUP_ROWS` rows at a time, so at most one row group is held in memory. Row
groups are cut at fixed replication counts, not at batch ends, so the file's bytes depend on the
outcomes alone, not on the batch size or the thread count: a resumed run writes the same file as
an uninterrupted one. The caller renames the finished file into place (`rundir.publish`).
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from resilience.model.outcomes import CONSUMER_METRICS
from resilience.network.arrays import Network
from resilience.outputs.rundir import TableFormat

__all__ = ["ROW_GROUP_ROWS", "ReplicationsWriter", "replications_table"]

ROW_GROUP_ROWS = 1 << 16
"""Rows (replication x consumer) per row group, about 7 MB of columns: a run of up to 65,536
rows is one row group, the file `pyarrow.parquet.write_table` made of the whole table before
rows were streamed."""

FloatArray = npt.NDArray[np.float64]


def replications_table(network: Network, consumer: FloatArray, first: int = 0) -> pa.Table:
    """One row per replication x consumer, with every metric as a column.

    Args:
        consumer: (count, R, len(CONSUMER_METRICS)) outcomes of replications first ..
            first + count - 1.
    """
    n_reps, n_consumers, _ = consumer.shape
    nodes = network.consumers
    columns: dict[str, Any] = {
        "replication": np.repeat(np.arange(first, first + n_reps, dtype=np.int64), n_consumers),
        "consumer": pa.array(
            np.tile([network.node_ids[n] for n in nodes], n_reps)
        ).dictionary_encode(),
        "commodity": pa.array(
            np.tile([network.commodity_ids[network.node_commodity[n]] for n in nodes], n_reps)
        ).dictionary_encode(),
        "country": pa.array(
            np.tile([network.country_ids[network.node_country[n]] for n in nodes], n_reps)
        ).dictionary_encode(),
    }
    flat = consumer.reshape(n_reps * n_consumers, len(CONSUMER_METRICS))
    for i, name in enumerate(CONSUMER_METRICS):
        columns[name] = flat[:, i]
    return pa.table(columns)


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain strings, for CSV."""
    fields = [
        pa.field(f.name, pa.string()) if pa.types.is_dictionary(f.type) else f for f in table.schema
    ]
    return table.cast(pa.schema(fields))


class ReplicationsWriter:
    """Writes the replications table of ``network`` to ``path`` in row groups.

    Args:
        network: the run's network (consumer ids, commodities, countries).
        path: the temporary file to write (the caller renames it into place, or removes it).
        table_format: parquet or csv.
    """

    def __init__(self, network: Network, path: Path, table_format: TableFormat) -> None:
        self.network = network
        self.path = path
        self.table_format = table_format
        self.group = max(1, ROW_GROUP_ROWS // max(1, len(network.consumers)))
        """Replications per row group."""
        self._pending: list[FloatArray] = []
        self._pending_count = 0
        self._written = 0
        self._writer: pq.ParquetWriter | pa_csv.CSVWriter | None = None

    @property
    def written(self) -> int:
        """Replications added so far (written or waiting for their row group to fill)."""
        return self._written + self._pending_count

    def append(self, consumer: FloatArray) -> None:
        """Add the next replications' outcomes, (count, R, len(CONSUMER_METRICS)) float64."""
        self._pending.append(consumer)
        self._pending_count += consumer.shape[0]
        while self._pending_count >= self.group:
            self._write(self.group)

    def close(self) -> None:
        """Write the last, partial row group and close the file."""
        if self._pending_count:
            self._write(self._pending_count)
        if self._writer is None:  # no replication at all: still a table with its columns
            empty = np.empty((0, len(self.network.consumers), len(CONSUMER_METRICS)))
            self._open(replications_table(self.network, empty))
        assert self._writer is not None
        self._writer.close()
        self._writer = None

    def abort(self) -> None:
        """Close and remove the file (a run that stopped)."""
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            self._writer = None
        self.path.unlink(missing_ok=True)

    def _write(self, count: int) -> None:
        rows = np.concatenate(self._pending) if len(self._pending) > 1 else self._pending[0]
        group, rest = rows[:count], rows[count:]
        self._pending = [rest] if rest.shape[0] else []
        self._pending_count = rest.shape[0]
        table = replications_table(self.network, group, first=self._written)
        if self._writer is None:
            self._open(table)
        if self.table_format == "parquet":
            assert isinstance(self._writer, pq.ParquetWriter)
            self._writer.write_table(table, row_group_size=ROW_GROUP_ROWS)
        else:
            assert isinstance(self._writer, pa_csv.CSVWriter)
            self._writer.write_table(_decoded(table))
        self._written += count

    def _open(self, table: pa.Table) -> None:
        if self.table_format == "parquet":
            self._writer = pq.ParquetWriter(self.path, table.schema)
        else:
            self._writer = pa_csv.CSVWriter(self.path, _decoded(table).schema)
