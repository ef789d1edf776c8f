"""Commands that run a scenario: run (Monte Carlo or SimPy) and trace (one replication).

The engines are imported inside the commands, so that the commands about files start without
loading numba, SimPy or pyarrow.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from resilience.cli.options import overlay_option, overwrite_option, set_option, terminal
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario

if TYPE_CHECKING:
    from resilience.run.runner import RunResult

__all__ = ["run", "trace"]


@click.command()
@click.argument("file")
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications to run.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@set_option
@overlay_option
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the run directory."
)
@click.option(
    "--format",
    "table_format",
    type=click.Choice(["parquet", "csv"]),
    default="parquet",
    show_default=True,
    help="Format of the per-replication table.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Threads running blocks of replications.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Replications per batch (default: sized for a few tenths of a second of work).",
)
@overwrite_option
@click.option("--bands", is_flag=True, help="Also summarise daily service bands (5/50/95%).")
@click.option(
    "--engine",
    type=click.Choice(["kernel", "des"]),
    default="kernel",
    show_default=True,
    help="kernel: the Monte Carlo kernel; des: the SimPy engine (slow; runs the scenario's "
    "detailed options, docs/des.md).",
)
def run(
    file: str,
    replications: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    out: Path | None,
    table_format: str,
    threads: int,
    batch_size: int | None,
    overwrite: bool,
    bands: bool,
    engine: str,
) -> None:
    """Run FILE through an engine (the Monte Carlo kernel by default) and print the summary."""
    from resilience.run.runner import RunSettings, UnwrittenResultError, run_scenario

    loaded = load_scenario(file, overrides, overlays)
    if engine == "kernel" and _has_detail(loaded.scenario):
        click.echo(
            "note: the kernel runs the fluid model; vessels, berths, slots and [des] are read "
            "only by --engine des",
            err=True,
        )
    settings = RunSettings(
        replications=replications,
        seed=seed,
        threads=threads,
        batch_size=batch_size,
        bands=bands,
        out=out,
        overwrite=overwrite,
        table_format="csv" if table_format == "csv" else "parquet",
        engine="des" if engine == "des" else "kernel",
    )
    try:
        with _LazyProgress() as progress:
            result = run_scenario(loaded, settings, progress=progress.update)
    except UnwrittenResultError as error:
        _print_run(terminal(), error.result)  # the numbers were computed: show them anyway
        raise
    console = terminal()
    _print_run(console, result)
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


def _has_detail(scenario: Scenario) -> bool:
    """Whether the scenario sets any option that only the SimPy engine reads."""
    return (
        scenario.des is not None
        or any(lane.vessels is not None for lane in scenario.lanes.values())
        or any(node.berths is not None for node in scenario.nodes.values())
        or any(choke.slots is not None for choke in scenario.chokepoints.values())
    )


@click.command()
@click.argument("file")
@click.option(
    "--replication", "-r", type=click.IntRange(min=0), default=0, show_default=True,
    help="Replication to trace (its random streams are those of the same replication of a run).",
)  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@set_option
@overlay_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for trace.parquet, trace.csv and manifest.json.",
)
@overwrite_option
def trace(
    file: str,
    replication: int,
    seed: int | None,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    out: Path,
    overwrite: bool,
) -> None:
    """Write the event log of one replication of FILE, run on the SimPy engine."""
    from resilience.model.outcomes import metric_index
    from resilience.run.trace import trace_scenario

    loaded = load_scenario(file, overrides, overlays)
    result = trace_scenario(loaded, replication, out=out, seed=seed, overwrite=overwrite)
    network = result.network
    console = terminal()
    console.print(
        f"[bold]{network.name}[/bold]: replication {replication} on the SimPy engine "
        f"({result.mode} mode), {result.table.num_rows:,} events logged, "
        f"{result.outcome.events:,} SimPy events"
    )
    table = Table(title="This replication (units of the commodity; days)")
    for column in ("consumer", "demand", "served", "fill rate", "days short", "TTS", "TTR"):
        table.add_column(column, justify="left" if column == "consumer" else "right")
    columns = [metric_index(name) for name in ("demand", "served", "fill_rate", "days_short",
                                               "tts", "ttr")]  # fmt: skip
    for r, node in enumerate(network.consumers):
        demand, served, fill, short, tts, ttr = (result.outcome.consumer[r, i] for i in columns)
        table.add_row(
            network.node_ids[node],
            f"{demand:,.1f}",
            f"{served:,.1f}",
            f"{fill:.4f}",
            f"{short:.0f}",
            "-" if math.isnan(tts) else f"{tts:.0f}",  # NaN when never short
            "-" if math.isnan(ttr) else f"{ttr:.0f}",
        )
    console.print(table)
    console.print(f"wrote {', '.join(str(path) for path in result.files)}")


class _LazyProgress:
    """A progress bar on stderr that appears only once a run has taken more than a second."""

    def __init__(self, delay: float = 1.0) -> None:
        self._delay = delay
        self._started = time.perf_counter()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> _LazyProgress:
        return self

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.perf_counter() - self._started < self._delay or done >= total:
                return
            self._bar = Progress(
                TextColumn("replications"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("run", total=total)
        assert self._task is not None
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()


def _print_run(console: Console, result: RunResult) -> None:
    summary = result.summary
    console.print(
        f"[bold]{summary['scenario']}[/bold]: {summary['replications']} replications, "
        f"seed {result.seed}, {result.wall_seconds:.2f} s"
    )
    table = Table(title="Shortfall by consumer (units of the commodity; days)")
    for column in ("consumer", "commodity", "fill rate [95% CI]", "P(short) [95% CI]",
                   "mean shortfall", "P95 shortfall", "CVaR95", "median TTS",
                   "median TTR"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("consumer", "commodity") else "right")
    for entry in summary["consumers"]:
        metrics = entry["metrics"]
        fill = metrics["fill_rate"]
        shortfall = metrics["shortfall"]
        short = entry["p_short"]
        table.add_row(
            entry["consumer"],
            f"{entry['commodity']} ({entry['unit']})",
            f"{fill['mean']:.4f} [{fill['ci_low']:.4f}, {fill['ci_high']:.4f}]"
            if fill["n"] > 1
            else f"{fill['mean']:.4f}",
            f"{short['estimate']:.1%} [{short['ci_low']:.1%}, {short['ci_high']:.1%}]"
            if short["n"] > 1
            else f"{short['estimate']:.1%}",
            f"{shortfall['mean']:,.4g}",
            f"{shortfall['p95']:,.4g}",
            f"{entry['tail']['cvar95']:,.4g}",
            _days(metrics["tts"]),
            _days(metrics["ttr"]),
        )
    console.print(table)


def _days(summary: dict[str, float]) -> str:
    return "-" if not summary["n"] else f"{summary['p50']:.0f}"
