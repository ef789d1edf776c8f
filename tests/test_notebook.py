"""The notebook API (`resilience.runs.api`) and the example notebook, executed as a user would."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

import resilience as rs
from resilience.errors import ResilienceError

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "notebook.ipynb"


def test_the_example_notebook_runs(tmp_path: Path) -> None:
    """Every cell of docs/notebook.ipynb runs without error in a fresh kernel."""
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(notebook, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()  # fmt: skip
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]  # fmt: skip
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("jp_lng" in str(output) for output in outputs)


def test_run_matches_the_command_line_and_reopens(tmp_path: Path) -> None:
    """rs.run writes the same run directory as `resilience run`, and rs.load_run reads back
    the same tables, number for number."""
    out = tmp_path / "demo"
    result = rs.run("demo", replications=200, set={"scenario.seed": 7}, out=out)
    again = rs.load_run(out)
    assert result.manifest["seed"] == 7
    assert again.consumers == result.consumers
    np.testing.assert_array_equal(again.outcomes, result.outcomes)
    summary = result.summary
    assert set(summary.columns) >= {"consumer", "metric", "mean", "ci_low", "ci_high"}
    row = summary.query("consumer == 'jp_lng' and metric == 'shortfall'").iloc[0]
    assert row["mean"] == pytest.approx(result.outcomes[:, 0, 2].mean(), rel=1e-12)
    assert len(result.replications) == 200 * len(result.consumers)
    dataset = result.to_xarray()
    assert dataset["shortfall"].shape == (200, len(result.consumers))


def test_daily_needs_bands() -> None:
    with pytest.raises(ResilienceError, match="bands=True"):
        _ = rs.run("demo", replications=64).daily


def test_load_run_refuses_what_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(ResilienceError, match="no such directory"):
        rs.load_run(tmp_path / "nowhere")
