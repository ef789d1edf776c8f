"""``resilience resume RUN_DIR``: finish an interrupted run with the settings it was started with.

The checkpoint (`resilience.outputs.checkpoint`) records the run's identity (the resolved
scenario and its SHA-256, seed, replications, batch size, engine, bands, table format, code
revision) and where the scenario came from, as a manifest does; this module turns it back into
the scenario and the `RunSettings` of a resumed run, which `run_scenario` then finishes. Only
the thread count may be chosen anew: results do not depend on it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from resilience.outputs.checkpoint import CHECKPOINT, SCENARIO
from resilience.outputs.directory import CHECKPOINT_DIR
from resilience.outputs.rundir import MANIFEST, RunDirectoryError
from resilience.runs.checkpointing import AlreadyCompleteError
from resilience.runs.rerun import scenario_from_manifest
from resilience.runs.runner import RunSettings
from resilience.scenario.loader import LoadedScenario

__all__ = ["resume_settings"]


def resume_settings(
    directory: Path, *, threads: int | None = None, command_line: tuple[str, ...] = ()
) -> tuple[LoadedScenario, RunSettings]:
    """The scenario and settings that finish the run interrupted in ``directory``.

    Raises:
        RunDirectoryError: no such directory, or no checkpoint there, or an unreadable one.
        AlreadyCompleteError: the run there has finished.
    """
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "no such directory"
        raise RunDirectoryError(f"{directory}: {what}; expected the --out of an interrupted run")
    if (directory / MANIFEST).exists():
        raise AlreadyCompleteError(
            f"{directory}: the run is already complete ({MANIFEST}); nothing to resume"
        )
    where = directory / CHECKPOINT_DIR / CHECKPOINT
    if not where.is_file():
        raise RunDirectoryError(
            f"{directory}: holds no checkpoint to resume from (not a run, or one stopped before "
            "its first batch); start it again with `resilience run ... --overwrite`"
        )
    identity = _read(where, "identity")["identity"]
    for key in ("replications", "seed", "batch_size", "bands", "table_format", "engine"):
        if key not in identity:
            raise RunDirectoryError(f"{where}: cannot be read as a checkpoint: no {key}")
    scenario = where.with_name(SCENARIO)
    provenance = _read(scenario, "resolved_scenario")
    files = tuple(Path(name) for name in provenance.get("scenario_files", ()))
    loaded = scenario_from_manifest(scenario, provenance, files or None)
    settings = RunSettings(
        replications=int(identity["replications"]),
        seed=int(identity["seed"]),
        threads=threads or max(1, os.cpu_count() or 1),
        batch_size=int(identity["batch_size"]),
        bands=bool(identity["bands"]),
        out=directory,
        command_line=command_line,
        table_format="csv" if identity["table_format"] == "csv" else "parquet",
        engine="des" if identity["engine"] == "des" else "kernel",
        keep_rows=False,
        resume=True,
    )
    return loaded, settings


def _read(where: Path, key: str) -> dict[str, Any]:
    """A JSON object from ``where`` that has ``key``."""
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunDirectoryError(f"{where}: cannot be read as a checkpoint: {error}") from None
    if not isinstance(record, dict) or not isinstance(record.get(key), dict):
        raise RunDirectoryError(f"{where}: cannot be read as a checkpoint: no {key}")
    return record
