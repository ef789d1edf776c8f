"""Plots, written as PNG and SVG with matplotlib (the ``plots`` extra).

matplotlib is imported inside each function, with the non-interactive Agg backend, so that a
command that draws nothing never pays for it, and a machine without a display can draw.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.errors import ResilienceError

__all__ = ["PlotsUnavailableError", "frontier_plot"]


class PlotsUnavailableError(ResilienceError):
    """matplotlib is not installed."""


def _pyplot() -> Any:
    try:
        import matplotlib
    except ImportError:
        raise PlotsUnavailableError(
            "plots need matplotlib: pip install 'resilience[plots]'"
        ) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def frontier_plot(
    cost: npt.ArrayLike,
    risk: npt.ArrayLike,
    on_front: npt.ArrayLike,
    *,
    labels: Sequence[str],
    title: str,
    risk_label: str,
    out: Path,
) -> list[Path]:
    """Cost against risk for every design point, the frontier joined by a line.

    Args:
        cost: (P,) currency per year; risk: (P,) in the risk measure's unit.
        on_front: (P,) bool, `pareto_front`'s mask.
        labels: (P,) text beside each frontier point (its lever values).
        out: the directory; writes ``frontier.png`` and ``frontier.svg``.
    """
    plt = _pyplot()
    c, r = np.asarray(cost, dtype=float), np.asarray(risk, dtype=float)
    front = np.asarray(on_front, dtype=bool)
    figure, axes = plt.subplots(figsize=(7.5, 5.0), dpi=120)
    axes.scatter(c[~front], r[~front], s=18, color="0.65", label="dominated")
    order = np.argsort(c[front])
    axes.plot(c[front][order], r[front][order], "o-", color="tab:blue", label="Pareto frontier")
    for x, y, text in zip(c[front], r[front], np.asarray(labels)[front], strict=True):
        axes.annotate(text, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    axes.set_xlabel("annual cost of the network (currency per year)")
    axes.set_ylabel(risk_label)
    axes.set_title(title, fontsize=10)
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    paths = [out / "frontier.png", out / "frontier.svg"]
    for path in paths:
        figure.savefig(path)
    plt.close(figure)
    return paths
