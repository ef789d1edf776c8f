"""Output directories that are never mixed up, written into by two runs, or found half-written.

`OutputDirectory` is what a run or a trace holds while it works on its ``--out`` directory:

- a directory that is not empty and was not made by `resilience` is never written into;
- a run directory is replaced only with ``overwrite`` (``--overwrite``), and then every file the
  old run wrote is removed first, so no old file survives beside the new ones;
- with ``resume`` (``--resume``), a run directory is claimed as it is, checkpoint and all, for
  the run to finish (`resilience.runs.resume` decides whether it may);
- a trace never writes into a run directory, nor a run into a trace directory;
- a lock (``flock`` on ``.lock``, released by the operating system even after ``kill -9``)
  keeps two runs out of one directory at the same time;
- a directory that cannot be created or written gets a clear `OutputError` before any work.

A marker file (``.resilience``) says which kind of output a directory holds; ``manifest.json``,
written last, still marks a complete result (`resilience.outputs.rundir`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Literal

from resilience.errors import OutputError

__all__ = ["CHECKPOINT_DIR", "LOCK", "MARKER", "OutputDirectory", "OutputKind"]

OutputKind = Literal[
    "run", "trace", "compare", "sweep", "criticality", "sensitivity", "stress", "optimise"
]

MARKER = ".resilience"
LOCK = ".lock"
CHECKPOINT_DIR = ".checkpoint"
"""Where a run keeps what it needs to be resumed (`resilience.outputs.checkpoint`)."""

_VIEWS = frozenset({"plots", "report.html"})
"""What `resilience plot` and `resilience report` add to a finished output of any kind."""

_WRITTEN_BY: dict[OutputKind, frozenset[str]] = {
    "run": frozenset(
        {
            "manifest.json",
            "summary.json",
            "replications.parquet",
            "replications.csv",
            CHECKPOINT_DIR,
        }
    )
    | _VIEWS,
    "trace": frozenset({"manifest.json", "trace.parquet", "trace.csv"}),
    "compare": frozenset({"manifest.json", "comparison.json", "differences.parquet"}) | _VIEWS,
    "sweep": frozenset(
        {
            "manifest.json",
            "sweep.parquet",
            "sweep.json",
            "frontier.json",
            "frontier.png",
            "frontier.svg",
        }
    )
    | _VIEWS,
    "criticality": frozenset({"manifest.json", "criticality.parquet", "criticality.json"}) | _VIEWS,
    "stress": frozenset({"manifest.json", "stress.parquet", "stress.csv", "stress.json"}) | _VIEWS,
    "sensitivity": frozenset(
        {"manifest.json", "sensitivity.json", "indices.parquet", "points.parquet"}
    )
    | _VIEWS,
    "optimise": frozenset({"manifest.json", "history.parquet", "optimise.json"}) | _VIEWS,
}
"""The files each kind of output writes (besides the marker, the lock and temporary files)."""


def _is_temporary(name: str) -> bool:
    """A file `atomic_write` was writing when its process died (``.NAME.XXXX.tmp``)."""
    return name.startswith(".") and name.endswith(".tmp")


class OutputDirectory:
    """Claim ``path`` for one run (``kind``) for as long as the ``with`` block lasts.

    Args:
        path: the ``--out`` directory; created with its parents if missing.
        kind: what will be written there.
        overwrite: replace an earlier output of the same kind.
        resume: take over an earlier output of the same kind as it is (nothing is removed).
        option: how the user named the directory, for messages (``--out``).

    Raises:
        OutputError: on entering, when the directory may not or cannot be used.
    """

    def __init__(
        self,
        path: Path,
        kind: OutputKind,
        *,
        overwrite: bool = False,
        resume: bool = False,
        option: str = "--out",
    ) -> None:
        if overwrite and resume:
            raise OutputError("--overwrite and --resume contradict each other; choose one")
        self.path = path
        self.kind = kind
        self.overwrite = overwrite
        self.resume = resume
        self._where = f"{option} {path}"
        self._lock_fd: int | None = None

    def __enter__(self) -> OutputDirectory:
        self._refuse_foreign()
        self._create()
        self._lock()
        try:
            if not self.resume:
                self._clear_earlier_output()
            self._write_marker()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._unlock()

    # ---- checks before anything is written --------------------------------------------------

    def _refuse_foreign(self) -> None:
        path = self.path
        if path.exists() and not path.is_dir():
            raise OutputError(f"{self._where}: is not a directory; choose a directory to write")
        if not path.is_dir():
            return
        names = self._names()
        held = names - {LOCK}
        if not held:
            return
        kind = self._kind_held(names)
        if kind is None:
            raise OutputError(
                f"{self._where}: is not empty and holds no resilience output, so nothing is "
                "written there; choose a new or empty directory"
            )
        if kind != self.kind:
            raise OutputError(
                f"{self._where}: holds a {kind} (manifest.json and its files); a {self.kind} "
                "would replace them; choose another directory"
            )
        if self.resume:
            return
        if not self.overwrite:
            if CHECKPOINT_DIR in names and "manifest.json" not in names:
                raise OutputError(
                    f"{self._where}: holds an interrupted {kind}; add --resume to finish it, or "
                    "--overwrite to replace it, or choose another directory"
                )
            raise OutputError(
                f"{self._where}: already holds a {kind}; add --overwrite to replace it, or "
                "choose another directory"
            )
        unknown = sorted(
            name
            for name in held
            if name not in _WRITTEN_BY[kind] and name != MARKER and not _is_temporary(name)
        )
        if unknown:
            raise OutputError(
                f"{self._where}: holds files a {kind} did not write ({', '.join(unknown[:5])}"
                f"{', ...' if len(unknown) > 5 else ''}); --overwrite clears only a {kind}'s own "
                "files, so move those first or choose another directory"
            )

    def _names(self) -> set[str]:
        try:
            return {entry.name for entry in os.scandir(self.path)}
        except OSError as error:
            raise OutputError(f"{self._where}: cannot be read: {error.strerror}") from None

    def _kind_held(self, names: set[str]) -> OutputKind | None:
        """The kind of output ``names`` belong to, from the marker or, for directories written
        before markers existed, from a manifest beside its files."""
        if MARKER in names:
            try:
                kind = json.loads((self.path / MARKER).read_text(encoding="utf-8")).get("kind")
            except (OSError, ValueError, AttributeError):
                kind = None
            if kind in _WRITTEN_BY:
                return kind  # type: ignore[no-any-return]
        if "manifest.json" in names:
            for kind_name in _WRITTEN_BY:
                others = _WRITTEN_BY[kind_name] - {"manifest.json"}
                if names & others:
                    return kind_name
        return None

    def _create(self) -> None:
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(
                f"{self._where}: cannot be created: {error.strerror or error}"
            ) from None
        if not os.access(self.path, os.W_OK | os.X_OK):
            raise OutputError(f"{self._where}: is not writable")

    # ---- the lock ------------------------------------------------------------------------------

    def _lock(self) -> None:
        try:
            fd = os.open(self.path / LOCK, os.O_CREAT | os.O_WRONLY, 0o644)
        except OSError as error:
            raise OutputError(f"{self._where}: cannot be written: {error.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise OutputError(
                f"{self._where}: another run is writing there now; wait for it to finish or "
                "choose another directory"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        with contextlib.suppress(OSError):
            (self.path / LOCK).unlink()
        os.close(self._lock_fd)  # closing releases the flock
        self._lock_fd = None

    # ---- writing -------------------------------------------------------------------------------

    def clear(self) -> None:
        """Remove an earlier output's files now (a resumed run that finds nothing to resume
        starts from the beginning, as a new run would)."""
        self._clear_earlier_output()

    def _clear_earlier_output(self) -> None:
        """Remove an earlier output's files (the checks let only our own kind through), the
        manifest first, so that an interruption leaves nothing that looks complete."""
        names = self._names()
        ordered = sorted(names - {LOCK, MARKER}, key=lambda name: name != "manifest.json")
        for name in ordered:
            if name in _WRITTEN_BY[self.kind] or _is_temporary(name):
                try:
                    if (self.path / name).is_dir() and not (self.path / name).is_symlink():
                        shutil.rmtree(self.path / name)  # plots/
                    else:
                        (self.path / name).unlink()
                except OSError as error:
                    raise OutputError(
                        f"{self._where}: cannot remove the old {name}: {error.strerror}"
                    ) from None

    def _write_marker(self) -> None:
        try:
            (self.path / MARKER).write_text(json.dumps({"kind": self.kind}) + "\n")
        except OSError as error:
            raise OutputError(f"{self._where}: cannot be written: {error.strerror}") from None
