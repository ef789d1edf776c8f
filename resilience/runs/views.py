"""Views of a finished output directory: its plots (`resilience plot`) and what they show.

`plot_output` draws what suits a finished output (`resilience.outputs.rundir.open_output`)
into ``DIR/plots/`` as PNG and SVG:

- a run: daily service bands (when the run kept ``--bands``), the exceedance curve of shortfall
  and the TTS/TTR distributions, for the consumers that were ever short (the nine most short);
- a sweep: the cost-risk frontier (`resilience.runs.frontier`);
- a criticality ranking: the most critical elements as bars;
- a sensitivity analysis: the tornado chart of its indices (`resilience.runs.sensitivity`).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from resilience.analysis.summary import affected_consumers
from resilience.outputs import plots
from resilience.outputs.rundir import Output, RunDirectoryError

__all__ = ["plot_output", "replications_table"]

MOST_PLOTTED = 9
"""Consumers drawn in the per-consumer plots of a run: the most short first."""


def replications_table(output: Output) -> dict[str, np.ndarray]:
    """The replications table of a run as columns of numpy arrays."""
    path = output.path / "replications.parquet"
    table = (
        pq.read_table(path) if path.exists() else pa_csv.read_csv(output.path / "replications.csv")
    )
    return {name: table.column(name).to_numpy() for name in table.column_names}


def plot_output(output: Output) -> list[Path]:
    """Draw the plots that suit ``output`` into ``output.path / "plots"``; return the files.

    Raises:
        RunDirectoryError: a trace or comparison (nothing to draw yet).
        PlotsUnavailableError: matplotlib is missing.
    """
    folder = output.path / "plots"
    if output.kind == "run":
        return _plot_run(output, folder)
    if output.kind == "sweep":
        from resilience.runs.frontier import frontier

        return frontier(output.path).files[1:]  # frontier.png, frontier.svg
    if output.kind == "criticality":
        ranking = json.loads((output.path / "criticality.json").read_text())["ranking"]
        return plots.criticality_plot(ranking, out=folder)
    if output.kind == "sensitivity":
        from resilience.runs.sensitivity import draw_tornado

        document = json.loads((output.path / "sensitivity.json").read_text(encoding="utf-8"))
        return draw_tornado(document, folder)
    raise RunDirectoryError(f"{output.path}: a {output.kind} has no plots yet")


def _plot_run(output: Output, folder: Path) -> list[Path]:
    summary = json.loads((output.path / "summary.json").read_text(encoding="utf-8"))
    affected = affected_consumers(summary)[:MOST_PLOTTED]
    if not affected:
        return []
    files: list[Path] = []
    bands = {
        entry["consumer"]: entry["daily_service_bands"]
        for entry in affected
        if "daily_service_bands" in entry
    }
    if bands:
        files += plots.fan_chart(bands, out=folder)
    columns = replications_table(output)
    consumer = columns["consumer"].astype(str)
    shares, times = {}, {}
    for entry in affected:
        rows = consumer == entry["consumer"]
        demand = float(np.mean(columns["demand"][rows]))
        shares[entry["consumer"]] = columns["shortfall"][rows] / (demand if demand > 0 else 1.0)
        tts, ttr = columns["tts"][rows], columns["ttr"][rows]
        times[entry["consumer"]] = (tts[~np.isnan(tts)], ttr[~np.isnan(ttr)])
    files += plots.exceedance_plot(shares, out=folder)
    files += plots.survive_recover_plot(times, out=folder)
    return files
