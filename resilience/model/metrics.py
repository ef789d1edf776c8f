"""The metrics of one replication (docs/model.md, section 7), stated once in plain Python.

`Records` holds the running totals an engine keeps as the days go by; `replication_metrics`
turns them, with the final state, into the arrays of `resilience.model.outcomes`: per-consumer
metrics (7, 7.1, 7.2), network cost totals (7.2) and the material balance per commodity (7.3).
The reference day loop and the SimPy engine both call it. Which occurrences affect a consumer
(the onset of 7.1) is read from the static tables of `resilience.network.tables`, the masks the
kernel uses too.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from kernels.codes import SHORT_DAY_TOLERANCE
from resilience.model.layout import Layout
from resilience.model.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS
from resilience.model.timeline import Occurrence
from resilience.network.arrays import Network

__all__ = [
    "SHORT_DAY_TOLERANCE",
    "Metrics",
    "Records",
    "affecting",
    "onset",
    "replication_metrics",
    "survive_and_recover",
]

# Section 7: a day is short when shortfall > SHORT_DAY_TOLERANCE * max(1, d_t); one source,
# shared with the kernel.

FloatArray = npt.NDArray[np.float64]


@dataclass
class Records:
    """Running totals of one replication (units of each commodity unless said otherwise).

    Attributes:
        demand, served: per consumer row, the (surged) demand and the served quantity of each
            day so far, units/day.
        delivered: per buffer, everything lanes delivered into it (phase 2, before clipping).
        stock_days: per buffer, the sum over days of end-of-day stock, units x days.
        produced, consumed_demand, consumed_inputs, lost: per commodity.
        initial_stock, initial_transit: per commodity, the stock and the warm-start pipeline
            on day 0 (section 2.6), filled by `Records.start`.
    """

    n_consumers: int
    n_buffers: int
    n_commodities: int
    demand: list[list[float]] = field(init=False)
    served: list[list[float]] = field(init=False)
    delivered: list[float] = field(init=False)
    stock_days: list[float] = field(init=False)
    produced: list[float] = field(init=False)
    consumed_demand: list[float] = field(init=False)
    consumed_inputs: list[float] = field(init=False)
    lost: list[float] = field(init=False)
    initial_stock: list[float] = field(init=False)
    initial_transit: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.demand = [[] for _ in range(self.n_consumers)]
        self.served = [[] for _ in range(self.n_consumers)]
        self.delivered = [0.0] * self.n_buffers
        self.stock_days = [0.0] * self.n_buffers
        self.produced = [0.0] * self.n_commodities
        self.consumed_demand = [0.0] * self.n_commodities
        self.consumed_inputs = [0.0] * self.n_commodities
        self.lost = [0.0] * self.n_commodities
        self.initial_stock = [0.0] * self.n_commodities
        self.initial_transit = [0.0] * self.n_commodities

    @classmethod
    def start(cls, network: Network) -> Records:
        """Empty records of a run of ``network``, with its day-0 terms of section 7.3."""
        records = cls(len(network.consumers), network.n_buffers, len(network.commodity_ids))
        for c, stock in zip(
            network.buffer_commodity.tolist(), network.buffer_initial.tolist(), strict=True
        ):
            records.initial_stock[c] += stock
        for c, lead, flow in zip(
            network.lane_commodity.tolist(),
            network.lane_lead_time.tolist(),
            network.lane_initial_flow.tolist(),
            strict=True,
        ):
            records.initial_transit[c] += lead * flow
        return records


@dataclass(frozen=True)
class Metrics:
    """What one replication reports (resilience.model.outcomes gives the column order).

    Attributes:
        consumer: (R, len(CONSUMER_METRICS)) float64, one row per consumer in network order.
        network: (len(NETWORK_METRICS),) float64, network-wide cost totals, currency.
        conservation: (C, len(CONSERVATION_TERMS)) float64, the material balance per commodity.
        daily_service: (R, H) float64, served / demand per day (1 when demand is 0).
    """

    consumer: FloatArray
    network: FloatArray
    conservation: FloatArray
    daily_service: FloatArray

    def arrays(self) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        """``(consumer, network, conservation, daily_service)``, for an engine's own outcome."""
        return self.consumer, self.network, self.conservation, self.daily_service


def replication_metrics(
    layout: Layout,
    records: Records,
    *,
    final_stock: list[float],
    final_transit: list[float],
    shipped: list[float],
    timeline: list[Occurrence],
) -> Metrics:
    """Section 7 for a run of ``layout.network`` over its whole horizon.

    ``final_stock`` is per buffer; ``final_transit`` and ``shipped`` (units loaded within the
    horizon) are per lane.
    """
    network, horizon = layout.network, layout.horizon
    consumers, lane_cost, inbound = layout.consumers, layout.lane_cost, layout.inbound
    holding: list[float] = network.node_holding_cost.tolist()

    consumer = np.full((len(consumers), len(CONSUMER_METRICS)), np.nan)
    service = np.ones((len(consumers), horizon))
    for r, b in enumerate(consumers):
        values, daily, t_f = _daily_metrics(records.demand[r], records.served[r])
        service[r, : len(daily)] = daily
        onset_day = onset(affecting(layout, r, timeline), t_f) if t_f >= 0 else 0
        tts, ttr, censored = survive_and_recover(
            t_f, onset_day, daily, network.recovery_threshold, network.recovery_window_days
        )
        shipping = 0.0
        for lane in inbound[b]:
            shipping += lane_cost[lane] * shipped[lane]
        values |= {
            "tts": tts,
            "ttr": ttr,
            "censored": censored,
            "procurement_cost": float(network.commodity_price[network.node_commodity[b]])
            * records.delivered[b],
            "shipping_cost": shipping,
            "holding_cost": holding[b] * records.stock_days[b],
        }
        consumer[r] = [values[name] for name in CONSUMER_METRICS]

    shipping_total = 0.0
    for lane, quantity in enumerate(shipped):
        shipping_total += lane_cost[lane] * quantity
    holding_total = 0.0
    for b, stock_days in enumerate(records.stock_days):
        holding_total += holding[layout.buffer_node[b]] * stock_days
    fixed_total = 0.0
    for cost in network.node_fixed_cost.tolist():
        fixed_total += horizon * cost
    totals = np.array([shipping_total, holding_total, fixed_total], dtype=np.float64)
    assert len(totals) == len(NETWORK_METRICS)

    n_commodities = len(network.commodity_ids)
    stock = [0.0] * n_commodities
    transit = [0.0] * n_commodities
    for c, quantity in zip(layout.buffer_commodity, final_stock, strict=True):
        stock[c] += quantity
    for c, quantity in zip(layout.lane_commodity, final_transit, strict=True):
        transit[c] += quantity
    terms = {
        "initial_stock": records.initial_stock,
        "initial_transit": records.initial_transit,
        "produced": records.produced,
        "consumed_demand": records.consumed_demand,
        "consumed_inputs": records.consumed_inputs,
        "final_stock": stock,
        "final_transit": transit,
        "lost": records.lost,
    }
    conservation = np.array([terms[name] for name in CONSERVATION_TERMS], dtype=np.float64).T
    return Metrics(
        consumer=consumer,
        network=totals,
        conservation=np.ascontiguousarray(conservation),
        daily_service=service,
    )


def _daily_metrics(
    demands: list[float], served: list[float]
) -> tuple[dict[str, float], list[float], int]:
    """Section 7's sums over the days of one consumer, its daily service ``served_t / d_t``
    (1 when ``d_t = 0``) and its first short day (-1 for none)."""
    total_demand = total_served = loss_area = peak = 0.0
    days_short = spells = 0
    first_short = -1
    short_yesterday = False
    service: list[float] = []
    for t, (d, s) in enumerate(zip(demands, served, strict=True)):
        total_demand += d
        total_served += s
        shortfall = d - s
        peak = max(peak, shortfall)
        short = shortfall > SHORT_DAY_TOLERANCE * max(1.0, d)
        if short:
            days_short += 1
            spells += 0 if short_yesterday else 1
            if first_short < 0:
                first_short = t
        short_yesterday = short
        service.append(s / d if d != 0.0 else 1.0)
        loss_area += 1.0 - service[-1]
    values = {
        "demand": total_demand,
        "served": total_served,
        "shortfall": total_demand - total_served,
        "fill_rate": total_served / total_demand if total_demand != 0.0 else 1.0,
        "days_short": float(days_short),
        "peak_shortfall": peak,
        "loss_area": loss_area,
        "spells": float(spells),
    }
    return values, service, first_short


def affecting(layout: Layout, r: int, timeline: list[Occurrence]) -> list[Occurrence]:
    """The occurrences whose target is upstream of consumer row ``r`` (section 7.1).

    A scenario disruption is judged by the shared tables' ``dis_affects``; a hazard event (a
    node occurrence) by their ``upstream_node``.
    """
    tables, disruption_row = layout.tables, layout.disruption_row
    found = []
    for occurrence in timeline:
        d = disruption_row.get(occurrence.source)
        if d is not None:
            affects = bool(tables.dis_affects[r, d])
        else:
            affects = bool(tables.upstream_node[r, occurrence.target])
        if affects:
            found.append(occurrence)
    return found


def onset(occurrences: list[Occurrence], t_f: int) -> int:
    """The onset of the first short day ``t_f`` given the affecting occurrences (section 7.1).

    The start of the earliest one in effect on ``t_f``; else the latest start before ``t_f``.
    """
    in_effect = [occ.a for occ in occurrences if occ.in_effect(t_f)]
    if in_effect:
        return min(in_effect)
    earlier = [occ.a for occ in occurrences if occ.a < t_f]
    if earlier:
        return max(earlier)
    # model.md ambiguity (7.1): "if there is none at all, the onset is 0" is read as: no
    # affecting occurrence is in effect on t_f or starts before it (for instance all of them
    # start after t_f). Taken literally, the latest start over an empty set is -inf.
    return 0


def survive_and_recover(
    t_f: int, onset_day: int, service: list[float], theta: float, window: int
) -> tuple[float, float, float]:
    """``(TTS, TTR, censored)`` of section 7.1, in days; NaN, NaN, 0 when ``t_f = -1`` (no
    short day). ``service`` holds every day of the horizon, ``theta`` is the threshold and
    ``window`` the days service must hold at or above it to count as recovered."""
    if t_f < 0:
        return math.nan, math.nan, 0.0
    horizon = len(service)
    t_low = next((t for t in range(t_f, horizon) if service[t] < theta), None)
    if t_low is None:
        return float(t_f - onset_day), float(t_f + 1 - onset_day), 0.0
    t_rec = next(
        (
            t
            for t in range(t_low + 1, horizon)
            if all(level >= theta for level in service[t : min(t + window, horizon)])
        ),
        None,
    )
    if t_rec is None:
        return float(t_f - onset_day), float(horizon - onset_day), 1.0
    return float(t_f - onset_day), float(t_rec - onset_day), 0.0
