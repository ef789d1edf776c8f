"""The cheapest combination of levers that meets a risk target (docs/analysis.md, Optimise).

The search has two phases, both scipy (docs/decisions.md), minimising the annual cost with the
risk measure as a nonlinear constraint ``risk <= bound``:

1. global: differential evolution (`scipy.optimize.differential_evolution`) over the box of the
   levers' ranges, with three fifths of the budget; it compares candidates by Lampinen's
   feasibility rules (a feasible point beats an infeasible one; two infeasible points are
   compared by how far they break the bound), so no penalty weight has to be tuned;
2. local: COBYQA (`scipy.optimize.minimize(method="COBYQA")`, derivative-free, with bounds and
   constraints) from the best point found, with the rest, which walks it onto the boundary of
   the target, where the cheapest point of a monotone trade-off lies.
 Every point is
evaluated on the same seed and replications (common random numbers), so the risk is a fixed,
reproducible function of the levers and the search does not chase noise.

Evaluation is the caller's: `optimise` hands a batch of design points (a generation, or one
point of the local phase, as ``PATH=VALUE`` overrides) to ``evaluate`` and gets each point's
(annual cost, risk) back. Points are written as the design layer writes them (integers rounded,
floats to 6 significant digits), and a point already evaluated is never run again, so
``budget`` counts distinct runs.

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
    batch: int  # a generation of the global phase, or one point of the local phase
    phase: str  # "global" (differential evolution) or "local" (COBYQA from the best point)
    point: Point
    cost: float
    risk: float
    feasible: bool


@dataclass(frozen=True)
class Search:
    """Every evaluation, the cheapest feasible one (None if none), the least risky one, and how
    many batches the evaluations came in (a generation of the global phase, or one point of the
    local phase)."""

    evaluations: list[Evaluation]
    best: Evaluation | None
    safest: Evaluation
    batches: int


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
        budget: the most distinct points to evaluate (at least 5): three fifths for the global
            phase (it stops at the generation that would pass them), the rest for the local
            phase (when there are at least 2 x levers + 2 left).
        seed: seeds the search's own random numbers (the initial Latin hypercube, mutation).

    Raises:
        DesignError: no range, or a budget below 5.
    """
    from scipy.optimize import Bounds, NonlinearConstraint, differential_evolution, minimize

    if not ranges:
        raise DesignError("optimise needs at least one --lever PATH=LOW:HIGH")
    if budget < 5:
        raise DesignError(f"--budget {budget}: the search needs at least 5 evaluations")
    dimensions = len(ranges)
    global_budget = max(5, budget * 3 // 5)  # the rest polishes the best point
    multiplier = max(1, min(10, global_budget // (10 * dimensions)))
    population = max(5, multiplier * dimensions)  # scipy's own floor
    generations = max(1, global_budget // population)
    memo: dict[Point, tuple[float, float]] = {}
    history: list[Evaluation] = []
    batch = 0

    def points_of(x: npt.NDArray[np.float64]) -> list[Point]:
        columns = x.reshape(dimensions, -1)
        return [_point(ranges, columns[:, j]) for j in range(columns.shape[1])]

    phase = "global"

    def ensure(points: list[Point]) -> None:
        nonlocal batch
        missing = list(dict.fromkeys(p for p in points if p not in memo))
        if not missing:
            return
        for point, (cost, risk) in zip(missing, evaluate(missing), strict=True):
            memo[point] = (cost, risk)
            history.append(Evaluation(len(history), batch, phase, point, cost, risk, risk <= bound))
        batch += 1

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
    # Local phase: COBYQA (derivative-free, bounds and constraints) from the best point so far,
    # on the levers scaled to [0, 1] and the cost and risk scaled to the spread seen, so that
    # its trust region and penalty see numbers near 1 whatever the currency or unit.
    remaining = budget - len(history)
    if remaining >= 2 * dimensions + 2:
        phase = "local"
        start = _best(history) or min(history, key=lambda e: (e.risk, e.cost, e.index))
        low = np.array([r.low for r in ranges])
        width = np.array([r.high - r.low for r in ranges])
        u0 = (np.array([float(o.partition("=")[2]) for o in start.point]) - low) / width
        costs = np.array([e.cost for e in history])
        risks = np.array([e.risk for e in history])
        cost_scale = max(float(np.ptp(costs)), abs(start.cost) * 1e-9, 1e-12)
        risk_scale = max(float(np.ptp(risks)), abs(bound), 1e-12)

        def local_point(u: npt.NDArray[np.float64]) -> Point:
            point = _point(ranges, low + np.clip(u, 0.0, 1.0) * width)
            ensure([point])
            return point

        def local_cost(u: npt.NDArray[np.float64]) -> float:
            return (memo[local_point(u)][0] - start.cost) / cost_scale

        def local_slack(u: npt.NDArray[np.float64]) -> float:
            return (bound - memo[local_point(u)][1]) / risk_scale

        minimize(
            local_cost,
            np.clip(u0, 0.0, 1.0),
            method="COBYQA",
            bounds=Bounds(np.zeros(dimensions), np.ones(dimensions)),
            constraints=NonlinearConstraint(local_slack, 0.0, np.inf),
            options={"maxfev": remaining, "initial_tr_radius": 0.1, "final_tr_radius": 1e-4},
        )
    best = _best(history)
    safest = min(history, key=lambda e: (e.risk, e.cost, e.index))
    return Search(history, best, safest, batch)


def _best(history: Sequence[Evaluation]) -> Evaluation | None:
    """The cheapest evaluation that met the target (ties: the lower risk, then the earlier)."""
    feasible = [e for e in history if e.feasible]
    return min(feasible, key=lambda e: (e.cost, e.risk, e.index)) if feasible else None


def _point(ranges: Sequence[Range], values: npt.NDArray[np.float64]) -> Point:
    """The overrides of one candidate, written as the design layer writes sampled points."""
    parts = []
    for lever, value in zip(ranges, values, strict=True):
        clipped = min(max(float(value), lever.low), lever.high)
        text = f"{round(clipped)}" if lever.integer else f"{clipped:.6g}"
        parts.append(f"{lever.path}={text}")
    return tuple(parts)
