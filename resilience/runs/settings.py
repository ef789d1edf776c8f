"""Settings every batch job of the runs layer shares (compare, sweep, criticality)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["JobSettings"]


@dataclass(frozen=True)
class JobSettings:
    """How to run a job of several scenarios; unset values come from the (base) scenario.

    Attributes:
        replications: per scenario; every scenario of the job runs the same replications.
        seed: the root seed, the same for every scenario (common random numbers).
        threads: threads running blocks of replications.
        out: the output directory, if any; overwrite: replace an earlier output there.
        command_line: as the user typed it, for the manifest.
    """

    replications: int | None = None
    seed: int | None = None
    threads: int = 1
    out: Path | None = None
    overwrite: bool = False
    command_line: tuple[str, ...] = ()
