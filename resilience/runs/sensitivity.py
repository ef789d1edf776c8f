"""``resilience sensitivity``: which scenario inputs move a consumer's risk, and how much.

A thin layer over the sweep driver. `resilience.analysis.sensitivity` makes the design (Sobol or
Morris) over the ``--range`` inputs; every design point becomes the scenario with that point's
``PATH=VALUE`` overrides and runs through `resilience.runs.sweep.evaluate_points` on common
random numbers (same seed and replications at every point, so the indices measure the inputs,
not the dice); one risk measure (`resilience.analysis.sweep.RISK_MEASURES`) of each chosen
consumer is the output; the analysis layer turns those outputs into indices.

With ``out``, the directory (kind ``sensitivity``) holds ``points.parquet`` (every design point's
sweep rows, every consumer), ``indices.parquet`` (one row per consumer and input),
``sensitivity.json`` (the design, the settings and the indices), the tornado chart in
``plots/`` when matplotlib is installed, and, last, ``manifest.json``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from resilience.analysis.design import Range
from resilience.analysis.sensitivity import (
    Indices,
    Method,
    SensitivityDesign,
    SensitivityError,
    analyse,
    design_points,
    make_design,
)
from resilience.analysis.sweep import RISK_MEASURES
from resilience.engines.execution import Executor
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.plots import PlotsUnavailableError, tornado_plot
from resilience.outputs.provenance import finish_stamp, scenario_provenance
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json
from resilience.runs.frontier import worst_consumer
from resilience.runs.settings import JobSettings
from resilience.runs.sweep import evaluate_points, load_points
from resilience.scenario.loader import LoadedScenario, load_scenario

__all__ = [
    "RISK_LABELS",
    "SensitivityResult",
    "SensitivitySettings",
    "draw_tornado",
    "run_sensitivity",
]

RISK_LABELS = {
    "expected_shortfall": "expected shortfall (units)",
    "share_short": "shortfall share of demand",
    "var95": "VaR95 of shortfall (units)",
    "cvar95": "CVaR95 of shortfall (units)",
    "p_short": "P(short)",
    "fill_rate": "fill rate",
    "days_short": "mean days short",
    "tts_p50": "median TTS (days)",
    "tts_p95": "95th percentile TTS (days)",
    "ttr_p50": "median TTR (days)",
    "ttr_p95": "95th percentile TTR (days)",
}
"""How each risk measure is named on a plot's axis."""


@dataclass(frozen=True)
class SensitivitySettings(JobSettings):
    """How to run a sensitivity analysis; unset values come from the base scenario.

    Attributes:
        method: ``sobol`` (S1, ST) or ``morris`` (mu*, sigma).
        samples: Sobol base samples (a power of two, >= 8) or Morris trajectories (>= 2).
        risk: the output, a sweep risk column (default: expected shortfall).
        consumers: whose risk; default the consumer most short over the design.
    """

    method: Method = "sobol"
    samples: int = 16
    risk: str = "expected_shortfall"
    consumers: tuple[str, ...] = ()


@dataclass(frozen=True)
class SensitivityResult:
    """The design, the consumers analysed, their outputs and indices, and the files written."""

    scenario: str
    design: SensitivityDesign
    risk: str
    consumers: tuple[str, ...]
    outputs: np.ndarray  # (consumers, points), the risk measure at every design point
    indices: Indices
    seed: int
    replications: int
    wall_seconds: float
    rows: list[dict[str, Any]]  # every point's sweep rows (every consumer)
    files: list[Path] = field(default_factory=list)

    def table(self) -> list[dict[str, Any]]:
        """One row per consumer and input, the most important input first."""
        return self.indices.rows(self.consumers)


ProgressCallback = Callable[[int, int], None]


def run_sensitivity(
    target: str,
    ranges: Sequence[Range],
    settings: SensitivitySettings,
    *,
    overlays: Sequence[str] = (),
    overrides: Sequence[str] = (),
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> SensitivityResult:
    """Measure the sensitivity of the chosen consumers' risk in ``target`` to ``ranges``.

    ``executor`` runs the design points' batches (`resilience.runs.sweep.evaluate_points`).

    The design is drawn and every point loaded and validated before anything runs or any
    directory is claimed, so bad input (an unknown path, an empty range, too few samples, an
    unknown consumer or risk measure) costs nothing and writes nothing.

    Raises:
        DesignError, SensitivityError, ScenarioError: bad input, as above.
        OutputError: ``settings.out`` may not or cannot be used.
    """
    if settings.risk not in RISK_MEASURES:
        raise SensitivityError(
            f"--risk {settings.risk}: unknown risk measure; one of {', '.join(RISK_MEASURES)}"
        )
    base = load_scenario(target, overrides, overlays)
    _check_consumers(base, settings.consumers)
    seed = base.scenario.scenario.seed if settings.seed is None else settings.seed
    design = make_design(settings.method, ranges, settings.samples, seed)
    points = design_points(design)
    loaded = load_points(target, points, overlays=overlays, overrides=overrides)
    if settings.out is None:
        return _analyse(loaded, design, settings, progress, executor)
    with OutputDirectory(settings.out, "sensitivity", overwrite=settings.overwrite):
        result = _analyse(loaded, design, settings, progress, executor)
        files = _write(settings.out, result, base, settings, overlays, overrides)
        return dataclasses.replace(result, files=files)


def _check_consumers(base: LoadedScenario, consumers: Sequence[str]) -> None:
    known = sorted(name for name, node in base.scenario.nodes.items() if node.kind == "consumer")
    for name in consumers:
        if name not in known:
            raise SensitivityError(
                f"--consumer {name}: no such consumer in the scenario; one of {', '.join(known)}"
            )


def _analyse(
    loaded: Sequence[LoadedScenario],
    design: SensitivityDesign,
    settings: SensitivitySettings,
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> SensitivityResult:
    started = time.perf_counter()
    points = design_points(design)
    sweep = evaluate_points(loaded, points, settings, progress, executor=executor)
    consumers = settings.consumers or (worst_consumer(sweep.rows),)
    outputs = np.full((len(consumers), len(points)), np.nan)
    index = {name: k for k, name in enumerate(consumers)}
    for row in sweep.rows:
        k = index.get(row["consumer"])
        if k is not None:
            outputs[k, row["point"]] = row[settings.risk]
    indices = analyse(design, outputs)
    return SensitivityResult(
        scenario=sweep.scenario,
        design=design,
        risk=settings.risk,
        consumers=tuple(consumers),
        outputs=outputs,
        indices=indices,
        seed=sweep.seed,
        replications=sweep.replications,
        wall_seconds=time.perf_counter() - started,
        rows=sweep.rows,
    )


def draw_tornado(document: dict[str, Any], folder: Path) -> list[Path]:
    """The tornado chart of a sensitivity.json ``document`` into ``folder``."""
    by_output: dict[str, list[dict[str, Any]]] = {}
    for row in document["indices"]:
        by_output.setdefault(row["output"], []).append(row)
    risk = document["risk"]
    return tornado_plot(
        by_output, method=document["design"]["method"],
        risk_label=RISK_LABELS.get(risk, risk), out=folder,
    )  # fmt: skip


def _write(
    out: Path,
    result: SensitivityResult,
    base: LoadedScenario,
    settings: SensitivitySettings,
    overlays: Sequence[str],
    overrides: Sequence[str],
) -> list[Path]:
    points = out / "points.parquet"
    atomic_write(points, lambda temporary: pq.write_table(pa.Table.from_pylist(result.rows),
                                                          temporary))  # fmt: skip
    table = result.table()
    indices = out / "indices.parquet"
    atomic_write(indices, lambda temporary: pq.write_table(pa.Table.from_pylist(table), temporary))
    document = {
        "scenario": result.scenario,
        "risk": result.risk,
        "consumers": list(result.consumers),
        "design": result.design.describe(),
        "outputs": {name: result.outputs[k].tolist() for k, name in enumerate(result.consumers)},
        "indices": table,
    }
    write_json(out / "sensitivity.json", document)
    files = [points, indices, out / "sensitivity.json"]
    # Without matplotlib the analysis stands without its chart; `resilience plot` draws it later.
    with contextlib.suppress(PlotsUnavailableError):
        files += draw_tornado(document, out / "plots")
    manifest = {
        "kind": "sensitivity",
        "scenario": result.scenario,
        "command_line": list(settings.command_line),
        **scenario_provenance(base),
        "overlays": list(overlays),
        "overrides": list(overrides),
        "seed": result.seed,
        "replications": result.replications,
        "engine": "kernel",
        "method": result.design.method,
        "samples": result.design.samples,
        "points": int(result.design.matrix.shape[0]),
        "inputs": result.design.names,
        "risk": result.risk,
        "consumers": list(result.consumers),
        **finish_stamp(result.wall_seconds),
        "files": [path.relative_to(out).as_posix() for path in files],
    }
    write_json(out / MANIFEST, manifest)
    return [*files, out / MANIFEST]
