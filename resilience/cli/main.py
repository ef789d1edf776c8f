"""The ``resilience`` command line.

Shape (after pyupgrade): ``main(argv) -> int`` runs one command and returns its exit code;
``python -m resilience`` and the console script both call it. Any `ResilienceError` becomes one
clear message on stderr and exit code 2; usage errors also exit 2; no traceback reaches a user
for bad input. The commands live in `scenario_commands` (files) and `run_commands` (runs).
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

import click

from resilience.cli.analysis_commands import (
    compare,
    criticality,
    frontier,
    optimise,
    sensitivity,
    stress,
    sweep,
)
from resilience.cli.options import EXIT_BAD_INPUT
from resilience.cli.run_commands import plot, report, rerun, resume, run, trace
from resilience.cli.scenario_commands import list_command, resolve, schema, show, validate
from resilience.errors import ResilienceError

__all__ = ["cli", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="resilience")
def cli() -> None:
    """Supply-chain resilience simulation: chips, critical minerals and LNG under disruption."""


for _command in (
    validate, show, resolve, run, resume, rerun, trace, report, plot, compare, sweep, frontier,
    optimise, criticality, sensitivity, stress, list_command, schema,
):  # fmt: skip
    cli.add_command(_command)


class _Terminated(BaseException):
    """SIGTERM arrived: unwound like Ctrl-C, so temporary files and locks are cleaned up."""


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI with ``argv`` (default: sys.argv[1:]); return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if in_main_thread else None
    try:
        cli.main(args=args, prog_name="resilience", standalone_mode=False, obj=tuple(args))
    except ResilienceError as error:
        click.echo(f"error: {error}", err=True)
        return EXIT_BAD_INPUT
    except (click.exceptions.Abort, KeyboardInterrupt):
        # Run outputs are written only after the last replication, and a run removes the old
        # run's manifest first, so nothing left behind looks like a complete result (only a
        # checkpoint, from which `resilience resume` finishes the run).
        click.echo("interrupted: no results written", err=True)
        return 130
    except _Terminated:
        click.echo("terminated: no results written", err=True)
        return 128 + signal.SIGTERM
    except click.ClickException as error:
        error.show()
        return EXIT_BAD_INPUT if error.exit_code == 2 else error.exit_code
    except click.exceptions.Exit as done:
        return int(done.exit_code)
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)
    return 0
