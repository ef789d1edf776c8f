"""What every engine reports for one replication, in a fixed layout (docs/model.md, section 7).

Engines (the Numba kernel, the plain-Python reference, the SimPy model) all fill the same arrays,
so that they can be compared element by element and aggregated the same way:

- ``consumer``: shape (R, len(CONSUMER_METRICS)), float64: one row per consumer node, in the
  Network's consumer order (``Network.consumers``), one column per metric below.
- ``network``: shape (len(NETWORK_METRICS),), float64: network-wide cost totals.
- ``conservation``: shape (C, len(CONSERVATION_TERMS)), float64: per commodity, the terms of the
  material balance (section 7.3), so that tests can check it in every replication.

Undefined values (TTS, TTR without a shortfall) are NaN; flags (censored) are 0.0 or 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "CONSERVATION_TERMS",
    "CONSUMER_METRICS",
    "NETWORK_METRICS",
    "BatchResult",
    "metric_index",
]

CONSUMER_METRICS: tuple[str, ...] = (
    "demand",  # units, sum of daily (surged) demand
    "served",  # units
    "shortfall",  # units, demand - served
    "fill_rate",  # served / demand (1 when demand is 0)
    "days_short",  # days with shortfall > 1e-9 * max(1, demand of the day)
    "peak_shortfall",  # units/day, the largest daily shortfall
    "tts",  # days, time to survive; NaN without a shortfall
    "ttr",  # days, time to recover; NaN without a shortfall
    "censored",  # 1.0 when service had not recovered by the end of the horizon
    "loss_area",  # service-days, sum of (1 - served/demand)
    "procurement_cost",  # currency
    "shipping_cost",  # currency, lanes into the consumer
    "holding_cost",  # currency, the consumer's own stock
)

NETWORK_METRICS: tuple[str, ...] = (
    "shipping_cost_total",  # currency, all lanes
    "holding_cost_total",  # currency, all buffers
    "fixed_cost_total",  # currency, horizon x fixed cost of every node
)

CONSERVATION_TERMS: tuple[str, ...] = (
    "initial_stock",
    "initial_transit",
    "produced",
    "consumed_demand",
    "consumed_inputs",
    "final_stock",
    "final_transit",
    "lost",
)


def metric_index(name: str) -> int:
    """Column of a consumer metric in the ``consumer`` array."""
    return CONSUMER_METRICS.index(name)


@dataclass(frozen=True, eq=False)
class BatchResult:
    """Outcomes of replications ``first .. first + count - 1`` (resilience.model.outcomes layout).

    Attributes:
        first: index of the first replication.
        consumer: (count, R, len(CONSUMER_METRICS)) float64.
        network: (count, len(NETWORK_METRICS)) float64.
        conservation: (count, C, len(CONSERVATION_TERMS)) float64.
        daily_service: (count, R, H) float32 served/demand per day, or None when not asked for.
    """

    first: int
    consumer: npt.NDArray[np.float64]
    network: npt.NDArray[np.float64]
    conservation: npt.NDArray[np.float64]
    daily_service: npt.NDArray[np.float32] | None

    @property
    def count(self) -> int:
        return int(self.consumer.shape[0])
