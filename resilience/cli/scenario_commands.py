"""Commands about scenario files: validate, show, resolve, list, schema.

They load and compile scenarios but never run one, so they import nothing of the engines
(numba, SimPy, pyarrow) and start quickly.
"""

from __future__ import annotations

import itertools
import json

import click
import tomli_w
from rich.console import Console
from rich.table import Table

from resilience.cli.options import overlay_option, set_option, terminal
from resilience.errors import ScenarioError
from resilience.network.arrays import NODE_KIND_CODES, Network
from resilience.network.compiler import compile_network
from resilience.network.exposure import consumer_exposures
from resilience.scenario.catalog import list_scenarios
from resilience.scenario.loader import LoadedScenario, load_scenario
from resilience.scenario.schema import Scenario

__all__ = ["list_command", "resolve", "resolved_toml", "schema", "show", "validate"]


@click.command()
@click.argument("files", nargs=-1, required=True)
@set_option
@overlay_option
def validate(files: tuple[str, ...], overrides: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    """Check scenario FILES (paths or shipped names); report every problem."""
    failed: list[ScenarioError] = []
    console = terminal()
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


SHOW_ROWS = 30
"""Lanes and consumers `show` lists without ``--full``: a large network's tables would take tens
of seconds to draw and scroll past anything an analyst can read."""


@click.command()
@click.argument("file")
@set_option
@overlay_option
@click.option("--full", is_flag=True, help=f"List every lane and consumer (default: {SHOW_ROWS}).")
def show(file: str, overrides: tuple[str, ...], overlays: tuple[str, ...], full: bool) -> None:
    """Describe the network of FILE: capacity, lanes and the consumers' exposure."""
    loaded = load_scenario(file, overrides, overlays)
    network = compile_network(loaded.scenario)
    _print_network(terminal(), loaded, network, limit=None if full else SHOW_ROWS)


@click.command()
@click.argument("file")
@set_option
@overlay_option
def resolve(file: str, overrides: tuple[str, ...], overlays: tuple[str, ...]) -> None:
    """Print FILE fully resolved (extends, overlays and --set applied, defaults filled)."""
    loaded = load_scenario(file, overrides, overlays)
    click.echo(resolved_toml(loaded.scenario), nl=False)


@click.command(name="list")
def list_command() -> None:
    """List the shipped scenarios (use their names wherever a FILE is expected)."""
    table = Table(title="Shipped scenarios", show_lines=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("title")
    table.add_column("description", overflow="fold")
    for item in list_scenarios():
        table.add_row(item.name, item.title, item.description)
    terminal().print(table)


@click.command()
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


def _print_network(
    console: Console, loaded: LoadedScenario, network: Network, limit: int | None
) -> None:
    """Print what `show` shows; ``limit`` caps the lane and exposure tables (None: no cap)."""
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

    lanes = Table(title=_capped_title("Lanes", len(scenario.lanes), limit, "in file order"))
    for column in ("lane", "from", "to", "commodity", "days", "capacity/day", "share", "via"):
        lanes.add_column(column, justify="right" if column in ("days", "share") else "left")
    for lane_id, lane in itertools.islice(scenario.lanes.items(), limit):
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

    exposed = sorted(
        consumer_exposures(network),
        key=lambda item: -max(item.by_country.values(), default=0.0),
    )
    exposure = Table(
        title=_capped_title(
            "Consumer exposure (share of normal supply)",
            len(exposed),
            limit,
            "most concentrated first",
        )
    )
    exposure.add_column("consumer")
    exposure.add_column("commodity")
    exposure.add_column("made in")
    exposure.add_column("passes")
    for item in exposed[:limit]:
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


def _capped_title(title: str, count: int, limit: int | None, order: str) -> str:
    """A table title that says when rows were left out, and how to see them."""
    if limit is None or count <= limit:
        return title
    return f"{title}: {limit} of {count:,}, {order} (--full lists all)"


def _describe_days(dist: str, mean: float) -> str:
    return f"{mean:g}" if dist == "fixed" else f"{dist}, mean {mean:.4g}"
