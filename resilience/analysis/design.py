"""Designs of experiments over scenario levers: grids and space-filling samples (docs/analysis.md).

A lever is a scenario value named by its key path, as ``--set`` names it
(``nodes.jp_lng.inventory.target_days``). A design is a list of points; a point is the list of
``PATH=VALUE`` overrides that turns the base scenario into that variant, so the loader validates
every point exactly as it validates a ``--set`` (an unknown path or a value out of range is the
same clear error).

- `grid`: every combination of the listed values of each lever (Hydra's ``a=1,2,3`` style).
- `sample`: ``lhs`` (Latin hypercube) or ``sobol`` (scrambled Sobol) points in the box of the
  levers' ranges, from `scipy.stats.qmc`, seeded; integer levers are rounded.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from resilience.errors import ResilienceError

__all__ = ["DesignError", "Lever", "Point", "Range", "grid", "parse_lever", "parse_range", "sample"]

Point = tuple[str, ...]
"""One design point: its ``PATH=VALUE`` overrides, one per lever, in lever order."""


class DesignError(ResilienceError):
    """A lever or range that cannot make a design (malformed, empty, or out of order)."""


@dataclass(frozen=True)
class Lever:
    """A key path and the values (as TOML text) it takes in a grid."""

    path: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Range:
    """A key path and the interval ``[low, high]`` it is sampled in; ``integer`` rounds."""

    path: str
    low: float
    high: float
    integer: bool = False


def split_values(text: str) -> list[str]:
    """Split ``a,b,c`` at the commas that are not inside brackets, braces or quotes."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    parts.append("".join(current).strip())
    return parts


def parse_lever(text: str) -> Lever:
    """``PATH=a,b,c`` as a lever (a single value is a lever with one value)."""
    path, sep, values = text.partition("=")
    path = path.strip()
    items = split_values(values) if sep else []
    if not path or not sep or not all(items):
        raise DesignError(f"--set {text}: expected PATH=VALUE or PATH=V1,V2,..., e.g. "
                          "nodes.jp_lng.inventory.target_days=12,30,60")  # fmt: skip
    return Lever(path, tuple(items))


def parse_range(text: str, *, integer: bool = False, option: str = "--range") -> Range:
    """``PATH=LOW:HIGH`` as a range; refuses an empty or reversed range and non-numbers.

    ``option`` names the command-line option in messages (``--range``, ``--lever``).
    """
    path, sep, bounds = text.partition("=")
    low_text, colon, high_text = bounds.partition(":")
    try:
        low, high = float(low_text), float(high_text)
    except ValueError:
        low = high = math.nan
    if not path.strip() or not sep or not colon or not (math.isfinite(low) and math.isfinite(high)):
        raise DesignError(f"{option} {text}: expected PATH=LOW:HIGH with two numbers, e.g. "
                          "nodes.jp_lng.inventory.target_days=10:90")  # fmt: skip
    if not low < high:
        raise DesignError(f"{option} {text}: the range is empty; LOW must be below HIGH")
    return Range(path.strip(), low, high, integer)


def grid(levers: Sequence[Lever]) -> list[Point]:
    """Every combination of the levers' values, the first lever varying slowest."""
    if not levers:
        return [()]
    return [
        tuple(f"{lever.path}={value}" for lever, value in zip(levers, values, strict=True))
        for values in itertools.product(*(lever.values for lever in levers))
    ]


def sample(
    kind: Literal["lhs", "sobol"], ranges: Sequence[Range], samples: int, seed: int
) -> list[Point]:
    """``samples`` points of a space-filling design over ``ranges``, seeded.

    Sobol points keep their balance best when ``samples`` is a power of two; scipy warns
    otherwise, and so does this function (by refusing), so that a user asks for 64, not 50.
    """
    from scipy.stats import qmc  # imported where it is used: scipy is slow to import

    if samples < 1:
        raise DesignError("--samples must be at least 1")
    if not ranges:
        raise DesignError("a sampled design needs at least one --range PATH=LOW:HIGH")
    dimensions = len(ranges)
    if kind == "sobol":
        if samples & (samples - 1):
            raise DesignError(
                f"--samples {samples}: a Sobol design needs a power of two (e.g. "
                f"{1 << max(0, samples.bit_length() - 1)} or {1 << samples.bit_length()})"
            )
        engine: qmc.QMCEngine = qmc.Sobol(dimensions, scramble=True, rng=seed)
    else:
        engine = qmc.LatinHypercube(dimensions, rng=seed)
    unit = engine.random(samples)
    lows = np.array([r.low for r in ranges])
    highs = np.array([r.high for r in ranges])
    scaled = qmc.scale(unit, lows, highs)
    points = []
    for row in scaled:
        point = []
        for value, lever in zip(row, ranges, strict=True):
            text = f"{round(value)}" if lever.integer else f"{value:.6g}"
            point.append(f"{lever.path}={text}")
        points.append(tuple(point))
    return points
