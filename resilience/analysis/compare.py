"""Paired differences between two runs on common random numbers (docs/analysis.md).

Two scenarios run with the same seed and replications draw the same random numbers for every
disruption, hazard and demand they share (docs/model.md section 4.1), so replication ``r`` of
one is replication ``r`` of the other under the changed policy. The difference
``X_alt,r - X_base,r`` then carries only the effect of the change, and its interval is far
narrower than the difference of two independent means. Each difference is reported with both
intervals, so the gain from pairing is visible.

Everything here works on plain arrays of per-replication outcomes
(`resilience.model.outcomes` layout) and returns plain records; running the scenarios and
writing files is the run layer's job (`resilience.runs.compare`).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.analysis.costs import COST_COMPONENTS
from resilience.analysis.intervals import BOOTSTRAP_RESAMPLES, Z95, tail_statistics
from resilience.model.outcomes import CONSUMER_METRICS

__all__ = [
    "COMPARED",
    "ConsumerComparison",
    "Difference",
    "compare_consumer",
    "cost_differences",
    "per_replication",
]

FloatArray = npt.NDArray[np.float64]

COMPARED = (
    "shortfall", "share_short", "p_short", "cvar95", "fill_rate", "days_short",
    "peak_shortfall", "loss_area", "tts", "ttr", "cost",
)  # fmt: skip
"""The differences reported for each consumer, in this order. ``share_short`` is shortfall as
a share of demand, ``p_short`` the chance of any short day, ``cvar95`` the CVaR95 of
shortfall, and ``cost`` procurement + shipping + holding (currency)."""


@dataclass(frozen=True)
class Difference:
    """``alternative - base`` for one statistic of one consumer.

    Attributes:
        statistic: a name from `COMPARED`.
        base, alternative: the statistic in each run (means, or CVaR95 for ``cvar95``).
        difference: ``alternative - base``.
        ci_low, ci_high: 95% interval of the difference from the paired replications.
        unpaired_low, unpaired_high: the interval had the runs been independent (for
            comparison; NaN for ``cvar95``, whose unpaired interval is not computed).
        n: replications the statistic is defined in, in both runs (fewer for TTS and TTR).
    """

    statistic: str
    base: float
    alternative: float
    difference: float
    ci_low: float
    ci_high: float
    unpaired_low: float
    unpaired_high: float
    n: int


@dataclass(frozen=True)
class ConsumerComparison:
    """Every `Difference` of one consumer present in both runs."""

    consumer: str
    commodity: str
    unit: str
    differences: tuple[Difference, ...]

    def get(self, statistic: str) -> Difference:
        return next(d for d in self.differences if d.statistic == statistic)

    def to_dict(self) -> dict[str, Any]:
        return {
            "consumer": self.consumer,
            "commodity": self.commodity,
            "unit": self.unit,
            "differences": {d.statistic: asdict(d) for d in self.differences},
        }


def per_replication(consumer: FloatArray) -> dict[str, FloatArray]:
    """The per-replication values of each compared statistic that is a mean over replications.

    Args:
        consumer: (replications, len(CONSUMER_METRICS)) outcomes of one consumer.
    """
    column = {name: consumer[:, i] for i, name in enumerate(CONSUMER_METRICS)}
    demand = column["demand"]
    share = np.divide(column["shortfall"], demand, out=np.zeros_like(demand), where=demand > 0.0)
    return {
        "shortfall": column["shortfall"],
        "share_short": share,
        "p_short": (column["days_short"] > 0).astype(np.float64),
        "fill_rate": column["fill_rate"],
        "days_short": column["days_short"],
        "peak_shortfall": column["peak_shortfall"],
        "loss_area": column["loss_area"],
        "tts": column["tts"],
        "ttr": column["ttr"],
        "cost": column["procurement_cost"] + column["shipping_cost"] + column["holding_cost"],
    }


def compare_consumer(
    base: FloatArray,
    alternative: FloatArray,
    *,
    seed: tuple[int, ...],
    names: tuple[str, str, str],
) -> ConsumerComparison:
    """Paired differences of one consumer's outcomes between two runs on the same replications.

    Args:
        base, alternative: (replications, len(CONSUMER_METRICS)) outcomes, row r of each from
            the same random numbers.
        seed: entropy for the bootstrap of the CVaR95 difference (e.g. run seed and row).
        names: (consumer id, commodity id, unit).
    """
    if base.shape != alternative.shape:
        raise ValueError(f"runs differ in shape: {base.shape} and {alternative.shape}")
    base_values, alt_values = per_replication(base), per_replication(alternative)
    differences = []
    for statistic in COMPARED:
        if statistic == "cvar95":
            differences.append(
                _cvar_difference(base_values["shortfall"], alt_values["shortfall"], seed)
            )
        else:
            differences.append(
                _mean_difference(statistic, base_values[statistic], alt_values[statistic])
            )
    return ConsumerComparison(*names, tuple(differences))


def cost_differences(
    base: dict[str, FloatArray], alternative: dict[str, FloatArray]
) -> tuple[Difference, ...]:
    """Paired differences ``alternative - base`` of every annual cost component.

    Args:
        base, alternative: `resilience.analysis.costs.cost_components` of the two runs on the
            same replications (name -> (replications,) currency per year).

    Returns:
        One `Difference` per name of `COST_COMPONENTS`, in that order; the lever components are
        the same in every replication, so their intervals have zero width.
    """
    return tuple(_mean_difference(name, base[name], alternative[name]) for name in COST_COMPONENTS)


def _mean_difference(statistic: str, base: FloatArray, alternative: FloatArray) -> Difference:
    """Mean of the paired differences over the replications where both are defined, with the
    normal interval of a mean, and the interval for independent runs beside it."""
    both = ~(np.isnan(base) | np.isnan(alternative))
    b, a = base[both], alternative[both]
    n = int(both.sum())
    if n == 0:
        nan = math.nan
        return Difference(statistic, nan, nan, nan, nan, nan, nan, nan, 0)
    paired = a - b
    diff = float(paired.mean())
    if n > 1:
        half = Z95 * float(paired.std(ddof=1)) / math.sqrt(n)
        unpaired = Z95 * math.sqrt((float(a.var(ddof=1)) + float(b.var(ddof=1))) / n)
    else:
        half = unpaired = math.nan
    return Difference(
        statistic, float(b.mean()), float(a.mean()), diff,
        diff - half, diff + half, diff - unpaired, diff + unpaired, n,
    )  # fmt: skip


_CVAR95 = 6
"""Row of CVaR95 in `tail_statistics`."""


def _cvar_difference(
    base: FloatArray, alternative: FloatArray, seed: tuple[int, ...]
) -> Difference:
    """CVaR95 of shortfall in each run, and a paired percentile-bootstrap interval of the
    difference: replications are resampled together, keeping the pairing."""
    from scipy import stats  # the bootstrap; imported where it is needed

    b = float(tail_statistics(base)[_CVAR95])
    a = float(tail_statistics(alternative)[_CVAR95])
    nan = math.nan
    if np.array_equal(base, alternative) or base.size < 2:
        return Difference("cvar95", b, a, a - b, a - b, a - b, nan, nan, int(base.size))

    def statistic(x: FloatArray, y: FloatArray, axis: int = -1) -> FloatArray:
        result: FloatArray = tail_statistics(y, axis)[_CVAR95] - tail_statistics(x, axis)[_CVAR95]
        return result

    result = stats.bootstrap(
        (base, alternative),
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(list(seed)),
    )
    low, high = result.confidence_interval
    return Difference("cvar95", b, a, a - b, float(low), float(high), nan, nan, int(base.size))
