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

from resilience.outputs.checkpoint import CHECKPOINT
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
    record = _read(where)
    identity = record["identity"]
    provenance = record["provenance"]
    files = tuple(Path(name) for name in provenance.get("scenario_files", ()))
    loaded = scenario_from_manifest(where, provenance, files or None)
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


def _read(where: Path) -> dict[str, Any]:
    try:
        record = json.loads(where.read_text(encoding="utf-8"))
        if not isinstance(record, dict):
            raise ValueError("not a JSON object")
        for key in ("identity", "provenance"):
            if not isinstance(record.get(key), dict):
                raise ValueError(f"no {key}")
        identity = record["identity"]
        for key in ("replications", "seed", "batch_size", "bands", "table_format", "engine"):
            if key not in identity:
                raise ValueError(f"identity has no {key}")
    except (OSError, ValueError) as error:
        raise RunDirectoryError(f"{where}: cannot be read as a checkpoint: {error}") from None
    return record
