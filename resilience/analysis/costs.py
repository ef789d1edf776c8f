"""What a scenario costs per year, by component: the efficiency side of the analysis.

Two kinds of component (docs/analysis.md, Costs), all in currency per year:

- **operating**, from the simulation (docs/model.md 7.2), scaled from the horizon to 365 days:
  ``procurement`` (price x deliveries to consumers), ``shipping`` (every lane),
  ``holding`` (storage: ``holding_cost`` per unit-day of stock on every buffer) and ``fixed``
  (``fixed_cost_per_day`` of every node);
- **levers**, deterministic, from the compiled Network alone (they do not depend on the random
  draws, so a lever's cost is its price, not noise):

  - ``capital``: ``capital_rate_per_year`` x the value (``price_per_unit``) of the stock every
    buffer holds in normal times: its on-hand target ``r_b * target_days`` (docs/model.md 2.2),
    or for a strategic stockpile, never replenished, its day-0 stock;
  - ``capacity``: ``capacity_cost_per_year`` x ``capacity_per_day`` of every node (reserved or
    domestic capacity is paid for whether it is used or not);
  - ``premium``: ``premium_per_unit`` x the lane's contracted flow ``B_l = min(s_l r_b, K_l)``
    (docs/model.md 2.6) x 365: the premium of a friend-shored or second source on the volume it
    is contracted for; an alternate lane (share 0) has no contracted flow, so its premium is 0 and
    its cost is the capacity kept for it;
  - ``guarantee``: ``guaranteed_per_day`` x (the commodity's price + the lane's premium) x 365,
    paid whether the goods are taken or not. It is counted gross, beside procurement: the
    guarantor (a government, say) pays for the committed volume; a consumer that takes the goods
    still pays their price in procurement;
  - ``sharing``: the allied sharing pact's ``cost_per_year`` (standby shipping, administration).

``total`` is their sum. The policy's cost is the difference of totals between the scenario with
the policy and without it, on common random numbers (`resilience compare`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import numpy.typing as npt

from resilience.model.outcomes import CONSUMER_METRICS, NETWORK_METRICS
from resilience.network.arrays import LANE_MODE_CODES, Network

__all__ = [
    "COST_COMPONENTS",
    "LEVER_COSTS",
    "OPERATING_COSTS",
    "annual_costs",
    "components_of",
    "cost_components",
    "lever_costs",
    "stock_held",
]

FloatArray = npt.NDArray[np.float64]

OPERATING_COSTS = ("procurement", "shipping", "holding", "fixed")
"""Components from the simulation, in currency per year."""

LEVER_COSTS = ("capital", "capacity", "premium", "guarantee", "sharing")
"""Components of the levers, deterministic, in currency per year."""

COST_COMPONENTS = (*OPERATING_COSTS, *LEVER_COSTS, "total")
"""Every component of a scenario's annual cost, in the order they are reported."""

DAYS_PER_YEAR = 365.0


def stock_held(network: Network) -> FloatArray:
    """(B,) units each buffer holds in normal times: a strategic stockpile its day-0 stock, every
    other buffer its on-hand target ``r_b * target_days`` (the order-up-to target less the
    expected pipeline, docs/model.md 2.2)."""
    on_hand = network.buffer_target - network.buffer_reference_rate * network.buffer_pipeline_days
    on_hand = np.where(np.isfinite(on_hand), np.maximum(on_hand, 0.0), 0.0)
    strategic = network.node_strategic[network.buffer_node]
    held: FloatArray = np.where(strategic, network.buffer_initial, on_hand)
    return held


def lever_costs(network: Network) -> dict[str, float]:
    """The deterministic lever components (`LEVER_COSTS`), currency per year."""
    price = network.commodity_price
    capital = network.capital_rate * float(
        (price[network.buffer_commodity] * stock_held(network)).sum()
    )
    priced = network.node_capacity_cost > 0.0  # validation: a priced capacity is finite
    capacity = float((network.node_capacity_cost[priced] * network.node_capacity[priced]).sum())
    normal = network.lane_mode == LANE_MODE_CODES["normal"]
    contracted = np.where(normal, network.lane_initial_flow, 0.0)
    premium = DAYS_PER_YEAR * float((network.lane_premium * contracted).sum())
    guarantee = DAYS_PER_YEAR * float(
        (network.lane_guarantee * (price[network.lane_commodity] + network.lane_premium)).sum()
    )
    return {
        "capital": capital,
        "capacity": capacity,
        "premium": premium,
        "guarantee": guarantee,
        "sharing": network.sharing_cost_per_year,
    }


def cost_components(
    network: Network, consumer: FloatArray, totals: FloatArray
) -> dict[str, FloatArray]:
    """Every component of `COST_COMPONENTS` per replication, currency per year.

    Args:
        consumer: (replications, R, len(CONSUMER_METRICS)) outcomes.
        totals: (replications, len(NETWORK_METRICS)) network-wide cost totals.

    Returns:
        name -> (replications,) float64; the lever components are the same in every replication.
    """
    procurement = consumer[:, :, CONSUMER_METRICS.index("procurement_cost")].sum(axis=1)
    return dict(components_of(network, procurement, lambda metric: totals[:, metric]))


def components_of(
    network: Network, procurement: FloatArray, network_column: Callable[[int], FloatArray]
) -> Iterator[tuple[str, FloatArray]]:
    """`cost_components` one at a time, in `COST_COMPONENTS` order (the total last), from each
    replication's procurement summed over the consumers ((replications,) float64, currency
    over the horizon) and a reader of one column of the network totals (a NETWORK_METRICS
    index -> (replications,)). A streamed run needs at most three columns in memory at once:
    procurement, the running total and the component being yielded."""
    per_year = DAYS_PER_YEAR / network.horizon_days
    total = procurement * per_year
    yield "procurement", total
    total = total.copy()  # the running total, summed in COST_COMPONENTS order
    for name in ("shipping", "holding", "fixed"):
        values = network_column(NETWORK_METRICS.index(f"{name}_cost_total")) * per_year
        total += values
        yield name, values
    for name, value in lever_costs(network).items():
        values = np.full(procurement.shape[0], value)
        total += values
        yield name, values
    yield "total", total


def annual_costs(network: Network, consumer: FloatArray, totals: FloatArray) -> dict[str, float]:
    """The mean over replications of every component, currency per year."""
    return {
        name: float(values.mean())
        for name, values in cost_components(network, consumer, totals).items()
    }
