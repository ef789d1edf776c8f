"""What a network is: counts, capacity by country and commodity, and each consumer's exposure.

A consumer's exposure is where its normal supply comes from, by sourcing shares: the share made
in each country (the country of the source or processor that made the goods, looking through
storage nodes) and the share that passes each chokepoint on the way. Alternates (share 0),
stockpile release and sharing lanes are not part of normal supply and are left out.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from resilience.network.arrays import LANE_MODE_CODES, NODE_KIND_CODES, Network

__all__ = ["ConsumerExposure", "consumer_exposures"]


@dataclass(frozen=True)
class ConsumerExposure:
    """Shares (0..1) of one consumer's normal supply.

    Attributes:
        consumer: the consumer node id.
        commodity: the commodity id.
        by_country: country id -> share of supply made there.
        by_chokepoint: chokepoint id -> share of supply passing it.
    """

    consumer: str
    commodity: str
    by_country: dict[str, float]
    by_chokepoint: dict[str, float]


def consumer_exposures(network: Network) -> list[ConsumerExposure]:
    """The exposure of every consumer, in node order."""
    return [
        _exposure(network, int(row))
        for row in range(network.n_nodes)
        if network.node_kind[row] == NODE_KIND_CODES["consumer"]
    ]


def _exposure(network: Network, consumer: int) -> ConsumerExposure:
    by_country: dict[str, float] = defaultdict(float)
    by_choke: dict[str, float] = defaultdict(float)
    storage = NODE_KIND_CODES["storage"]
    normal = LANE_MODE_CODES["normal"]
    # Depth-first over (buffer, weight, chokepoints so far, nodes visited) frames.
    stack: list[tuple[int, float, frozenset[int], frozenset[int]]] = [
        (consumer, 1.0, frozenset(), frozenset({consumer}))
    ]
    while stack:
        buffer, weight, chokes, visited = stack.pop()
        start, end = network.buffer_lane_ptr[buffer], network.buffer_lane_ptr[buffer + 1]
        for lane in network.buffer_lanes[start:end]:
            share = float(network.lane_share[lane])
            if network.lane_mode[lane] != normal or share <= 0.0:
                continue
            origin = int(network.lane_from[lane])
            passed = chokes | {
                int(k)
                for k in network.lane_chokes[
                    network.lane_choke_ptr[lane] : network.lane_choke_ptr[lane + 1]
                ]
            }
            flow = weight * share
            if network.node_kind[origin] == storage and origin not in visited:
                stack.append((origin, flow, passed, visited | {origin}))
                continue
            by_country[network.country_ids[network.node_country[origin]]] += flow
            for k in passed:
                by_choke[network.chokepoint_ids[k]] += flow
    return ConsumerExposure(
        consumer=network.node_ids[consumer],
        commodity=network.commodity_ids[network.node_commodity[consumer]],
        by_country=dict(sorted(by_country.items(), key=lambda item: -item[1])),
        by_chokepoint=dict(sorted(by_choke.items(), key=lambda item: -item[1])),
    )
