"""The cheapest combination of levers that meets a risk target (docs/analysis.md, Optimise).

The search is scipy's differential evolution (`scipy.optimize.differential_evolution`,
docs/decisions.md) over the box of the levers' ranges, minimising the annual cost with the risk
measure as a nonlinear constraint ``risk <= bound``: scipy compares candidates by Lampinen's
feasibility rules (a feasible point beats an infeasible one; two infeasible points are compared
by how far they break the bound), so no penalty weight has to be tuned. Every point is
evaluated on the same seed and replications (common random numbers), so the risk is a fixed,
reproducible function of the levers and the search does not chase noise.

Evaluation is the caller's: `optimise` hands a batch of design points (one generation, as
``PATH=VALUE`` overrides) to ``evaluate`` and gets each point's (annual cost, risk) back. Points
are written as the design layer writes them (integers rounded, floats to 6 significant digits),
and a point already evaluated is never run again, so ``budget`` counts distinct runs.

The answer is the cheapest feasible point of the whole history (not only the final
population), ties broken by the lower risk.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.analysis.design import DesignError, Point, Range
from resilience.errors import ResilienceError

__all__ = [
    "TARGET_MEASURES",
    "Evaluation",
    "OptimiseError",
    "Search",
    "Target",
    "UnreachableTargetError",
    "optimise",
    "parse_target",
]

TARGET_MEASURES: dict[str, str] = {
    "cvar95": "cvar95",
    "var95": "var95",
    "mean": "expected_shortfall",
    "share": "share_short",
}
"""``MEASURE(shortfall, CONSUMER)`` -> the column of a sweep row (`resilience.analysis.sweep`):
CVaR95 and VaR95 of shortfall and expected shortfall (units of the commodity), and expected
shortfall as a share of demand. ``p_short(CONSUMER)`` (the chance of any short day) and
``days_short(CONSUMER)`` (mean days short) take no metric."""

_BARE_MEASURES = {"p_short": "p_short", "days_short": "days_short"}

_TARGET = re.compile(
    r"^\s*(?P<measure>[a-z_0-9]+)\s*\(\s*(?:(?P<metric>[a-z_]+)\s*,\s*)?"
    r"(?P<consumer>[A-Za-z][A-Za-z0-9_\-]*)\s*\)\s*<=\s*(?P<bound>\S+)\s*$"
)


class OptimiseError(ResilienceError):
    """A target or search that cannot be run (malformed target, unknown consumer)."""


class UnreachableTargetError(OptimiseError):
    """No evaluated design met the target; the message says the best risk reached."""


@dataclass(frozen=True)
class Target:
    """``measure(shortfall, consumer) <= bound``: the risk a design must not exceed.

    Attributes:
        column: the sweep row column the measure is read from.
        consumer: the consumer node id.
        bound: the largest acceptable value, in the measure's unit.
        text: the target as the user wrote it.
    """

    column: str
    consumer: str
    bound: float
    text: str

    def risk(self, rows: Sequence[dict[str, Any]]) -> float:
        """The measure in one design point's rows (one row per consumer).

        Raises:
            OptimiseError: the consumer is not in the rows.
        """
        for row in rows:
            if row["consumer"] == self.consumer:
                return float(row[self.column])
        known = ", ".join(sorted(str(row["consumer"]) for row in rows))
        raise OptimiseError(f"--target {self.text}: no consumer {self.consumer!r}; one of {known}")


def parse_target(text: str) -> Target:
    """``cvar95(shortfall, jp_lng) <= 500`` (or ``p_short(jp_lng) <= 0.1``) as a `Target`.

    Raises:
        OptimiseError: the text is not of that form, names an unknown measure, or its bound is
            not a finite number.
    """
    usage = (
        f"--target {text!r}: expected MEASURE(shortfall, CONSUMER) <= NUMBER with MEASURE one "
        f"of {', '.join(TARGET_MEASURES)}, or p_short(CONSUMER) <= P or "
        "days_short(CONSUMER) <= DAYS, e.g. 'cvar95(shortfall, jp_lng) <= 500'"
    )
    match = _TARGET.match(text)
    if match is None:
        raise OptimiseError(usage)
    measure, metric = match["measure"], match["metric"]
    if metric is None and measure in _BARE_MEASURES:
        column = _BARE_MEASURES[measure]
    elif metric == "shortfall" and measure in TARGET_MEASURES:
        column = TARGET_MEASURES[measure]
    else:
        raise OptimiseError(usage)
    try:
        bound = float(match["bound"].replace("_", ""))
    except ValueError:
        bound = math.nan
    if not math.isfinite(bound):
        raise OptimiseError(f"--target {text!r}: the bound {match['bound']!r} is not a number")
    return Target(column, match["consumer"], bound, text.strip())


@dataclass(frozen=True)
class Evaluation:
    """One evaluated design point: its overrides, annual cost and risk, in evaluation order."""

    index: int
    generation: int
    point: Point
    cost: float
    risk: float
    feasible: bool


@dataclass(frozen=True)
class Search:
    """Every evaluation, the cheapest feasible one (None if none) and the least risky one."""

    evaluations: list[Evaluation]
    best: Evaluation | None
    safest: Evaluation
    generations: int


Evaluate = Callable[[list[Point]], list[tuple[float, float]]]
"""Points -> (annual cost in currency/year, risk in the target's unit) for each, in order."""


def optimise(
    ranges: Sequence[Range],
    evaluate: Evaluate,
    bound: float,
    *,
    budget: int,
    seed: int,
) -> Search:
    """Search the box of ``ranges`` for the cheapest point whose risk is at most ``bound``.

    Args:
        ranges: the levers (integer ones are searched on whole numbers).
        evaluate: runs a batch of points (see `Evaluate`).
        bound: the target's bound.
        budget: the most distinct points to evaluate (at least 5); the search stops at the
            generation that would pass it.
        seed: seeds the search's own random numbers (the initial Latin hypercube, mutation).

    Raises:
        DesignError: no range, or a budget below 5.
    """
    from scipy.optimize import NonlinearConstraint, differential_evolution

    if not ranges:
        raise DesignError("optimise needs at least one --lever PATH=LOW:HIGH")
    if budget < 5:
        raise DesignError(f"--budget {budget}: the search needs at least 5 evaluations")
    dimensions = len(ranges)
    multiplier = max(1, min(10, budget // (10 * dimensions)))
    population = max(5, multiplier * dimensions)  # scipy's own floor
    generations = max(1, budget // population)
    memo: dict[Point, tuple[float, float]] = {}
    history: list[Evaluation] = []
    generation = 0

    def points_of(x: npt.NDArray[np.float64]) -> list[Point]:
        columns = x.reshape(dimensions, -1)
        return [_point(ranges, columns[:, j]) for j in range(columns.shape[1])]

    def ensure(points: list[Point]) -> None:
        nonlocal generation
        missing = list(dict.fromkeys(p for p in points if p not in memo))
        if not missing:
            return
        for point, (cost, risk) in zip(missing, evaluate(missing), strict=True):
            memo[point] = (cost, risk)
            history.append(Evaluation(len(history), generation, point, cost, risk, risk <= bound))
        generation += 1

    def cost_of(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        points = points_of(x)
        ensure(points)
        return np.array([memo[p][0] for p in points])

    def risk_of(x: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        points = points_of(x)
        ensure(points)
        return np.array([[memo[p][1] for p in points]])  # (1 constraint, S points)

    differential_evolution(
        cost_of,
        bounds=[(r.low, r.high) for r in ranges],
        constraints=NonlinearConstraint(risk_of, -np.inf, bound),
        integrality=[r.integer for r in ranges],
        popsize=multiplier,
        maxiter=generations - 1,
        init="latinhypercube",
        tol=0.0,
        atol=0.0,
        polish=False,
        updating="deferred",
        vectorized=True,
        rng=seed,
    )
    feasible = [e for e in history if e.feasible]
    best = min(feasible, key=lambda e: (e.cost, e.risk, e.index)) if feasible else None
    safest = min(history, key=lambda e: (e.risk, e.cost, e.index))
    return Search(history, best, safest, generation)


def _point(ranges: Sequence[Range], values: npt.NDArray[np.float64]) -> Point:
    """The overrides of one candidate, written as the design layer writes sampled points."""
    parts = []
    for lever, value in zip(ranges, values, strict=True):
        clipped = min(max(float(value), lever.low), lever.high)
        text = f"{round(clipped)}" if lever.integer else f"{clipped:.6g}"
        parts.append(f"{lever.path}={text}")
    return tuple(parts)
