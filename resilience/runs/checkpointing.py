"""What makes an interrupted run resumable: its identity, and the checks before resuming it.

A run's *identity* is everything its numbers and files depend on: the resolved scenario (by its
SHA-256), the seed, the replications, the batch size, the engine, the bands, the table format and
the code revision. A checkpoint (or a finished run's manifest) records it; a run asked to resume
compares its own identity with the recorded one and refuses, naming every difference, when they
differ, since finishing someone else's run with other settings would make a result that no
uninterrupted run could have made. Threads are not part of it: results are the same bit for bit
whatever the thread count (docs/model.md section 4).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from resilience.errors import ResilienceError

__all__ = [
    "IDENTITY_KEYS",
    "AlreadyCompleteError",
    "ResumeMismatchError",
    "check_identity",
    "identity_of_manifest",
]

IDENTITY_KEYS = (
    "scenario_sha256", "seed", "replications", "batch_size", "engine", "bands", "table_format",
    "code",
)  # fmt: skip
"""The settings a resumed run must share with the run it finishes."""

_LABELS = {
    "scenario_sha256": "scenario (resolved, SHA-256)",
    "code": "code revision",
    "batch_size": "batch size",
    "table_format": "table format",
}


class ResumeMismatchError(ResilienceError):
    """A run asked to resume another run than the one in its directory."""


class AlreadyCompleteError(ResilienceError):
    """A run asked to resume a run that has already finished (not an error for the user: the
    command says so and exits 0)."""


def identity_of_manifest(manifest: dict[str, Any]) -> dict[str, Any]:
    """The identity a finished run's manifest records (runs written before resumable runs lack
    some keys; those read as None, which matches nothing)."""
    return {key: manifest.get(key) for key in IDENTITY_KEYS}


def _shown(key: str, value: Any) -> str:
    if key == "scenario_sha256" and isinstance(value, str):
        return value[:12]
    if key == "code" and isinstance(value, dict):
        commit = value.get("git_commit")
        dirty = " with uncommitted changes" if value.get("git_dirty") else ""
        return f"{value.get('version')} ({commit[:12] if commit else 'no git commit'}{dirty})"
    return str(value)


def check_identity(recorded: dict[str, Any], wanted: dict[str, Any], where: Path) -> None:
    """Raise `ResumeMismatchError` unless ``wanted`` is the identity ``recorded`` in ``where``.

    The message names each differing setting with both values, and what to do instead.
    """
    differences = [
        f"{_LABELS.get(key, key)}: {_shown(key, recorded.get(key))} there, "
        f"{_shown(key, wanted.get(key))} now"
        for key in IDENTITY_KEYS
        if recorded.get(key) != wanted.get(key)
    ]
    if differences:
        settings_differ = any(
            recorded.get(key) != wanted.get(key) for key in IDENTITY_KEYS if key != "code"
        )
        remedy = (
            "resume it with its own arguments (`resilience resume DIR` reads them from the "
            "checkpoint)"
            if settings_differ
            else "resume it with the code that started it"
        )
        raise ResumeMismatchError(
            f"{where}: holds a run made with other settings, so it cannot be resumed by this "
            f"one ({'; '.join(differences)}); {remedy}, or start again with --overwrite"
        )
