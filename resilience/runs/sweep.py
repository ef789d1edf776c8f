"""``resilience sweep``: one scenario over a design of lever values, on common random numbers.

Every design point is the base scenario with the point's ``PATH=VALUE`` overrides; every point
runs with the same seed and replications, so the kernel is compiled once and differences
between points are differences of the levers, not of the random numbers. The points run one
after another in this process, or overlapped on the Dask cluster of ``executor``
(`resilience.runs.jobs`), with the same numbers. Each
point's rows (`resilience.analysis.sweep.point_rows`) go into one tidy table: one row per
point and consumer, with the lever values as columns.

With ``out``, the directory holds ``sweep.parquet`` (the table), ``sweep.json`` (the design and
the levers) and, last, ``manifest.json``. `resilience frontier` reads it.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from resilience.analysis.design import Point
from resilience.analysis.sweep import point_rows
from resilience.engines.execution import Executor
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json
from resilience.runs.jobs import JobProgress, run_each
from resilience.runs.runner import RunSettings, run_scenario
from resilience.runs.settings import JobSettings
from resilience.scenario.loader import LoadedScenario, load_scenario

__all__ = [
    "SweepResult",
    "SweepSettings",
    "evaluate_points",
    "lever_value",
    "load_points",
    "run_sweep",
]


@dataclass(frozen=True)
class SweepSettings(JobSettings):
    """How to run a sweep; unset values come from the base scenario."""

    design: dict[str, Any] = field(default_factory=dict)  # how the points were made, for files


@dataclass(frozen=True)
class SweepResult:
    """Every design point's rows, the lever paths, and the files written."""

    scenario: str
    levers: tuple[str, ...]
    rows: list[dict[str, Any]]
    seed: int
    replications: int
    wall_seconds: float
    files: list[Path] = field(default_factory=list)


ProgressCallback = Callable[[int, int], None]


def lever_value(override: str) -> str:
    """The value text of a ``PATH=VALUE`` override."""
    return override.partition("=")[2]


def run_sweep(
    target: str,
    points: Sequence[Point],
    settings: SweepSettings,
    *,
    overlays: Sequence[str] = (),
    overrides: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> SweepResult:
    """Run ``target`` (with ``overlays`` and fixed ``overrides``) at every design point.

    Every point is loaded and validated before the first one runs, so a bad lever path or value
    costs no computing. ``executor`` runs every point's batches (default: this process,
    ``settings.threads`` threads).

    Raises:
        ScenarioError: a point's scenario is invalid (the message names the override).
        OutputError: ``settings.out`` may not or cannot be used.
    """
    loaded = load_points(target, points, overlays=overlays, overrides=overrides)
    if settings.out is None:
        return evaluate_points(loaded, points, settings, progress, executor=executor)
    with OutputDirectory(settings.out, "sweep", overwrite=settings.overwrite):
        result = evaluate_points(loaded, points, settings, progress, executor=executor)
        files = _write(settings.out, result, loaded[0], settings, overlays, overrides, points)
        return dataclasses.replace(result, files=files)


def load_points(
    target: str,
    points: Sequence[Point],
    *,
    overlays: Sequence[str] = (),
    overrides: Sequence[str] = (),
) -> list[LoadedScenario]:
    """Load and validate ``target`` at every design point (``overrides`` first, then the
    point's own), so that a bad lever path or value is refused before anything runs.

    Raises:
        ScenarioError: a point's scenario is invalid (the message names the override).
    """
    return [load_scenario(target, (*overrides, *point), overlays) for point in points]


def evaluate_points(
    loaded: Sequence[LoadedScenario],
    points: Sequence[Point],
    settings: JobSettings,
    progress: ProgressCallback | None = None,
    *,
    executor: Executor | None = None,
) -> SweepResult:
    """Run every loaded point with the same seed and replications (common random numbers), in
    this process (the kernel compiles once), and collect each point's rows.

    The driver of every design-based analysis: a sweep writes the rows as they are; a
    sensitivity analysis reads one risk measure of one consumer from them.

    Args:
        loaded: the scenario at each point (`load_points`).
        points: the points' overrides, whose values become the rows' lever columns.
        settings: replications, seed and threads (``out`` is not used here).
        progress: called as ``progress(done, total)`` over all points' replications.
    """
    started = time.perf_counter()
    first = loaded[0].scenario.scenario
    replications = settings.replications or first.replications
    seed = first.seed if settings.seed is None else settings.seed
    run = RunSettings(
        replications=replications, seed=seed, threads=settings.threads, summarise=False
    )
    levers = tuple(override.partition("=")[0] for override in points[0])

    def point_job(index: int) -> Callable[[ProgressCallback], list[dict[str, Any]]]:
        def job(report: ProgressCallback) -> list[dict[str, Any]]:
            result = run_scenario(loaded[index], run, executor=executor, progress=report)
            accumulator = result.accumulator
            values = {path: lever_value(override)
                      for path, override in zip(levers, points[index], strict=True)}  # fmt: skip
            return [
                {"point": index, **values, **row}
                for row in point_rows(result.network, accumulator.consumer, accumulator.totals)
            ]

        return job

    jobs = [point_job(index) for index in range(len(points))]
    tally = JobProgress(replications * len(points), progress)
    rows = [row for point in run_each(jobs, executor, tally) for row in point]
    return SweepResult(first.name, levers, rows, seed, replications, time.perf_counter() - started)


def _write(
    out: Path,
    result: SweepResult,
    base: LoadedScenario,
    settings: SweepSettings,
    overlays: Sequence[str],
    overrides: Sequence[str],
    points: Sequence[Point],
) -> list[Path]:
    table = pa.Table.from_pylist(result.rows)
    parquet = out / "sweep.parquet"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    design = {"levers": list(result.levers), "points": [list(point) for point in points],
              **settings.design}  # fmt: skip
    write_json(out / "sweep.json", design)
    manifest = {
        "kind": "sweep",
        "scenario": result.scenario,
        "command_line": list(settings.command_line),
        "scenario_files": [str(path) for path in base.files],
        "overlays": list(overlays),
        "overrides": list(overrides),
        "seed": result.seed,
        "replications": result.replications,
        "engine": "kernel",
        "points": len(points),
        "levers": list(result.levers),
        **finish_stamp(result.wall_seconds),
        "files": [parquet.name, "sweep.json"],
    }
    write_json(out / MANIFEST, manifest)
    return [parquet, out / "sweep.json", out / MANIFEST]
