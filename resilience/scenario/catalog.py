"""Where the shipped scenarios are, in a checkout and in an installed wheel.

The fixed layout keeps scenario files in ``scenarios/`` at the top of the repository. A wheel
carries the same files inside the package as ``resilience/_scenarios`` (pyproject.toml,
``force-include``). An editable install imports the package from the checkout, where the
top-level folder is one level up. Both places are looked up; the first that exists wins.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ShippedScenario", "find_scenario", "list_scenarios", "scenarios_dir"]

_PACKAGE = Path(__file__).resolve().parent.parent  # the `resilience` package directory


def scenarios_dir() -> Path | None:
    """The folder of shipped scenario files, or None if neither location exists."""
    for candidate in (_PACKAGE / "_scenarios", _PACKAGE.parent / "scenarios"):
        if candidate.is_dir():
            return candidate
    return None


@dataclass(frozen=True)
class ShippedScenario:
    """A shipped scenario file: its name (the path below the folder, without .toml) and title."""

    name: str
    path: Path
    title: str
    description: str


def list_scenarios() -> list[ShippedScenario]:
    """Every shipped scenario, sorted by name. Files that do not parse are listed untitled."""
    folder = scenarios_dir()
    if folder is None:
        return []
    found = []
    for path in sorted(folder.rglob("*.toml")):
        name = path.relative_to(folder).with_suffix("").as_posix()
        title, description = name, ""
        try:
            meta = tomllib.loads(path.read_text("utf-8")).get("scenario", {})
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            meta = {}
        if isinstance(meta, dict):
            title = str(meta.get("name", name))
            description = str(meta.get("description", ""))
        found.append(ShippedScenario(name, path, title, description))
    return found


def find_scenario(name: str) -> Path | None:
    """The path of the shipped scenario called ``name`` (with or without .toml), or None."""
    folder = scenarios_dir()
    if folder is None or not name or name.startswith(("/", ".")):
        return None
    stem = name.removesuffix(".toml")
    candidate = folder / f"{stem}.toml"
    try:
        return candidate if candidate.is_file() else None
    except OSError:  # a name too long for the file system is no shipped scenario
        return None
