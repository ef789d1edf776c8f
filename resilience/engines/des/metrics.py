"""What one replication of the SimPy engine reports (model.md section 7).

`Records` is filled by the processes as the days go by; `outcome` turns it, with the final state,
into the arrays of `resilience.model.outcomes`: per-consumer metrics, network cost totals and the
material balance per commodity. Which occurrences affect a consumer (for the onset of 7.1) comes
from the kernel's static tables, so both engines judge it from the same masks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from resilience.engines.des.layout import Layout
from resilience.model.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS
from resilience.model.timeline import Occurrence

__all__ = ["SHORT_DAY_TOLERANCE", "Outcome", "Records", "outcome"]

SHORT_DAY_TOLERANCE = 1e-9  # model.md 7: short when shortfall > 1e-9 * max(1, d_t)

FloatArray = npt.NDArray[np.float64]


@dataclass
class Records:
    """Running totals of one replication (units of each commodity unless said otherwise).

    Attributes:
        demand, served: per consumer row, the (surged) demand and the served quantity of each
            day so far, units/day.
        delivered: per buffer, everything lanes delivered into it (before clipping).
        stock_days: per buffer, the sum over days of end-of-day stock, units x days.
        produced, consumed_demand, consumed_inputs, lost: per commodity.
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

    def __post_init__(self) -> None:
        self.demand = [[] for _ in range(self.n_consumers)]
        self.served = [[] for _ in range(self.n_consumers)]
        self.delivered = [0.0] * self.n_buffers
        self.stock_days = [0.0] * self.n_buffers
        self.produced = [0.0] * self.n_commodities
        self.consumed_demand = [0.0] * self.n_commodities
        self.consumed_inputs = [0.0] * self.n_commodities
        self.lost = [0.0] * self.n_commodities


@dataclass(frozen=True)
class Outcome:
    """One replication's results (resilience.model.outcomes gives the column order).

    Attributes:
        consumer: (R, len(CONSUMER_METRICS)) float64.
        network: (len(NETWORK_METRICS),) float64, currency.
        conservation: (C, len(CONSERVATION_TERMS)) float64, units of each commodity.
        daily_service: (R, H) float64, served / demand per day (1 when demand is 0).
        events: SimPy events processed.
    """

    consumer: FloatArray
    network: FloatArray
    conservation: FloatArray
    daily_service: FloatArray
    events: int


def outcome(
    layout: Layout,
    records: Records,
    *,
    initial_stock: list[float],
    initial_transit: list[float],
    final_stock: list[float],
    final_transit: list[float],
    shipped: list[float],
    timeline: list[Occurrence],
    events: int,
) -> Outcome:
    """Section 7: consumer metrics, network costs and the conservation terms.

    ``final_stock`` is per buffer and ``final_transit`` and ``shipped`` per lane; the initial
    terms are per commodity.
    """
    net = layout.network
    horizon = layout.horizon
    consumers = layout.consumers
    consumer = np.full((len(consumers), len(CONSUMER_METRICS)), np.nan)
    service = np.ones((len(consumers), horizon))
    for r, b in enumerate(consumers):
        row, daily = _consumer_metrics(layout, records, r, b, shipped, timeline)
        consumer[r] = row
        service[r, : len(daily)] = daily

    shipping_total = 0.0
    for lane, quantity in enumerate(shipped):
        shipping_total += layout.lane_cost[lane] * quantity
    holding_total = 0.0
    for b, stock_days in enumerate(records.stock_days):
        holding_total += float(net.node_holding_cost[layout.buffer_node[b]]) * stock_days
    fixed_total = 0.0
    for cost in net.node_fixed_cost.tolist():
        fixed_total += horizon * cost
    network = np.array([shipping_total, holding_total, fixed_total], dtype=np.float64)
    assert len(network) == len(NETWORK_METRICS)

    n_commodities = len(net.commodity_ids)
    stock = [0.0] * n_commodities
    transit = [0.0] * n_commodities
    for b, quantity in enumerate(final_stock):
        stock[layout.buffer_commodity[b]] += quantity
    for lane, quantity in enumerate(final_transit):
        transit[layout.lane_commodity[lane]] += quantity
    terms = {
        "initial_stock": initial_stock,
        "initial_transit": initial_transit,
        "produced": records.produced,
        "consumed_demand": records.consumed_demand,
        "consumed_inputs": records.consumed_inputs,
        "final_stock": stock,
        "final_transit": transit,
        "lost": records.lost,
    }
    conservation = np.array([terms[name] for name in CONSERVATION_TERMS], dtype=np.float64).T
    return Outcome(
        consumer=consumer,
        network=network,
        conservation=np.ascontiguousarray(conservation),
        daily_service=service,
        events=events,
    )


def _consumer_metrics(
    layout: Layout,
    records: Records,
    r: int,
    b: int,
    shipped: list[float],
    timeline: list[Occurrence],
) -> tuple[list[float], list[float]]:
    """One row of CONSUMER_METRICS for consumer row ``r`` (node ``b``), and its daily service."""
    net = layout.network
    total_demand = total_served = loss_area = peak = 0.0
    days_short = 0
    first_short = -1
    service: list[float] = []
    for t, (d, s) in enumerate(zip(records.demand[r], records.served[r], strict=True)):
        total_demand += d
        total_served += s
        shortfall = d - s
        peak = max(peak, shortfall)
        if shortfall > SHORT_DAY_TOLERANCE * max(1.0, d):
            days_short += 1
            if first_short < 0:
                first_short = t
        service.append(s / d if d != 0.0 else 1.0)
        loss_area += 1.0 - service[-1]
    fill_rate = total_served / total_demand if total_demand != 0.0 else 1.0
    tts, ttr, censored = _survive_and_recover(layout, r, first_short, service, timeline)
    shipping = 0.0
    for lane in layout.inbound[b]:
        shipping += layout.lane_cost[lane] * shipped[lane]
    values = {
        "demand": total_demand,
        "served": total_served,
        "shortfall": total_demand - total_served,
        "fill_rate": fill_rate,
        "days_short": float(days_short),
        "peak_shortfall": peak,
        "tts": tts,
        "ttr": ttr,
        "censored": censored,
        "loss_area": loss_area,
        "procurement_cost": float(net.commodity_price[layout.node_commodity[b]])
        * records.delivered[b],
        "shipping_cost": shipping,
        "holding_cost": float(net.node_holding_cost[b]) * records.stock_days[b],
    }
    return [values[name] for name in CONSUMER_METRICS], service


def _survive_and_recover(
    layout: Layout, r: int, t_f: int, service: list[float], timeline: list[Occurrence]
) -> tuple[float, float, float]:
    """(TTS, TTR, censored) of section 7.1; ``t_f = -1`` when no day is short."""
    if t_f < 0:
        return math.nan, math.nan, 0.0
    onset = _onset(layout, r, timeline, t_f)
    theta = layout.network.recovery_threshold
    horizon = len(service)
    t_low = next((t for t in range(t_f, horizon) if service[t] < theta), None)
    if t_low is None:
        return float(t_f - onset), float(t_f + 1 - onset), 0.0
    t_rec = next((t for t in range(t_low + 1, horizon) if service[t] >= theta), None)
    if t_rec is None:
        return float(t_f - onset), float(horizon - onset), 1.0
    return float(t_f - onset), float(t_rec - onset), 0.0


def _onset(layout: Layout, r: int, timeline: list[Occurrence], t_f: int) -> int:
    """The onset of consumer row ``r``'s first short day ``t_f`` (section 7.1)."""
    tables = layout.tables
    affecting = []
    for occurrence in timeline:
        d = layout.disruption_row.get(occurrence.source)
        if d is not None:
            affects = bool(tables.dis_affects[r, d])
        else:  # a hazard event: a node occurrence
            affects = bool(tables.upstream_node[r, occurrence.target])
        if affects:
            affecting.append(occurrence)
    in_effect = [occ.a for occ in affecting if occ.in_effect(t_f)]
    if in_effect:
        return min(in_effect)
    earlier = [occ.a for occ in affecting if occ.a < t_f]
    if earlier:
        return max(earlier)
    return 0  # no affecting occurrence is in effect on t_f or starts before it
