"""The Pareto frontier of cost against risk (docs/analysis.md).

A design point is on the frontier when no other point is at least as cheap and at least as
safe, and strictly better in one of the two. Both are minimised: cost in currency per year,
risk in the chosen measure (CVaR95 of shortfall by default).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["pareto_front"]


def pareto_front(cost: npt.ArrayLike, risk: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which points are not dominated, minimising both ``cost`` and ``risk`` (shape (P,)).

    Ties: of two points equal in both, both are on the frontier. NaN risks are never on it.
    """
    c = np.asarray(cost, dtype=np.float64)
    r = np.asarray(risk, dtype=np.float64)
    if c.shape != r.shape or c.ndim != 1:
        raise ValueError(
            f"cost and risk must be two vectors of one length, got {c.shape}, {r.shape}"
        )
    valid = ~(np.isnan(c) | np.isnan(r))
    no_worse = (c[None, :] <= c[:, None]) & (r[None, :] <= r[:, None])
    better = (c[None, :] < c[:, None]) | (r[None, :] < r[:, None])
    dominated = (no_worse & better & valid[None, :]).any(axis=1)
    return valid & ~dominated
