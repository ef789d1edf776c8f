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

# The column layouts are defined once, in kernels/codes.py, which the kernel writes by.
from kernels.codes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS

__all__ = [
    "CONSERVATION_TERMS",
    "CONSUMER_METRICS",
    "NETWORK_METRICS",
    "BatchResult",
    "metric_index",
]


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
