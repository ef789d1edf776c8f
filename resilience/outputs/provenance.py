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

__all__ = ["code_revision", "utc_timestamp"]

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
