"""Policies: strategic stockpile release (6b) and allied sharing (6c), docs/model.md 5.7.

Reads consumers' cover (days) and remaining need (units) and writes the release and sharing
lanes' ``request`` and ``filled`` (L, W, units/day) rows of the `Stocks` record.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit, jit_phase
from kernels.records import Factors, NetworkArrays, Scratch, Stocks, Tables


@jit
def through(request: float, capacity: float, phi: float) -> float:
    """What a lane passes of a request (section 5.1, through-capacity)."""
    if math.isinf(capacity):
        return phi * request
    return min(request, capacity * phi)


@jit
def _fill_needs(
    lanes: np.ndarray,
    j0: int,
    j1: int,
    gives: np.ndarray,
    available: np.ndarray,
    total: np.ndarray,
    trigger_days: float,
    cover: np.ndarray,
    need: np.ndarray,
    lane_consumer: np.ndarray,
    lane_capacity: np.ndarray,
    phi: np.ndarray,
    request: np.ndarray,
    filled: np.ndarray,
    W: int,
) -> None:
    """One giver (a stockpile or a donor) fills the needs of the consumers its lanes
    ``lanes[j0:j1]`` reach whose cover is below ``trigger_days``: in full when ``available``
    allows, else pro-rata; each fill is taken off the consumer's remaining need (section 5.7).

    Over the block's W replications at once, lane by lane: ``gives`` (W,) is 1.0 where the giver
    gives today and 0.0 where it does not (there its lanes' fills are 0 and their requests stay
    as they were); ``available`` (W,) is what it can give (units/day); ``total`` (W,) is
    scratch, left holding the pro-rata scale. Each replication's arithmetic is in the order of
    one replication at a time: every ask from the needs before any fill, then the fills taken
    off in lane order.
    """
    for w in range(W):
        total[w] = 0.0
    for j in range(j0, j1):
        lane = lanes[j]
        r = lane_consumer[lane]
        capacity = lane_capacity[lane]
        for w in range(W):
            if gives[w] > 0.0:
                ask = 0.0
                if cover[r, w] < trigger_days:
                    ask = through(need[r, w], capacity, phi[lane, w])
                request[lane, w] = ask
                total[w] += ask
    for w in range(W):
        total[w] = 1.0 if total[w] <= available[w] else available[w] / total[w]
    for j in range(j0, j1):
        lane = lanes[j]
        r = lane_consumer[lane]
        for w in range(W):
            if gives[w] > 0.0:
                give = request[lane, w] * total[w]
                filled[lane, w] = give
                need[r, w] -= give
            else:
                filled[lane, w] = 0.0


@jit_phase
def release_and_sharing(
    net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, scr: Scratch, W: int
) -> None:
    """Phases 6b and 6c: strategic stockpile release, then allied sharing (section 5.7)."""
    R = net.consumers.shape[0]
    buffer_initial = net.buffer_initial
    consumers = net.consumers
    lane_capacity = net.lane_capacity
    node_capacity = net.node_capacity
    node_demand_mean = net.node_demand_mean
    release_max_fraction = net.release_max_fraction
    release_trigger_days = net.release_trigger_days
    sharing_floor_days = net.sharing_floor_days
    sharing_max_fraction = net.sharing_max_fraction
    sharing_trigger_days = net.sharing_trigger_days
    consumer_of_node = tab.consumer_of_node
    lane_consumer = tab.lane_consumer
    release_lanes = tab.release_lanes
    release_nodes = tab.release_nodes
    release_ptr = tab.release_ptr
    sharing_lanes = tab.sharing_lanes
    sharing_nodes = tab.sharing_nodes
    sharing_ptr = tab.sharing_ptr
    f_node = fac.f_node
    phi = fac.phi
    cover = sto.cover
    filled = sto.filled
    need = sto.need
    position = sto.position
    request = sto.request
    stock = sto.stock
    target = sto.target
    toward = sto.toward
    if release_lanes.shape[0] > 0 or sharing_lanes.shape[0] > 0:
        for r in range(R):
            n = consumers[r]
            mu = node_demand_mean[n]
            for w in range(W):
                cover[r, w] = stock[n, w] / mu if mu > 0.0 else math.inf
                need[r, w] = max(0.0, target[n, w] - position[n, w] - toward[n, w])
    # scratch: where the giver gives (1.0 or 0.0), what it can give, and the asks' total.
    gives = scr.a
    available = scr.b
    total = scr.capacity_sum
    for i in range(release_nodes.shape[0]):
        z = release_nodes[i]
        j0 = release_ptr[i]
        j1 = release_ptr[i + 1]
        cap = release_max_fraction * buffer_initial[z]
        for w in range(W):
            limit = node_capacity[z] * f_node[z, w] if f_node[z, w] > 0.0 else 0.0
            gives[w] = 1.0
            available[w] = max(0.0, min(stock[z, w], cap, limit))
        _fill_needs(
            release_lanes, j0, j1, gives, available, total, release_trigger_days, cover, need,
            lane_consumer, lane_capacity, phi, request, filled, W,
        )  # fmt: skip
    for i in range(sharing_nodes.shape[0]):
        donor = sharing_nodes[i]
        donor_row = consumer_of_node[donor]
        j0 = sharing_ptr[i]
        j1 = sharing_ptr[i + 1]
        floor = sharing_floor_days * node_demand_mean[donor]
        for w in range(W):
            # A donor gives only while its own cover is above the floor.
            gives[w] = 1.0 if cover[donor_row, w] > sharing_floor_days else 0.0
            available[w] = max(0.0, sharing_max_fraction * (stock[donor, w] - floor))
        _fill_needs(
            sharing_lanes, j0, j1, gives, available, total, sharing_trigger_days, cover, need,
            lane_consumer, lane_capacity, phi, request, filled, W,
        )  # fmt: skip
