"""``resilience trace``: run one replication on the SimPy engine and write its event log.

The trace directory holds ``trace.parquet`` and ``trace.csv`` (the same rows; columns in
`resilience.engines.des.trace.TRACE_COLUMNS`) and, written last, ``manifest.json``. As with run
directories (`resilience.outputs.rundir`), files are written under temporary names and renamed into
place, and a directory without a manifest is incomplete.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from resilience.engines.des.metrics import Outcome
from resilience.engines.des.model import DesModel
from resilience.engines.des.options import DetailOptions
from resilience.model.layout import Layout
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.rundir import (
    MANIFEST,
    atomic_write,  # the one atomic writer of run directories, reused for trace directories
    package_versions,
    write_json,
)
from resilience.scenario.loader import LoadedScenario

__all__ = ["TraceResult", "trace_scenario"]


@dataclass(frozen=True)
class TraceResult:
    """A traced replication: its network, outcome, event log and the files written."""

    network: Network
    outcome: Outcome
    table: pa.Table
    mode: str
    files: list[Path]


def trace_scenario(
    loaded: LoadedScenario,
    replication: int,
    *,
    out: Path,
    seed: int | None = None,
    overwrite: bool = False,
) -> TraceResult:
    """Run replication ``replication`` of ``loaded`` with tracing and write ``out``.

    ``out`` is claimed as a trace directory (`OutputDirectory`): a run directory is never
    written into, and an earlier trace is replaced only with ``overwrite``.
    """
    with OutputDirectory(out, "trace", overwrite=overwrite):
        return _trace(loaded, replication, out, seed)


def _trace(loaded: LoadedScenario, replication: int, out: Path, seed: int | None) -> TraceResult:
    network = compile_network(loaded.scenario)
    options = DetailOptions.from_scenario(loaded.scenario, network)
    model = DesModel(Layout.build(network), replication, seed=seed, options=options, trace=True)
    outcome = model.run()
    assert model.trace is not None
    table = model.trace.table()
    parquet, csv = out / "trace.parquet", out / "trace.csv"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    atomic_write(csv, lambda temporary: pa_csv.write_csv(table, temporary))
    manifest: dict[str, Any] = {
        "scenario": network.name,
        "scenario_files": [str(path) for path in loaded.files],
        "overrides": list(loaded.overrides),
        "scenario_sha256": loaded.digest,
        "seed": model.seed,
        "replication": replication,
        "engine": "des",
        "des_mode": options.mode,
        "events_logged": table.num_rows,
        "simpy_events": outcome.events,
        "versions": package_versions(),
        "files": [parquet.name, csv.name],
    }
    write_json(out / MANIFEST, manifest)
    return TraceResult(network, outcome, table, options.mode, [parquet, csv, out / MANIFEST])
