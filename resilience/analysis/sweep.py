"""What a sweep reports for each design point: the cost of the policy and the risk it leaves.

For every design point and every consumer, from the point's per-replication outcomes
(`resilience.model.outcomes` layout):

- ``annual_cost``: the network's whole cost per year, the mean over replications of
  procurement (every consumer) + shipping (every lane) + holding (every buffer) + fixed costs
  (every node), scaled from the horizon to 365 days, plus the levers' costs (capital tied up in
  stock, reserved capacity, premiums, purchase guarantees; `resilience.analysis.costs`), in
  currency per year. Levers that add stock, capacity or dearer sources raise it; that is the
  efficiency side. ``capital_cost``, ``capacity_cost``, ``premium_cost`` and
  ``guarantee_cost`` are the levers' parts of it.
- the risk side, per consumer: expected shortfall (units), shortfall as a share of demand,
  VaR95 and CVaR95 of shortfall (units), P(short), mean fill rate, mean days short, and the
  median and 95th percentile of TTS and TTR over the replications with a shortfall (days).

The rows are plain dicts, one per consumer, so that a table of all points is tidy.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.analysis.costs import LEVER_COSTS, annual_costs
from resilience.analysis.intervals import tail_statistics
from resilience.model.outcomes import CONSUMER_METRICS
from resilience.network.arrays import Network

__all__ = ["RISK_MEASURES", "annual_cost", "point_rows"]

FloatArray = npt.NDArray[np.float64]

RISK_MEASURES = (
    "expected_shortfall", "share_short", "var95", "cvar95", "p_short", "fill_rate",
    "days_short", "tts_p50", "tts_p95", "ttr_p50", "ttr_p95",
)  # fmt: skip
"""The risk columns of a sweep row, in order (see the module docstring for units)."""

_COLUMN = {name: i for i, name in enumerate(CONSUMER_METRICS)}


def annual_cost(network: Network, consumer: FloatArray, totals: FloatArray) -> float:
    """Mean whole-network cost per year (currency/year) over the replications: the ``total`` of
    `resilience.analysis.costs.annual_costs` (operating costs and the levers' costs).

    Args:
        consumer: (replications, R, len(CONSUMER_METRICS)) outcomes.
        totals: (replications, len(NETWORK_METRICS)) network-wide cost totals.
    """
    return annual_costs(network, consumer, totals)["total"]


def point_rows(network: Network, consumer: FloatArray, totals: FloatArray) -> list[dict[str, Any]]:
    """One row per consumer of one design point: ids, the annual cost and every risk measure."""
    costs = annual_costs(network, consumer, totals)
    cost = costs["total"]
    lever_columns = {f"{name}_cost": costs[name] for name in LEVER_COSTS}
    rows = []
    for r, node in enumerate(network.consumers):
        values = consumer[:, r, :]
        shortfall = values[:, _COLUMN["shortfall"]]
        demand = float(values[:, _COLUMN["demand"]].mean())
        tail = tail_statistics(shortfall)
        row: dict[str, Any] = {
            "consumer": network.node_ids[node],
            "commodity": network.commodity_ids[network.node_commodity[node]],
            "annual_cost": cost,
            **lever_columns,
            "expected_shortfall": float(shortfall.mean()),
            "share_short": float(shortfall.mean()) / demand if demand > 0 else 0.0,
            "var95": float(tail[4]),
            "cvar95": float(tail[6]),
            "p_short": float((values[:, _COLUMN["days_short"]] > 0).mean()),
            "fill_rate": float(values[:, _COLUMN["fill_rate"]].mean()),
            "days_short": float(values[:, _COLUMN["days_short"]].mean()),
        }
        for name in ("tts", "ttr"):
            defined = values[:, _COLUMN[name]]
            defined = defined[~np.isnan(defined)]
            p50, p95 = np.quantile(defined, (0.5, 0.95)) if defined.size else (math.nan,) * 2
            row[f"{name}_p50"], row[f"{name}_p95"] = float(p50), float(p95)
        rows.append(row)
    return rows
