"""A progress bar for long runs, on stderr, that stays out of the way of short ones."""

from __future__ import annotations

import time

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

__all__ = ["LazyProgress", "announce_compile"]


def announce_compile() -> None:
    """Say so on stderr when the Monte Carlo kernel must be compiled first (once per install,
    some 15-25 s), so that the first run does not sit silent."""
    from resilience.engines.kernel import kernel_is_compiled

    if kernel_is_compiled() is False:
        Console(stderr=True).print(
            "compiling the Monte Carlo kernel: once per install, about 20 s; later runs start "
            "at once",
            highlight=False,
        )


class LazyProgress:
    """A progress bar on stderr that appears only once a run has taken more than a second, and
    only when stderr is a terminal."""

    def __init__(self, delay: float = 1.0) -> None:
        self._delay = delay
        self._started = time.perf_counter()
        self._bar: Progress | None = None
        self._task: TaskID | None = None

    def __enter__(self) -> LazyProgress:
        return self

    def update(self, done: int, total: int) -> None:
        if self._bar is None:
            if time.perf_counter() - self._started < self._delay or done >= total:
                return
            console = Console(stderr=True)
            if not console.is_terminal:
                # A bar in a pipe or a log is noise, and stopping it leaves a blank line
                # before any error message that follows.
                self._delay = float("inf")
                return
            self._bar = Progress(
                TextColumn("replications"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeRemainingColumn(),
                console=console,
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("run", total=total)
        assert self._task is not None
        self._bar.update(self._task, completed=done)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()
