"""``resilience stress``: Simchi-Levi's TTS against TTR, element by element, LP and simulation.

Knocks out each node, lane, chokepoint and supplier country upstream of the chosen consumers
(the elements of `resilience.analysis.criticality`), solves the time-to-survive linear program
of each (`resilience.analysis.stress`) and, unless ``simulate`` is off, runs the same knockout
through the Monte Carlo kernel to set the simulated TTS beside the LP's. Both start from the
undisrupted network: the scenario's own disruptions and hazards are left out, so that the
knockout is the only thing going on (a stress test, not a scenario run).

With ``out``: ``stress.parquet`` and ``stress.csv`` (one row per element and consumer),
``stress.json`` (the settings and the exposed elements) and, last, ``manifest.json``.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from resilience.analysis.criticality import Element, elements
from resilience.analysis.stress import (
    NO_KNOCKOUT,
    StressRow,
    knockout_of,
    simulated_tts,
    stress_rows,
    survival_time,
)
from resilience.engines.execution import Executor
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp, scenario_provenance
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json, write_text
from resilience.runs.criticality import CriticalityError, CriticalitySettings, focus_consumers
from resilience.runs.jobs import JobProgress, run_each
from resilience.runs.runner import RunSettings, run_scenario
from resilience.scenario.loader import LoadedScenario
from resilience.scenario.schema import Scenario

__all__ = ["StressResult", "StressSettings", "run_stress", "undisrupted"]

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class StressSettings(CriticalitySettings):
    """What to knock out, for whom, for how long; and whether to simulate it too.

    ``duration`` and ``ramp`` (days of linear recovery after it) make the knockout's time to
    recover, TTR = duration + ramp.
    """

    start: int = 0  # day 0: the stocks and pipelines the LP reads (docs/model.md 2.6)
    ramp: int = 0
    simulate: bool = True


@dataclass(frozen=True)
class StressResult:
    """Every (element, consumer) row, the consumers' TTS with nothing knocked out, and files."""

    scenario: str
    consumers: list[str]
    base_tts_lp: dict[str, float]  # consumer -> LP TTS of the intact network (inf: forever)
    rows: list[StressRow]
    seed: int
    replications: int  # 0 when not simulated
    wall_seconds: float
    files: list[Path] = field(default_factory=list)

    @property
    def ttr(self) -> float:
        return self.rows[0].ttr if self.rows else math.nan

    def worst(self) -> list[StressRow]:
        """Each element's row of its worst-off consumer (the least TTS alone; on a tie, the
        least simulated TTS), the elements with the least network TTS first."""

        def plight(row: StressRow) -> tuple[float, float, float]:
            simulated = math.inf if math.isnan(row.tts_sim) else row.tts_sim
            return row.tts_lp, simulated, -(0.0 if math.isnan(row.p_short) else row.p_short)

        by_element: dict[tuple[str, str], StressRow] = {}
        for row in self.rows:
            key = (row.kind, row.element)
            if key not in by_element or plight(row) < plight(by_element[key]):
                by_element[key] = row
        return sorted(
            by_element.values(),
            key=lambda row: (row.tts_lp_network, *plight(row), row.kind, row.element),
        )


def run_stress(
    loaded: LoadedScenario,
    settings: StressSettings,
    *,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> StressResult:
    """Stress-test every element upstream of the chosen consumers.

    ``executor`` runs the simulated knockouts' batches (default: this process).

    Raises:
        CriticalityError: unknown consumer or country, or no element upstream.
        OutputError: ``settings.out`` may not or cannot be used.
    """
    if settings.out is None:
        return _stress(loaded, settings, progress, executor)
    with OutputDirectory(settings.out, "stress", overwrite=settings.overwrite):
        result = _stress(loaded, settings, progress, executor)
        return dataclasses.replace(result, files=_write(settings.out, result, loaded, settings))


def undisrupted(loaded: LoadedScenario) -> LoadedScenario:
    """``loaded`` without its disruptions and background hazards."""
    raw = loaded.scenario.model_dump(mode="json", by_alias=True)
    raw.update(disruptions={}, hazards={})
    return LoadedScenario(
        Scenario.model_validate(raw), loaded.files, loaded.overrides, loaded.overlays
    )


def _with_ramp(element: Element, ramp: int) -> Element:
    tables = {name: {**table, "recovery_days": ramp} for name, table in element.disruptions.items()}
    return dataclasses.replace(element, disruptions=tables)


def _stress(
    loaded: LoadedScenario,
    settings: StressSettings,
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> StressResult:
    started = time.perf_counter()
    intact = undisrupted(loaded)
    network = compile_network(intact.scenario)
    tables = build_tables(network)
    focus = focus_consumers(network, settings)
    knockouts = elements(
        network, tables, focus, settings.kinds, start=settings.start, duration=settings.duration
    )
    found = [_with_ramp(element, settings.ramp) for element in knockouts]
    if not found:
        raise CriticalityError("no element of the chosen kinds lies upstream of the consumers")
    ttr = float(settings.duration + settings.ramp)
    rows = stress_rows(network, tables, focus, [knockout_of(network, e) for e in found], ttr=ttr)
    nodes = [int(network.consumers[r]) for r in focus]
    base = {
        network.node_ids[node]: survival_time(network, tables, NO_KNOCKOUT, [node])
        for node in nodes
    }
    replications = settings.replications or network.replications
    seed = network.seed if settings.seed is None else settings.seed
    if settings.simulate:
        ids = [network.node_ids[node] for node in nodes]
        rows = _simulate(
            intact, settings, found, focus, ids, rows, replications, seed, progress, executor
        )
    return StressResult(
        network.name,
        [network.node_ids[node] for node in nodes],
        base,
        rows,
        seed,
        replications if settings.simulate else 0,
        time.perf_counter() - started,
    )


def _simulate(
    intact: LoadedScenario,
    settings: StressSettings,
    found: list[Element],
    focus: list[int],
    consumer_ids: list[str],
    rows: list[StressRow],
    replications: int,
    seed: int,
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> list[StressRow]:
    """``rows`` with the simulated TTS and P(short) of each knockout filled in (the knockouts
    overlapped on a cluster, `resilience.runs.jobs`)."""
    run = RunSettings(
        replications=replications, seed=seed, threads=settings.threads, summarise=False
    )
    raw = intact.scenario.model_dump(mode="json", by_alias=True)

    def knockout(element: Element) -> Callable[[ProgressCallback], list[tuple[float, float]]]:
        def job(report: ProgressCallback) -> list[tuple[float, float]]:
            variant = dict(raw, disruptions=element.disruptions)
            knocked = LoadedScenario(
                Scenario.model_validate(variant), intact.files, intact.overrides, intact.overlays
            )
            result = run_scenario(knocked, run, executor=executor, progress=report)
            return [simulated_tts(result.accumulator.consumer, r) for r in focus]

        return job

    tally = JobProgress(replications * len(found), progress)
    per_element = run_each([knockout(element) for element in found], executor, tally)
    simulated: dict[tuple[str, str, int], tuple[float, float]] = {
        (element.kind, element.id, r): value
        for element, values in zip(found, per_element, strict=True)
        for r, value in zip(focus, values, strict=True)
    }
    row_of = {consumer: r for r, consumer in zip(focus, consumer_ids, strict=True)}
    filled = []
    for row in rows:
        tts, p_short = simulated[(row.kind, row.element, row_of[row.consumer])]
        filled.append(dataclasses.replace(row, tts_sim=tts, p_short=p_short))
    return filled


def _write(
    out: Path, result: StressResult, loaded: LoadedScenario, settings: StressSettings
) -> list[Path]:
    records = [dataclasses.asdict(row) for row in result.rows]
    table = pa.Table.from_pylist(records)
    parquet = out / "stress.parquet"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    text = io.StringIO()
    writer = csv.DictWriter(text, fieldnames=list(records[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(records)
    table_csv = out / "stress.csv"
    write_text(table_csv, text.getvalue())
    exposed = [
        dataclasses.asdict(row) for row in result.worst() if row.exposed or row.network_exposed
    ]
    write_json(
        out / "stress.json",
        {
            "consumers": result.consumers,
            "ttr": result.ttr,
            "base_tts_lp": result.base_tts_lp,
            "exposed": exposed,
        },
    )
    manifest: dict[str, Any] = {
        "kind": "stress",
        "scenario": result.scenario,
        "command_line": list(settings.command_line),
        **scenario_provenance(loaded),
        "consumers": result.consumers,
        "element_kinds": list(settings.kinds),
        "knockout": {
            "start": settings.start,
            "duration": settings.duration,
            "recovery_days": settings.ramp,
            "severity": 1.0,
        },
        "lp": {"solver": "scipy.optimize.linprog", "method": "highs"},
        "simulated": settings.simulate,
        "seed": result.seed,
        "replications": result.replications,
        **finish_stamp(result.wall_seconds),
        "files": [parquet.name, table_csv.name, "stress.json"],
    }
    write_json(out / MANIFEST, manifest)
    return [parquet, table_csv, out / "stress.json", out / MANIFEST]
