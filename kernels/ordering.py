"""Ordering (phase 5) and normal allocation (phase 6a), docs/model.md 5.5-5.6.

`ordering` writes each ordering buffer's inventory position and order-up-to order (B, W, units).
`allocation` turns orders into lane requests (L, W, units/day) by the sourcing shares, moved to
alternates after a lane's switching delay, then fills them at each supplier: pro-rata within a
rank, ranks in priority order, writing ``filled`` (L, W) and ``toward`` (B, W).
"""

from __future__ import annotations

import math

from kernels._jit import jit_phase
from kernels.codes import STORAGE
from kernels.records import Factors, NetworkArrays, Scratch, Stocks, Tables


@jit_phase
def ordering(net: NetworkArrays, tab: Tables, sto: Stocks) -> None:
    """Phase 5: inventory positions over every inbound lane and order-up-to orders (section 5.5)."""
    buffer_target = net.buffer_target
    lane_buffer = net.lane_buffer
    group_lanes = tab.group_lanes
    group_ptr = tab.group_ptr
    order_buffers = tab.order_buffers
    release_lanes = tab.release_lanes
    sharing_lanes = tab.sharing_lanes
    order = sto.order
    position = sto.position
    stock = sto.stock
    transit = sto.transit
    W = sto.stock.shape[1]
    for i in range(order_buffers.shape[0]):
        b = order_buffers[i]
        target = buffer_target[b]
        for w in range(W):
            position[b, w] = stock[b, w]
        for j in range(group_ptr[i], group_ptr[i + 1]):
            lane = group_lanes[j]
            for w in range(W):
                position[b, w] += transit[lane, w]
        for w in range(W):
            order[b, w] = max(0.0, target - position[b, w])
    # Release and sharing lanes also count in a consumer's position (section 5.5).
    for i in range(release_lanes.shape[0]):
        lane = release_lanes[i]
        b = lane_buffer[lane]
        for w in range(W):
            position[b, w] += transit[lane, w]
            order[b, w] = max(0.0, buffer_target[b] - position[b, w])
    for i in range(sharing_lanes.shape[0]):
        lane = sharing_lanes[i]
        b = lane_buffer[lane]
        for w in range(W):
            position[b, w] += transit[lane, w]
            order[b, w] = max(0.0, buffer_target[b] - position[b, w])


@jit_phase
def allocation(net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, scr: Scratch) -> None:
    """Phase 6a: effective shares with switching, requests, and each supplier's allocation (section
    5.6).
    """
    lane_buffer = net.lane_buffer
    lane_capacity = net.lane_capacity
    lane_share = net.lane_share
    lane_switch_delay = net.lane_switch_delay
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
    W = sto.stock.shape[1]
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
                if math.isinf(capacity):
                    for w in range(W):
                        request[lane, w] = phi[lane, w] * (order[b, w] * share)
                else:
                    for w in range(W):
                        request[lane, w] = min(order[b, w] * share, capacity * phi[lane, w])
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
                order_share = order[b, w] * share
                if unbounded:
                    request[lane, w] = phi[lane, w] * order_share
                else:
                    request[lane, w] = min(order_share, capacity * phi[lane, w])
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
        if single_rank:
            # Pro-rata (one rank): fill = request * min(1, available / total).
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
