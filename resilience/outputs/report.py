"""A self-contained HTML report: jinja2 renders the template with every plot embedded.

The page loads nothing from the network (styles inline, plots as base64 PNG), so it can be
mailed or archived and opened anywhere. What goes into it is assembled by the run layer
(`resilience.runs.report`); this module only renders.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import jinja2

__all__ = ["Figure", "render_report"]


@dataclass(frozen=True)
class Figure:
    """A plot to embed: its PNG file and a caption."""

    png: Path
    caption: str


def render_report(
    *,
    title: str,
    question: str,
    answer: Sequence[str],
    columns: Sequence[str],
    rows: Sequence[Sequence[str]],
    unaffected: int,
    figures: Sequence[Figure],
    provenance: Sequence[tuple[str, str]],
    caveats: Sequence[str],
    replications: int,
    seed: int,
    made: str,
    version: str,
) -> str:
    """The report's HTML text (autoescaped: scenario text cannot inject markup)."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("resilience.outputs", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    template = environment.get_template("report.html.j2")
    return template.render(
        title=title,
        question=question,
        answer=answer,
        columns=columns,
        rows=rows,
        unaffected=unaffected,
        figures=[
            {"data": base64.b64encode(figure.png.read_bytes()).decode(), "caption": figure.caption}
            for figure in figures
        ],
        provenance=provenance,
        caveats=caveats,
        replications=f"{replications:,}",
        seed=seed,
        made=made,
        version=version,
    )
