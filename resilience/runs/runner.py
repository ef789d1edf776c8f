"""Run a loaded scenario through an engine and write its run directory.

The steps a `resilience run` takes: compile, plan batches, let an executor run them, aggregate
each batch as it arrives (reporting progress), then write the outputs.

With a run directory, nothing per replication stays in memory: each batch's outcomes go to the
checkpoint's column files and the replications table is written in row groups as batches
finish; after every batch the checkpoint records how far the run got, so an interrupted run is
finished by ``resume`` (`resilience.runs.resume`) exactly as it would have finished. The
results (summary.json, the table, then manifest.json) are put in place only once every
replication is done, so an interrupted run leaves no result that looks complete.

The engine is the Monte Carlo kernel by default, or the SimPy engine (``engine="des"``), which
runs the scenario's detailed options when it sets any (docs/des.md). Both hand the same batch
results to the same aggregation and output code, so the run directory has the same files
whichever engine made it; the manifest's ``engine`` (and for the DES ``des_mode``) says which.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from kernels.daily import BLOCK
from resilience.analysis.summary import RunAccumulator, RunInvariantError
from resilience.engines.des import DesExecutor, DetailOptions
from resilience.engines.execution import (
    BatchPlan,
    Executor,
    LocalExecutor,
    parallelism,
    plan_batches,
)
from resilience.errors import OutputError
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.outputs.checkpoint import Checkpoint
from resilience.outputs.columns import ColumnFiles
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import (
    code_revision,
    finish_stamp,
    scenario_provenance,
    utc_timestamp,
)
from resilience.outputs.replications import ReplicationsWriter
from resilience.outputs.rundir import MANIFEST, TableFormat, open_run, write_run
from resilience.runs.checkpointing import (
    AlreadyCompleteError,
    check_identity,
    identity_of_manifest,
)
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

BANDS_CHECKPOINT_SECONDS = 2.0
"""With --bands, the checkpoint (which then saves the histograms, R x H x 202 counts) is written
after a batch only when this long has passed since the last one, and after the last batch."""

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
    keep_rows: bool | None = None  # per-replication rows in memory; default: only without out
    resume: bool = False  # finish the interrupted run in ``out`` (same settings)


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
    costs no computing, and it stays locked until the last file is written. With
    ``settings.resume`` the interrupted run there is finished instead (or, when there is
    nothing to resume, the run starts from the beginning).

    Args:
        loaded: a validated scenario.
        settings: replications, seed, threads, batch size, bands, output.
        executor: where batches run (default: this process, ``settings.threads`` threads).
        progress: called as ``progress(done, total)`` after each batch.

    Raises:
        OutputError: ``settings.out`` may not or cannot be used (nothing was run).
        ResumeMismatchError: ``settings.resume`` and the run in ``out`` has other settings.
        AlreadyCompleteError: ``settings.resume`` and the run in ``out`` has finished.
        UnwrittenResultError: the run finished but its files could not be written; the error
            carries the `RunResult`, so its summary can still be shown.
    """
    if settings.out is None:
        return _run(loaded, settings, executor, progress, None)
    if settings.resume and settings.overwrite:
        raise OutputError("--overwrite and --resume contradict each other; choose one")
    with OutputDirectory(
        settings.out, "run", overwrite=settings.overwrite, resume=settings.resume
    ) as directory:
        return _run(loaded, settings, executor, progress, directory)


class UnwrittenResultError(OutputError):
    """A finished run whose files could not be written (a full or read-only disk, say)."""

    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


@dataclass
class _Plan:
    """What a run does, settled before its first replication."""

    network: Network
    replications: int
    seed: int
    batch_size: int
    threads: int
    runner: Executor
    details: dict[str, Any]


def _plan(loaded: LoadedScenario, settings: RunSettings, executor: Executor | None) -> _Plan:
    network = compile_network(loaded.scenario)
    replications = settings.replications or network.replications
    seed = network.seed if settings.seed is None else settings.seed
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
    return _Plan(network, replications, seed, batch_size, threads, runner, details)


def _run(
    loaded: LoadedScenario,
    settings: RunSettings,
    executor: Executor | None,
    progress: ProgressCallback | None,
    directory: OutputDirectory | None,
) -> RunResult:
    started_at = utc_timestamp()
    started = time.perf_counter()
    plan = _plan(loaded, settings, executor)
    keep_rows = settings.out is None if settings.keep_rows is None else settings.keep_rows
    if directory is None:
        with contextlib.ExitStack() as stack:
            sink = None
            if not keep_rows:  # a run without a directory spills its rows to a temporary one
                spill = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="resilience-")))
                sink = ColumnFiles(spill, len(plan.network.consumers))
                sink.create()
            accumulator = RunAccumulator(
                plan.network, plan.replications, bands=settings.bands, seed=plan.seed,
                keep_rows=keep_rows, sink=sink,
            )  # fmt: skip
            batches = plan_batches(plan.replications, plan.batch_size)
            for batch in plan.runner.run(
                plan.network, batches, seed=plan.seed, daily=settings.bands
            ):
                accumulator.add(batch)
                if progress is not None:
                    progress(accumulator.done, plan.replications)
            summary = _summary(plan, accumulator, settings)
        wall = time.perf_counter() - started
        return RunResult(plan.network, accumulator, summary, plan.seed, wall, [])
    return _StreamedRun(loaded, settings, plan, directory, keep_rows).run(
        started_at, started, progress
    )


def _summary(plan: _Plan, accumulator: RunAccumulator, settings: RunSettings) -> dict[str, Any]:
    summary = accumulator.summary() if settings.summarise else {"replications": accumulator.done}
    return {"scenario": plan.network.name, "seed": plan.seed, **summary}


class _StreamedRun:
    """A run into a directory: rows streamed to the checkpoint, which is saved after batches."""

    def __init__(
        self,
        loaded: LoadedScenario,
        settings: RunSettings,
        plan: _Plan,
        directory: OutputDirectory,
        keep_rows: bool,
    ) -> None:
        self.loaded = loaded
        self.settings = settings
        self.plan = plan
        self.directory = directory
        self.out = directory.path
        self.checkpoint = Checkpoint(self.out, len(plan.network.consumers))
        self.accumulator = RunAccumulator(
            plan.network, plan.replications, bands=settings.bands, seed=plan.seed,
            keep_rows=keep_rows, sink=self.checkpoint.columns,
        )  # fmt: skip
        self.batches = 0
        self.resumed: list[dict[str, Any]] = []

    def identity(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "scenario_sha256": self.loaded.digest,
            "seed": self.plan.seed,
            "replications": self.plan.replications,
            "batch_size": self.plan.batch_size,
            "engine": settings.engine,
            "bands": settings.bands,
            "table_format": settings.table_format,
            "code": code_revision(),
        }

    def run(self, started_at: str, started: float, progress: ProgressCallback | None) -> RunResult:
        settings, plan = self.settings, self.plan
        try:
            started_at = self._start(started_at)
        except OSError as error:
            raise OutputError(
                f"--out {self.out}: the run's checkpoint cannot be written "
                f"({error.strerror or error}); nothing was run"
            ) from None
        writer = ReplicationsWriter(plan.network, self.checkpoint.table, settings.table_format)
        accumulator = self.accumulator
        try:
            self._rebuild_table(writer)
            if progress is not None and accumulator.done:
                progress(accumulator.done, plan.replications)
            last_save = time.perf_counter()
            for batch in plan.runner.run(
                plan.network, self._remaining(), seed=plan.seed, daily=settings.bands
            ):
                accumulator.add(batch)
                writer.append(batch.consumer)
                self.batches += 1
                now = time.perf_counter()
                if (
                    not settings.bands
                    or accumulator.done == plan.replications
                    or now - last_save >= BANDS_CHECKPOINT_SECONDS
                ):
                    self.checkpoint.save(accumulator.done, self.batches, accumulator.histogram)
                    last_save = now
                if progress is not None:
                    progress(accumulator.done, plan.replications)
            writer.close()
        except RunInvariantError:
            writer.abort()
            self.checkpoint.remove()  # the same replications would break it again
            raise
        except OSError as error:  # a full disk, say: what is checkpointed can be resumed
            writer.abort()
            raise OutputError(
                f"--out {self.out}: the run's rows or checkpoint could not be written "
                f"({error.strerror or error}) after {accumulator.done} of {plan.replications} "
                f"replications; once there is room, `resilience resume {self.out}` finishes it"
            ) from None
        except BaseException:
            writer.abort()  # interrupted: the checkpoint stays, for --resume
            raise
        summary = _summary(plan, accumulator, settings)
        wall = time.perf_counter() - started
        result = RunResult(plan.network, accumulator, summary, plan.seed, wall, [])
        manifest = {
            "scenario": plan.network.name,
            "command_line": list(settings.command_line),
            "seed": plan.seed,
            "replications": plan.replications,
            **plan.details,
            "bands": settings.bands,
            "table_format": settings.table_format,
            "threads": plan.threads,
            "batch_size": plan.batch_size,
            "started": started_at,
            **({"resumed": self.resumed} if self.resumed else {}),
            **finish_stamp(wall),
            **scenario_provenance(self.loaded),
        }
        try:
            files = write_run(
                self.out,
                table=self.checkpoint.table,
                summary=summary,
                manifest=manifest,
                table_format=settings.table_format,
            )
        except OSError as error:
            raise UnwrittenResultError(
                f"--out {self.out}: the results could not be written "
                f"({error.strerror or error}); no manifest was written, so the directory does "
                f"not look complete; once the disk has room, `resilience resume {self.out}` "
                "writes them without running again",
                result,
            ) from None
        with contextlib.suppress(OSError):  # a leftover checkpoint beside a manifest is inert
            self.checkpoint.remove()
        return dataclasses.replace(result, files=files)

    def _start(self, started_at: str) -> str:
        """Begin the checkpoint, or take up the one there (resume); return the start time."""
        identity = self.identity()
        if self.settings.resume:
            if (self.out / MANIFEST).exists():
                self._check(identity_of_manifest(open_run(self.out)), identity)
                raise AlreadyCompleteError(
                    f"--out {self.out}: the run is already complete ({MANIFEST}); nothing to resume"
                )
            if self.checkpoint.exists():
                saved = self.checkpoint.load()
                self._check(saved.get("identity", {}), identity)
                done = int(saved["done"])
                self.checkpoint.columns.truncate(done)
                self.accumulator.restore(done, self.checkpoint.histogram())
                self.batches = int(saved["batches"])
                self.resumed = [*saved.get("resumed", []), {"at": started_at, "done": done}]
                self.checkpoint.note(resumed=self.resumed)
                return str(saved.get("started", started_at))
            self.directory.clear()  # nothing to resume: start from the beginning
        self.checkpoint.start(
            {
                "identity": identity,
                "started": started_at,
                "threads": self.plan.threads,
                "command_line": list(self.settings.command_line),
            },
            scenario_provenance(self.loaded),
        )
        return started_at

    def _check(self, recorded: dict[str, Any], identity: dict[str, Any]) -> None:
        """Refuse to finish a run made with other settings. A batch size left to its default
        is the recorded one (the default depends on the threads, which results do not)."""
        if self.settings.batch_size is None and isinstance(recorded.get("batch_size"), int):
            identity["batch_size"] = self.plan.batch_size = recorded["batch_size"]
        check_identity(recorded, identity, self.out)

    def _rebuild_table(self, writer: ReplicationsWriter) -> None:
        """Write the rows of the replications already done (a resumed run) from the columns."""
        done = self.accumulator.done
        columns = self.checkpoint.columns
        for first in range(0, done, writer.group):
            writer.append(columns.consumer_rows(first, min(writer.group, done - first)))

    def _remaining(self) -> list[BatchPlan]:
        done = self.accumulator.done
        batches = plan_batches(self.plan.replications, self.plan.batch_size)
        return [batch for batch in batches if batch.first >= done]
