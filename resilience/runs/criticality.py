"""``resilience criticality``: rank every element upstream of some consumers by what its loss costs.

Builds one knockout variant of the scenario per element (`resilience.analysis.criticality`),
runs the base and every variant with the same seed and replications (common random numbers),
and ranks the elements by the largest increase in shortfall, as a share of demand, among the
consumers asked about. With ``out``: ``criticality.parquet`` (one row per element and consumer),
``criticality.json`` and, last, ``manifest.json``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from resilience.analysis.criticality import Element, ElementImpact, ElementKind, elements, impact
from resilience.engines.execution import Executor
from resilience.errors import ResilienceError
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp, scenario_provenance
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json
from resilience.runs.jobs import JobProgress, run_each
from resilience.runs.runner import RunSettings, run_scenario
from resilience.runs.settings import JobSettings
from resilience.scenario.loader import LoadedScenario
from resilience.scenario.schema import Scenario

__all__ = [
    "CriticalityError",
    "CriticalityResult",
    "CriticalitySettings",
    "focus_consumers",
    "run_criticality",
]


class CriticalityError(ResilienceError):
    """Nothing to rank: no such consumer or country, or nothing upstream of it."""


@dataclass(frozen=True)
class CriticalitySettings(JobSettings):
    """What to knock out, for how long, and for whom; unset values come from the scenario."""

    consumers: tuple[str, ...] = ()  # consumer ids
    countries: tuple[str, ...] = ()  # every consumer in these countries
    kinds: tuple[ElementKind, ...] = ("node", "lane", "chokepoint", "country")
    start: int = 30
    duration: int = 30


@dataclass(frozen=True)
class CriticalityResult:
    """Every (element, consumer) impact, ranked worst first by element."""

    scenario: str
    consumers: list[str]
    impacts: list[ElementImpact]
    ranking: list[tuple[Element, ElementImpact]]  # each element with its worst-hit consumer
    seed: int
    replications: int
    wall_seconds: float
    files: list[Path] = field(default_factory=list)


ProgressCallback = Callable[[int, int], None]


def run_criticality(
    loaded: LoadedScenario,
    settings: CriticalitySettings,
    *,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> CriticalityResult:
    """Knock out each element upstream of the chosen consumers and rank them.

    ``executor`` runs the batches of the base and of every knockout (default: this process,
    ``settings.threads`` threads); the ranking does not depend on it.

    Raises:
        CriticalityError: unknown consumer or country, or no element upstream.
        OutputError: ``settings.out`` may not or cannot be used.
    """
    if settings.out is None:
        return _criticality(loaded, settings, progress, executor)
    with OutputDirectory(settings.out, "criticality", overwrite=settings.overwrite):
        result = _criticality(loaded, settings, progress, executor)
        return dataclasses.replace(result, files=_write(settings.out, result, loaded, settings))


def focus_consumers(network: Any, settings: CriticalitySettings) -> list[int]:
    """Rows of `Network.consumers` named by ``settings.consumers`` and ``settings.countries``
    (every consumer when neither is given).

    Raises:
        CriticalityError: an unknown consumer or country, or no consumer in the countries.
    """
    rows = {network.node_ids[node]: r for r, node in enumerate(network.consumers)}
    unknown = [c for c in settings.consumers if c not in rows]
    if unknown:
        raise CriticalityError(
            f"--consumer {unknown[0]}: no such consumer; one of {', '.join(sorted(rows))}"
        )
    countries = set(settings.countries)
    missing = countries - set(network.country_ids)
    if missing:
        raise CriticalityError(
            f"--country {sorted(missing)[0]}: no such country; one of "
            f"{', '.join(network.country_ids)}"
        )
    chosen = [rows[c] for c in settings.consumers]
    chosen += [
        r for r, node in enumerate(network.consumers)
        if network.country_ids[network.node_country[node]] in countries and r not in chosen
    ]  # fmt: skip
    if not settings.consumers and not countries:
        chosen = list(range(len(network.consumers)))
    if not chosen:
        raise CriticalityError(f"no consumer in {', '.join(sorted(countries))}")
    return chosen


def _criticality(
    loaded: LoadedScenario,
    settings: CriticalitySettings,
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> CriticalityResult:
    started = time.perf_counter()
    network = compile_network(loaded.scenario)
    tables = build_tables(network)
    focus = focus_consumers(network, settings)
    prefix = "knockout"
    while any(name.startswith(prefix) for name in loaded.scenario.disruptions):
        prefix += "x"
    found = elements(
        network, tables, focus, settings.kinds,
        start=settings.start, duration=settings.duration, prefix=prefix,
    )  # fmt: skip
    if not found:
        raise CriticalityError("no element of the chosen kinds lies upstream of the consumers")
    replications = settings.replications or network.replications
    seed = network.seed if settings.seed is None else settings.seed
    run = RunSettings(
        replications=replications, seed=seed, threads=settings.threads, summarise=False
    )
    tally = JobProgress(replications * (1 + len(found)), progress)
    base = run_scenario(loaded, run, executor=executor, progress=tally.reporter(0))
    base_consumer = base.accumulator.consumer
    raw = loaded.scenario.model_dump(mode="json", by_alias=True)

    def knockout(element: Element) -> Callable[[ProgressCallback], list[ElementImpact]]:
        def job(report: ProgressCallback) -> list[ElementImpact]:
            variant = dict(raw, disruptions={**raw.get("disruptions", {}), **element.disruptions})
            knocked_out = LoadedScenario(
                Scenario.model_validate(variant), loaded.files, loaded.overrides, loaded.overlays
            )
            result = run_scenario(knocked_out, run, executor=executor, progress=report)
            return impact(
                network, element, base_consumer, result.accumulator.consumer, focus,
                duration=settings.duration,
            )  # fmt: skip

        return job

    per_element = run_each([knockout(element) for element in found], executor, tally, first=1)
    impacts = [row for rows in per_element for row in rows]
    ranking = [
        (element, max(rows, key=lambda row: row.delta_share_short))
        for element, rows in zip(found, per_element, strict=True)
    ]
    ranking.sort(key=lambda pair: -pair[1].delta_share_short)
    return CriticalityResult(
        network.name,
        [network.node_ids[network.consumers[r]] for r in focus],
        impacts,
        ranking,
        seed,
        replications,
        time.perf_counter() - started,
    )


def _write(
    out: Path, result: CriticalityResult, loaded: LoadedScenario, settings: CriticalitySettings
) -> list[Path]:
    table = pa.Table.from_pylist([dataclasses.asdict(row) for row in result.impacts])
    parquet = out / "criticality.parquet"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    ranked = [
        {"rank": rank, **dataclasses.asdict(worst)}
        for rank, (_, worst) in enumerate(result.ranking, start=1)
    ]
    write_json(out / "criticality.json", {"consumers": result.consumers, "ranking": ranked})
    manifest = {
        "kind": "criticality",
        "scenario": result.scenario,
        "command_line": list(settings.command_line),
        **scenario_provenance(loaded),
        "consumers": result.consumers,
        "element_kinds": list(settings.kinds),
        "knockout": {"start": settings.start, "duration": settings.duration, "severity": 1.0},
        "seed": result.seed,
        "replications": result.replications,
        **finish_stamp(result.wall_seconds),
        "files": [parquet.name, "criticality.json"],
    }
    write_json(out / MANIFEST, manifest)
    return [parquet, out / "criticality.json", out / MANIFEST]
