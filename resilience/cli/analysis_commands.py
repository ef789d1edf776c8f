"""Commands that weigh scenarios and policies: compare, sweep, frontier, optimise, criticality,
sensitivity, stress.

Like the run commands, they import the engines only when they run.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table

from resilience.cli.options import (
    all_option,
    command_line,
    executor_options,
    json_option,
    overwrite_option,
    set_option,
    terminal,
    threads_option,
)
from resilience.cli.progress import LazyProgress, announce_compile
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario

if TYPE_CHECKING:
    from resilience.runs.compare import AlternativeComparison
    from resilience.runs.executors import ExecutorChoice
    from resilience.runs.sensitivity import SensitivityResult

__all__ = ["compare", "criticality", "frontier", "optimise", "sensitivity", "stress", "sweep"]


def knockout_options(command: Callable[..., None]) -> Callable[..., None]:
    """The options of criticality and stress: the scenario's overrides and overlays, whose
    consumers are at stake and which kinds of element are knocked out."""
    for option in reversed(
        [
            set_option,
            click.option("--overlay", "overlays", multiple=True, metavar="FILE",
                         help="Merge a file over SCENARIO."),
            click.option("--consumer", "consumers", multiple=True,
                         help="A consumer at stake (repeatable)."),
            click.option("--country", "countries", multiple=True,
                         help="Every consumer in this country (repeatable)."),
            click.option("--kinds", default="node,lane,chokepoint,country", show_default=True,
                         help="Which elements to knock out, comma-separated."),
        ]
    ):  # fmt: skip
        command = option(command)
    return command


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
@threads_option
@executor_options
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
    executor: ExecutorChoice,
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
    from resilience.runs.compare import CompareSettings, compare_scenarios
    from resilience.runs.executors import open_executor

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
    announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        comparison = compare_scenarios(
            loaded_base, variants, settings, progress=progress.update, executor=runner
        )
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
    if alternative.costs:
        console.print(_cost_difference_line(alternative))
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


def _cost_difference_line(alternative: AlternativeComparison) -> str:
    """``+policy - base: annual cost +1.2 bn a year [..]: capital +..., premium +...``."""
    from resilience.cli.summary_table import amount

    def signed(value: float) -> str:
        return ("+" if value > 0 else "") + amount(value)

    total = alternative.cost("total")
    interval = (
        ""
        if total.ci_low == total.ci_high
        else f" [{signed(total.ci_low)}, {signed(total.ci_high)}]"
    )
    parts = [
        f"{d.statistic} {signed(d.difference)}"
        for d in alternative.costs
        if d.statistic != "total" and d.difference != 0.0
    ]
    return (
        f"{alternative.label} - base: annual cost {signed(total.difference)} a year{interval}"
        + (f" ({', '.join(parts)})" if parts else "")
    )


def _interval(value: float, low: float, high: float, spec: str) -> str:
    if low == high == value:
        return f"{value:{spec}}"
    return f"{value:{spec}} [{low:{spec}}, {high:{spec}}]"


@click.command()
@click.argument("scenario")
@click.option(
    "--overlay", "overlays", multiple=True, metavar="FILE", help="Merge a file over SCENARIO."
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="PATH=V1,V2,...",
    help="A lever and its values (every combination is run); a single value is a fixed "
    "override. Repeatable.",
)
@click.option(
    "--design",
    type=click.Choice(["grid", "lhs", "sobol"]),
    default="grid",
    show_default=True,
    help="grid: every combination of the --set values; lhs or sobol: --samples points in the "
    "box of the --range levers.",
)
@click.option("--samples", type=click.IntRange(min=1), help="Points of an lhs or sobol design.")
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="PATH=LOW:HIGH",
    help="A lever sampled between LOW and HIGH by --design lhs|sobol (repeatable).",
)
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications per point.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@threads_option
@executor_options
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the sweep here."
)
@overwrite_option
@click.option("--focus", metavar="CONSUMER", help="Consumer whose risk the table shows.")
@json_option
def sweep(
    scenario: str,
    overlays: tuple[str, ...],
    settings: tuple[str, ...],
    design: str,
    samples: int | None,
    ranges: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    threads: int,
    executor: ExecutorChoice,
    out: Path | None,
    overwrite: bool,
    focus: str | None,
    as_json: bool,
) -> None:
    """Run SCENARIO over a design of lever values on common random numbers: one row per point.

    Each row has the point's lever values, the network's annual cost and the focus consumer's
    risk (expected shortfall share, CVaR95, P(short), fill rate, median TTR); --out writes
    every consumer's rows to sweep.parquet, which `resilience frontier` reads.
    """
    from resilience.analysis.design import grid, parse_lever, parse_range, sample
    from resilience.cli.summary_table import amount
    from resilience.outputs.rundir import json_safe
    from resilience.runs.executors import open_executor
    from resilience.runs.frontier import worst_consumer
    from resilience.runs.sweep import SweepSettings, run_sweep

    levers = [parse_lever(text) for text in settings]
    fixed = tuple(f"{lever.path}={lever.values[0]}" for lever in levers if len(lever.values) == 1)
    varied = [lever for lever in levers if len(lever.values) > 1]
    if design == "grid":
        if ranges or samples:
            raise click.UsageError("--range and --samples go with --design lhs or sobol")
        if not varied:
            raise click.UsageError("a grid needs a lever with several values: --set PATH=A,B,C")
        points = grid(varied)
        described: dict[str, object] = {"design": "grid"}
    else:
        if varied:
            raise click.UsageError(f"--design {design} samples --range levers; give --set "
                                   "levers a single value")  # fmt: skip
        if samples is None:
            raise click.UsageError(f"--design {design} needs --samples N")
        base = load_scenario(scenario, fixed, overlays)
        parsed = [parse_range(text) for text in ranges]
        parsed = [
            dataclasses.replace(r, integer=_is_integer(base.scenario, r.path)) for r in parsed
        ]
        design_seed = base.scenario.scenario.seed if seed is None else seed
        points = sample("lhs" if design == "lhs" else "sobol", parsed, samples, design_seed)
        described = {"design": design, "samples": samples, "design_seed": design_seed,
                     "ranges": [dataclasses.asdict(r) for r in parsed]}  # fmt: skip
    options = SweepSettings(
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
        design=described,
    )
    announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        result = run_sweep(
            scenario, points, options, overlays=overlays, overrides=fixed,
            progress=progress.update, executor=runner,
        )  # fmt: skip
    if as_json:
        click.echo(json.dumps(json_safe(result.rows), indent=2, allow_nan=False))
        return
    chosen = focus or worst_consumer(result.rows)
    rows = [row for row in result.rows if row["consumer"] == chosen]
    if not rows:
        known = sorted({row["consumer"] for row in result.rows})
        raise click.UsageError(f"--focus {chosen}: no such consumer; one of {', '.join(known)}")
    console = terminal()
    console.print(
        f"[bold]{result.scenario}[/bold]: {len(points)} design points x "
        f"{result.replications:,} replications, seed {result.seed}, common random numbers, "
        f"{result.wall_seconds:.2f} s"
    )
    table = Table(title=f"Cost and the risk left to {chosen}, by design point")
    for lever in result.levers:
        table.add_column(_short(lever), justify="right")
    for column in ("annual cost", "levers' cost", "% of demand short", "CVaR95", "P(short)",
                   "fill rate", "median TTR"):  # fmt: skip
        table.add_column(column, justify="right")
    for row in rows:
        table.add_row(
            *(str(row[lever]) for lever in result.levers),
            f"{row['annual_cost']:,.6g}",
            amount(_levers_cost(row)),
            f"{row['share_short']:.2%}",
            f"{row['cvar95']:,.4g}",
            f"{row['p_short']:.1%}",
            f"{row['fill_rate']:.4f}",
            "-" if row["ttr_p50"] != row["ttr_p50"] else f"{row['ttr_p50']:.0f}",
        )
    console.print(table)
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


def _levers_cost(row: dict[str, Any]) -> float:
    """The levers' part of a sweep row's annual cost (capital, capacity, premium, guarantee,
    sharing), currency per year; 0 for a sweep written before costs were split out."""
    from resilience.analysis.costs import LEVER_COSTS

    return float(sum(float(row.get(f"{name}_cost", 0.0)) for name in LEVER_COSTS))


def _short(path: str) -> str:
    """A lever's column heading: the entry and the key (``jp_lng.target_days``)."""
    parts = path.split(".")
    return f"{parts[1]}.{parts[-1]}" if len(parts) > 2 else path


def _is_integer(scenario: Scenario, path: str) -> bool:
    """Whether the scenario's value at ``path`` is a whole number (a lever sampled there is
    then rounded); False when the path holds no number yet."""
    value: object = scenario.model_dump(by_alias=True)
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return isinstance(value, int) and not isinstance(value, bool)


@click.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
@click.option(
    "--risk",
    default="cvar95",
    show_default=True,
    help="The risk measure to minimise: cvar95, var95, expected_shortfall, share_short, "
    "p_short, days_short, ...",
)
@click.option("--consumer", help="Whose risk (default: the consumer most short in the sweep).")
@json_option
def frontier(sweep_dir: Path, risk: str, consumer: str | None, as_json: bool) -> None:
    """The Pareto frontier of annual cost against a risk measure over the points of SWEEP_DIR.

    Writes frontier.json, frontier.png and frontier.svg into SWEEP_DIR.
    """
    from resilience.cli.summary_table import amount
    from resilience.outputs.rundir import json_safe
    from resilience.runs.frontier import frontier as compute

    result = compute(sweep_dir, risk=risk, consumer=consumer)
    if as_json:
        click.echo(json.dumps(json_safe(result.points), indent=2, allow_nan=False))
        return
    console = terminal()
    table = Table(
        title=f"Pareto frontier: annual cost against {risk} of {result.consumer}, cheapest first"
    )
    for lever in result.levers:
        table.add_column(_short(lever), justify="right")
    table.add_column("annual cost", justify="right")
    table.add_column("levers' cost", justify="right")
    table.add_column(risk, justify="right")
    for point in result.frontier:
        table.add_row(
            *(str(point[lever]) for lever in result.levers),
            f"{point['annual_cost']:,.6g}",
            amount(_levers_cost(point)),
            f"{point[risk]:,.4g}",
        )
    console.print(table)
    dominated = len(result.points) - len(result.frontier)
    console.print(f"{dominated} of {len(result.points)} design points are dominated")
    console.print(f"wrote {', '.join(str(path) for path in result.files)}")


@click.command()
@click.argument("scenario")
@click.option(
    "--lever",
    "levers",
    multiple=True,
    metavar="PATH=LOW:HIGH",
    help="A lever and the range it is searched in (repeatable); whole numbers in the scenario "
    "stay whole.",
)
@click.option(
    "--target",
    required=True,
    metavar="'MEASURE(shortfall, CONSUMER) <= X'",
    help="The risk to stay within: cvar95, var95, mean or share of shortfall, or "
    "p_short(CONSUMER) or days_short(CONSUMER), e.g. 'cvar95(shortfall, jp_lng) <= 500'.",
)
@click.option(
    "--budget",
    type=click.IntRange(min=5),
    default=40,
    show_default=True,
    help="The most design points to evaluate.",
)
@click.option(
    "--overlay", "overlays", multiple=True, metavar="FILE", help="Merge a file over SCENARIO."
)
@set_option
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications per point.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@threads_option
@executor_options
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the search here."
)
@overwrite_option
@json_option
def optimise(
    scenario: str,
    levers: tuple[str, ...],
    target: str,
    budget: int,
    overlays: tuple[str, ...],
    overrides: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    threads: int,
    executor: ExecutorChoice,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """The cheapest combination of --lever values whose risk meets --target.

    Differential evolution searches the levers' box, then COBYQA walks the best point onto
    the target's boundary (both scipy), every point on the same random numbers; the cost is the
    annual cost of `resilience sweep`. --out writes every evaluated
    point to history.parquet and the best to optimise.json.
    """
    from resilience.analysis.design import parse_range
    from resilience.analysis.optimise import parse_target
    from resilience.outputs.rundir import json_safe
    from resilience.runs.executors import open_executor
    from resilience.runs.optimise import OptimiseSettings, run_optimise

    goal = parse_target(target)
    if not levers:
        raise click.UsageError("give at least one --lever PATH=LOW:HIGH")
    parsed = [parse_range(text, option="--lever") for text in levers]
    base = load_scenario(scenario, overrides, overlays)
    parsed = [dataclasses.replace(r, integer=_is_integer(base.scenario, r.path)) for r in parsed]
    settings = OptimiseSettings(
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
        budget=budget,
    )
    announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        result = run_optimise(scenario, parsed, goal, settings, overlays=overlays,
                              overrides=overrides, progress=progress.update,
                              executor=runner)  # fmt: skip
    if as_json:
        click.echo(json.dumps(json_safe(result.to_dict()), indent=2, allow_nan=False))
        return
    from resilience.cli.summary_table import amount

    best = result.best
    best_row = next(row for row in result.rows if row["evaluation"] == best.index)
    console = terminal()
    console.print(
        f"[bold]{result.scenario}[/bold]: {len(result.search.evaluations)} design points "
        f"(differential evolution, then COBYQA from the best) x {result.replications:,} "
        f"replications, seed {result.seed}, common random numbers, {result.wall_seconds:.2f} s"
    )
    table = Table(title="The cheapest design found")
    table.add_column("lever")
    table.add_column("value", justify="right")
    for override in best.point:
        path, _, value = override.partition("=")
        table.add_row(path, value)
    console.print(table)
    feasible = sum(1 for e in result.search.evaluations if e.feasible)
    console.print(
        f"annual cost {best.cost:,.6g} a year (levers {amount(_levers_cost(best_row))}); "
        f"{goal.column} of {goal.consumer} "
        f"{best.risk:,.6g} (target: {goal.text}); {feasible} of "
        f"{len(result.search.evaluations)} points met the target"
    )
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


@click.command()
@click.argument("scenario")
@knockout_options
@click.option("--start", type=click.IntRange(min=0), default=30, show_default=True,
              help="Day the knockout begins.")  # fmt: skip
@click.option("--duration", type=click.IntRange(min=1), default=30, show_default=True,
              help="Days the element stays out (its time to recover, TTR).")  # fmt: skip
@click.option("--replications", "-n", type=click.IntRange(min=1), default=200, show_default=True,
              help="Replications per element.")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@threads_option
@executor_options
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Elements listed on the terminal.")  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the ranking here."
)
@overwrite_option
@json_option
def criticality(
    scenario: str,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    consumers: tuple[str, ...],
    countries: tuple[str, ...],
    kinds: str,
    start: int,
    duration: int,
    replications: int,
    seed: int | None,
    threads: int,
    executor: ExecutorChoice,
    top: int,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Knock out each node, lane, chokepoint and supplier country upstream of the consumers in
    turn, and rank them by the shortfall their loss causes (common random numbers).

    Shows each element's time to survive (TTS: median days from the knockout to the first short
    day) against its time to recover (TTR: the knockout's duration); TTS < TTR marks an element
    the consumers cannot ride out.
    """
    from resilience.analysis.criticality import ELEMENT_KINDS
    from resilience.outputs.rundir import json_safe
    from resilience.runs.criticality import CriticalitySettings, run_criticality
    from resilience.runs.executors import open_executor

    chosen = tuple(part.strip() for part in kinds.split(",") if part.strip())
    unknown = [kind for kind in chosen if kind not in ELEMENT_KINDS]
    if unknown or not chosen:
        raise click.UsageError(
            f"--kinds {kinds}: expected some of {', '.join(ELEMENT_KINDS)}, comma-separated"
        )
    loaded = load_scenario(scenario, overrides, overlays)
    settings = CriticalitySettings(
        consumers=consumers,
        countries=countries,
        kinds=chosen,  # type: ignore[arg-type]
        start=start,
        duration=duration,
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
    )
    announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        result = run_criticality(loaded, settings, progress=progress.update, executor=runner)
    if as_json:
        ranked = [dataclasses.asdict(worst) for _, worst in result.ranking]
        click.echo(json.dumps(json_safe(ranked), indent=2, allow_nan=False))
        return
    console = terminal()
    who = (
        ", ".join(result.consumers)
        if len(result.consumers) <= 6
        else (f"{len(result.consumers)} consumers")
    )
    console.print(
        f"[bold]{result.scenario}[/bold]: {len(result.ranking)} elements upstream of {who}, "
        f"each out from day {start} for {duration} days; {result.replications:,} replications "
        f"each, seed {result.seed}, common random numbers, {result.wall_seconds:.2f} s"
    )
    table = Table(title="Most critical first (by the worst-hit consumer's loss)")
    for column in ("rank", "kind", "element", "worst hit", "Δ % of demand short",
                   "Δ shortfall", "Δ CVaR95", "P(short)", "TTS", "TTR", "TTS < TTR"):  # fmt: skip
        left = column in ("kind", "element", "worst hit")
        table.add_column(column, justify="left" if left else "right")
    harmful = [(e, worst) for e, worst in result.ranking if worst.delta_shortfall > 0]
    for rank, (_, worst) in enumerate(harmful[:top], start=1):
        survives = worst.tts != worst.tts  # NaN: never short
        table.add_row(
            str(rank), worst.kind, worst.element, worst.consumer,
            f"{worst.delta_share_short:.2%}", f"{worst.delta_shortfall:,.4g}",
            f"{worst.delta_cvar95:,.4g}", f"{worst.p_short:.0%}",
            "-" if survives else f"{worst.tts:.0f}", f"{worst.ttr:.0f}",
            "" if survives or worst.tts >= worst.ttr else "yes",
        )  # fmt: skip
    if harmful:
        console.print(table)
    rest = len(result.ranking) - len(harmful[:top])
    if rest:
        harmless = len(result.ranking) - len(harmful)
        console.print(
            f"{rest} more element{'s' if rest != 1 else ''} not listed ({harmless} whose loss "
            "caused no extra shortfall); --json or --out has them all"
        )
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


def _days(value: float) -> str:
    """Days on the terminal: one decimal, "never" for inf (never short), "-" for NaN."""
    if value != value:
        return "-"
    return "never" if value == float("inf") else f"{value:.1f}"


@click.command()
@click.argument("scenario")
@knockout_options
@click.option("--start", type=click.IntRange(min=0), default=0, show_default=True,
              help="Day the simulated knockout begins (0: the stocks the LP reads).")  # fmt: skip
@click.option("--duration", type=click.IntRange(min=1), default=30, show_default=True,
              help="Days the element stays fully out.")  # fmt: skip
@click.option("--ramp", type=click.IntRange(min=0), default=0, show_default=True,
              help="Days of linear recovery after --duration; TTR = duration + ramp.")  # fmt: skip
@click.option("--replications", "-n", type=click.IntRange(min=1), default=64, show_default=True,
              help="Simulated replications per element.")  # fmt: skip
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), help="Root random seed.")
@threads_option
@executor_options
@click.option("--lp-only", is_flag=True, help="Solve the linear programs only; no simulation.")
@click.option("--top", type=click.IntRange(min=1), default=20, show_default=True,
              help="Elements listed on the terminal.")  # fmt: skip
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the table here."
)
@overwrite_option
@json_option
def stress(
    scenario: str,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    consumers: tuple[str, ...],
    countries: tuple[str, ...],
    kinds: str,
    start: int,
    duration: int,
    ramp: int,
    replications: int,
    seed: int | None,
    threads: int,
    executor: ExecutorChoice,
    lp_only: bool,
    top: int,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Simchi-Levi's stress test: each element's time to survive (TTS, a linear program) against
    its time to recover (TTR = --duration + --ramp), beside the simulated TTS of the same
    knockout.

    Every node, lane, chokepoint and supplier country upstream of the consumers is knocked out
    in turn on the undisrupted network (the scenario's own disruptions and hazards left out).
    TTS < TTR marks an exposure: the consumers run out before the element is back.
    """
    from resilience.analysis.criticality import ELEMENT_KINDS
    from resilience.outputs.rundir import json_safe
    from resilience.runs.executors import open_executor
    from resilience.runs.stress import StressSettings, run_stress

    chosen = tuple(part.strip() for part in kinds.split(",") if part.strip())
    unknown = [kind for kind in chosen if kind not in ELEMENT_KINDS]
    if unknown or not chosen:
        raise click.UsageError(
            f"--kinds {kinds}: expected some of {', '.join(ELEMENT_KINDS)}, comma-separated"
        )
    loaded = load_scenario(scenario, overrides, overlays)
    settings = StressSettings(
        consumers=consumers,
        countries=countries,
        kinds=chosen,  # type: ignore[arg-type]
        start=start,
        duration=duration,
        ramp=ramp,
        simulate=not lp_only,
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
    )
    if not lp_only:
        announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        result = run_stress(loaded, settings, progress=progress.update, executor=runner)
    if as_json:
        rows = [dataclasses.asdict(row) for row in result.rows]
        click.echo(json.dumps(json_safe(rows), indent=2, allow_nan=False))
        return
    console = terminal()
    who = (
        ", ".join(result.consumers)
        if len(result.consumers) <= 6
        else f"{len(result.consumers)} consumers"
    )
    simulated = (
        f"; simulated from day {start}, {result.replications:,} replications each, seed "
        f"{result.seed}"
        if result.replications
        else " (LP only)"
    )
    worst = result.worst()
    console.print(
        f"[bold]{result.scenario}[/bold]: {len(worst)} elements upstream of {who}, each out "
        f"for TTR = {result.ttr:.0f} days{simulated}, {result.wall_seconds:.2f} s"
    )
    table = Table(
        title="Least time to survive first (each element's worst-off consumer)",
        caption="TTS in days from the knockout. alone: the consumer with first call on all that "
        "survives; network: every consumer served together (Simchi-Levi); sim: median "
        "simulated; never: demand met indefinitely. TTS < TTR: consumer = even alone, "
        "network = some consumer of the network",
    )
    for column in ("kind", "element", "worst off", "TTS alone (LP)", "network TTS (LP)",
                   "TTS (sim)", "P(short)", "TTR", "TTS < TTR"):  # fmt: skip
        left = column in ("kind", "element", "worst off")
        table.add_column(column, justify="left" if left else "right")
    for row in worst[:top]:
        table.add_row(
            row.kind, row.element, row.consumer, _days(row.tts_lp), _days(row.tts_lp_network),
            _days(row.tts_sim), "-" if row.p_short != row.p_short else f"{row.p_short:.0%}",
            f"{row.ttr:.0f}",
            "consumer" if row.exposed else "network" if row.network_exposed else "",
        )  # fmt: skip
    console.print(table)
    exposed = sum(row.exposed for row in worst)
    network_exposed = sum(row.network_exposed for row in worst)
    console.print(
        f"{len(worst)} element{'s' if len(worst) != 1 else ''}: {exposed} with a consumer "
        f"short before TTR even alone, {network_exposed} with the network short before TTR"
        + (f"; {len(worst) - top} more not listed" if len(worst) > top else "")
    )
    short_anyway = [name for name, tts in result.base_tts_lp.items() if tts != float("inf")]
    if short_anyway:
        console.print(
            "short even with nothing knocked out (the network cannot meet their demand): "
            + ", ".join(short_anyway)
        )
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


@click.command()
@click.argument("scenario")
@click.option(
    "--range",
    "ranges",
    multiple=True,
    metavar="PATH=LOW:HIGH",
    help="An input and the interval it is sampled in, uniformly (repeatable; at least one).",
)
@click.option(
    "--method",
    type=click.Choice(["sobol", "morris"]),
    default="sobol",
    show_default=True,
    help="sobol: first-order and total indices (S1, ST) with bootstrap intervals; morris: "
    "elementary-effects screening (mu*, sigma), cheaper per input (needs SALib).",
)
@click.option(
    "--samples",
    type=int,
    default=16,
    show_default=True,
    help="sobol: base samples, a power of two >= 8 (runs: N x (inputs + 2)); morris: "
    "trajectories >= 2 (runs: N x (inputs + 1)).",
)
@click.option(
    "--risk",
    default="expected_shortfall",
    show_default=True,
    help="The output: a risk measure of the consumer(s): expected_shortfall, cvar95, var95, "
    "share_short, p_short, fill_rate, days_short, ...",
)
@click.option(
    "--consumer",
    "consumers",
    multiple=True,
    help="Whose risk (repeatable; default: the consumer most short over the design).",
)
@click.option(
    "--overlay", "overlays", multiple=True, metavar="FILE", help="Merge a file over SCENARIO."
)
@set_option
@click.option("--replications", "-n", type=click.IntRange(min=1), help="Replications per point.")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1),
              help="Root random seed (also draws the design).")  # fmt: skip
@threads_option
@executor_options
@click.option(
    "--out", type=click.Path(file_okay=False, path_type=Path), help="Write the analysis here."
)
@overwrite_option
@json_option
def sensitivity(
    scenario: str,
    ranges: tuple[str, ...],
    method: str,
    samples: int,
    risk: str,
    consumers: tuple[str, ...],
    overlays: tuple[str, ...],
    overrides: tuple[str, ...],
    replications: int | None,
    seed: int | None,
    threads: int,
    executor: ExecutorChoice,
    out: Path | None,
    overwrite: bool,
    as_json: bool,
) -> None:
    """How much each --range input moves a consumer's risk in SCENARIO: Sobol indices or Morris
    screening, every design point on common random numbers.

    The table lists the inputs, the most influential first; --out writes the design points, the
    indices table, sensitivity.json and the tornado chart (plots/tornado.png, .svg).
    """
    from resilience.analysis.design import parse_range
    from resilience.outputs.rundir import json_safe
    from resilience.runs.executors import open_executor
    from resilience.runs.sensitivity import SensitivitySettings, run_sensitivity

    if not ranges:
        raise click.UsageError("give at least one input: --range PATH=LOW:HIGH")
    base = load_scenario(scenario, overrides, overlays)
    parsed = [parse_range(text) for text in ranges]
    parsed = [dataclasses.replace(r, integer=_is_integer(base.scenario, r.path)) for r in parsed]
    settings = SensitivitySettings(
        method="morris" if method == "morris" else "sobol",
        samples=samples,
        risk=risk,
        consumers=consumers,
        replications=replications,
        seed=seed,
        threads=threads,
        out=out,
        overwrite=overwrite,
        command_line=command_line(),
    )
    announce_compile()
    with open_executor(executor) as runner, LazyProgress() as progress:
        result = run_sensitivity(
            scenario, parsed, settings, overlays=overlays, overrides=overrides,
            progress=progress.update, executor=runner,
        )  # fmt: skip
    if as_json:
        document = {"method": method, "risk": risk, "consumers": list(result.consumers),
                    "design": result.design.describe(), "indices": result.table()}  # fmt: skip
        click.echo(json.dumps(json_safe(document), indent=2, allow_nan=False))
        return
    _print_sensitivity(terminal(), result)


def _print_sensitivity(console: Console, result: SensitivityResult) -> None:
    design = result.design
    console.print(
        f"[bold]{result.scenario}[/bold]: {design.method} design, {design.samples} "
        f"{'base samples' if design.method == 'sobol' else 'trajectories'} x "
        f"{len(design.ranges)} inputs = {design.matrix.shape[0]} points x "
        f"{result.replications:,} replications, seed {result.seed}, common random numbers, "
        f"{result.wall_seconds:.2f} s"
    )
    rows = result.table()
    for consumer in result.consumers:
        mine = [row for row in rows if row["output"] == consumer]
        title = f"Sensitivity of {result.risk} of {consumer}, most influential first"
        if design.method == "sobol":
            table = Table(
                title=title,
                caption="S1: share of the output's variance due to the "
                "input alone; ST: including its interactions (95% bootstrap intervals)",
            )
            for column in ("input", "S1", "ST"):
                table.add_column(column, justify="left" if column == "input" else "right")
            for row in mine:
                table.add_row(
                    row["input"],
                    _interval(row["first"], row["first_low"], row["first_high"], ".3f"),
                    _interval(row["total"], row["total_low"], row["total_high"], ".3f"),
                )
        else:
            table = Table(
                title=title,
                caption="mu*: mean absolute change of the output per full range of the "
                "input (95% bootstrap interval); mu: the same with signs; sigma: the effects' "
                "spread (non-linearity, interactions)",
            )
            for column in ("input", "mu*", "mu", "sigma"):
                table.add_column(column, justify="left" if column == "input" else "right")
            for row in mine:
                table.add_row(
                    row["input"],
                    _interval(row["mu_star"], row["mu_star_low"], row["mu_star_high"], ",.4g"),
                    f"{row['mu']:,.4g}",
                    f"{row['sigma']:,.4g}",
                )
        console.print(table)
        if mine and mine[0]["constant"]:
            console.print(
                f"{consumer}: {result.risk} is the same at every design point, so no input "
                "moves it (every index is 0)"
            )
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")
