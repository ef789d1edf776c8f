"""``resilience optimise``: the cheapest levers meeting a risk target, through the sweep driver.

Each batch of the search (`resilience.analysis.optimise`) is one call of `run_sweep` on its
new points: every point runs with the same seed and replications (common random numbers) in
this process, so the kernel is compiled once. The lever paths and the target's consumer are
checked before the first run, so a typo costs no computing.

With ``out``, the directory holds ``history.parquet`` (every evaluated point: its lever values,
annual cost by lever, the target consumer's risk measures and whether it met the target),
``optimise.json`` (the target, the levers and the best point) and, last, ``manifest.json``.
A target that no evaluated point meets raises `UnreachableTargetError` naming the least risk
reached, and nothing that looks like a result is written.
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

from resilience.analysis.costs import LEVER_COSTS
from resilience.analysis.design import Point, Range
from resilience.analysis.optimise import (
    Evaluation,
    OptimiseError,
    Search,
    Target,
    UnreachableTargetError,
    optimise,
)
from resilience.engines.execution import Executor
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp, scenario_provenance
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json
from resilience.runs.settings import JobSettings
from resilience.runs.sweep import SweepSettings, lever_value, run_sweep
from resilience.scenario.loader import LoadedScenario, load_scenario

__all__ = ["OptimiseResult", "OptimiseSettings", "run_optimise"]


@dataclass(frozen=True)
class OptimiseSettings(JobSettings):
    """How to search: the evaluation budget and the search's seed (default: the run seed)."""

    budget: int = 40
    search_seed: int | None = None


@dataclass(frozen=True)
class OptimiseResult:
    """The search, the history's rows, and the files written."""

    scenario: str
    target: Target
    ranges: tuple[Range, ...]
    search: Search
    rows: list[dict[str, Any]]
    seed: int
    replications: int
    wall_seconds: float
    files: list[Path] = field(default_factory=list)

    @property
    def best(self) -> Evaluation:
        assert self.search.best is not None  # run_optimise raises when there is none
        return self.search.best

    def to_dict(self) -> dict[str, Any]:
        best = self.best
        row = next(r for r in self.rows if r["evaluation"] == best.index)
        return {
            "scenario": self.scenario,
            "target": {"text": self.target.text, "measure": self.target.column,
                       "consumer": self.target.consumer, "bound": self.target.bound},
            "levers": [dataclasses.asdict(r) for r in self.ranges],
            "seed": self.seed,
            "replications": self.replications,
            "evaluations": len(self.search.evaluations),
            "batches": self.search.batches,
            "met_target": sum(1 for e in self.search.evaluations if e.feasible),
            "best": {
                "levers": {o.partition("=")[0]: lever_value(o) for o in best.point},
                "annual_cost": best.cost,
                "lever_costs": {name: row[f"{name}_cost"] for name in LEVER_COSTS},
                "risk": best.risk,
                "evaluation": best.index,
            },
        }  # fmt: skip


ProgressCallback = Callable[[int, int], None]


def run_optimise(
    target_file: str,
    ranges: Sequence[Range],
    target: Target,
    settings: OptimiseSettings,
    *,
    overlays: Sequence[str] = (),
    overrides: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> OptimiseResult:
    """Search ``ranges`` of ``target_file`` (with overlays and fixed overrides) for the cheapest
    point meeting ``target``.

    Raises:
        ScenarioError: a lever path or value is invalid (checked at both ends of every range).
        OptimiseError: the target's consumer is not in the scenario.
        UnreachableTargetError: no evaluated point met the target (nothing is written).
        OutputError: ``settings.out`` may not or cannot be used.

    ``executor`` runs each batch's points (default: this process); on a Dask cluster the points
    of a generation overlap, with the same numbers.
    """
    base = _check(target_file, ranges, target, overlays, overrides)
    job = (target_file, base, ranges, target, settings, overlays, overrides, progress, executor)
    if settings.out is None:
        return _optimise(*job)
    with OutputDirectory(settings.out, "optimise", overwrite=settings.overwrite):
        result = _optimise(*job)
        files = _write(settings.out, result, base, settings)
        return dataclasses.replace(result, files=files)


def _check(
    target_file: str,
    ranges: Sequence[Range],
    target: Target,
    overlays: Sequence[str],
    overrides: Sequence[str],
) -> LoadedScenario:
    """Load the scenario at both ends of every range (a bad path or value fails here, before
    any run) and check that the target names a consumer."""
    base = load_scenario(target_file, overrides, overlays)
    for end in ("low", "high"):
        point = tuple(f"{r.path}={_text(r, getattr(r, end))}" for r in ranges)
        load_scenario(target_file, (*overrides, *point), overlays)
    consumers = sorted(
        name for name, node in base.scenario.nodes.items() if node.kind == "consumer"
    )
    if target.consumer not in consumers:
        raise OptimiseError(
            f"--target {target.text}: no consumer {target.consumer!r} in the scenario; one of "
            f"{', '.join(consumers)}"
        )
    return base


def _text(lever: Range, value: float) -> str:
    return f"{round(value)}" if lever.integer else f"{value:.6g}"


def _optimise(
    target_file: str,
    base: LoadedScenario,
    ranges: Sequence[Range],
    target: Target,
    settings: OptimiseSettings,
    overlays: Sequence[str],
    overrides: Sequence[str],
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> OptimiseResult:
    started = time.perf_counter()
    meta = base.scenario.scenario
    replications = settings.replications or meta.replications
    seed = meta.seed if settings.seed is None else settings.seed
    sweep_settings = SweepSettings(replications=replications, seed=seed, threads=settings.threads)
    rows_of: dict[Point, dict[str, Any]] = {}

    def evaluate(points: list[Point]) -> list[tuple[float, float]]:
        done = len(rows_of)

        def report(finished: int, total: int) -> None:
            if progress is not None:  # whole budget as the total: the bar ends near the end
                per_point = total / len(points)
                progress(done + int(finished / per_point), settings.budget)

        swept = run_sweep(target_file, points, sweep_settings, overlays=overlays,
                          overrides=overrides, progress=report, executor=executor)  # fmt: skip
        results = []
        for index, point in enumerate(points):
            rows = [row for row in swept.rows if row["point"] == index]
            row = next(r for r in rows if r["consumer"] == target.consumer)
            rows_of[point] = row
            results.append((float(row["annual_cost"]), target.risk(rows)))
        return results

    search_seed = seed if settings.search_seed is None else settings.search_seed
    search = optimise(ranges, evaluate, target.bound, budget=settings.budget, seed=search_seed)
    if search.best is None:
        safest = search.safest
        levers = ", ".join(safest.point)
        raise UnreachableTargetError(
            f"--target {target.text}: no design of the {len(search.evaluations)} evaluated "
            f"reaches it; the least risk reached was {safest.risk:.6g} (at {levers}). Widen "
            "the --lever ranges, add a lever, or relax the target; nothing was written"
        )
    history = [_history_row(e, rows_of[e.point], target) for e in search.evaluations]
    return OptimiseResult(
        meta.name, target, tuple(ranges), search, history, seed, replications,
        time.perf_counter() - started,
    )  # fmt: skip


def _history_row(evaluation: Evaluation, row: dict[str, Any], target: Target) -> dict[str, Any]:
    """One evaluation: its order, lever values, cost, risk, and the consumer's sweep row."""
    levers = {o.partition("=")[0]: lever_value(o) for o in evaluation.point}
    rest = {k: v for k, v in row.items() if k != "point"}
    return {
        "evaluation": evaluation.index,
        "batch": evaluation.batch,
        "phase": evaluation.phase,
        **levers,
        **rest,
        "risk": evaluation.risk,
        "meets_target": evaluation.feasible,
        "best": False,
    }


def _write(
    out: Path,
    result: OptimiseResult,
    base: LoadedScenario,
    settings: OptimiseSettings,
) -> list[Path]:
    rows = [dict(row, best=row["evaluation"] == result.best.index) for row in result.rows]
    table = pa.Table.from_pylist(rows)
    parquet = out / "history.parquet"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    write_json(out / "optimise.json", result.to_dict())
    manifest = {
        "kind": "optimise",
        "scenario": result.scenario,
        "command_line": list(settings.command_line),
        **scenario_provenance(base),  # the base scenario: files, overlays, fixed overrides
        "seed": result.seed,
        "replications": result.replications,
        "engine": "kernel",
        "optimiser": "scipy.optimize.differential_evolution",
        "budget": settings.budget,
        "evaluations": len(result.search.evaluations),
        "target": result.target.text,
        **finish_stamp(result.wall_seconds),
        "files": [parquet.name, "optimise.json"],
    }
    write_json(out / MANIFEST, manifest)
    return [parquet, out / "optimise.json", out / MANIFEST]
