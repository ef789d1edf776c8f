"""``resilience frontier SWEEP_DIR``: the cost-risk Pareto frontier of a finished sweep.

Reads the sweep's table, keeps one consumer's rows, marks the points no other point beats on
both cost and risk (`resilience.analysis.frontier.pareto_front`), and writes
``frontier.json`` (every point, flagged) and the plot (``frontier.png``, ``frontier.svg``) into
the sweep directory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from resilience.analysis.frontier import pareto_front
from resilience.analysis.sweep import RISK_MEASURES
from resilience.outputs.plots import frontier_plot
from resilience.outputs.rundir import RunDirectoryError, open_output, write_json

__all__ = ["FrontierResult", "frontier", "open_sweep", "worst_consumer"]


@dataclass(frozen=True)
class FrontierResult:
    """The chosen consumer and risk, every point's row with ``on_frontier``, and the files."""

    consumer: str
    risk: str
    levers: list[str]
    points: list[dict[str, Any]]
    files: list[Path]

    @property
    def frontier(self) -> list[dict[str, Any]]:
        return sorted((p for p in self.points if p["on_frontier"]), key=lambda p: p["annual_cost"])


def open_sweep(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The manifest and rows of the complete sweep in ``directory``.

    Raises:
        RunDirectoryError: missing, incomplete, or another kind of output.
    """
    output = open_output(directory)
    if output.kind != "sweep":
        raise RunDirectoryError(f"{directory}: is not a sweep directory (see resilience sweep)")
    return output.manifest, pq.read_table(directory / "sweep.parquet").to_pylist()


def worst_consumer(rows: list[dict[str, Any]]) -> str:
    """The consumer with the largest mean shortfall share over all points (the default focus)."""
    totals: dict[str, float] = {}
    for row in rows:
        totals[row["consumer"]] = totals.get(row["consumer"], 0.0) + row["share_short"]
    return max(totals, key=lambda consumer: totals[consumer])


def frontier(
    directory: Path, *, risk: str = "cvar95", consumer: str | None = None
) -> FrontierResult:
    """Compute and write the frontier of the sweep in ``directory``.

    Raises:
        RunDirectoryError: not a complete sweep, or an unknown consumer or risk measure.
    """
    if risk not in RISK_MEASURES:
        raise RunDirectoryError(f"unknown risk measure {risk!r}; one of {', '.join(RISK_MEASURES)}")
    manifest, rows = open_sweep(directory)
    chosen = consumer or worst_consumer(rows)
    points = [dict(row) for row in rows if row["consumer"] == chosen]
    if not points:
        known = sorted({row["consumer"] for row in rows})
        raise RunDirectoryError(f"no consumer {chosen!r} in the sweep; one of {', '.join(known)}")
    mask = pareto_front([p["annual_cost"] for p in points], [p[risk] for p in points])
    levers = list(manifest.get("levers", []))
    for point, flag in zip(points, mask, strict=True):
        point["on_frontier"] = bool(flag)
    write_json(
        directory / "frontier.json",
        {"consumer": chosen, "risk": risk, "levers": levers, "points": points},
    )
    labels = [
        ", ".join(f"{lever.rsplit('.', 1)[-1]}={p[lever]}" for lever in levers) for p in points
    ]
    files = [directory / "frontier.json"]
    files += frontier_plot(
        [p["annual_cost"] for p in points],
        [p[risk] for p in points],
        mask,
        labels=labels,
        title=f"{manifest.get('scenario', '')}: cost against {risk} of {chosen}",
        risk_label=f"{risk} ({chosen})",
        out=directory,
    )
    return FrontierResult(chosen, risk, levers, points, files)
