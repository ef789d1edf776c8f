"""Across replications: means with confidence intervals, quantiles, VaR and CVaR (model.md 8).

`RunAccumulator` takes batch results as they come. It keeps one row per replication and
consumer (the replications table needs them anyway), never a day axis. The optional daily
service bands go into per-day histograms of fixed size, so memory does not grow with
replications x days.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from resilience.model.outcomes import CONSUMER_METRICS, NETWORK_METRICS, BatchResult, metric_index
from resilience.network.arrays import Network

__all__ = ["BAND_BINS", "QUANTILES", "RunAccumulator", "summarise_metric", "tail_risk"]

QUANTILES = (0.05, 0.50, 0.95, 0.99)
TAIL_LEVELS = (0.95, 0.99)
BAND_BINS = 200
"""Bins of daily service in [0, 1] for the bands (a resolution of 0.005)."""

FloatArray = npt.NDArray[np.float64]


def summarise_metric(values: FloatArray) -> dict[str, float | int]:
    """Mean with a 95% interval and quantiles of one metric over replications (NaN ignored).

    Returns ``n`` (the replications where it is defined), ``mean``, ``ci_low``, ``ci_high``
    (mean +- 1.96 sd / sqrt(n), sd with divisor n - 1, NaN for n < 2) and ``p5 .. p99``.
    """
    defined = values[~np.isnan(values)]
    n = int(defined.size)
    result: dict[str, float | int] = {"n": n}
    if n == 0:
        result.update(mean=math.nan, ci_low=math.nan, ci_high=math.nan)
        result.update({f"p{round(q * 100)}": math.nan for q in QUANTILES})
        return result
    mean = float(defined.mean())
    half = 1.96 * float(defined.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
    result.update(mean=mean, ci_low=mean - half, ci_high=mean + half)
    for q, value in zip(QUANTILES, np.quantile(defined, QUANTILES), strict=True):
        result[f"p{round(q * 100)}"] = float(value)
    return result


def tail_risk(shortfall: FloatArray) -> dict[str, float]:
    """VaR and CVaR of total shortfall at 95% and 99% (model.md section 8).

    ``VaR_a`` is the inverted-CDF quantile, the smallest observed ``x`` with ``F(x) >= a``.
    ``CVaR_a`` is the Rockafellar-Uryasev form ``VaR_a + E[(X - VaR_a)+] / (1 - a)``: the mean
    of the worst ``1 - a`` of the distribution, exact when atoms straddle the ``a`` point (a rare
    shortfall of 100 with probability 3% gives CVaR95 = 60, not the mean of everything above
    VaR95 = 0). Units are those of the shortfall.
    """
    result = {}
    for level in TAIL_LEVELS:
        var = float(np.quantile(shortfall, level, method="inverted_cdf"))
        excess = float(np.maximum(shortfall - var, 0.0).mean())
        label = round(level * 100)
        result[f"var{label}"] = var
        result[f"cvar{label}"] = var + excess / (1.0 - level)
    return result


@dataclass
class RunAccumulator:
    """Collects batch results in replication order and summarises them."""

    network: Network
    replications: int
    bands: bool = False
    _consumer: FloatArray = field(init=False)
    _network: FloatArray = field(init=False)
    _conservation: FloatArray = field(init=False)
    _histogram: npt.NDArray[np.int64] | None = field(init=False, default=None)
    _done: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        n_consumers = len(self.network.consumers)
        self._consumer = np.empty((self.replications, n_consumers, len(CONSUMER_METRICS)))
        self._network = np.empty((self.replications, len(NETWORK_METRICS)))
        self._conservation = np.empty((self.replications, len(self.network.commodity_ids), 8))
        if self.bands:
            shape = (n_consumers, self.network.horizon_days, BAND_BINS)
            self._histogram = np.zeros(shape, dtype=np.int64)

    @property
    def done(self) -> int:
        """Replications added so far."""
        return self._done

    def add(self, batch: BatchResult) -> None:
        """Add the next batch (batches must arrive in replication order)."""
        if batch.first != self._done:
            raise ValueError(f"expected replication {self._done} next, got {batch.first}")
        end = batch.first + batch.count
        self._consumer[batch.first : end] = batch.consumer
        self._network[batch.first : end] = batch.network
        self._conservation[batch.first : end] = batch.conservation
        if self._histogram is not None and batch.daily_service is not None:
            bins = np.clip((batch.daily_service * BAND_BINS).astype(np.int64), 0, BAND_BINS - 1)
            n_consumers, horizon = bins.shape[1], bins.shape[2]
            flat = np.arange(n_consumers)[:, None] * horizon + np.arange(horizon)[None, :]
            index = (flat[None, :, :] * BAND_BINS + bins).ravel()
            counts = np.bincount(index, minlength=n_consumers * horizon * BAND_BINS)
            self._histogram += counts.reshape(self._histogram.shape)
        self._done = end

    @property
    def consumer(self) -> FloatArray:
        """(replications, R, metrics): every replication's consumer outcomes."""
        return self._consumer[: self._done]

    @property
    def conservation(self) -> FloatArray:
        return self._conservation[: self._done]

    def summary(self) -> dict[str, Any]:
        """The run's summary: per consumer, every metric and the tail risk of shortfall."""
        network = self.network
        consumers = []
        shortfall = metric_index("shortfall")
        censored = metric_index("censored")
        for r, node in enumerate(network.consumers):
            values = self.consumer[:, r, :]
            entry: dict[str, Any] = {
                "consumer": network.node_ids[node],
                "commodity": network.commodity_ids[network.node_commodity[node]],
                "country": network.country_ids[network.node_country[node]],
                "unit": network.commodity_units[network.node_commodity[node]],
                "metrics": {
                    name: summarise_metric(values[:, i]) for i, name in enumerate(CONSUMER_METRICS)
                },
                "tail": tail_risk(values[:, shortfall]),
                "censored_replications": int(np.nansum(values[:, censored])),
            }
            if self._histogram is not None:
                entry["daily_service_bands"] = self._bands(r)
            consumers.append(entry)
        totals = {
            name: summarise_metric(self._network[: self._done, i])
            for i, name in enumerate(NETWORK_METRICS)
        }
        return {"replications": self._done, "consumers": consumers, "network": totals}

    def _bands(self, r: int) -> dict[str, list[float]]:
        """5/50/95% of daily service per day, from the histogram (bin midpoints)."""
        assert self._histogram is not None
        counts = self._histogram[r]
        cumulative = np.cumsum(counts, axis=1)
        total = cumulative[:, -1:]
        bands = {}
        for q in (0.05, 0.50, 0.95):
            index = (cumulative < q * total).sum(axis=1)
            bands[f"p{round(q * 100)}"] = ((index + 0.5) / BAND_BINS).round(4).tolist()
        return bands
