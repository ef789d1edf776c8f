"""Ordering (phase 5) and normal allocation (phase 6a), docs/model.md 5.5-5.6.

`ordering` writes each ordering buffer's inventory position, today's order-up-to position
(adaptive: it follows detours, licensing delays and surges) and order-up-to order (B, W,
units). `allocation` turns orders into lane requests (L, W, units/day) by the sourcing shares,
moved to alternates after a lane's switching delay and capped by through-capacity, then fills
them at each supplier: ranks in priority order, pro rata within a rank by baseline share or by
request, writing ``filled`` (L, W) and ``toward`` (B, W).
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit, jit_phase
from kernels.codes import STORAGE
from kernels.records import Factors, NetworkArrays, Scratch, Stocks, Tables


@jit
def extra_lead_days(x: float, extra: int, factor: float, lic: int) -> float:
    """Days beyond its lead time a shipment leaving today takes on average (section 5.5): the
    licensing delay plus the detour's extra days times the part that takes the detour."""
    den = (1.0 - x) + x * factor
    if x == 0.0 or extra == 0 or not den > 0.0:
        return float(lic)
    return lic + extra * (x * factor / den)


@jit_phase
def ordering(
    net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, scr: Scratch, W: int
) -> None:
    """Phase 5: inventory positions over every inbound lane, today's order-up-to positions and
    the orders (section 5.5). ``scr.a`` holds a buffer's extra pipeline days ``X_b`` per
    replication while it is computed."""
    buffer_target = net.buffer_target
    buffer_reference_rate = net.buffer_reference_rate
    buffer_pipeline_days = net.buffer_pipeline_days
    lane_buffer = net.lane_buffer
    lane_share = net.lane_share
    adaptive = net.adaptive_ordering > 0.0
    n_nodes = net.node_kind.shape[0]
    consumer_of_node = tab.consumer_of_node
    group_lanes = tab.group_lanes
    group_ptr = tab.group_ptr
    order_buffers = tab.order_buffers
    release_lanes = tab.release_lanes
    sharing_lanes = tab.sharing_lanes
    detour_factor = fac.detour_factor
    extra = fac.extra
    lane_touched = fac.lane_touched
    lic = fac.lic
    surge = fac.surge
    x_lane = fac.x_lane
    order = sto.order
    position = sto.position
    stock = sto.stock
    target_now = sto.target
    transit = sto.transit
    extra_days = scr.a
    for i in range(order_buffers.shape[0]):
        b = order_buffers[i]
        target = buffer_target[b]
        j0 = group_ptr[i]
        j1 = group_ptr[i + 1]
        for w in range(W):
            position[b, w] = stock[b, w]
        for j in range(j0, j1):
            lane = group_lanes[j]
            for w in range(W):
                position[b, w] += transit[lane, w]
        r = consumer_of_node[b] if b < n_nodes else -1
        shifted = adaptive and r >= 0  # a consumer's target follows its surge
        if adaptive:
            for w in range(W):
                extra_days[w] = 0.0
            # X_b = sum_l s_l * extra_lead_days_l; an untouched lane (no closure, no licensing
            # delay in any replication) adds 0.
            for j in range(j0, j1):
                lane = group_lanes[j]
                if not lane_touched[lane]:
                    continue
                shifted = True
                share = lane_share[lane]
                for w in range(W):
                    extra_days[w] += share * extra_lead_days(
                        x_lane[lane, w], extra[lane, w], detour_factor[lane, w], lic[lane, w]
                    )
        if shifted:
            rate = buffer_reference_rate[b]
            pipeline = buffer_pipeline_days[b]
            for w in range(W):
                m = surge[r, w] if r >= 0 else 1.0
                x_b = extra_days[w]
                t_b = target
                if not (m == 1.0 and x_b == 0.0):
                    t_b = target + rate * ((m - 1.0) * pipeline + m * x_b)
                target_now[b, w] = t_b
                order[b, w] = max(0.0, t_b - position[b, w])
        else:
            for w in range(W):
                target_now[b, w] = target
                order[b, w] = max(0.0, target - position[b, w])
    # Release and sharing lanes also count in a consumer's position (section 5.5).
    for i in range(release_lanes.shape[0]):
        lane = release_lanes[i]
        b = lane_buffer[lane]
        for w in range(W):
            position[b, w] += transit[lane, w]
            order[b, w] = max(0.0, target_now[b, w] - position[b, w])
    for i in range(sharing_lanes.shape[0]):
        lane = sharing_lanes[i]
        b = lane_buffer[lane]
        for w in range(W):
            position[b, w] += transit[lane, w]
            order[b, w] = max(0.0, target_now[b, w] - position[b, w])


@jit
def through_normal(request: float, capacity: float, flow: float, phi: float) -> float:
    """What a normal lane passes of a request (section 5.1, through-capacity): ``min(y, K_l)``
    undisrupted, at most ``phi_l`` times its undisrupted ``flow`` when disrupted."""
    limit = phi * flow if phi < 1.0 else capacity
    return min(request, limit)


@jit
def split_by_share(
    lanes: np.ndarray,
    j0: int,
    j1: int,
    w: int,
    available: float,
    request: np.ndarray,
    flow: np.ndarray,
    filled: np.ndarray,
) -> None:
    """Divide ``available`` among ``lanes[j0:j1]`` by baseline share (section 5.6), for
    replication ``w``: water-filling over the lanes with an undisrupted ``flow`` (a lane whose
    request fits its share of what remains gets its request, the rest is shared again), then
    what is left to lanes without one, by request. ``filled`` marks pending lanes -1 and lanes
    met this round -2 while it works."""
    remaining = available
    pending = 0
    for j in range(j0, j1):
        lane = lanes[j]
        if request[lane, w] > 0.0 and flow[lane] > 0.0:
            filled[lane, w] = -1.0
            pending += 1
        else:
            filled[lane, w] = 0.0
    while pending > 0:
        weight = 0.0
        for j in range(j0, j1):
            lane = lanes[j]
            if filled[lane, w] == -1.0:
                weight += flow[lane]
        level = remaining / weight
        met = 0
        for j in range(j0, j1):
            lane = lanes[j]
            if filled[lane, w] == -1.0 and request[lane, w] <= level * flow[lane]:
                filled[lane, w] = -2.0
                met += 1
        if met == 0:
            for j in range(j0, j1):
                lane = lanes[j]
                if filled[lane, w] == -1.0:
                    filled[lane, w] = level * flow[lane]
            remaining = 0.0
            break
        for j in range(j0, j1):
            lane = lanes[j]
            if filled[lane, w] == -2.0:
                filled[lane, w] = request[lane, w]
                remaining = max(0.0, remaining - request[lane, w])
        pending -= met
    spot_total = 0.0
    for j in range(j0, j1):
        lane = lanes[j]
        if not flow[lane] > 0.0:
            spot_total += request[lane, w]
    for j in range(j0, j1):
        lane = lanes[j]
        if not flow[lane] > 0.0:
            if spot_total <= remaining:
                filled[lane, w] = request[lane, w]
            else:
                filled[lane, w] = request[lane, w] * remaining / spot_total


@jit_phase
def allocation(
    net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, scr: Scratch, W: int
) -> None:
    """Phase 6a: effective shares with switching, requests, and each supplier's allocation (section
    5.6).
    """
    lane_buffer = net.lane_buffer
    lane_capacity = net.lane_capacity
    lane_initial_flow = net.lane_initial_flow
    lane_share = net.lane_share
    lane_switch_delay = net.lane_switch_delay
    by_share = net.allocation_by_share > 0.0
    node_capacity = net.node_capacity
    node_kind = net.node_kind
    group_lanes = tab.group_lanes
    group_ptr = tab.group_ptr
    order_buffers = tab.order_buffers
    release_lanes = tab.release_lanes
    sharing_lanes = tab.sharing_lanes
    supplier_lanes = tab.supplier_lanes
    supplier_nodes = tab.supplier_nodes
    supplier_ptr = tab.supplier_ptr
    supplier_rank = tab.supplier_rank
    avail = fac.avail
    counter = fac.counter
    f_node = fac.f_node
    lane_switching = fac.lane_switching
    phi = fac.phi
    filled = sto.filled
    order = sto.order
    request = sto.request
    stock = sto.stock
    toward = sto.toward
    capacity_sum = scr.capacity_sum
    handed = scr.handed
    n_receivers = scr.n_receivers
    n_unbounded = scr.n_unbounded
    scratch_a = scr.a
    scratch_b = scr.b
    for i in range(order_buffers.shape[0]):
        b = order_buffers[i]
        j0 = group_ptr[i]
        j1 = group_ptr[i + 1]
        calm = True
        for j in range(j0, j1):
            calm &= not lane_switching[group_lanes[j]]
        if calm:
            # No lane of the group is past its switching delay in any replication, so no share
            # moves (the general path below would give each lane its base share): as given.
            for j in range(j0, j1):
                lane = group_lanes[j]
                share = lane_share[lane]
                capacity = lane_capacity[lane]
                flow = lane_initial_flow[lane]
                for w in range(W):
                    request[lane, w] = through_normal(
                        order[b, w] * share, capacity, flow, phi[lane, w]
                    )
            continue
        # Receivers (counter 0) take over the impaired part of switched lanes (counter >
        # delay), by capacity or equally among unbounded receivers (section 5.6).
        for w in range(W):
            n_receivers[w] = 0.0
            n_unbounded[w] = 0.0
            capacity_sum[w] = 0.0
            handed[w] = 0.0
        for j in range(j0, j1):
            lane = group_lanes[j]
            capacity = lane_capacity[lane]
            unbounded = math.isinf(capacity)
            for w in range(W):
                receives = counter[lane, w] == 0
                n_receivers[w] += 1.0 if receives else 0.0
                n_unbounded[w] += 1.0 if receives and unbounded else 0.0
                capacity_sum[w] += capacity if receives and not unbounded else 0.0
        for j in range(j0, j1):
            lane = group_lanes[j]
            delay = lane_switch_delay[lane]
            share = lane_share[lane]
            for w in range(W):
                switched = counter[lane, w] > delay and n_receivers[w] > 0.0
                handed[w] += share * (1.0 - avail[lane, w]) if switched else 0.0
        for j in range(j0, j1):
            lane = group_lanes[j]
            delay = lane_switch_delay[lane]
            base_share = lane_share[lane]
            capacity = lane_capacity[lane]
            unbounded = math.isinf(capacity)
            for w in range(W):
                c_l = counter[lane, w]
                share = base_share
                if c_l > delay and n_receivers[w] > 0.0:
                    share -= base_share * (1.0 - avail[lane, w])
                elif c_l == 0 and handed[w] > 0.0:
                    if n_unbounded[w] > 0.0:
                        share += handed[w] / n_unbounded[w] if unbounded else 0.0
                    else:
                        share += handed[w] * capacity / capacity_sum[w]
                request[lane, w] = through_normal(
                    order[b, w] * share, capacity, lane_initial_flow[lane], phi[lane, w]
                )
    for i in range(supplier_nodes.shape[0]):
        n = supplier_nodes[i]
        j0 = supplier_ptr[i]
        j1 = supplier_ptr[i + 1]
        storage = node_kind[n] == STORAGE
        # scratch_a: available stock; scratch_b: total request.
        for w in range(W):
            # max(0, .): pro-rata fills may overshoot a stock by an ulp (docs/model.md 5.6).
            available = max(0.0, stock[n, w])
            if storage:
                limit = node_capacity[n] * f_node[n, w] if f_node[n, w] > 0.0 else 0.0
                available = min(available, limit)
            scratch_a[w] = available
            scratch_b[w] = 0.0
        for j in range(j0, j1):
            lane = supplier_lanes[j]
            for w in range(W):
                scratch_b[w] += request[lane, w]
        single_rank = supplier_rank[j0] == supplier_rank[j1 - 1]
        if single_rank and by_share:
            any_short = False
            for w in range(W):
                any_short |= scratch_b[w] > scratch_a[w]
            if not any_short:  # every request fits in every replication: the usual day
                for j in range(j0, j1):
                    lane = supplier_lanes[j]
                    for w in range(W):
                        filled[lane, w] = request[lane, w]
                continue
            # Vector pass for the usual cases: every request fits, or no contracted buyer's
            # request fits its first-round entitlement (then each gets that entitlement and
            # buyers without a contract get 0, as `split_by_share` would give). Other
            # replications take `split_by_share`. weight: sum of the contracted flows that
            # ask; level: the first round's water level (-1 where the stock suffices), one
            # division per replication rather than per lane; n_met: contracted requests that
            # fit their entitlement level * flow.
            weight = capacity_sum
            n_met = n_unbounded
            for w in range(W):
                weight[w] = 0.0
                n_met[w] = 0.0
            for j in range(j0, j1):
                lane = supplier_lanes[j]
                flow = lane_initial_flow[lane]
                if flow > 0.0:
                    for w in range(W):
                        weight[w] += flow if request[lane, w] > 0.0 else 0.0
            level = handed
            for w in range(W):
                short = scratch_b[w] > scratch_a[w] and weight[w] > 0.0
                level[w] = scratch_a[w] / weight[w] if short else -1.0
            for j in range(j0, j1):
                lane = supplier_lanes[j]
                flow = lane_initial_flow[lane]
                if flow > 0.0:
                    for w in range(W):
                        asks = request[lane, w] > 0.0
                        fits = asks and request[lane, w] <= level[w] * flow
                        n_met[w] += 1.0 if fits else 0.0
            for j in range(j0, j1):
                lane = supplier_lanes[j]
                flow = lane_initial_flow[lane]
                for w in range(W):
                    # One unconditional store, so that the loop vectorises; replications left
                    # to split_by_share below are overwritten there.
                    asks = flow > 0.0 and request[lane, w] > 0.0
                    entitled = level[w] * flow if asks else 0.0
                    fits = scratch_b[w] <= scratch_a[w]
                    filled[lane, w] = request[lane, w] if fits else entitled
            for w in range(W):
                if scratch_b[w] > scratch_a[w] and not (n_met[w] == 0.0 and weight[w] > 0.0):
                    split_by_share(
                        supplier_lanes, j0, j1, w, scratch_a[w], request, lane_initial_flow,
                        filled,
                    )  # fmt: skip
            continue
        if single_rank:
            # Pro-rata by request (one rank): fill = request * min(1, available / total).
            for w in range(W):
                total = scratch_b[w]
                scratch_b[w] = 1.0 if total <= scratch_a[w] else scratch_a[w] / total
            for j in range(j0, j1):
                lane = supplier_lanes[j]
                for w in range(W):
                    filled[lane, w] = request[lane, w] * scratch_b[w]
            continue
        for w in range(W):
            available = scratch_a[w]
            if scratch_b[w] <= available:
                for j in range(j0, j1):
                    lane = supplier_lanes[j]
                    filled[lane, w] = request[lane, w]
            else:
                # Ranks in ascending order, each filled in full while stock lasts.
                remaining = available
                j = j0
                while j < j1:
                    rank = supplier_rank[j]
                    k = j
                    group = 0.0
                    while k < j1 and supplier_rank[k] == rank:
                        group += request[supplier_lanes[k], w]
                        k += 1
                    if group <= remaining:
                        for q in range(j, k):
                            lane = supplier_lanes[q]
                            filled[lane, w] = request[lane, w]
                        remaining -= group
                    elif by_share:
                        split_by_share(
                            supplier_lanes, j, k, w, remaining, request, lane_initial_flow,
                            filled,
                        )  # fmt: skip
                        remaining = 0.0
                    else:
                        scale = remaining / group if group > 0.0 else 0.0
                        for q in range(j, k):
                            lane = supplier_lanes[q]
                            filled[lane, w] = request[lane, w] * scale
                        remaining = 0.0
                    j = k
    if release_lanes.shape[0] > 0 or sharing_lanes.shape[0] > 0:
        # Q_b of section 5.7: today's normal fills toward each buffer (release and sharing
        # lanes still hold yesterday's fills here; they are rewritten below).
        toward[:, :] = 0.0
        for j in range(supplier_lanes.shape[0]):
            lane = supplier_lanes[j]
            b = lane_buffer[lane]
            for w in range(W):
                toward[b, w] += filled[lane, w]
