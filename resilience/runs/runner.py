"""Run a loaded scenario through an engine and write its run directory.

The steps a `resilience run` takes: compile, plan batches, let an executor run them, aggregate
each batch as it arrives (reporting progress), then write the outputs. Outputs are written only
once every replication is done, so an interrupted run leaves no result that looks complete.

The engine is the Monte Carlo kernel by default, or the SimPy engine (``engine="des"``), which
runs the scenario's detailed options when it sets any (docs/des.md). Both hand the same batch
results to the same aggregation and output code, so the run directory has the same files
whichever engine made it; the manifest's ``engine`` (and for the DES ``des_mode``) says which.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kernels.daily import BLOCK
from resilience.analysis.summary import RunAccumulator
from resilience.engines.des import DesExecutor, DetailOptions
from resilience.engines.execution import Executor, LocalExecutor, parallelism, plan_batches
from resilience.errors import OutputError
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp, scenario_provenance, utc_timestamp
from resilience.outputs.rundir import TableFormat, write_run
from resilience.scenario.loader import LoadedScenario

__all__ = [
    "Engine",
    "RunResult",
    "RunSettings",
    "UnwrittenResultError",
    "default_batch_size",
    "run_scenario",
]

Engine = Literal["kernel", "des"]

BATCH_WORK = 20_000_000
"""Element-days (replications x days x (nodes + lanes)) per batch when no batch size is given:
a few tenths of a second, so that progress updates and Ctrl-C answer quickly whatever the
horizon."""


def default_batch_size(network: Network, threads: int) -> int:
    """Replications per batch: about `BATCH_WORK` element-days, whole blocks for every thread."""
    per_replication = network.horizon_days * (network.n_nodes + network.n_lanes)
    size = max(1, BATCH_WORK // max(1, per_replication))
    unit = BLOCK * max(1, threads)
    return max(unit, (size // unit) * unit)


def _spread(size: int, replications: int, executor: Executor) -> int:
    """``size``, or smaller (whole blocks) so that each worker thread of a cluster
    (``executor.parallelism``, when it has one) gets about four batches to balance the load. The
    numbers do not depend on the batch size."""
    workers = parallelism(executor)
    if workers <= 1:
        return size
    share = -(-replications // (4 * workers))
    return max(BLOCK, min(size, -(-share // BLOCK) * BLOCK))


@dataclass(frozen=True)
class RunSettings:
    """How to run: every field has a default taken from the scenario or the machine."""

    replications: int | None = None  # default: the scenario's
    seed: int | None = None  # default: the scenario's
    threads: int = max(1, os.cpu_count() or 1)
    batch_size: int | None = None  # default: default_batch_size
    bands: bool = False
    out: Path | None = None
    overwrite: bool = False  # replace an earlier run in ``out``
    command_line: tuple[str, ...] = ()  # as the user typed it, for the manifest
    summarise: bool = True  # False: leave the summary to the caller (a sweep reads the rows)
    table_format: TableFormat = "parquet"
    engine: Engine = "kernel"  # the SimPy engine ("des") runs one replication at a time


@dataclass(frozen=True)
class RunResult:
    """A finished run: its network, aggregated outcomes, and where its files went."""

    network: Network
    accumulator: RunAccumulator
    summary: dict[str, Any]
    seed: int
    wall_seconds: float
    files: list[Path]


ProgressCallback = Callable[[int, int], None]


def run_scenario(
    loaded: LoadedScenario,
    settings: RunSettings,
    *,
    executor: Executor | None = None,
    progress: ProgressCallback | None = None,
) -> RunResult:
    """Run every replication of ``loaded`` and (with ``settings.out``) write the run directory.

    The directory is claimed (`OutputDirectory`: checked, locked, an old run cleared with
    ``settings.overwrite``) before the first replication, so a directory that cannot be used
    costs no computing, and it stays locked until the last file is written.

    Args:
        loaded: a validated scenario.
        settings: replications, seed, threads, batch size, bands, output.
        executor: where batches run (default: this process, ``settings.threads`` threads).
        progress: called as ``progress(done, total)`` after each batch.

    Raises:
        OutputError: ``settings.out`` may not or cannot be used (nothing was run).
        UnwrittenResultError: the run finished but its files could not be written; the error
            carries the `RunResult`, so its summary can still be shown.
    """
    if settings.out is None:
        return _run(loaded, settings, executor, progress)
    with OutputDirectory(settings.out, "run", overwrite=settings.overwrite):
        return _run(loaded, settings, executor, progress)


class UnwrittenResultError(OutputError):
    """A finished run whose files could not be written (a full or read-only disk, say)."""

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


def _run(
    loaded: LoadedScenario,
    settings: RunSettings,
    executor: Executor | None,
    progress: ProgressCallback | None,
) -> RunResult:
    started_at = utc_timestamp()
    started = time.perf_counter()
    network = compile_network(loaded.scenario)
    replications = settings.replications or network.replications
    seed = network.seed if settings.seed is None else settings.seed
    accumulator = RunAccumulator(network, replications, bands=settings.bands, seed=seed)
    details: dict[str, Any] = {"engine": settings.engine}
    runner: Executor
    if settings.engine == "des":
        options = DetailOptions.from_scenario(loaded.scenario, network)
        details["des_mode"] = options.mode
        runner = executor or DesExecutor(options)
        threads = 1  # the SimPy engine runs in this thread, one replication after another
        batch_size = settings.batch_size or 1
    else:
        runner = executor or LocalExecutor(threads=settings.threads)
        threads = settings.threads
        batch_size = settings.batch_size or _spread(
            default_batch_size(network, settings.threads), replications, runner
        )
    batches = plan_batches(replications, batch_size)
    for batch in runner.run(network, batches, seed=seed, daily=settings.bands):
        accumulator.add(batch)
        if progress is not None:
            progress(accumulator.done, replications)
    summary = accumulator.summary() if settings.summarise else {"replications": accumulator.done}
    summary = {"scenario": network.name, "seed": seed, **summary}
    wall = time.perf_counter() - started
    result = RunResult(network, accumulator, summary, seed, wall, [])
    if settings.out is None:
        return result
    manifest = {
        "scenario": network.name,
        "command_line": list(settings.command_line),
        "seed": seed,
        "replications": replications,
        **details,
        "bands": settings.bands,
        "table_format": settings.table_format,
        "threads": threads,
        "batch_size": batch_size,
        "started": started_at,
        **finish_stamp(wall),
        **scenario_provenance(loaded),
    }
    try:
        files = write_run(
            settings.out,
            network=network,
            consumer=accumulator.consumer,
            summary=summary,
            manifest=manifest,
            table_format=settings.table_format,
        )
    except OSError as error:
        raise UnwrittenResultError(
            f"--out {settings.out}: the results could not be written "
            f"({error.strerror or error}); no manifest was written, so the directory does not "
            "look complete",
            result,
        ) from None
    return dataclasses.replace(result, files=files)
