"""The ``resilience`` command line.

Shape (after pyupgrade): ``main(argv) -> int`` runs one command and returns its exit code;
``python -m resilience`` and the console script both call it. Any `ResilienceError` becomes one
clear message on stderr and exit code 2; usage errors also exit 2; no traceback reaches a user
for bad input.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click
import tomli_w
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

from resilience.errors import ResilienceError, ScenarioError
from resilience.model.outcomes import metric_index
from resilience.network.arrays import NODE_KIND_CODES, Network
from resilience.network.compiler import compile_network
from resilience.network.exposure import consumer_exposures
from resilience.run.runner import RunResult, RunSettings, run_scenario
from resilience.run.trace import trace_scenario
from resilience.scenario.catalog import list_scenarios
from resilience.scenario.loader import LoadedScenario, load_scenario
from resilience.scenario.schema import Scenario

__all__ = ["cli", "main"]

EXIT_BAD_INPUT = 2

_set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value, e.g. --set scenario.replications=500 (repeatable).",
)


_overlay_option = click.option(
    "--overlay",
    "overlays",
    multiple=True,
    metavar="FILE",
    help="Merge another scenario file over FILE, e.g. a policy variant (repeatable).",
)


def _console() -> Console:
    # A terminal sets the width; output sent to a file or a pipe gets room for the whole table
    # (rich would otherwise assume 80 columns) unless COLUMNS says otherwise.
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
    return Console(highlight=False, soft_wrap=False, width=width)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="resilience")
def cli() -> None:
    """Supply-chain resilience simulation: chips, critical minerals and LNG under disruption."""


@cli.command()
@click.argument("files", nargs=-1, required=True)
@_set_option
@_overlay_option
def validate(files: tuple[str, ...], overrides: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    """Check scenario FILES (paths or shipped names); report every problem."""
    failed: list[ScenarioError] = []
    console = _console()
    for target in files:
        try:
            loaded = load_scenario(target, overrides, overlays)
            network = compile_network(loaded.scenario)
        except ScenarioError as error:
            failed.append(error)
            continue
        console.print(
            f"ok {loaded.files[0]}: {network.n_nodes} nodes, {network.n_lanes} lanes, "
            f"{len(network.disruption_ids)} disruptions, {len(network.hazard_ids)} hazards"
        )
    if failed:
        problems = [problem for error in failed for problem in error.problems]
        raise ScenarioError(problems)


@cli.command()
@click.argument("file")
@_set_option
@_overlay_option
def show(file: str, overrides: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    """Describe the network of FILE: nodes, lanes and each consumer's exposure."""
    loaded = load_scenario(file, overrides, overlays)
    network = compile_network(loaded.scenario)
    _print_network(_console(), loaded, network)


@cli.command()
@click.argument("file")
@_set_option
@_overlay_option
def resolve(file: str, overrides: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    """Print FILE fully resolved (extends, overlays and --set applied, defaults filled)."""
    loaded = load_scenario(file, overrides, overlays)
    click.echo(resolved_toml(loaded.scenario), nl=False)


@cli.command()
@click.argument("file")
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications to run.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@_set_option
@_overlay_option
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
    bands: bool,
    engine: str,
) -> None:
    """Run FILE through an engine (the Monte Carlo kernel by default) and print the summary."""
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
        table_format="csv" if table_format == "csv" else "parquet",
        engine="des" if engine == "des" else "kernel",
    )
    with _LazyProgress() as progress:
        result = run_scenario(loaded, settings, progress=progress.update)
    console = _console()
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


@cli.command()
@click.argument("file")
@click.option(
    "--replication", "-r", type=click.IntRange(min=0), default=0, show_default=True,
    help="Replication to trace (its random streams are those of the same replication of a run).",
)  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@_set_option
@_overlay_option
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for trace.parquet, trace.csv and manifest.json.",
)
def trace(
    file: str,
    replication: int,
    seed: int | None,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    out: Path,
) -> None:
    """Write the event log of one replication of FILE, run on the SimPy engine."""
    loaded = load_scenario(file, overrides, overlays)
    result = trace_scenario(loaded, replication, out=out, seed=seed)
    network = result.network
    console = _console()
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


@cli.command(name="list")
def list_command() -> None:
    """List the shipped scenarios (use their names wherever a FILE is expected)."""
    table = Table(title="Shipped scenarios", show_lines=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("title")
    table.add_column("description", overflow="fold")
    for item in list_scenarios():
        table.add_row(item.name, item.title, item.description)
    _console().print(table)


@cli.command()
def schema() -> None:
    """Print the JSON Schema of scenario files (for editor completion)."""
    document = Scenario.model_json_schema(by_alias=True)
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    document["title"] = "resilience scenario"
    click.echo(json.dumps(document, indent=2))


def resolved_toml(scenario: Scenario) -> str:
    """The resolved scenario as TOML text (absent optional values left out)."""
    data = scenario.model_dump(mode="json", by_alias=True, exclude_none=True)
    return tomli_w.dumps(data)


def _print_network(console: Console, loaded: LoadedScenario, network: Network) -> None:
    scenario = loaded.scenario
    meta = scenario.scenario
    console.print(f"[bold]{meta.name}[/bold]  ({loaded.files[0]})")
    if meta.description:
        console.print(meta.description)
    console.print(
        f"{network.n_nodes} nodes, {network.n_lanes} lanes, {len(network.chokepoint_ids)} "
        f"chokepoints, {len(network.disruption_ids)} disruptions, {len(network.hazard_ids)} "
        f"hazards; horizon {meta.horizon_days} days, {meta.replications} replications, "
        f"seed {meta.seed}"
    )

    nodes = Table(title="Capacity by country and commodity (units/day; consumers: demand)")
    nodes.add_column("country")
    nodes.add_column("commodity")
    nodes.add_column("unit")
    for kind in NODE_KIND_CODES:
        nodes.add_column(kind, justify="right")
    cells: dict[tuple[str, str], dict[str, float]] = {}
    for node in scenario.nodes.values():
        row = cells.setdefault((node.country, node.commodity), dict.fromkeys(NODE_KIND_CODES, 0.0))
        if node.kind == "consumer":
            row[node.kind] += node.demand.mean_per_day if node.demand else 0.0
        elif node.kind == "storage":
            row[node.kind] += node.inventory.initial or 0.0
        else:
            row[node.kind] += node.capacity_per_day or 0.0
    for (country, commodity), row in sorted(cells.items()):
        nodes.add_row(
            country,
            commodity,
            scenario.commodities[commodity].unit,
            *(f"{row[kind]:,.4g}" if row[kind] else "" for kind in NODE_KIND_CODES),
        )
    console.print(nodes)

    lanes = Table(title="Lanes")
    for column in ("lane", "from", "to", "commodity", "days", "capacity/day", "share", "via"):
        lanes.add_column(column, justify="right" if column in ("days", "share") else "left")
    for lane_id, lane in scenario.lanes.items():
        row_index = network.lane_row[lane_id]
        capacity = lane.capacity_per_day
        lanes.add_row(
            lane_id,
            lane.from_,
            lane.to,
            lane.commodity,
            str(lane.lead_time_days),
            "unbounded" if capacity is None else f"{capacity:,.4g}",
            f"{network.lane_share[row_index]:.2f}",
            ", ".join(lane.chokepoints),
        )
    console.print(lanes)

    exposure = Table(title="Consumer exposure (share of normal supply)")
    exposure.add_column("consumer")
    exposure.add_column("commodity")
    exposure.add_column("made in")
    exposure.add_column("passes")
    for item in consumer_exposures(network):
        exposure.add_row(
            item.consumer,
            item.commodity,
            ", ".join(f"{k} {v:.0%}" for k, v in item.by_country.items()),
            ", ".join(f"{k} {v:.0%}" for k, v in item.by_chokepoint.items()) or "none",
        )
    console.print(exposure)

    if scenario.disruptions:
        events = Table(title="Disruptions")
        for column in ("id", "kind", "target", "start", "duration", "severity", "probability"):
            events.add_column(column)
        for name, event in scenario.disruptions.items():
            target = event.target or f"{event.origin} {event.commodity} exports"
            events.add_row(
                name,
                event.kind,
                target,
                _describe_days(event.start.dist, event.start.mean_days()),
                _describe_days(event.duration.dist, event.duration.mean_days()),
                f"{event.severity:g}",
                f"{event.probability:g}",
            )
        console.print(events)


def _describe_days(dist: str, mean: float) -> str:
    return f"{mean:g}" if dist == "fixed" else f"{dist}, mean {mean:.4g}"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        cli.main(args=args, prog_name="resilience", standalone_mode=False)
    except ResilienceError as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_BAD_INPUT
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Run outputs are written only after the last replication, and a run removes any old
        # manifest first, so nothing left behind looks like a complete result.
        click.echo("interrupted: no results written", err=True)
        return 130
    except click.ClickException as error:
        error.show()
        return EXIT_BAD_INPUT if error.exit_code == 2 else error.exit_code
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    return 0
