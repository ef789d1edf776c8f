"""``resilience compare``: a base scenario against alternatives, on common random numbers.

Every scenario runs with the base's seed and replications through the Monte Carlo kernel, so
the same replication sees the same disruptions, hazards and demand in every scenario that has
them (docs/model.md 4.1); `resilience.analysis.compare` turns the pairs into differences with
intervals. With ``out``, the comparison is written as a directory: ``comparison.json`` (every
difference), ``differences.parquet`` (the same as a tidy table) and, last, ``manifest.json``.
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

from resilience.analysis.compare import ConsumerComparison, compare_consumer
from resilience.engines.execution import Executor
from resilience.errors import ResilienceError
from resilience.outputs.directory import OutputDirectory
from resilience.outputs.provenance import finish_stamp, scenario_provenance
from resilience.outputs.rundir import MANIFEST, atomic_write, write_json
from resilience.runs.jobs import JobProgress, run_each
from resilience.runs.runner import RunResult, RunSettings, run_scenario
from resilience.runs.settings import JobSettings
from resilience.scenario.loader import LoadedScenario

__all__ = ["AlternativeComparison", "CompareSettings", "Comparison", "compare_scenarios"]


@dataclass(frozen=True)
class CompareSettings(JobSettings):
    """How to run the comparison; unset values come from the base scenario."""


@dataclass(frozen=True)
class AlternativeComparison:
    """One alternative against the base: its consumers' differences, and the consumers that
    exist in only one of the two networks (they cannot be paired)."""

    label: str
    consumers: list[ConsumerComparison]
    only_in_base: list[str]
    only_in_alternative: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "consumers": [consumer.to_dict() for consumer in self.consumers],
            "only_in_base": self.only_in_base,
            "only_in_alternative": self.only_in_alternative,
        }


@dataclass(frozen=True)
class Comparison:
    """The base, every alternative against it, and the files written."""

    base: str
    seed: int
    replications: int
    alternatives: list[AlternativeComparison]
    wall_seconds: float
    files: list[Path] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "base": self.base,
            "seed": self.seed,
            "replications": self.replications,
            "alternatives": [alternative.to_dict() for alternative in self.alternatives],
        }


class ComparisonError(ResilienceError):
    """Scenarios that cannot be compared (no consumer in common)."""


ProgressCallback = Callable[[int, int], None]


def compare_scenarios(
    base: LoadedScenario,
    alternatives: Sequence[tuple[str, LoadedScenario]],
    settings: CompareSettings,
    *,
    progress: ProgressCallback | None = None,
    executor: Executor | None = None,
) -> Comparison:
    """Run ``base`` and each labelled alternative on common random numbers and compare them.

    ``executor`` runs every scenario's batches (default: this process, ``settings.threads``
    threads); the differences do not depend on it.

    Raises:
        OutputError: ``settings.out`` may not or cannot be used (nothing was run).
        ComparisonError: an alternative shares no consumer with the base.
    """
    if settings.out is None:
        return _compare(base, alternatives, settings, progress, executor)
    with OutputDirectory(settings.out, "compare", overwrite=settings.overwrite):
        comparison = _compare(base, alternatives, settings, progress, executor)
        files = _write(settings.out, comparison, base, alternatives, settings)
        return dataclasses.replace(comparison, files=files)


def _compare(
    base: LoadedScenario,
    alternatives: Sequence[tuple[str, LoadedScenario]],
    settings: CompareSettings,
    progress: ProgressCallback | None,
    executor: Executor | None,
) -> Comparison:
    started = time.perf_counter()
    replications = settings.replications or base.scenario.scenario.replications
    seed = base.scenario.scenario.seed if settings.seed is None else settings.seed
    run = RunSettings(
        replications=replications, seed=seed, threads=settings.threads, summarise=False
    )
    tally = JobProgress(replications * (1 + len(alternatives)), progress)
    base_run = run_scenario(base, run, executor=executor, progress=tally.reporter(0))

    def against_base(
        label: str, loaded: LoadedScenario
    ) -> Callable[[ProgressCallback], AlternativeComparison]:
        def job(report: ProgressCallback) -> AlternativeComparison:
            alternative = run_scenario(loaded, run, executor=executor, progress=report)
            return _pair(label, base_run, alternative, seed)

        return job

    jobs = [against_base(label, loaded) for label, loaded in alternatives]
    compared = run_each(jobs, executor, tally, first=1)
    return Comparison(
        base.scenario.scenario.name,
        seed,
        replications,
        compared,
        time.perf_counter() - started,
    )


def _pair(label: str, base: RunResult, alternative: RunResult, seed: int) -> AlternativeComparison:
    base_rows = _consumer_rows(base)
    alt_rows = _consumer_rows(alternative)
    common = [consumer for consumer in base_rows if consumer in alt_rows]
    if not common:
        raise ComparisonError(
            f"{label!r} shares no consumer with the base scenario, so nothing can be compared"
        )
    network = base.network
    consumers = []
    for consumer in common:
        row = base_rows[consumer]
        node = network.consumers[row]
        names = (
            consumer,
            network.commodity_ids[network.node_commodity[node]],
            network.commodity_units[network.node_commodity[node]],
        )
        consumers.append(
            compare_consumer(
                base.accumulator.consumer[:, row, :],
                alternative.accumulator.consumer[:, alt_rows[consumer], :],
                seed=(seed, row),
                names=names,
            )
        )
    return AlternativeComparison(
        label,
        consumers,
        only_in_base=[c for c in base_rows if c not in alt_rows],
        only_in_alternative=[c for c in alt_rows if c not in base_rows],
    )


def _consumer_rows(result: RunResult) -> dict[str, int]:
    network = result.network
    return {network.node_ids[node]: row for row, node in enumerate(network.consumers)}


def _write(
    out: Path,
    comparison: Comparison,
    base: LoadedScenario,
    alternatives: Sequence[tuple[str, LoadedScenario]],
    settings: CompareSettings,
) -> list[Path]:
    rows: dict[str, list[Any]] = {
        name: []
        for name in (
            "alternative", "consumer", "commodity", "statistic", "base", "alternative_value",
            "difference", "ci_low", "ci_high", "unpaired_low", "unpaired_high", "n",
        )
    }  # fmt: skip
    for alternative in comparison.alternatives:
        for consumer in alternative.consumers:
            for d in consumer.differences:
                values = (
                    alternative.label, consumer.consumer, consumer.commodity, d.statistic,
                    d.base, d.alternative, d.difference, d.ci_low, d.ci_high,
                    d.unpaired_low, d.unpaired_high, d.n,
                )  # fmt: skip
                for name, value in zip(rows, values, strict=True):
                    rows[name].append(value)
    table = pa.table(rows)
    parquet = out / "differences.parquet"
    atomic_write(parquet, lambda temporary: pq.write_table(table, temporary))
    write_json(out / "comparison.json", comparison.to_dict())

    manifest = {
        "kind": "compare",
        "command_line": list(settings.command_line),
        "seed": comparison.seed,
        "replications": comparison.replications,
        "engine": "kernel",
        "base": scenario_provenance(base),
        "alternatives": {label: scenario_provenance(loaded) for label, loaded in alternatives},
        **finish_stamp(comparison.wall_seconds),
        "files": [parquet.name, "comparison.json"],
    }
    write_json(out / MANIFEST, manifest)
    return [parquet, out / "comparison.json", out / MANIFEST]
