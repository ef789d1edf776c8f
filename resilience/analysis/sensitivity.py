"""Global sensitivity of an output to chosen inputs: Morris screening and Sobol indices.

The layer is pure: it makes a design (a matrix of input values) and turns the outputs measured
at the design's points into indices. What the outputs are is the caller's business: a plain
Python function in a test (the Ishigami function), or the risk measure of a scenario's consumer
evaluated by the sweep driver on common random numbers (`resilience.runs.sensitivity`).

- **Sobol** (`sobol_design`, `sobol_indices`): Saltelli's design of ``n`` base samples, the
  matrices A and B from one scrambled Sobol sequence of ``2 d`` dimensions and the ``d`` mixed
  matrices AB_i (A with column i taken from B), ``n (d + 2)`` points in all; first-order (S1)
  and total (ST) indices by `scipy.stats.sobol_indices` (Saltelli 2010 and Jansen estimators),
  with percentile bootstrap intervals over the ``n`` base samples (`scipy.stats.bootstrap`,
  seeded).
- **Morris** (`morris_design`, `morris_indices`): ``r`` one-at-a-time trajectories on a grid of
  ``levels`` levels, ``r (d + 1)`` points; the mean of the absolute elementary effects (mu*), their
  mean (mu) and standard deviation (sigma), with a bootstrap interval on mu*, by SALib (the
  ``sensitivity`` extra; docs/decisions.md says why). An elementary effect is the change of the
  output over one step of the grid (``levels / (2 (levels - 1))`` of the input's range, 2/3 for
  4 levels) divided by that step: the change per full width of the range, in the output's unit,
  so that inputs with different units compare.

Shapes: a design's ``matrix`` is (points, d), in the inputs' own units; ``outputs`` is
(s, points), one row per output (per consumer, for a scenario).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from resilience.analysis.design import DesignError, Point, Range
from resilience.errors import ResilienceError

__all__ = [
    "METHODS",
    "MIN_MORRIS_TRAJECTORIES",
    "MIN_SOBOL_SAMPLES",
    "Indices",
    "Method",
    "SensitivityDesign",
    "SensitivityError",
    "analyse",
    "design_points",
    "make_design",
    "morris_design",
    "morris_indices",
    "sensitivity",
    "sobol_design",
    "sobol_indices",
]

FloatArray = npt.NDArray[np.float64]
Method = Literal["morris", "sobol"]
METHODS: tuple[Method, ...] = ("morris", "sobol")

MIN_SOBOL_SAMPLES = 8
"""Fewest base samples of a Sobol design: the indices are ratios of variances estimated from
``n`` pairs, and with fewer than 8 the bootstrap has almost nothing to resample."""

MIN_MORRIS_TRAJECTORIES = 2
"""Fewest Morris trajectories: sigma, the spread of an input's elementary effects, needs two."""

MORRIS_LEVELS = 4
"""Levels of the Morris grid (the usual choice, Saltelli et al. 2008, section 3.3)."""


class SensitivityError(ResilienceError):
    """A sensitivity analysis that cannot be made (too few samples, missing library, ...)."""


@dataclass(frozen=True)
class SensitivityDesign:
    """The points at which the output is measured.

    Attributes:
        method: ``sobol`` or ``morris``.
        ranges: the inputs, each sampled uniformly in ``[low, high]`` (rounded if integer).
        matrix: (points, d) input values, in the inputs' units. Sobol: rows ``[A; B; AB_1; ...;
            AB_d]``, ``samples`` rows each. Morris: ``samples`` trajectories of ``d + 1`` rows.
        samples: Sobol: base samples ``n`` (a power of two); Morris: trajectories ``r``.
        levels: Morris grid levels (0 for Sobol).
        seed: what the design was drawn with.
    """

    method: Method
    ranges: tuple[Range, ...]
    matrix: FloatArray
    samples: int
    levels: int
    seed: int

    @property
    def names(self) -> list[str]:
        """The inputs' key paths, in column order."""
        return [r.path for r in self.ranges]

    def describe(self) -> dict[str, Any]:
        """The design as plain data, for a run directory's files."""
        return {
            "method": self.method,
            "samples": self.samples,
            "levels": self.levels,
            "seed": self.seed,
            "points": int(self.matrix.shape[0]),
            "ranges": [
                {"path": r.path, "low": r.low, "high": r.high, "integer": r.integer}
                for r in self.ranges
            ],
        }


@dataclass(frozen=True)
class Indices:
    """Sensitivity indices of ``s`` outputs to ``d`` inputs; every array is (s, d).

    Sobol: ``first``/``total`` (S1, ST) and their 95% bootstrap intervals ``*_low``/``*_high``.
    Morris: ``mu_star``, ``mu``, ``sigma`` (output units) and ``mu_star_low``/``mu_star_high``
    (mu* -+ SALib's 95% bootstrap half-width). ``constant`` (s,) marks outputs that did not vary
    over the design: no input moves them, so their indices are 0.
    """

    method: Method
    names: tuple[str, ...]
    values: dict[str, FloatArray]
    constant: npt.NDArray[np.bool_]

    @property
    def importance(self) -> FloatArray:
        """(s, d) the index inputs are ranked by: ST for Sobol, mu* for Morris."""
        return self.values["total" if self.method == "sobol" else "mu_star"]

    def rows(self, outputs: Sequence[str]) -> list[dict[str, Any]]:
        """One tidy row per output and input, the most important input first."""
        rows = []
        for k, output in enumerate(outputs):
            for j in np.argsort(-self.importance[k], kind="stable"):
                row: dict[str, Any] = {"output": output, "input": self.names[j]}
                row.update({key: float(array[k, j]) for key, array in self.values.items()})
                row["constant"] = bool(self.constant[k])
                rows.append(row)
        return rows


def _unit_to_ranges(unit: FloatArray, ranges: Sequence[Range]) -> FloatArray:
    """Scale (points, d) values in [0, 1] to the ranges, rounding integer inputs."""
    lows = np.array([r.low for r in ranges])
    highs = np.array([r.high for r in ranges])
    matrix = lows + unit * (highs - lows)
    for j, r in enumerate(ranges):
        if r.integer:
            matrix[:, j] = np.round(matrix[:, j])
    return np.asarray(matrix, dtype=np.float64)


def _check_ranges(ranges: Sequence[Range]) -> None:
    if not ranges:
        raise DesignError("a sensitivity analysis needs at least one --range PATH=LOW:HIGH")
    seen: set[str] = set()
    for r in ranges:
        if r.path in seen:
            raise DesignError(f"--range {r.path}: given twice; give each input once")
        seen.add(r.path)


def sobol_design(ranges: Sequence[Range], samples: int, seed: int) -> SensitivityDesign:
    """Saltelli's design for Sobol indices: ``samples (d + 2)`` points.

    A and B are the two halves of one scrambled Sobol sequence of ``2 d`` dimensions (as
    `scipy.stats.sobol_indices` draws them), so they are independent and each balanced.

    Raises:
        DesignError: no ranges, a repeated input, or ``samples`` not a power of two >= 8.
    """
    from scipy.stats import qmc  # imported where it is used: scipy is slow to import

    _check_ranges(ranges)
    if samples < MIN_SOBOL_SAMPLES:
        raise DesignError(
            f"--samples {samples}: too few for Sobol indices; give at least "
            f"{MIN_SOBOL_SAMPLES} base samples (each costs {len(ranges) + 2} runs)"
        )
    if samples & (samples - 1):
        raise DesignError(
            f"--samples {samples}: Sobol indices need a power of two of base samples (e.g. "
            f"{1 << (samples.bit_length() - 1)} or {1 << samples.bit_length()})"
        )
    d = len(ranges)
    unit = qmc.Sobol(2 * d, scramble=True, rng=seed).random(samples)
    a, b = unit[:, :d], unit[:, d:]
    mixed = []
    for i in range(d):
        ab = a.copy()
        ab[:, i] = b[:, i]
        mixed.append(ab)
    matrix = _unit_to_ranges(np.vstack([a, b, *mixed]), ranges)
    return SensitivityDesign("sobol", tuple(ranges), matrix, samples, 0, seed)


def _salib_morris() -> tuple[Any, Any]:
    try:
        from SALib.analyze import morris as analyze
        from SALib.sample import morris as sample
    except ImportError:
        raise SensitivityError(
            "--method morris needs SALib: pip install 'resilience[sensitivity]' (or use "
            "--method sobol, which needs only scipy)"
        ) from None
    return sample, analyze


def _problem(ranges: Sequence[Range]) -> dict[str, Any]:
    """SALib's description of the inputs (on the unit cube: the design is scaled here)."""
    return {
        "num_vars": len(ranges),
        "names": [r.path for r in ranges],
        "bounds": [[0.0, 1.0]] * len(ranges),
    }


def morris_design(
    ranges: Sequence[Range], trajectories: int, seed: int, levels: int = MORRIS_LEVELS
) -> SensitivityDesign:
    """Morris's one-at-a-time trajectories: ``trajectories (d + 1)`` points (SALib).

    An integer input must span at least ``levels - 1`` whole numbers, so that rounding keeps
    every grid level distinct and each step of a trajectory really moves its input.

    Raises:
        DesignError: no ranges, a repeated input, fewer than 2 trajectories, or an integer input
            too narrow for the grid.
        SensitivityError: SALib is not installed.
    """
    _check_ranges(ranges)
    if trajectories < MIN_MORRIS_TRAJECTORIES:
        raise DesignError(
            f"--samples {trajectories}: too few Morris trajectories; give at least "
            f"{MIN_MORRIS_TRAJECTORIES} (sigma needs two elementary effects per input; each "
            f"trajectory costs {len(ranges) + 1} runs)"
        )
    for r in ranges:
        if r.integer and r.high - r.low < levels - 1:
            raise DesignError(
                f"--range {r.path}={r.low:g}:{r.high:g}: a whole-number input needs a range of "
                f"at least {levels - 1} for a Morris grid of {levels} levels"
            )
    sample, _ = _salib_morris()
    unit = sample.sample(_problem(ranges), trajectories, num_levels=levels, seed=seed)
    matrix = _unit_to_ranges(np.asarray(unit, dtype=np.float64), ranges)
    return SensitivityDesign("morris", tuple(ranges), matrix, trajectories, levels, seed)


def make_design(
    method: Method, ranges: Sequence[Range], samples: int, seed: int
) -> SensitivityDesign:
    """`sobol_design` or `morris_design` by name."""
    if method == "sobol":
        return sobol_design(ranges, samples, seed)
    if method == "morris":
        return morris_design(ranges, samples, seed)
    raise DesignError(f"--method {method}: expected one of {', '.join(METHODS)}")


def design_points(design: SensitivityDesign) -> list[Point]:
    """The design's rows as ``PATH=VALUE`` overrides (full precision; integers as integers)."""
    points = []
    for row in design.matrix:
        point = []
        for value, r in zip(row, design.ranges, strict=True):
            text = str(int(value)) if r.integer else repr(float(value))
            point.append(f"{r.path}={text}")
        points.append(tuple(point))
    return points


def _constant(outputs: FloatArray) -> npt.NDArray[np.bool_]:
    """(s,) outputs with no spread over the design (to a relative 1e-12 of their size)."""
    spread = outputs.max(axis=1) - outputs.min(axis=1)
    scale = np.maximum(np.abs(outputs).max(axis=1), 1e-300)
    return np.asarray(spread <= 1e-12 * scale)


def sobol_indices(
    design: SensitivityDesign, outputs: FloatArray, *, resamples: int = 999
) -> Indices:
    """S1 and ST of each output row, with 95% percentile bootstrap intervals (seeded by the
    design's seed), by `scipy.stats.sobol_indices` on the evaluations of A, B and AB."""
    from scipy import stats

    n, d = design.samples, len(design.ranges)
    s = outputs.shape[0]
    constant = _constant(outputs)
    names = ("first", "first_low", "first_high", "total", "total_low", "total_high")
    values = {name: np.zeros((s, d)) for name in names}
    varying = ~constant
    if varying.any():
        y = outputs[varying]
        f_a, f_b = y[:, :n], y[:, n : 2 * n]
        f_ab = np.stack([y[:, (2 + i) * n : (3 + i) * n] for i in range(d)])  # (d, s', n)

        def indices(index: npt.NDArray[np.intp]) -> FloatArray:
            """(2, s', d): S1 and ST from the base samples ``index`` (a bootstrap resample)."""
            with np.errstate(divide="ignore", invalid="ignore"):  # a resample may not vary
                result = stats.sobol_indices(
                    func={"f_A": f_a[:, index], "f_B": f_b[:, index], "f_AB": f_ab[..., index]},
                    n=n,
                )
            return np.stack([result.first_order, result.total_order])

        estimate = indices(np.arange(n))
        boot = stats.bootstrap(
            (np.arange(n),), indices, vectorized=False, n_resamples=resamples,
            confidence_level=0.95, method="percentile", rng=design.seed,
        )  # fmt: skip
        low, high = boot.confidence_interval
        for k, name in enumerate(("first", "total")):
            values[name][varying] = estimate[k]
            values[f"{name}_low"][varying] = low[k]
            values[f"{name}_high"][varying] = high[k]
    return Indices("sobol", tuple(design.names), values, constant)


def morris_indices(
    design: SensitivityDesign, outputs: FloatArray, *, resamples: int = 1000
) -> Indices:
    """mu*, mu and sigma of each output row (SALib), with mu*'s 95% bootstrap interval."""
    _, analyze = _salib_morris()
    unit = _to_unit(design)
    s, d = outputs.shape[0], len(design.ranges)
    names = ("mu_star", "mu_star_low", "mu_star_high", "mu", "sigma")
    values = {name: np.zeros((s, d)) for name in names}
    constant = _constant(outputs)
    for k in np.flatnonzero(~constant):
        result = analyze.analyze(
            _problem(design.ranges), unit, np.ascontiguousarray(outputs[k]),
            num_resamples=resamples, conf_level=0.95, num_levels=design.levels, seed=design.seed,
        )  # fmt: skip
        mu_star = np.asarray(result["mu_star"], dtype=float)
        half = np.asarray(result["mu_star_conf"], dtype=float)
        values["mu_star"][k] = mu_star
        values["mu_star_low"][k] = np.maximum(mu_star - half, 0.0)
        values["mu_star_high"][k] = mu_star + half
        values["mu"][k] = np.asarray(result["mu"], dtype=float)
        values["sigma"][k] = np.asarray(result["sigma"], dtype=float)
    return Indices("morris", tuple(design.names), values, constant)


def _to_unit(design: SensitivityDesign) -> FloatArray:
    """The design back on the unit cube (SALib reads each step's direction from it)."""
    lows = np.array([r.low for r in design.ranges])
    highs = np.array([r.high for r in design.ranges])
    return np.asarray((design.matrix - lows) / (highs - lows), dtype=np.float64)


def analyse(design: SensitivityDesign, outputs: npt.ArrayLike) -> Indices:
    """The design's indices from ``outputs`` (s, points) or (points,) measured at its points.

    Raises:
        SensitivityError: the outputs do not match the design, or some are not finite.
    """
    y = np.atleast_2d(np.asarray(outputs, dtype=np.float64))
    points = design.matrix.shape[0]
    if y.ndim != 2 or y.shape[1] != points:
        raise SensitivityError(
            f"outputs of shape {y.shape} do not match the design's {points} points"
        )
    bad = ~np.isfinite(y)
    if bad.any():
        count = int(bad.any(axis=0).sum())
        raise SensitivityError(
            f"the output is undefined (NaN) at {count} of {points} design points; choose a "
            "measure defined at every point (expected_shortfall or cvar95, say)"
        )
    if design.method == "sobol":
        return sobol_indices(design, y)
    return morris_indices(design, y)


def sensitivity(
    design: SensitivityDesign, evaluate: Callable[[FloatArray], npt.ArrayLike]
) -> Indices:
    """Evaluate ``evaluate(matrix)`` -> (s, points) on the design, then `analyse` it."""
    return analyse(design, evaluate(design.matrix))
