"""The terminal summary of a run: the answer first.

A header says what was run (scenario, replications, seed, overlays and overrides, so two runs of
different policies never look alike). Then the consumers that were short in any replication,
worst first by expected shortfall as a share of demand, with the chance of being short at all
and how long it lasted; the consumers never short are counted in one line (``--all`` lists
every row).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from resilience.analysis.summary import share_short

__all__ = ["amount", "cost_line", "print_summary"]

_COLUMNS = (
    "consumer", "commodity", "% of demand short", "P(short) [95% CI]", "days short",
    "mean shortfall", "CVaR95", "median TTS", "median TTR",
)  # fmt: skip


def print_summary(
    console: Console,
    summary: dict[str, Any],
    *,
    wall_seconds: float,
    overlays: tuple[str, ...] = (),
    overrides: tuple[str, ...] = (),
    show_all: bool = False,
) -> None:
    """Print the header and the table of consumers (only the affected ones unless ``show_all``).

    Args:
        summary: `RunAccumulator.summary()` with ``scenario`` and ``seed`` added (summary.json).
    """
    n = summary["replications"]
    console.print(
        f"[bold]{summary['scenario']}[/bold]: {n:,} replications, seed {summary['seed']}, "
        f"{wall_seconds:.2f} s"
    )
    if overlays or overrides:
        parts = []
        if overlays:
            parts.append("overlays " + ", ".join(overlays))
        if overrides:
            parts.append("overrides " + ", ".join(overrides))
        console.print("with " + "; ".join(parts))
    if "annual_cost" in summary:  # runs written before costs were reported lack it
        console.print(cost_line(summary["annual_cost"]))
    entries = sorted(summary["consumers"], key=share_short, reverse=True)
    affected = [entry for entry in entries if entry["p_short"]["short_replications"] > 0]
    shown = entries if show_all else affected
    if not affected:
        worst = max((entry["p_short"]["ci_high"] for entry in entries), default=0.0)
        console.print(
            f"No consumer was short in any of the {n:,} replications (P(short) below "
            f"{worst:.2%} for each, at 95% confidence)."
        )
    if shown:
        table = Table(
            title="Consumers short in some replication, worst first"
            if not show_all
            else "Every consumer, worst first",
            caption="shortfall in units of the commodity; days short is the mean per "
            "replication; TTS and TTR are medians over the replications with a shortfall",
        )
        for column in _COLUMNS:
            table.add_column(column, justify="left" if column in _COLUMNS[:2] else "right")
        for entry in shown:
            table.add_row(*_row(entry))
        console.print(table)
    unaffected = len(entries) - len(affected)
    if unaffected and not show_all:
        console.print(
            f"{unaffected} other consumer{'s were' if unaffected != 1 else ' was'} never short "
            "(--all lists every consumer)"
        )


def _row(entry: dict[str, Any]) -> list[str]:
    metrics = entry["metrics"]
    short = entry["p_short"]
    probability = (
        f"{short['estimate']:.1%} [{short['ci_low']:.1%}, {short['ci_high']:.1%}]"
        if short["n"] > 1
        else f"{short['estimate']:.1%}"
    )
    return [
        entry["consumer"],
        f"{entry['commodity']} ({entry['unit']})",
        f"{share_short(entry):.2%}",
        probability,
        f"{metrics['days_short']['mean']:.1f}",
        f"{metrics['shortfall']['mean']:,.4g}",
        f"{entry['tail']['cvar95']:,.4g}",
        _median_days(metrics["tts"]),
        _median_days(metrics["ttr"]),
    ]


def _median_days(summary: dict[str, Any]) -> str:
    return "-" if not summary["n"] else f"{summary['p50']:.0f}"


def amount(value: float) -> str:
    """A currency amount in thousands to trillions: ``1.23 bn``, ``-45.6 M``."""
    for scale, suffix in ((1e12, " tn"), (1e9, " bn"), (1e6, " M"), (1e3, " k")):
        if abs(value) >= scale:
            return f"{value / scale:,.3g}{suffix}"
    return f"{value:,.3g}"


def cost_line(costs: dict[str, Any]) -> str:
    """``annual cost 1.2 bn a year: procurement ..., capital ...`` (non-zero components only).

    Args:
        costs: summary.json's ``annual_cost``: component -> `summarise_metric` record.
    """
    parts = [
        f"{name} {amount(record['mean'])}"
        for name, record in costs.items()
        if name != "total" and record["mean"] != 0.0
    ]
    total = amount(costs["total"]["mean"])
    return f"annual cost {total} a year" + (f": {', '.join(parts)}" if parts else "")
