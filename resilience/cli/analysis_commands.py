"""Commands that weigh scenarios against each other: compare (more to come: sweep, frontier).

Like the run commands, they import the engines only when they run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table

from resilience.cli.options import (
    all_option,
    command_line,
    json_option,
    overwrite_option,
    set_option,
    terminal,
)
from resilience.cli.progress import LazyProgress
from resilience.scenario.loader import load_scenario

if TYPE_CHECKING:
    from resilience.run.compare import AlternativeComparison

__all__ = ["compare"]


@click.command()
@click.argument("base")
@click.argument("alternatives", nargs=-1)
@click.option(
    "--overlay",
    "policies",
    multiple=True,
    metavar="FILE",
    help="An alternative made of BASE with this overlay merged over it, e.g. a policy "
    "(repeatable; each is its own alternative).",
)
@set_option
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications per scenario.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Threads running blocks of replications.",
)
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the comparison here."
)
@overwrite_option
@all_option
@json_option
def compare(
    base: str,
    alternatives: tuple[str, ...],
    policies: tuple[str, ...],
    overrides: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    threads: int,
    out: Path | None,
    overwrite: bool,
    show_all: bool,
    as_json: bool,
) -> None:
    """Compare BASE with each ALTERNATIVE file and each --overlay, on common random numbers.

    Every scenario runs with the same seed and replications, so replication r of each sees the
    same disruptions; the table shows paired differences (alternative - base) with 95%
    intervals, the consumers most changed first.
    """
    from resilience.outputs.rundir import json_safe
    from resilience.run.compare import CompareSettings, compare_scenarios

    if not alternatives and not policies:
        raise click.UsageError("give at least one ALTERNATIVE file or one --overlay")
    loaded_base = load_scenario(base, overrides)
    variants = [(name, load_scenario(name, overrides)) for name in alternatives]
    variants += [(f"+{name}", load_scenario(base, overrides, (name,))) for name in policies]
    settings = CompareSettings(
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
    )
    with LazyProgress() as progress:
        comparison = compare_scenarios(loaded_base, variants, settings, progress=progress.update)
    if as_json:
        click.echo(json.dumps(json_safe(comparison.to_dict()), indent=2, allow_nan=False))
        return
    console = terminal()
    console.print(
        f"[bold]{comparison.base}[/bold] against {len(comparison.alternatives)} "
        f"alternative{'s' if len(comparison.alternatives) != 1 else ''}: "
        f"{comparison.replications:,} replications each, seed {comparison.seed}, common random "
        f"numbers, {comparison.wall_seconds:.2f} s"
    )
    for alternative in comparison.alternatives:
        _print_alternative(console, alternative, show_all)
    if comparison.files:
        console.print(f"wrote {', '.join(str(path) for path in comparison.files)}")


def _print_alternative(
    console: Console, alternative: AlternativeComparison, show_all: bool
) -> None:
    changed = [
        consumer
        for consumer in alternative.consumers
        if show_all or any(d.difference != 0.0 for d in consumer.differences if d.n)
    ]
    changed.sort(key=lambda consumer: -abs(consumer.get("share_short").difference))
    table = Table(
        title=f"{alternative.label} - base, most changed first (95% paired intervals)",
        caption="shortfall share and P(short) in percentage points; cost in currency; "
        "TTR in days, over replications short in both",
    )
    for column in ("consumer", "commodity", "Δ % of demand short", "Δ P(short)", "Δ CVaR95",
                   "Δ mean TTR", "Δ cost"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("consumer", "commodity") else "right")
    for consumer in changed:
        share, short = consumer.get("share_short"), consumer.get("p_short")
        cvar, ttr, cost = consumer.get("cvar95"), consumer.get("ttr"), consumer.get("cost")
        table.add_row(
            consumer.consumer,
            f"{consumer.commodity} ({consumer.unit})",
            _interval(share.difference * 100, share.ci_low * 100, share.ci_high * 100, ".2f"),
            _interval(short.difference * 100, short.ci_low * 100, short.ci_high * 100, ".1f"),
            _interval(cvar.difference, cvar.ci_low, cvar.ci_high, ",.4g"),
            "-" if not ttr.n else _interval(ttr.difference, ttr.ci_low, ttr.ci_high, ".1f"),
            _interval(cost.difference, cost.ci_low, cost.ci_high, ",.4g"),
        )
    if changed:
        console.print(table)
    unchanged = len(alternative.consumers) - len(changed)
    if unchanged:
        console.print(
            f"{alternative.label}: {unchanged} consumer{'s' if unchanged != 1 else ''} unchanged "
            "in every replication (--all lists them)"
        )
    for side, names in (("base", alternative.only_in_base),
                        ("alternative", alternative.only_in_alternative)):  # fmt: skip
        if names:
            console.print(f"only in the {side}, not compared: {', '.join(names)}")


def _interval(value: float, low: float, high: float, spec: str) -> str:
    if low == high == value:
        return f"{value:{spec}}"
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"
