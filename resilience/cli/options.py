"""Options and helpers that several commands share."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

__all__ = [
    "EXIT_BAD_INPUT",
    "all_option",
    "command_line",
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
