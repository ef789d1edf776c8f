"""Commands that run a scenario: run (Monte Carlo or SimPy) and trace (one replication).

The engines are imported inside the commands, so that the commands about files start without
loading numba, SimPy or pyarrow.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.table import Table

from resilience.cli.options import (
    all_option,
    command_line,
    executor_options,
    json_option,
    overlay_option,
    overwrite_option,
    set_option,
    terminal,
    threads_option,
)
from resilience.cli.progress import LazyProgress, announce_compile
from resilience.cli.summary_table import print_summary
from resilience.scenario.loader import LoadedScenario, load_scenario
from resilience.scenario.schema import Scenario

if TYPE_CHECKING:
    from resilience.runs.executors import ExecutorChoice
    from resilience.runs.runner import RunResult, RunSettings

__all__ = ["plot", "report", "rerun", "resume", "run", "trace"]


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
@threads_option
@executor_options
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    help="Replications per batch (default: sized for a few tenths of a second of work, and "
    "small enough to give every Dask worker several batches).",
)
@overwrite_option
@click.option(
    "--resume",
    is_flag=True,
    help="Finish the run interrupted in --out (Ctrl-C, kill, crash) from its checkpoint, with "
    "the same arguments; the result is the one an uninterrupted run gives.",
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
@all_option
@json_option
def run(
    file: str,
    replications: int | None,
    seed: int | None,
    overrides: tuple[str, ...],
    overlays: tuple[str, ...],
    out: Path | None,
    table_format: str,
    threads: int,
    executor: ExecutorChoice,
    batch_size: int | None,
    overwrite: bool,
    resume: bool,
    bands: bool,
    engine: str,
    show_all: bool,
    as_json: bool,
) -> None:
    """Run FILE through an engine (the Monte Carlo kernel by default) and print the summary."""
    from resilience.errors import OutputError
    from resilience.runs.runner import RunSettings

    if engine == "des" and executor.kind != "local":
        raise click.UsageError(
            f"--executor {executor.kind} runs the Monte Carlo kernel's batches; --engine des "
            "runs in this process"
        )
    if resume and out is None:
        raise OutputError("--resume needs --out: the directory of the interrupted run")
    if resume and overwrite:
        raise OutputError("--overwrite and --resume contradict each other; choose one")
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
        command_line=command_line(),
        keep_rows=False,  # rows stream to --out (or a temporary directory): bounded memory
        resume=resume,
    )
    _run_and_show(loaded, settings, executor, show_all=show_all, as_json=as_json)


def _run_and_show(
    loaded: LoadedScenario,
    settings: RunSettings,
    executor: ExecutorChoice | None,
    *,
    show_all: bool,
    as_json: bool,
) -> None:
    """Run (or resume) with progress on stderr, then show the summary; say how to resume when
    interrupted, and that a finished run is finished."""
    from resilience.runs.checkpointing import AlreadyCompleteError
    from resilience.runs.executors import ExecutorChoice, open_executor
    from resilience.runs.runner import UnwrittenResultError, run_scenario

    show = functools.partial(_show, loaded=loaded, show_all=show_all, as_json=as_json)
    if settings.engine == "kernel":
        announce_compile()
    try:
        # The cluster is reached (or started) before the output directory is claimed, so a
        # scheduler that does not answer leaves nothing behind.
        with open_executor(executor or ExecutorChoice()) as runner, LazyProgress() as progress:
            result = run_scenario(loaded, settings, executor=runner, progress=progress.update)
    except AlreadyCompleteError as done:
        click.echo(str(done), err=True)
        return
    except UnwrittenResultError as error:
        show(error.result)  # the numbers were computed: show them anyway
        raise
    except BaseException as error:
        # Ctrl-C or SIGTERM (which `main` raises as a BaseException), not an error of the run.
        if not isinstance(error, Exception) or isinstance(error, click.exceptions.Abort):
            _say_resumable(settings.out)
        raise
    show(result)


def _say_resumable(out: Path | None) -> None:
    """After an interruption, say how far the checkpoint got and how to finish the run."""
    from resilience.outputs.checkpoint import CHECKPOINT
    from resilience.outputs.directory import CHECKPOINT_DIR

    if out is None:
        return
    try:
        record = json.loads((out / CHECKPOINT_DIR / CHECKPOINT).read_text(encoding="utf-8"))
        done, total = int(record["done"]), int(record["identity"]["replications"])
    except (OSError, ValueError, KeyError, TypeError):
        return
    click.echo(
        f"checkpoint: {done:,} of {total:,} replications done; `resilience resume {out}` (or "
        "the same command with --resume) finishes the run",
        err=True,
    )


def _show(result: RunResult, *, loaded: LoadedScenario, show_all: bool, as_json: bool) -> None:
    """The summary on stdout: JSON for scripts, else the table, then the files written."""
    if as_json:
        from resilience.outputs.rundir import json_safe

        click.echo(json.dumps(json_safe(result.summary), indent=2, allow_nan=False))
        return
    console = terminal()
    print_summary(
        console,
        result.summary,
        wall_seconds=result.wall_seconds,
        overlays=loaded.overlays,
        overrides=loaded.overrides,
        show_all=show_all,
    )
    if result.files:
        console.print(f"wrote {', '.join(str(path) for path in result.files)}")


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Directory for the new run (compared with RUN_DIR afterwards).",
)
@overwrite_option
@all_option
@json_option
def rerun(run_dir: Path, out: Path, overwrite: bool, show_all: bool, as_json: bool) -> None:
    """Run RUN_DIR again from its manifest alone and check the numbers are the same.

    Exits 0 when summary.json and the replications table are identical, 1 when they differ
    (another version of the code, say).
    """
    from resilience.runs.rerun import rerun as run_again

    again = run_again(run_dir, out=out, overwrite=overwrite, command_line=command_line())
    _show(again.result, loaded=again.loaded, show_all=show_all, as_json=as_json)
    if again.differences:
        click.echo(
            f"differs from {run_dir}: {', '.join(again.differences)} (see both manifests' "
            "code and versions)",
            err=True,
        )
        raise click.exceptions.Exit(1)
    click.echo(f"reproduced {run_dir} bit for bit (summary.json and replications table)", err=True)


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    help="Threads running blocks of replications (default: all cores; results do not depend "
    "on it).",
)
@all_option
@json_option
def resume(run_dir: Path, threads: int | None, show_all: bool, as_json: bool) -> None:
    """Finish the run interrupted in RUN_DIR, with the arguments its checkpoint records.

    The result is bit for bit the one the run would have given uninterrupted. A run that has
    finished is left as it is (exit 0).
    """
    from resilience.runs.checkpointing import AlreadyCompleteError
    from resilience.runs.resume import resume_settings

    try:
        loaded, settings = resume_settings(run_dir, threads=threads, command_line=command_line())
    except AlreadyCompleteError as done:
        click.echo(str(done), err=True)
        return
    _run_and_show(loaded, settings, None, show_all=show_all, as_json=as_json)


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
    from resilience.runs.trace import trace_scenario

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


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def plot(run_dir: Path) -> None:
    """Draw the plots of a finished run, sweep, criticality ranking or sensitivity analysis into
    RUN_DIR/plots.

    A run gets its daily service bands (if run with --bands), the exceedance curve of shortfall
    and the TTS/TTR distributions of the consumers ever short; a sweep its cost-risk frontier;
    a ranking its most critical elements; a sensitivity analysis its tornado chart. Each plot is
    written as PNG and SVG.
    """
    from resilience.outputs.rundir import open_output
    from resilience.runs.views import plot_output

    files = plot_output(open_output(run_dir))
    if not files:
        terminal().print(f"{run_dir}: no consumer was ever short, so there is nothing to plot")
        return
    terminal().print(f"wrote {', '.join(str(path) for path in files)}")


@click.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
def report(run_dir: Path) -> None:
    """Write RUN_DIR/report.html: the question, the answer, the table, the plots, the provenance
    and the model's caveats, in one self-contained page."""
    from resilience.runs.report import write_report

    terminal().print(f"wrote {write_report(run_dir)}")
