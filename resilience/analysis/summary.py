"""Across replications: means with confidence intervals, quantiles, VaR and CVaR (model.md 8).

`RunAccumulator` takes batch results as they come, never with a day axis. Its per-replication
rows are kept in memory (for the analysis jobs and the notebook API) or streamed to a sink (a run
directory's column files), from which the summary reads one consumer's metric at a time and
computes every statistic exactly, so that a streamed run's memory does not grow with
replications (docs/decisions.md, "Memory and resumable runs"). The optional daily service bands
go into per-day histograms of fixed size. Every batch's material balance is checked as it
arrives (model.md 7.3); a break raises `ConservationError` before anything is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from resilience.analysis.costs import components_of
from resilience.analysis.intervals import (
    TAIL_QUANTILES,
    TAIL_STATISTIC_NAMES,
    Z95,
    bounded_mean,
    tail_intervals,
    tail_statistics,
    wilson,
)
from resilience.errors import ResilienceError
from resilience.model.outcomes import (
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    NETWORK_METRICS,
    BatchResult,
    metric_index,
)
from resilience.network.arrays import Network

__all__ = [
    "BAND_BINS",
    "BOOTSTRAP_BLOCK",
    "CONSERVATION_TOLERANCE",
    "QUANTILES",
    "ColumnSink",
    "ConservationError",
    "RunAccumulator",
    "RunInvariantError",
    "add_to_histogram",
    "affected_consumers",
    "band_values",
    "check_conservation",
    "check_finite",
    "probability_short",
    "service_bins",
    "share_short",
    "summarise_metric",
    "tail_risk",
]

QUANTILES = TAIL_QUANTILES
BAND_BINS = 200
"""Bins of daily service strictly between 0 and 1 for the bands (a resolution of 0.005). Two
more bins hold the days served exactly in full (1.0) and not at all (0.0), so that a fully
served day is reported as 1.0, not as the centre of the top bin."""

BOUNDED_METRICS = frozenset({"fill_rate"})
"""Metrics in [0, 1] whose interval is `bounded_mean` (Wilson on the effective sample size)."""

CONSERVATION_TOLERANCE = 1e-9
"""Relative tolerance of the material balance (model.md 7.3)."""


class RunInvariantError(ResilienceError):
    """A replication broke an invariant every run must keep: a bug, or inputs past the range the
    checks of the scenario layer let through; the run stops before anything is written."""


class ConservationError(RunInvariantError):
    """A replication created or destroyed material (model.md 7.3)."""


MAY_BE_UNDEFINED = frozenset({"tts", "ttr"})
"""Consumer metrics that are NaN by definition in a replication with no shortfall."""


FloatArray = npt.NDArray[np.float64]


def summarise_metric(values: FloatArray, *, bounded: bool = False) -> dict[str, float | int]:
    """Mean with a 95% interval and quantiles of one metric over replications (NaN ignored).

    Returns ``n`` (the replications where it is defined), ``mean``, ``ci_low``, ``ci_high`` and
    ``p5 .. p99``. The interval is mean +- 1.96 sd / sqrt(n) (sd with divisor n - 1, NaN for
    n < 2), or, for a metric ``bounded`` in [0, 1], `bounded_mean`'s Wilson interval, which
    stays inside [0, 1] near the edges.
    """
    defined = values[~np.isnan(values)]
    n = int(defined.size)
    result: dict[str, float | int] = {"n": n}
    if n == 0:
        result.update(mean=math.nan, ci_low=math.nan, ci_high=math.nan)
        result.update({f"p{round(q * 100)}": math.nan for q in QUANTILES})
        return result
    mean = float(defined.mean())
    if bounded:
        low, high = bounded_mean(defined)
    else:
        half = Z95 * float(defined.std(ddof=1)) / math.sqrt(n) if n > 1 else math.nan
        low, high = mean - half, mean + half
    result.update(mean=mean, ci_low=low, ci_high=high)
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
    values = dict(zip(TAIL_STATISTIC_NAMES, tail_statistics(shortfall), strict=True))
    return {name: float(values[name]) for name in ("var95", "cvar95", "var99", "cvar99")}


def probability_short(days_short: FloatArray) -> dict[str, float | int]:
    """P(short): the share of replications with at least one short day, with its Wilson interval."""
    n = int(days_short.size)
    short = int(np.count_nonzero(days_short > 0))
    low, high = wilson(short, n)
    return {
        "short_replications": short,
        "n": n,
        "estimate": short / n if n else math.nan,
        "ci_low": low,
        "ci_high": high,
    }


def share_short(entry: dict[str, Any]) -> float:
    """A summary entry's expected shortfall as a share of its expected demand (0 without
    demand): the unit-free measure that ranks consumers of different commodities."""
    demand = entry["metrics"]["demand"]["mean"]
    return float(entry["metrics"]["shortfall"]["mean"] / demand) if demand > 0 else 0.0


def affected_consumers(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary entries of the consumers short in some replication, most short first."""
    hit = [entry for entry in summary["consumers"] if entry["p_short"]["short_replications"]]
    return sorted(hit, key=share_short, reverse=True)


def service_bins(service: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.int64]:
    """Histogram bin of each daily service value: 0 for exactly 0, ``BAND_BINS + 1`` for 1 or
    more (fully served), and ``1 .. BAND_BINS`` for the equal-width bins of (0, 1) between."""
    inner = 1 + np.clip((service * BAND_BINS).astype(np.int64), 0, BAND_BINS - 1)
    return np.where(service <= 0.0, 0, np.where(service >= 1.0, BAND_BINS + 1, inner))


def band_values() -> FloatArray:
    """The service value each bin of `service_bins` reports: 0, the bin centres, then 1."""
    centres = (np.arange(BAND_BINS) + 0.5) / BAND_BINS
    return np.concatenate([[0.0], centres, [1.0]])


class ColumnSink(Protocol):
    """Where per-replication outcomes go when they are not kept in memory (a run directory's
    column files, `resilience.outputs.columns.ColumnFiles`): appended batch by batch, read back
    one column at a time for the summary."""

    def append(self, consumer: FloatArray, network: FloatArray) -> None:
        """Append (count, R, len(CONSUMER_METRICS)) consumer and (count, len(NETWORK_METRICS))
        network outcomes of the next replications."""

    def consumer_column(self, row: int, metric: int, count: int) -> FloatArray:
        """(count,) float64: metric ``metric`` of consumer ``row`` in replications 0..count-1."""

    def network_column(self, metric: int, count: int) -> FloatArray:
        """(count,) float64: network metric ``metric`` in replications 0..count-1."""


BOOTSTRAP_BLOCK = 1 << 20
"""Resampled values per bootstrap block (8 MB of float64): the tail intervals resample in blocks
of ``BOOTSTRAP_BLOCK // n`` resamples, so their memory does not grow with replications."""


@dataclass
class RunAccumulator:
    """Collects batch results in replication order and summarises them.

    ``seed`` (default: the network's) seeds the bootstrap of the tail intervals, so that a run's
    summary is a function of its inputs alone.

    The per-replication outcomes are kept in memory (``keep_rows``: what the analysis jobs and
    the notebook API read) and/or appended to a ``sink`` (a run directory's column files); the
    summary reads one column of one consumer at a time from either, so with a sink and without
    ``keep_rows`` memory does not grow with replications. The statistics are computed on the same
    contiguous columns either way, so the summary is the same bit for bit.
    """

    network: Network
    replications: int
    bands: bool = False
    seed: int | None = None
    keep_rows: bool = True
    sink: ColumnSink | None = None
    _consumer: FloatArray | None = field(init=False, default=None)
    _network: FloatArray | None = field(init=False, default=None)
    _histogram: npt.NDArray[np.int64] | None = field(init=False, default=None)
    _done: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        if not self.keep_rows and self.sink is None:
            raise ValueError("outcomes must go somewhere: keep_rows or a sink")
        n_consumers = len(self.network.consumers)
        if self.keep_rows:
            self._consumer = np.empty((self.replications, n_consumers, len(CONSUMER_METRICS)))
            self._network = np.empty((self.replications, len(NETWORK_METRICS)))
        if self.bands:
            shape = (n_consumers, self.network.horizon_days, BAND_BINS + 2)
            self._histogram = np.zeros(shape, dtype=np.int64)

    @property
    def done(self) -> int:
        """Replications added so far."""
        return self._done

    @property
    def histogram(self) -> npt.NDArray[np.int64] | None:
        """(R, H, BAND_BINS + 2) int64 counts of daily service per bin, or None without bands."""
        return self._histogram

    def restore(self, done: int, histogram: npt.NDArray[np.int64] | None) -> None:
        """Continue a run whose first ``done`` replications are already in the sink (a resumed
        run): only the counters are restored, since the rows live in the sink.

        Raises:
            ValueError: rows are kept in memory (they cannot be restored), or the histogram does
                not fit this run.
        """
        if self.keep_rows:
            raise ValueError("a run kept in memory cannot be restored")
        if self._histogram is not None:
            if histogram is None or histogram.shape != self._histogram.shape:
                raise ValueError("the saved histogram does not fit this run's bands")
            self._histogram[...] = histogram
        self._done = done

    def add(self, batch: BatchResult) -> None:
        """Add the next batch (batches must arrive in replication order).

        Raises:
            ConservationError: a replication of the batch breaks the material balance.
        """
        if batch.first != self._done:
            raise ValueError(f"expected replication {self._done} next, got {batch.first}")
        check_finite(self.network, batch)
        check_conservation(self.network, batch)
        end = batch.first + batch.count
        if self._consumer is not None and self._network is not None:
            self._consumer[batch.first : end] = batch.consumer
            self._network[batch.first : end] = batch.network
        if self.sink is not None:
            self.sink.append(batch.consumer, batch.network)
        if self._histogram is not None and batch.daily_service is not None:
            add_to_histogram(self._histogram, batch.daily_service)
        self._done = end

    @property
    def consumer(self) -> FloatArray:
        """(replications, R, metrics): every replication's consumer outcomes.

        Raises:
            ValueError: the rows went to a sink only (a streamed run); read its files instead.
        """
        if self._consumer is None:
            raise ValueError("this run streamed its rows to its directory; read them there")
        return self._consumer[: self._done]

    @property
    def totals(self) -> FloatArray:
        """(replications, len(NETWORK_METRICS)): every replication's network-wide cost totals."""
        if self._network is None:
            raise ValueError("this run streamed its rows to its directory; read them there")
        return self._network[: self._done]

    def _consumer_column(self, row: int, metric: int) -> FloatArray:
        if self._consumer is not None:
            return self._consumer[: self._done, row, metric]
        assert self.sink is not None
        return self.sink.consumer_column(row, metric, self._done)

    def _network_column(self, metric: int) -> FloatArray:
        if self._network is not None:
            return self._network[: self._done, metric]
        assert self.sink is not None
        return self.sink.network_column(metric, self._done)

    def summary(self) -> dict[str, Any]:
        """The run's summary: per consumer, every metric, P(short) and the tail of shortfall.

        One column (one metric of one consumer over all replications) is read at a time, and
        every statistic of it is exact (model.md section 8).
        """
        network = self.network
        seed = network.seed if self.seed is None else self.seed
        consumers = []
        shortfall = metric_index("shortfall")
        censored = metric_index("censored")
        days_short = metric_index("days_short")
        block = max(1, BOOTSTRAP_BLOCK // max(1, self._done))
        for r, node in enumerate(network.consumers):
            metrics: dict[str, Any] = {}
            entry: dict[str, Any] = {
                "consumer": network.node_ids[node],
                "commodity": network.commodity_ids[network.node_commodity[node]],
                "country": network.country_ids[network.node_country[node]],
                "unit": network.commodity_units[network.node_commodity[node]],
                "metrics": metrics,
            }
            for i, name in enumerate(CONSUMER_METRICS):
                values = self._consumer_column(r, i)
                metrics[name] = summarise_metric(values, bounded=name in BOUNDED_METRICS)
                if i == days_short:
                    entry["p_short"] = probability_short(values)
                elif i == shortfall:
                    entry["tail"] = tail_risk(values)
                    # One seed per consumer from (run seed, consumer row): no shared RNG state.
                    entry["tail_ci"] = {
                        statistic: list(interval)
                        for statistic, interval in tail_intervals(
                            values, seed=(seed, r), block=block
                        ).items()
                    }
                elif i == censored:
                    entry["censored_replications"] = int(np.nansum(values))
            # The keys in the order summary.json has always had them.
            order = ("consumer", "commodity", "country", "unit", "metrics", "p_short", "tail",
                     "tail_ci", "censored_replications")  # fmt: skip
            entry = {key: entry[key] for key in order}
            if self._histogram is not None:
                entry["daily_service_bands"] = self._bands(r)
            consumers.append(entry)
        totals = {
            name: summarise_metric(self._network_column(i))
            for i, name in enumerate(NETWORK_METRICS)
        }
        # Currency per year by component, operating (simulated) and levers (deterministic),
        # from one column at a time, so that a streamed run needs no rows in memory.
        column = CONSUMER_METRICS.index("procurement_cost")
        procurement = np.zeros(self._done)
        for r in range(len(network.consumers)):
            procurement += self._consumer_column(r, column)
        costs = {
            name: summarise_metric(values)
            for name, values in components_of(network, procurement, self._network_column)
        }
        return {
            "replications": self._done,
            "consumers": consumers,
            "network": totals,
            "annual_cost": costs,
        }

    def _bands(self, r: int) -> dict[str, list[float]]:
        """5/50/95% of daily service per day, from the histogram (model.md section 8)."""
        assert self._histogram is not None
        counts = self._histogram[r]
        cumulative = np.cumsum(counts, axis=1)
        total = cumulative[:, -1:]
        values = band_values()
        bands = {}
        for q in (0.05, 0.50, 0.95):
            index = (cumulative < q * total).sum(axis=1)
            bands[f"p{round(q * 100)}"] = values[index].round(4).tolist()
        return bands


def add_to_histogram(
    histogram: npt.NDArray[np.int64], daily_service: npt.NDArray[np.floating[Any]]
) -> None:
    """Count each day's service of a batch into ``histogram`` (R, H, BAND_BINS + 2), in place.

    One consumer at a time, so that the temporaries are (count, H) and the counts (H x bins):
    the memory of the bands is the histogram itself, whatever the horizon or batch size.

    Args:
        daily_service: (count, R, H) served/demand per replication, consumer and day.
    """
    _, n_consumers, horizon = daily_service.shape
    width = BAND_BINS + 2
    offsets = (np.arange(horizon, dtype=np.int64) * width)[None, :]
    for r in range(n_consumers):
        index = (offsets + service_bins(daily_service[:, r, :])).ravel()
        histogram[r] += np.bincount(index, minlength=horizon * width).reshape(horizon, width)


def check_finite(network: Network, batch: BatchResult) -> None:
    """Raise `RunInvariantError` if a metric that must be a number is NaN or infinite."""
    must = [i for i, name in enumerate(CONSUMER_METRICS) if name not in MAY_BE_UNDEFINED]
    bad = ~np.isfinite(batch.consumer[:, :, must])
    if bad.any():
        rep, row, column = (int(i) for i in np.argwhere(bad)[0])
        node = network.consumers[row]
        raise RunInvariantError(
            f"replication {batch.first + rep}: {CONSUMER_METRICS[must[column]]} of consumer "
            f"{network.node_ids[node]!r} is {batch.consumer[rep, row, must[column]]!r}, not a "
            "finite number; no result was written"
        )
    bad_totals = ~np.isfinite(batch.network)
    if bad_totals.any():
        rep, column = (int(i) for i in np.argwhere(bad_totals)[0])
        raise RunInvariantError(
            f"replication {batch.first + rep}: {NETWORK_METRICS[column]} is "
            f"{batch.network[rep, column]!r}, not a finite number; no result was written"
        )


def check_conservation(network: Network, batch: BatchResult) -> None:
    """Raise `ConservationError` if any replication of ``batch`` breaks model.md 7.3.

    Both sides of the balance must agree to `CONSERVATION_TOLERANCE` x max(1, |left side|), per
    replication and commodity.
    """
    terms = {name: batch.conservation[..., i] for i, name in enumerate(CONSERVATION_TERMS)}
    left = terms["initial_stock"] + terms["initial_transit"] + terms["produced"]
    right = (
        terms["consumed_demand"]
        + terms["consumed_inputs"]
        + terms["final_stock"]
        + terms["final_transit"]
        + terms["lost"]
    )
    gap = np.abs(left - right)
    broken = ~(gap <= CONSERVATION_TOLERANCE * np.maximum(1.0, np.abs(left)))  # NaN breaks too
    if broken.any():
        rep, commodity = (int(i) for i in np.argwhere(broken)[0])
        raise ConservationError(
            f"conservation of material broke in replication {batch.first + rep}, commodity "
            f"{network.commodity_ids[commodity]!r}: in {left[rep, commodity]!r}, out "
            f"{right[rep, commodity]!r} ({int(broken.sum())} replication-commodities in all); "
            "this is a bug in the engine, and no result was written"
        )
