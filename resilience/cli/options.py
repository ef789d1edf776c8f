"""Options and helpers that several commands share."""

from __future__ import annotations

import os
import sys

import click
from rich.console import Console

__all__ = ["EXIT_BAD_INPUT", "overlay_option", "overwrite_option", "set_option", "terminal"]

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


def terminal() -> Console:
    # A terminal sets the width; output sent to a file or a pipe gets room for the whole table
    # (rich would otherwise assume 80 columns) unless COLUMNS says otherwise.
    width = None if sys.stdout.isatty() or "COLUMNS" in os.environ else 160
    return Console(highlight=False, soft_wrap=False, width=width)
