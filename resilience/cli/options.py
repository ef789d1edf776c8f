"""Options and helpers that several commands share."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from typing import Any

import click
from rich.console import Console

from resilience.runs.executors import CONNECT_TIMEOUT, ExecutorChoice

__all__ = [
    "EXIT_BAD_INPUT",
    "all_option",
    "command_line",
    "executor_options",
    "json_option",
    "overlay_option",
    "overwrite_option",
    "set_option",
    "terminal",
    "threads_option",
]

EXIT_BAD_INPUT = 2

set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a scenario value, e.g. --set scenario.replications=500 (repeatable).",
)


overlay_option = click.option(
    "--overlay",
    "overlays",
    multiple=True,
    metavar="FILE",
    help="Merge another scenario file over FILE, e.g. a policy variant (repeatable).",
)

overwrite_option = click.option(
    "--overwrite",
    is_flag=True,
    help="Replace an earlier output in --out (its files are removed first). Without it, a "
    "directory that already holds a result is refused.",
)

threads_option = click.option(
    "--threads",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 1,
    show_default="all cores",
    help="Threads running blocks of replications.",
)

_EXECUTOR_OPTIONS = (
    click.option(
        "--executor",
        type=click.Choice(["local", "dask"]),
        default="local",
        show_default=True,
        help="Where batches of replications run. local: this process, --threads threads; dask: "
        "a Dask cluster, started here with --workers or reached with --scheduler (needs "
        "pip install 'resilience[dask]'; docs/scale-out.md). The numbers are the same.",
    ),
    click.option(
        "--workers",
        type=click.IntRange(min=1),
        help="With --executor dask: start a local cluster of this many worker processes (one "
        "thread each) for this command, and close it afterwards. Default: one per core.",
    ),
    click.option(
        "--scheduler",
        metavar="ADDRESS",
        help="With --executor dask: the address of a running Dask scheduler "
        "(tcp://host:8786), e.g. one started by dask-jobqueue or dask-kubernetes, or the path "
        "of the file it wrote with --scheduler-file.",
    ),
    click.option(
        "--connect-timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=CONNECT_TIMEOUT,
        show_default=True,
        metavar="SECONDS",
        help="With --scheduler: how long to wait for the scheduler to answer.",
    ),
)


def executor_options(command: Callable[..., None]) -> Callable[..., None]:
    """Add --executor, --workers, --scheduler and --connect-timeout to a command, which receives
    them as one ``executor: ExecutorChoice`` argument (checked here: a usage error, exit 2)."""

    @functools.wraps(command)
    def wrapper(
        *args: Any,
        executor: str,
        workers: int | None,
        scheduler: str | None,
        connect_timeout: float,
        **kwargs: Any,
    ) -> None:
        choice = _executor_choice(executor, workers, scheduler, connect_timeout)
        command(*args, executor=choice, **kwargs)

    for option in reversed(_EXECUTOR_OPTIONS):
        wrapper = option(wrapper)
    return wrapper


def _executor_choice(
    kind: str, workers: int | None, scheduler: str | None, connect_timeout: float
) -> ExecutorChoice:
    if kind == "local":
        for name, value in (("--workers", workers), ("--scheduler", scheduler)):
            if value is not None:
                raise click.UsageError(f"{name} goes with --executor dask")
        return ExecutorChoice()
    if scheduler is not None and workers is not None:
        raise click.UsageError(
            "--scheduler and --workers: give one (--workers starts a local cluster, --scheduler "
            "connects to a running one)"
        )
    if scheduler is not None and not scheduler.strip():
        raise click.UsageError("--scheduler: empty address; expected e.g. tcp://host:8786")
    if scheduler is None and workers is None:
        workers = os.cpu_count() or 1
    return ExecutorChoice("dask", workers, scheduler, connect_timeout)


all_option = click.option(
    "--all", "show_all", is_flag=True, help="List every consumer, not only those ever short."
)

json_option = click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print the summary (summary.json's content) as JSON on stdout instead of the table.",
)


def command_line() -> tuple[str, ...]:
    """The command as the user typed it (`main` puts the arguments in the click context)."""
    context = click.get_current_context(silent=True)
    argv = context.find_root().obj if context is not None else None
    return ("resilience", *argv) if isinstance(argv, list | tuple) else ("resilience",)


def terminal() -> Console:
    # A terminal sets the width; output sent to a file or a pipe gets room for the whole table
    # (rich would otherwise assume 80 columns) unless COLUMNS says otherwise.
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
    return Console(highlight=False, soft_wrap=False, width=width)
