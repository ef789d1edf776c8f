"""Run directories: manifest.json, summary.json and the replications table, written atomically.

Every file is written under a temporary name in the run directory and renamed into place, so a
reader never sees half a file (the replications table is streamed to its temporary name while
the run goes on: `resilience.outputs.replications`). ``manifest.json`` is written last and is
the mark of a complete run: a run that starts removes the old run's files, manifest first
(`OutputDirectory`), so an interrupted run leaves a directory without one, which `resilience`
and its users treat as incomplete.
"""

from __future__ import annotations

import json
import math
import os
import platform
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

import numpy as np

from resilience.errors import ResilienceError
from resilience.outputs.directory import CHECKPOINT_DIR

__all__ = [
    "MANIFEST",
    "Output",
    "RunDirectoryError",
    "atomic_write",
    "json_safe",
    "open_output",
    "open_run",
    "package_versions",
    "publish",
    "write_json",
    "write_run",
    "write_text",
]

MANIFEST = "manifest.json"
TableFormat = Literal["parquet", "csv"]
_PACKAGES = ("resilience", "numpy", "numba", "scipy", "simpy", "pydantic", "pyarrow", "click")


def package_versions() -> dict[str, str]:
    """Versions of Python and the packages that determine a run's numbers."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def atomic_write(path: Path, write: Callable[[Path], None]) -> None:
    """Write through ``write(temporary_path)`` in the same directory, then rename into place."""
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        # mkstemp creates 0600; results are ordinary files, readable as the umask allows.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def json_safe(value: Any) -> Any:
    """NaN and infinities become null (JSON has no NaN); numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_json(path: Path, document: dict[str, Any]) -> None:
    """Write ``document`` as JSON (NaN as null), atomically."""
    write_text(path, json.dumps(json_safe(document), indent=2, allow_nan=False) + "\n")


def write_text(path: Path, text: str) -> None:
    """Write UTF-8 ``text`` to ``path``, atomically."""
    atomic_write(path, lambda temporary: _write_text(temporary, text))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def publish(temporary: Path, path: Path) -> None:
    """Rename a finished ``temporary`` file (in the same directory tree) to ``path``, readable
    as the umask allows, as `atomic_write` leaves its files."""
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(temporary, 0o666 & ~umask)
    os.replace(temporary, path)


def write_run(
    directory: Path,
    *,
    table: Path,
    summary: dict[str, Any],
    manifest: dict[str, Any],
    table_format: TableFormat = "parquet",
) -> list[Path]:
    """Put a run's results in place: summary.json, the finished replications ``table`` (a file
    written elsewhere in the directory, renamed to ``replications.<format>``) and, last,
    manifest.json. Return the paths.

    If any of them cannot be written, the ones this call put in place are removed again, so the
    directory holds no result file without a manifest; the temporary table is left where it was.
    """
    target = directory / f"replications.{table_format}"
    written: list[Path] = []
    try:
        write_json(directory / "summary.json", summary)
        written.append(directory / "summary.json")
        publish(table, target)
        written.append(target)
        document = dict(manifest)
        document["files"] = [target.name, "summary.json"]
        write_json(directory / MANIFEST, document)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return [target, directory / "summary.json", directory / MANIFEST]


class RunDirectoryError(ResilienceError):
    """A directory given as a run directory is missing, not a run, incomplete or unreadable."""


@dataclass(frozen=True)
class Output:
    """A finished output directory (a run, trace, comparison, sweep or ranking) and its
    manifest."""

    path: Path
    kind: str
    manifest: dict[str, Any]


def open_output(directory: Path) -> Output:
    """The finished output in ``directory``, of any kind.

    Raises:
        RunDirectoryError: no such directory, not an output, incomplete (no manifest, as an
            interrupted or failed run leaves it), or an unreadable manifest.
    """
    if not directory.is_dir():
        what = "is not a directory" if directory.exists() else "no such directory"
        raise RunDirectoryError(f"{directory}: {what}; expected the --out of a run or analysis")
    manifest = directory / MANIFEST
    if not manifest.exists():
        if (directory / ".resilience").exists():
            again = (
                f"`resilience resume {directory}` finishes it"
                if (directory / CHECKPOINT_DIR / "checkpoint.json").is_file()
                else "run it again"
            )
            raise RunDirectoryError(
                f"{directory}: holds an incomplete run (no {MANIFEST}: it was interrupted or "
                f"failed); {again}"
            )
        raise RunDirectoryError(f"{directory}: is not a run directory (no {MANIFEST})")
    try:
        document = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise RunDirectoryError(f"{manifest}: cannot be read as JSON: {error}") from None
    if not isinstance(document, dict):
        raise RunDirectoryError(f"{manifest}: is not a manifest")
    kind = document.get("kind") or ("trace" if "replication" in document else "run")
    return Output(directory, str(kind), document)


def open_run(directory: Path) -> dict[str, Any]:
    """The manifest of the complete run in ``directory``.

    Raises:
        RunDirectoryError: as `open_output`, or the directory holds another kind of output.
    """
    output = open_output(directory)
    if output.kind != "run" or "resolved_scenario" not in output.manifest:
        raise RunDirectoryError(f"{directory}: holds a {output.kind}, not a run")
    return output.manifest
