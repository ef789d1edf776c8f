"""The project's exception types and the `Problem` record that scenario errors are made of.

Every error the package raises on purpose derives from `ResilienceError`; the CLI turns it into one
clear message and exit code 2. A `ScenarioError` carries every problem found in a file, so that a
user sees them all in one pass rather than fixing them one run at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OutputError",
    "Problem",
    "ResilienceError",
    "ScenarioError",
    "format_key_path",
    "show_value",
]


class ResilienceError(Exception):
    """Root of every error this package raises deliberately."""


class OutputError(ResilienceError):
    """An output directory may not be used (not ours, held by another run) or cannot be written."""


def show_value(value: object, limit: int = 60) -> str:
    """A value as a message shows it: its repr, shortened; safe for any value a file can hold.

    An integer of more than 4,300 digits has no repr (Python's int-to-str limit), and a long
    string or table would drown the message, so both are summarised.
    """
    try:
        text = repr(value)
    except ValueError:
        return f"an integer of about {value.bit_length() * 0.30103:.0f} digits"  # type: ignore[attr-defined]
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_key_path(path: tuple[str | int, ...]) -> str:
    """Render a key path as TOML would spell it: ``nodes.tw_fab.inputs[0].commodity``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario.

    Attributes:
        source: the file (or ``--set KEY`` override) the problem comes from.
        key_path: where in the scenario it is, e.g. ``("lanes", "qa_jp", "lead_time_days")``.
        message: what was found and what was expected.
        line: 1-based line in ``source`` where the key was found, when known.
    """

    source: str
    key_path: tuple[str | int, ...]
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.source if self.line is None else f"{self.source}:{self.line}"
        if not self.key_path:
            return f"{where}: {self.message}"
        return f"{where}: {format_key_path(self.key_path)}: {self.message}"


class ScenarioError(ResilienceError):
    """A scenario file (or its composition) is invalid; holds every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        if not problems:
            raise ValueError("ScenarioError needs at least one problem")
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        """All problems, one per line, followed by a count."""
        lines = [str(problem) for problem in self.problems]
        count = len(self.problems)
        lines.append(f"{count} problem{'s' if count != 1 else ''} found")
        return "\n".join(lines)
