"""``resilience rerun RUN_DIR``: run again from a manifest alone, and say if it came out the same.

The manifest holds the resolved scenario (every default filled, every overlay and override
applied) and its SHA-256, the seed, the replications, the engine and the output options. Results
depend only on those (docs/model.md section 4), so a rerun on the same code gives the same
numbers bit for bit; `rerun` checks that by comparing summary.json and the replications table
byte for byte.
"""

from __future__ import annotations

import filecmp
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pydantic

from resilience.outputs.rundir import RunDirectoryError, open_run
from resilience.runs.runner import RunResult, RunSettings, run_scenario
from resilience.scenario.loader import LoadedScenario, scenario_digest
from resilience.scenario.schema import Scenario

__all__ = ["RerunResult", "rerun", "scenario_from_manifest"]


@dataclass(frozen=True)
class RerunResult:
    """The new run, and what differs from the original (empty when it reproduced it)."""

    result: RunResult
    loaded: LoadedScenario
    differences: list[str]


def rerun(
    directory: Path, *, out: Path, overwrite: bool = False, command_line: tuple[str, ...] = ()
) -> RerunResult:
    """Run the run in ``directory`` again into ``out`` and compare the two.

    Raises:
        RunDirectoryError: ``directory`` holds no complete run, or its manifest was edited.
    """
    manifest = open_run(directory)
    loaded = scenario_from_manifest(directory / "manifest.json", manifest)
    engine = manifest.get("engine", "kernel")
    table_format = manifest.get("table_format", "parquet")
    settings = RunSettings(
        replications=int(manifest["replications"]),
        seed=int(manifest["seed"]),
        bands=bool(manifest.get("bands", False)),
        out=out,
        overwrite=overwrite,
        table_format="csv" if table_format == "csv" else "parquet",
        engine="des" if engine == "des" else "kernel",
        command_line=command_line,
    )
    result = run_scenario(loaded, settings)
    return RerunResult(result, loaded, _differences(directory, out, table_format))


def scenario_from_manifest(
    where: Path, manifest: dict[str, Any], files: tuple[Path, ...] | None = None
) -> LoadedScenario:
    """The scenario a manifest (or a checkpoint, which records the same keys) says was run.

    Args:
        where: the file the record was read from, for messages (and ``files`` by default).
        manifest: holds ``resolved_scenario``, ``scenario_sha256``, ``overrides``, ``overlays``.
        files: the scenario files to record as read (default: ``where``).

    Raises:
        RunDirectoryError: the resolved scenario is invalid or does not match its SHA-256.
    """
    try:
        scenario = Scenario.model_validate(manifest["resolved_scenario"])
    except pydantic.ValidationError as error:
        raise RunDirectoryError(
            f"{where}: resolved_scenario is not a valid scenario ({error.error_count()} "
            "problems); was the manifest edited?"
        ) from None
    if scenario_digest(scenario) != manifest.get("scenario_sha256"):
        raise RunDirectoryError(
            f"{where}: resolved_scenario does not match scenario_sha256; the manifest was "
            "edited, so it cannot say what was run"
        )
    return LoadedScenario(
        scenario,
        (where,) if files is None else files,
        tuple(manifest.get("overrides", ())),
        tuple(manifest.get("overlays", ())),
    )


def _differences(original: Path, again: Path, table_format: str) -> list[str]:
    """The result files that differ, byte for byte, between two run directories (the manifests
    differ by design: times, command line)."""
    differences = []
    for name in ("summary.json", f"replications.{table_format}"):
        if not (original / name).is_file():
            differences.append(f"{name} (missing from the original)")
        elif not filecmp.cmp(original / name, again / name, shallow=False):
            differences.append(name)
    return differences
