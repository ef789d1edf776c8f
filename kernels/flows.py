"""Material flows: the warm start, arrivals (phase 2), production (phase 3) and shipping (7).

All quantities are units of a commodity per day, per replication (the last axis, W). Written in
place: the `Stocks` record's ``stock`` (B, W), ``pipe`` (P, W) rings, ``transit`` (L, W) and ring
``cursor`` (L,), and the `Metrics` record's procurement, shipping, produced, used-input and lost
sums (docs/model.md 5.2, 5.3, 5.8).
"""

from __future__ import annotations

import math

from kernels._jit import jit_phase
from kernels.codes import PROCESSOR, SOURCE
from kernels.prefetch import LANES_AHEAD, prefetch_row
from kernels.records import Factors, Metrics, NetworkArrays, Scratch, Stocks, Tables


@jit_phase
def warm_start(net: NetworkArrays, tab: Tables, sto: Stocks, W: int) -> None:
    """Day 0 (section 2.6): every buffer holds its initial stock and every lane carries its
    initial flow (units/day) on each of its lead-time days, in ``stock``, ``pipe`` and ``transit``;
    every buffer's order-up-to position ``target`` starts at its undisrupted ``T_b``.
    """
    pipe_ptr = tab.pipe_ptr
    lane_lead_time = net.lane_lead_time
    for b in range(net.buffer_node.shape[0]):
        for w in range(W):
            sto.stock[b, w] = net.buffer_initial[b]
            sto.target[b, w] = net.buffer_target[b]
    for lane in range(net.lane_from.shape[0]):
        flow = net.lane_initial_flow[lane]
        if flow > 0.0:
            size = pipe_ptr[lane + 1] - pipe_ptr[lane]
            for d in range(lane_lead_time[lane]):
                slot = pipe_ptr[lane] + d % size
                for w in range(W):
                    sto.pipe[slot, w] += flow
            for w in range(W):
                sto.transit[lane, w] = flow * lane_lead_time[lane]


@jit_phase
def arrivals(
    net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, met: Metrics, W: int
) -> None:
    """Phase 2: deliver what is due (a lane disruption holds its share), then clip at capacity
    (section 5.2).
    """
    B = net.buffer_node.shape[0]
    L = net.lane_from.shape[0]
    buffer_capacity = net.buffer_capacity
    buffer_commodity = net.buffer_commodity
    commodity_price = net.commodity_price
    lane_buffer = net.lane_buffer
    lane_commodity = net.lane_commodity
    lane_consumer = tab.lane_consumer
    pipe_ptr = tab.pipe_ptr
    g_lane = fac.g_lane
    lane_dirty = fac.lane_dirty
    cursor = sto.cursor
    pipe = sto.pipe
    stock = sto.stock
    transit = sto.transit
    lost = met.lost
    m_proc = met.procurement
    for lane in range(L):
        soon = lane + LANES_AHEAD
        if soon < L:
            prefetch_row(pipe, pipe_ptr[soon] + cursor[soon], 1)
        size = pipe_ptr[lane + 1] - pipe_ptr[lane]
        here = cursor[lane]
        slot = pipe_ptr[lane] + here
        next_slot = pipe_ptr[lane] + (here + 1 if here + 1 < size else 0)
        b = lane_buffer[lane]
        r = lane_consumer[lane]
        price = commodity_price[lane_commodity[lane]]
        if lane_dirty[lane]:
            # A lane disruption holds the fraction 1 - g of what is due (section 5.2).
            for w in range(W):
                due = pipe[slot, w]
                deliver = g_lane[lane, w] * due
                carry = due - deliver
                pipe[slot, w] = 0.0
                pipe[next_slot, w] += carry
                stock[b, w] += deliver
                transit[lane, w] -= deliver
                if r >= 0:
                    m_proc[r, w] += price * deliver
        elif r >= 0:
            for w in range(W):
                due = pipe[slot, w]
                pipe[slot, w] = 0.0
                stock[b, w] += due
                transit[lane, w] -= due
                m_proc[r, w] += price * due
        else:
            for w in range(W):
                due = pipe[slot, w]
                pipe[slot, w] = 0.0
                stock[b, w] += due
                transit[lane, w] -= due
    for b in range(B):
        cap = buffer_capacity[b]
        if math.isinf(cap):
            continue
        c = buffer_commodity[b]
        for w in range(W):
            if stock[b, w] > cap:
                lost[c, w] += stock[b, w] - cap
                stock[b, w] = cap


@jit_phase
def production(
    net: NetworkArrays, fac: Factors, sto: Stocks, met: Metrics, scr: Scratch, W: int
) -> None:
    """Phase 3: sources and processors produce within capacity, inputs and stock room (section
    5.3).
    """
    N = net.node_kind.shape[0]
    bom_commodity = net.bom_commodity
    bom_per_unit = net.bom_per_unit
    bom_ptr = net.bom_ptr
    buffer_capacity = net.buffer_capacity
    node_capacity = net.node_capacity
    node_commodity = net.node_commodity
    node_kind = net.node_kind
    f_node = fac.f_node
    stock = sto.stock
    produced = met.produced
    used_inputs = met.used_inputs
    scratch_a = scr.a
    for n in range(N):
        kind = node_kind[n]
        if kind != SOURCE and kind != PROCESSOR:
            continue
        cap = buffer_capacity[n]
        capacity = node_capacity[n]
        c = node_commodity[n]
        m0 = bom_ptr[n]
        m1 = bom_ptr[n + 1]
        for w in range(W):
            scratch_a[w] = min(capacity * f_node[n, w], cap - stock[n, w])
        for m in range(m0, m1):
            per_unit = bom_per_unit[m]
            for w in range(W):
                scratch_a[w] = min(scratch_a[w], stock[N + m, w] / per_unit)
        for w in range(W):
            if scratch_a[w] < 0.0:
                scratch_a[w] = 0.0
        for m in range(m0, m1):
            per_unit = bom_per_unit[m]
            input_commodity = bom_commodity[m]
            for w in range(W):
                stock[N + m, w] -= per_unit * scratch_a[w]
                used_inputs[input_commodity, w] += per_unit * scratch_a[w]
        for w in range(W):
            stock[n, w] += scratch_a[w]
            produced[c, w] += scratch_a[w]


@jit_phase
def shipping(
    net: NetworkArrays, tab: Tables, fac: Factors, sto: Stocks, met: Metrics, t: int, W: int
) -> None:
    """Phase 7: filled quantities leave their suppliers into the lanes' rings, direct and by
    detour; advance the ring cursors (section 5.8).
    """
    L = net.lane_from.shape[0]
    lane_cost = net.lane_cost
    lane_from = net.lane_from
    lane_lead_time = net.lane_lead_time
    lane_consumer = tab.lane_consumer
    pipe_ptr = tab.pipe_ptr
    detour_factor = fac.detour_factor
    extra = fac.extra
    lane_touched = fac.lane_touched
    lic = fac.lic
    x_lane = fac.x_lane
    cursor = sto.cursor
    filled = sto.filled
    pipe = sto.pipe
    stock = sto.stock
    transit = sto.transit
    m_ship = met.shipping
    ship_total = met.ship_total
    for lane in range(L):
        soon = lane + LANES_AHEAD
        if soon < L:
            # Today's slot of that lane when it goes direct (the usual case).
            ahead = cursor[soon] + lane_lead_time[soon]
            size = pipe_ptr[soon + 1] - pipe_ptr[soon]
            prefetch_row(pipe, pipe_ptr[soon] + (ahead - size if ahead >= size else ahead), 1)
        origin = lane_from[lane]
        base = pipe_ptr[lane]
        size = pipe_ptr[lane + 1] - base
        lead = lane_lead_time[lane]
        cost = lane_cost[lane]
        r = lane_consumer[lane]
        if not lane_touched[lane]:
            # Everything goes direct and arrives after the lead time: one slot for all.
            ahead = cursor[lane] + lead
            slot = base + (ahead - size if ahead >= size else ahead)
            for w in range(W):
                q = filled[lane, w]
                stock[origin, w] -= q
                pipe[slot, w] += q
                transit[lane, w] += q
                ship_total[w] += cost * q
            if r >= 0:
                for w in range(W):
                    m_ship[r, w] += cost * filled[lane, w]
            continue
        for w in range(W):
            q = filled[lane, w]
            if q <= 0.0:
                continue
            stock[origin, w] -= q
            x = x_lane[lane, w]
            den = (1.0 - x) + x * detour_factor[lane, w]
            direct = q * (1.0 - x) / den
            detour = q - direct
            delay = lead + lic[lane, w]
            pipe[base + (t + delay) % size, w] += direct
            if detour > 0.0:
                pipe[base + (t + delay + extra[lane, w]) % size, w] += detour
            transit[lane, w] += q
            ship_total[w] += cost * q
            if r >= 0:
                m_ship[r, w] += cost * q

    for lane in range(L):
        nxt = cursor[lane] + 1
        cursor[lane] = 0 if nxt == pipe_ptr[lane + 1] - pipe_ptr[lane] else nxt
