"""A run's checkpoint: what a resumed run needs to finish as if it had never stopped.

Layout, inside the run directory (docs/decisions.md, "Memory and resumable runs")::

    .checkpoint/
        checkpoint.json        what was run, and how far it got (rewritten atomically)
        scenario.json          where the scenario came from and the resolved scenario
        columns/               the outcomes so far, one raw float64 file per column
        bands.<done>.npy       the daily-service histograms at <done> replications (--bands)
        replications.partial   the replications table being written (rebuilt when resumed)

``checkpoint.json`` holds the run's identity (the resolved scenario's SHA-256, seed,
replications, batch size, engine, bands, table format, code revision), the rest of the settings
(threads, the command line, the start time) and the progress: ``done`` replications in
``batches`` finished batches, and the histogram file for that count. It is rewritten after the
column files have received a batch, so the files always hold at least ``done`` replications; a
resumed run cuts them back to ``done``. ``scenario.json`` (the provenance a manifest records,
resolved scenario included, a few hundred kB for a large network) is written once, so that the
file rewritten after every batch stays small. The directory goes when the run's manifest is
written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.errors import OutputError
from resilience.outputs.columns import ColumnFiles
from resilience.outputs.directory import CHECKPOINT_DIR
from resilience.outputs.rundir import atomic_write, write_json

__all__ = ["CHECKPOINT", "CHECKPOINT_DIR", "FORMAT", "SCENARIO", "Checkpoint"]

CHECKPOINT = "checkpoint.json"
SCENARIO = "scenario.json"
FORMAT = 1
"""Version of the checkpoint layout; a checkpoint of another version is not resumed."""


class Checkpoint:
    """The checkpoint of the run in ``run_directory``, for a network of ``n_consumers``."""

    def __init__(self, run_directory: Path, n_consumers: int) -> None:
        self.directory = run_directory / CHECKPOINT_DIR
        self.columns = ColumnFiles(self.directory / "columns", n_consumers)
        self.table = self.directory / "replications.partial"
        self._document: dict[str, Any] = {}

    @property
    def path(self) -> Path:
        return self.directory / CHECKPOINT

    def exists(self) -> bool:
        return self.path.is_file()

    def start(self, document: dict[str, Any], provenance: dict[str, Any]) -> None:
        """Begin a new run's checkpoint (any old one is removed) at 0 replications.

        Args:
            document: the run's ``identity`` and settings (JSON values).
            provenance: the scenario's files, overlays, overrides, resolved form and SHA-256.
        """
        self.remove()
        self.directory.mkdir()
        self.columns.create()
        write_json(self.directory / SCENARIO, provenance)
        self._document = {"format": FORMAT, **document, "done": 0, "batches": 0, "bands": None}
        write_json(self.path, self._document)

    def load(self) -> dict[str, Any]:
        """The checkpoint as last written.

        Raises:
            OutputError: it cannot be read, or is of another format.
        """
        try:
            document = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise OutputError(f"{self.path}: cannot be read as a checkpoint: {error}") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise OutputError(
                f"{self.path}: is not a checkpoint this version of resilience can resume "
                f"(format {document.get('format') if isinstance(document, dict) else None!r}, "
                f"expected {FORMAT}); start again with --overwrite"
            )
        self._document = document
        return document

    def histogram(self) -> npt.NDArray[np.int64] | None:
        """The saved daily-service histogram of the loaded checkpoint, or None without bands."""
        name = self._document.get("bands")
        if name is None:
            return None
        try:
            return np.load(self.directory / str(name), allow_pickle=False)  # type: ignore[no-any-return]
        except (OSError, ValueError) as error:
            raise OutputError(f"{self.directory / str(name)}: cannot be read: {error}") from None

    def save(self, done: int, batches: int, histogram: npt.NDArray[np.int64] | None) -> None:
        """Record ``done`` replications in ``batches`` finished batches (and the histogram at
        that count), atomically: the last checkpoint stays valid until this one replaces it."""
        previous = self._document.get("bands")
        bands = None
        if histogram is not None:
            bands = f"bands.{done}.npy"
            atomic_write(self.directory / bands, lambda path: _save_array(path, histogram))
        self._document = {**self._document, "done": done, "batches": batches, "bands": bands}
        write_json(self.path, self._document)
        if previous is not None and previous != bands:
            (self.directory / str(previous)).unlink(missing_ok=True)

    def note(self, **fields: Any) -> None:
        """Add or replace ``fields`` (JSON values) in the checkpoint, atomically."""
        self._document = {**self._document, **fields}
        write_json(self.path, self._document)

    def remove(self) -> None:
        """Remove the whole checkpoint (the run finished, or a new one starts)."""
        if self.directory.exists():
            shutil.rmtree(self.directory)


def _save_array(path: Path, array: npt.NDArray[np.int64]) -> None:
    with path.open("wb") as handle:  # a handle, so that numpy adds no .npy to the name
        np.save(handle, array, allow_pickle=False)
