"""Where a result came from: the code that made it, and when (for run manifests).

A run's manifest records the command line, the scenario files, overlays and overrides, the
resolved scenario with its SHA-256, the seed, the package versions and, from here, the code
revision and the start and end times, so that `resilience rerun` can reproduce it and a reader
can tell two results apart.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from resilience.outputs.rundir import package_versions
from resilience.scenario.loader import LoadedScenario

__all__ = ["code_revision", "finish_stamp", "scenario_provenance", "utc_timestamp"]

_SOURCE = Path(__file__).resolve().parents[2]
"""The directory above the `resilience` package: a git checkout when run from source."""


def utc_timestamp() -> str:
    """The time now, as ISO 8601 in UTC to the second (``2026-12-01T09:15:02Z``)."""
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def code_revision() -> dict[str, str | bool | None]:
    """The package version and, in a git checkout, the commit and whether files differ from it.

    Returns ``{"version": ..., "git_commit": sha or None, "git_dirty": bool or None}``; the git
    fields are None for an installed wheel (no checkout) or when git is not available.
    """
    try:
        version = metadata.version("resilience")
    except metadata.PackageNotFoundError:
        version = "unknown"
    commit = _git("rev-parse", "HEAD")
    status = _git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "version": version,
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
    }


def _git(*args: str) -> str | None:
    if not (_SOURCE / ".git").exists():
        return None
    try:
        done = subprocess.run(
            ["git", "-C", str(_SOURCE), *args],
            capture_output=True, text=True, timeout=5, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def scenario_provenance(loaded: LoadedScenario) -> dict[str, Any]:
    """What a manifest records of a scenario: its files, overlays, overrides, the resolved
    scenario (every default filled) and its SHA-256."""
    return {
        "scenario_files": [str(path) for path in loaded.files],
        "overlays": list(loaded.overlays),
        "overrides": list(loaded.overrides),
        "scenario_sha256": loaded.digest,
        "resolved_scenario": loaded.scenario.model_dump(mode="json", by_alias=True),
    }


def finish_stamp(wall_seconds: float) -> dict[str, Any]:
    """What every manifest ends with: when it finished, how long it took, and which code and
    package versions made it."""
    return {
        "finished": utc_timestamp(),
        "wall_seconds": wall_seconds,
        "code": code_revision(),
        "versions": package_versions(),
    }
