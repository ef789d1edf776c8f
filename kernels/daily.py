"""The daily model of docs/model.md as a compiled kernel over blocks of replications.

Layout: every state array has the replications of a block as its LAST (contiguous) axis,
``state[element, w]`` for ``w < BLOCK``, so that the per-replication arithmetic of a phase is an
inner loop the compiler vectorises. A block is a pure function of the network arrays, the seed
and its replication indices; `simulate` runs blocks in parallel (``prange``), each block writing
only its own rows of the outputs, so results are bit-identical whatever the thread count or the
batch size.

Everything here is arrays and scalars. The wrapper in ``resilience.engines.kernel`` validates,
derives the static index tables (groups, suppliers, release and sharing lanes, upstream masks) and
allocates the outputs. Shapes use the symbols of docs/network.md; ``W`` is ``BLOCK``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kernels._jit import jit
from kernels.draws import draw_days, round_days
from kernels.rng import uniform

__all__ = ["BLOCK", "N_CONSERVATION", "N_CONSUMER_METRICS", "N_NETWORK_METRICS", "simulate"]

BLOCK = 64
"""Replications per block: the width of the vectorised inner loops. Measured on the reference
network (50 nodes, 100 lanes, hazards and a closure; one thread): 16 -> 84, 32 -> 92, 64 -> 155,
128 -> 179, 256 -> 158 million lane-days per second. 64 keeps a block's state small enough for
networks of thousands of lanes (state grows as lanes x BLOCK per thread)."""

N_CONSUMER_METRICS = 13
N_NETWORK_METRICS = 3
N_CONSERVATION = 8

# Column order of the consumer outputs (resilience.model.outcomes.CONSUMER_METRICS).
_DEMAND, _SERVED, _SHORTFALL, _FILL, _DAYS_SHORT, _PEAK = 0, 1, 2, 3, 4, 5
_TTS, _TTR, _CENSORED, _AREA, _PROCUREMENT, _SHIPPING, _HOLDING = 6, 7, 8, 9, 10, 11, 12
# Conservation terms (resilience.model.outcomes.CONSERVATION_TERMS).
_C_INIT, _C_INIT_TRANSIT, _C_PRODUCED, _C_DEMAND, _C_INPUTS, _C_FINAL, _C_FINAL_TRANSIT = (
    0, 1, 2, 3, 4, 5, 6,
)  # fmt: skip
_C_LOST = 7

_SOURCE, _PROCESSOR, _STORAGE, _CONSUMER = 0, 1, 2, 3
_NODE, _LANE, _CHOKE, _EXPORT, _SURGE = 0, 1, 2, 3, 4
_SHORT_TOLERANCE = 1e-9


@jit
def _level(t: int, a: int, e: int, severity: float, ramp: int) -> float:
    """Level of an occurrence on day t (section 3.2)."""
    if t < a:
        return 0.0
    if t < e:
        return severity
    u = t - e
    if u < ramp:
        return severity * (ramp - u) / (ramp + 1.0)
    return 0.0


@jit
def _thru(request: float, capacity: float, phi: float) -> float:
    """What a lane passes of a request (section 5.1, through-capacity)."""
    if math.isinf(capacity):
        return phi * request
    return min(request, capacity * phi)


@jit
def _start(
    B: Any,
    D: Any,
    H: Any,
    L: Any,
    buffer_initial: Any,
    dis_a: Any,
    dis_duration: Any,
    dis_e: Any,
    dis_on: Any,
    dis_probability: Any,
    dis_start: Any,
    dis_stream: Any,
    dist_cdf: Any,
    dist_kind: Any,
    dist_params: Any,
    dist_values: Any,
    dist_values_ptr: Any,
    haz_a: Any,
    haz_duration: Any,
    haz_e: Any,
    haz_of_pair: Any,
    haz_pair_stream: Any,
    haz_rate_per_day: Any,
    lane_initial_flow: Any,
    lane_lead_time: Any,
    pipe: Any,
    pipe_ptr: Any,
    rep0: Any,
    seed: Any,
    stock: Any,
    transit: Any,
) -> None:
    """Day 0: warm stock and pipelines; sample the replications' scenario disruptions and first
    hazard events (sections 2.6, 4.3).
    """
    W = BLOCK
    for b in range(B):
        for w in range(W):
            stock[b, w] = buffer_initial[b]
    for lane in range(L):
        flow = lane_initial_flow[lane]
        if flow > 0.0:
            size = pipe_ptr[lane + 1] - pipe_ptr[lane]
            for d in range(lane_lead_time[lane]):
                slot = pipe_ptr[lane] + d % size
                for w in range(W):
                    pipe[slot, w] += flow
            for w in range(W):
                transit[lane, w] = flow * lane_lead_time[lane]
    for w in range(W):
        rep = np.uint64(rep0 + w)
        for d in range(D):
            key = dis_stream[d]
            if uniform(seed, rep, key, np.uint64(0)) < dis_probability[d]:
                dis_on[d, w] = True
                a = round_days(
                    draw_days(dis_start[d], dist_kind, dist_params, dist_values_ptr,
                              dist_values, dist_cdf, seed, rep, key, 1)
                )  # fmt: skip
                dis_a[d, w] = a
                dis_e[d, w] = a + round_days(
                    draw_days(dis_duration[d], dist_kind, dist_params, dist_values_ptr,
                              dist_values, dist_cdf, seed, rep, key, 3)
                )  # fmt: skip
        for h in range(H):
            z = haz_of_pair[h]
            key = haz_pair_stream[h]
            up = -math.log(uniform(seed, rep, key, np.uint64(0))) / haz_rate_per_day[z]
            a = round_days(up)
            haz_a[h, w] = a
            haz_e[h, w] = a + round_days(
                draw_days(haz_duration[z], dist_kind, dist_params, dist_values_ptr, dist_values,
                          dist_cdf, seed, rep, key, 1)
            )  # fmt: skip


@jit
def _phase1_states(
    D: Any,
    H: Any,
    K: Any,
    L: Any,
    avail: Any,
    choke_any: Any,
    choke_capacity_factor: Any,
    choke_detour_days: Any,
    closed: Any,
    consumer_of_node: Any,
    counter: Any,
    detour_factor: Any,
    dis_a: Any,
    dis_e: Any,
    dis_kind: Any,
    dis_licensing_delay: Any,
    dis_on: Any,
    dis_recovery_days: Any,
    dis_severity: Any,
    dis_target: Any,
    dist_cdf: Any,
    dist_kind: Any,
    dist_params: Any,
    dist_values: Any,
    dist_values_ptr: Any,
    export_lanes: Any,
    export_ptr: Any,
    extra: Any,
    f_node: Any,
    g_lane: Any,
    gx_lane: Any,
    haz_a: Any,
    haz_duration: Any,
    haz_e: Any,
    haz_j: Any,
    haz_last: Any,
    haz_nodes: Any,
    haz_of_pair: Any,
    haz_pair_stream: Any,
    haz_rate_per_day: Any,
    haz_recovery_days: Any,
    haz_severity: Any,
    lane_choke_ptr: Any,
    lane_chokes: Any,
    lane_detour_days: Any,
    lane_detour_factor: Any,
    lane_dirty: Any,
    lane_from: Any,
    lane_impaired: Any,
    lane_touched: Any,
    lic: Any,
    lic_any: Any,
    phi: Any,
    rep0: Any,
    seed: Any,
    surge: Any,
    t: Any,
    x_lane: Any,
) -> None:
    """Phase 1: occurrence levels, node/lane/export factors, chokepoint closures, surges, detours
    and switching counters (section 5.1).
    """
    W = BLOCK
    f_node[:, :] = 1.0
    for lane in range(L):
        if lane_dirty[lane]:
            lane_dirty[lane] = False
            lic_any[lane] = False
            for w in range(W):
                g_lane[lane, w] = 1.0
                gx_lane[lane, w] = 1.0
                lic[lane, w] = 0
    closed[:, :] = 1.0
    surge[:, :] = 1.0
    for h in range(H):
        z = haz_of_pair[h]
        ramp = haz_recovery_days[z]
        severity = haz_severity[z]
        node = haz_nodes[h]
        due = False
        for w in range(W):
            due |= haz_e[h, w] + ramp <= t
        if due:
            for w in range(W):
                # Advance past events whose effect has ended (up time from the ramp's end).
                while haz_e[h, w] + ramp <= t:
                    if haz_a[h, w] <= t:
                        haz_last[h, w] = haz_a[h, w]
                    rep = np.uint64(rep0 + w)
                    key = haz_pair_stream[h]
                    j = haz_j[h, w] + 1
                    haz_j[h, w] = j
                    u = uniform(seed, rep, key, np.uint64(3 * j))
                    a = haz_e[h, w] + ramp + round_days(-math.log(u) / haz_rate_per_day[z])
                    haz_a[h, w] = a
                    haz_e[h, w] = a + round_days(
                        draw_days(haz_duration[z], dist_kind, dist_params, dist_values_ptr,
                                  dist_values, dist_cdf, seed, rep, key, 3 * j + 1)
                    )  # fmt: skip
        for w in range(W):
            a = haz_a[h, w]
            e = haz_e[h, w]
            started = a <= t
            haz_last[h, w] = a if started else haz_last[h, w]
            u = t - e
            ramping = severity * (ramp - u) / (ramp + 1.0)
            level = severity if t < e else (ramping if u < ramp else 0.0)
            f_node[node, w] *= 1.0 - (level if started else 0.0)
    for d in range(D):
        kind = dis_kind[d]
        target = dis_target[d]
        severity = dis_severity[d]
        ramp = dis_recovery_days[d]
        for w in range(W):
            if not dis_on[d, w]:
                continue
            level = _level(t, dis_a[d, w], dis_e[d, w], severity, ramp)
            if level <= 0.0:
                continue
            if kind == _NODE:
                f_node[target, w] *= 1.0 - level
            elif kind == _LANE:
                g_lane[target, w] *= 1.0 - level
                lane_dirty[target] = True
            elif kind == _CHOKE:
                closed[target, w] *= 1.0 - level
            elif kind == _SURGE:
                surge[consumer_of_node[target], w] *= 1.0 + level
            else:
                for i in range(export_ptr[d], export_ptr[d + 1]):
                    lane = export_lanes[i]
                    gx_lane[lane, w] *= 1.0 - level
                    lane_dirty[lane] = True
                    if dis_licensing_delay[d] > lic[lane, w]:
                        lic[lane, w] = dis_licensing_delay[d]
                        lic_any[lane] = True
    for k in range(K):
        any_closed = False
        for w in range(W):
            any_closed |= closed[k, w] < 1.0
        choke_any[k] = any_closed
    for lane in range(L):
        origin = lane_from[lane]
        c0 = lane_choke_ptr[lane]
        c1 = lane_choke_ptr[lane + 1]
        touched = lic_any[lane]
        for i in range(c0, c1):
            touched |= choke_any[lane_chokes[i]]
        lane_touched[lane] = touched
        impaired = False
        if not touched:
            # No closure on this lane in any replication today: x = 0, no detour (phase 7
            # takes its fast path, so x, extra and the detour factor are not needed).
            dirty = lane_dirty[lane]
            for w in range(W):
                p = g_lane[lane, w] * gx_lane[lane, w] if dirty else 1.0
                phi[lane, w] = p
                a_l = min(1.0, p) * f_node[origin, w]
                avail[lane, w] = a_l
                c_l = (counter[lane, w] + 1) if a_l < 1.0 else 0
                counter[lane, w] = c_l
                impaired |= c_l > 0
            lane_impaired[lane] = impaired
            continue
        for w in range(W):
            through = 1.0
            worst_days = 0
            factor = 1.0
            any_closed = False
            for i in range(c0, c1):
                k = lane_chokes[i]
                open_share = closed[k, w]
                through *= open_share
                if open_share < 1.0:
                    any_closed = True
                    if choke_detour_days[k] < 0:
                        factor = 0.0
                    else:
                        worst_days = max(worst_days, choke_detour_days[k])
                        factor = min(factor, choke_capacity_factor[k])
            if any_closed and lane_detour_days[lane] >= 0:
                worst_days = lane_detour_days[lane]
                factor = lane_detour_factor[lane]
            if not any_closed:
                factor = 0.0
            x = 1.0 - through
            x_lane[lane, w] = x
            extra[lane, w] = worst_days
            detour_factor[lane, w] = factor
            p = g_lane[lane, w] * gx_lane[lane, w] * ((1.0 - x) + x * factor)
            phi[lane, w] = p
            avail[lane, w] = min(1.0, p) * f_node[origin, w]
            if avail[lane, w] < 1.0:
                counter[lane, w] += 1
            else:
                counter[lane, w] = 0
            impaired |= counter[lane, w] > 0
        lane_impaired[lane] = impaired


@jit
def _phase2_arrivals(
    B: Any,
    L: Any,
    buffer_capacity: Any,
    buffer_commodity: Any,
    commodity_price: Any,
    cursor: Any,
    g_lane: Any,
    lane_buffer: Any,
    lane_commodity: Any,
    lane_consumer: Any,
    lane_dirty: Any,
    lost: Any,
    m_proc: Any,
    pipe: Any,
    pipe_ptr: Any,
    stock: Any,
    transit: Any,
) -> None:
    """Phase 2: deliver what is due (a lane disruption holds its share), then clip at capacity
    (section 5.2).
    """
    W = BLOCK
    for lane in range(L):
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


@jit
def _phase3_production(
    N: Any,
    bom_commodity: Any,
    bom_per_unit: Any,
    bom_ptr: Any,
    buffer_capacity: Any,
    f_node: Any,
    node_capacity: Any,
    node_commodity: Any,
    node_kind: Any,
    produced: Any,
    scratch_a: Any,
    stock: Any,
    used_inputs: Any,
) -> None:
    """Phase 3: sources and processors produce within capacity, inputs and stock room (section
    5.3).
    """
    W = BLOCK
    for n in range(N):
        kind = node_kind[n]
        if kind != _SOURCE and kind != _PROCESSOR:
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


@jit
def _phase4_demand(
    D: Any,
    H: Any,
    R: Any,
    consumed: Any,
    consumers: Any,
    dis_a: Any,
    dis_affects: Any,
    dis_e: Any,
    dis_on: Any,
    dis_recovery_days: Any,
    haz_a: Any,
    haz_e: Any,
    haz_last: Any,
    haz_nodes: Any,
    haz_of_pair: Any,
    haz_recovery_days: Any,
    m_area: Any,
    m_days_short: Any,
    m_demand: Any,
    m_peak: Any,
    m_served: Any,
    n_active: Any,
    node_commodity: Any,
    node_demand_cv: Any,
    node_demand_mean: Any,
    node_demand_stream: Any,
    onset: Any,
    out_daily: Any,
    out_row0: Any,
    record_daily: Any,
    rep0: Any,
    scratch_a: Any,
    scratch_b: Any,
    seed: Any,
    stock: Any,
    surge: Any,
    t: Any,
    t_first: Any,
    t_low: Any,
    t_rec: Any,
    threshold: Any,
    upstream_node: Any,
) -> None:
    """Phase 4: serve demand from stock, lost sales; shortfall bookkeeping for TTS/TTR (sections
    5.4, 7.1).
    """
    W = BLOCK
    for r in range(R):
        n = consumers[r]
        mu = node_demand_mean[n]
        cv = node_demand_cv[n]
        c = node_commodity[n]
        sigma = math.sqrt(math.log(1.0 + cv * cv))
        log_mean = math.log(mu) - 0.5 * sigma * sigma if mu > 0.0 else 0.0
        key = node_demand_stream[n]
        if cv > 0.0 and mu > 0.0:
            for w in range(W):
                rep = np.uint64(rep0 + w)
                u1 = uniform(seed, rep, key, np.uint64(2 * t))
                u2 = uniform(seed, rep, key, np.uint64(2 * t + 1))
                normal = math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)
                scratch_a[w] = math.exp(log_mean + sigma * normal)
        else:
            for w in range(W):
                scratch_a[w] = mu
        # Vector pass: serve, and keep the sums; scratch_a: demand, scratch_b: shortfall.
        watch = False
        for w in range(W):
            demand = scratch_a[w] * surge[r, w]
            served = min(stock[n, w], demand)
            short = demand - served
            stock[n, w] -= served
            consumed[c, w] += served
            m_demand[r, w] += demand
            m_served[r, w] += served
            m_peak[r, w] = max(m_peak[r, w], short)
            service = served / demand if demand > 0.0 else 1.0
            m_area[r, w] += 1.0 - service
            scratch_a[w] = demand
            scratch_b[w] = short
            recovering = t_first[r, w] >= 0 and t_rec[r, w] < 0
            watch |= recovering or short > _SHORT_TOLERANCE * max(1.0, demand)
        if record_daily:
            for w in range(n_active):
                demand = scratch_a[w]
                served = demand - scratch_b[w]
                out_daily[out_row0 + w, r, t] = served / demand if demand > 0.0 else 1.0
        if not watch:
            continue
        # Scalar pass, only while some replication is short or recovering.
        for w in range(W):
            demand = scratch_a[w]
            short = scratch_b[w]
            served = demand - short
            service = served / demand if demand > 0.0 else 1.0
            if short > _SHORT_TOLERANCE * max(1.0, demand):
                m_days_short[r, w] += 1.0
                if t_first[r, w] < 0:
                    t_first[r, w] = t
                    onset[r, w] = _onset(
                        t, r, w, D, H, dis_on, dis_a, dis_e, dis_recovery_days,
                        dis_affects, haz_a, haz_e, haz_last, haz_of_pair, haz_nodes,
                        haz_recovery_days, upstream_node,
                    )  # fmt: skip
            if t_first[r, w] >= 0:
                if t_low[r, w] < 0:
                    if service < threshold:
                        t_low[r, w] = t
                elif t_rec[r, w] < 0 and service >= threshold:
                    t_rec[r, w] = t


@jit
def _phase5_ordering(
    buffer_target: Any,
    group_lanes: Any,
    group_ptr: Any,
    lane_buffer: Any,
    order: Any,
    order_buffers: Any,
    position: Any,
    release_lanes: Any,
    sharing_lanes: Any,
    stock: Any,
    transit: Any,
) -> None:
    """Phase 5: inventory positions over every inbound lane and order-up-to orders (section 5.5)."""
    W = BLOCK
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


@jit
def _phase6a_allocation(
    avail: Any,
    capacity_sum: Any,
    counter: Any,
    f_node: Any,
    filled: Any,
    group_lanes: Any,
    group_ptr: Any,
    handed: Any,
    lane_buffer: Any,
    lane_capacity: Any,
    lane_impaired: Any,
    lane_share: Any,
    lane_switch_delay: Any,
    n_receivers: Any,
    n_unbounded: Any,
    node_capacity: Any,
    node_kind: Any,
    order: Any,
    order_buffers: Any,
    phi: Any,
    release_lanes: Any,
    request: Any,
    scratch_a: Any,
    scratch_b: Any,
    sharing_lanes: Any,
    stock: Any,
    supplier_lanes: Any,
    supplier_nodes: Any,
    supplier_ptr: Any,
    supplier_rank: Any,
    toward: Any,
) -> None:
    """Phase 6a: effective shares with switching, requests, and each supplier's allocation (section
    5.6).
    """
    W = BLOCK
    for i in range(order_buffers.shape[0]):
        b = order_buffers[i]
        j0 = group_ptr[i]
        j1 = group_ptr[i + 1]
        calm = True
        for j in range(j0, j1):
            calm &= not lane_impaired[group_lanes[j]]
        if calm:
            # Every lane of the group is whole in every replication: shares as given.
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
        storage = node_kind[n] == _STORAGE
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


@jit
def _fill_needs(
    lanes: np.ndarray,
    w: int,
    available: float,
    trigger_days: float,
    cover: np.ndarray,
    need: np.ndarray,
    lane_consumer: np.ndarray,
    lane_capacity: np.ndarray,
    phi: np.ndarray,
    request: np.ndarray,
    filled: np.ndarray,
) -> None:
    """One giver (a stockpile or a donor) fills the needs of the consumers its ``lanes`` reach
    whose cover is below ``trigger_days``: in full when ``available`` allows, else pro-rata; each
    fill is taken off the consumer's remaining need (section 5.7). Replication ``w`` only."""
    total = 0.0
    for lane in lanes:
        r = lane_consumer[lane]
        ask = 0.0
        if cover[r, w] < trigger_days:
            ask = _thru(need[r, w], lane_capacity[lane], phi[lane, w])
        request[lane, w] = ask
        total += ask
    scale = 1.0 if total <= available else available / total
    for lane in lanes:
        give = request[lane, w] * scale
        filled[lane, w] = give
        need[lane_consumer[lane], w] -= give


@jit
def _phase6bc_release_and_sharing(
    R: Any,
    buffer_initial: Any,
    buffer_target: Any,
    consumer_of_node: Any,
    consumers: Any,
    cover: Any,
    f_node: Any,
    filled: Any,
    lane_capacity: Any,
    lane_consumer: Any,
    need: Any,
    node_capacity: Any,
    node_demand_mean: Any,
    phi: Any,
    position: Any,
    release_lanes: Any,
    release_max_fraction: Any,
    release_nodes: Any,
    release_ptr: Any,
    release_trigger_days: Any,
    request: Any,
    sharing_floor_days: Any,
    sharing_lanes: Any,
    sharing_max_fraction: Any,
    sharing_nodes: Any,
    sharing_ptr: Any,
    sharing_trigger_days: Any,
    stock: Any,
    toward: Any,
) -> None:
    """Phases 6b and 6c: strategic stockpile release, then allied sharing (section 5.7)."""
    W = BLOCK
    if release_lanes.shape[0] > 0 or sharing_lanes.shape[0] > 0:
        for r in range(R):
            n = consumers[r]
            mu = node_demand_mean[n]
            for w in range(W):
                cover[r, w] = stock[n, w] / mu if mu > 0.0 else math.inf
                need[r, w] = max(0.0, buffer_target[n] - position[n, w] - toward[n, w])
    for i in range(release_nodes.shape[0]):
        z = release_nodes[i]
        j0 = release_ptr[i]
        j1 = release_ptr[i + 1]
        for w in range(W):
            limit = node_capacity[z] * f_node[z, w] if f_node[z, w] > 0.0 else 0.0
            available = max(0.0, min(stock[z, w], release_max_fraction * buffer_initial[z], limit))
            _fill_needs(
                release_lanes[j0:j1], w, available, release_trigger_days, cover, need,
                lane_consumer, lane_capacity, phi, request, filled,
            )  # fmt: skip
    for i in range(sharing_nodes.shape[0]):
        donor = sharing_nodes[i]
        donor_row = consumer_of_node[donor]
        j0 = sharing_ptr[i]
        j1 = sharing_ptr[i + 1]
        for w in range(W):
            if not cover[donor_row, w] > sharing_floor_days:
                for j in range(j0, j1):
                    filled[sharing_lanes[j], w] = 0.0
                continue
            offer = max(
                0.0,
                sharing_max_fraction
                * (stock[donor, w] - sharing_floor_days * node_demand_mean[donor]),
            )
            _fill_needs(
                sharing_lanes[j0:j1], w, offer, sharing_trigger_days, cover, need,
                lane_consumer, lane_capacity, phi, request, filled,
            )  # fmt: skip


@jit
def _phase7_shipping(
    L: Any,
    cursor: Any,
    detour_factor: Any,
    extra: Any,
    filled: Any,
    lane_consumer: Any,
    lane_cost: Any,
    lane_from: Any,
    lane_lead_time: Any,
    lane_touched: Any,
    lic: Any,
    m_ship: Any,
    pipe: Any,
    pipe_ptr: Any,
    ship_total: Any,
    stock: Any,
    t: Any,
    transit: Any,
    x_lane: Any,
) -> None:
    """Phase 7: filled quantities leave their suppliers into the lanes' rings, direct and by
    detour; advance the ring cursors (section 5.8).
    """
    W = BLOCK
    for lane in range(L):
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


@jit
def _end_of_day(
    B: Any,
    R: Any,
    buffer_node: Any,
    consumers: Any,
    hold_total: Any,
    m_hold: Any,
    node_holding_cost: Any,
    stock: Any,
) -> None:
    """End of day: holding costs on every buffer and on each consumer's stock (section 7.2)."""
    W = BLOCK
    for b in range(B):
        rate = node_holding_cost[buffer_node[b]]
        if rate == 0.0:
            continue
        for w in range(W):
            hold_total[w] += rate * stock[b, w]
    for r in range(R):
        n = consumers[r]
        rate = node_holding_cost[n]
        if rate == 0.0:
            continue
        for w in range(W):
            m_hold[r, w] += rate * stock[n, w]


@jit
def _simulate_block(
    rep0: int,
    n_active: int,
    seed: np.uint64,
    horizon: int,
    threshold: float,
    # network
    commodity_price: np.ndarray,
    node_kind: np.ndarray,
    node_commodity: np.ndarray,
    node_capacity: np.ndarray,
    node_holding_cost: np.ndarray,
    node_strategic: np.ndarray,
    node_demand_mean: np.ndarray,
    node_demand_cv: np.ndarray,
    node_demand_stream: np.ndarray,
    bom_ptr: np.ndarray,
    bom_per_unit: np.ndarray,
    bom_commodity: np.ndarray,
    buffer_node: np.ndarray,
    buffer_commodity: np.ndarray,
    buffer_initial: np.ndarray,
    buffer_target: np.ndarray,
    buffer_capacity: np.ndarray,
    lane_from: np.ndarray,
    lane_buffer: np.ndarray,
    lane_commodity: np.ndarray,
    lane_lead_time: np.ndarray,
    lane_capacity: np.ndarray,
    lane_cost: np.ndarray,
    lane_share: np.ndarray,
    lane_initial_flow: np.ndarray,
    lane_switch_delay: np.ndarray,
    lane_detour_days: np.ndarray,
    lane_detour_factor: np.ndarray,
    lane_choke_ptr: np.ndarray,
    lane_chokes: np.ndarray,
    choke_detour_days: np.ndarray,
    choke_capacity_factor: np.ndarray,
    dist_kind: np.ndarray,
    dist_params: np.ndarray,
    dist_values_ptr: np.ndarray,
    dist_values: np.ndarray,
    dist_cdf: np.ndarray,
    dis_kind: np.ndarray,
    dis_target: np.ndarray,
    dis_licensing_delay: np.ndarray,
    dis_start: np.ndarray,
    dis_duration: np.ndarray,
    dis_severity: np.ndarray,
    dis_recovery_days: np.ndarray,
    dis_probability: np.ndarray,
    dis_stream: np.ndarray,
    haz_node_ptr: np.ndarray,
    haz_nodes: np.ndarray,
    haz_pair_stream: np.ndarray,
    haz_rate_per_day: np.ndarray,
    haz_duration: np.ndarray,
    haz_severity: np.ndarray,
    haz_recovery_days: np.ndarray,
    consumers: np.ndarray,
    release_trigger_days: float,
    release_max_fraction: float,
    sharing_trigger_days: float,
    sharing_floor_days: float,
    sharing_max_fraction: float,
    # derived tables (resilience.network.tables.KernelTables)
    consumer_of_node: np.ndarray,
    lane_consumer: np.ndarray,
    pipe_ptr: np.ndarray,
    export_ptr: np.ndarray,
    export_lanes: np.ndarray,
    order_buffers: np.ndarray,
    group_ptr: np.ndarray,
    group_lanes: np.ndarray,
    supplier_nodes: np.ndarray,
    supplier_ptr: np.ndarray,
    supplier_lanes: np.ndarray,
    supplier_rank: np.ndarray,
    release_nodes: np.ndarray,
    release_ptr: np.ndarray,
    release_lanes: np.ndarray,
    sharing_nodes: np.ndarray,
    sharing_ptr: np.ndarray,
    sharing_lanes: np.ndarray,
    upstream_node: np.ndarray,
    dis_affects: np.ndarray,
    # outputs (rows rep0 - base .. of the batch)
    out_consumer: np.ndarray,
    out_network: np.ndarray,
    out_conservation: np.ndarray,
    out_daily: np.ndarray,
    out_row0: int,
) -> None:
    W = BLOCK
    N = node_kind.shape[0]
    B = buffer_node.shape[0]
    L = lane_from.shape[0]
    K = choke_detour_days.shape[0]
    D = dis_kind.shape[0]
    H = haz_nodes.shape[0]
    R = consumers.shape[0]
    C = commodity_price.shape[0]
    record_daily = out_daily.shape[0] > 0

    # ---- state -----------------------------------------------------------------------------
    stock = np.empty((B, W))
    pipe = np.zeros((pipe_ptr[L], W))
    transit = np.zeros((L, W))
    counter = np.zeros((L, W), dtype=np.int32)
    cursor = np.zeros(L, dtype=np.int64)  # t % ring size, kept without a division per day
    # per-day factors
    f_node = np.empty((N, W))
    g_lane = np.empty((L, W))
    gx_lane = np.empty((L, W))
    lic = np.zeros((L, W), dtype=np.int64)
    closed = np.empty((K, W))  # prod (1 - level) per chokepoint; x_k = 1 - closed
    surge = np.empty((R, W))
    phi = np.empty((L, W))
    avail = np.empty((L, W))
    x_lane = np.empty((L, W))
    extra = np.zeros((L, W), dtype=np.int64)
    detour_factor = np.empty((L, W))
    position = np.zeros((B, W))
    order = np.zeros((B, W))
    request = np.zeros((L, W))
    filled = np.zeros((L, W))
    toward = np.zeros((B, W))
    need = np.zeros((R, W))
    cover = np.empty((R, W))
    # Per-day flags and per-block scratch vectors for the vectorised fast paths.
    choke_any = np.zeros(K, dtype=np.bool_)
    lic_any = np.zeros(L, dtype=np.bool_)
    lane_touched = np.zeros(L, dtype=np.bool_)  # a chokepoint closure or licensing delay today
    # Lanes whose g, gx or licensing rows were written by a disruption (reset lazily: most lanes
    # are never touched, and resetting every row every day costs more than the rest of phase 1).
    lane_dirty = np.zeros(L, dtype=np.bool_)
    g_lane[:, :] = 1.0
    gx_lane[:, :] = 1.0
    lane_impaired = np.zeros(L, dtype=np.bool_)  # some replication has counter > 0
    scratch_a = np.empty(W)
    scratch_b = np.empty(W)
    n_receivers = np.empty(W)
    n_unbounded = np.empty(W)
    capacity_sum = np.empty(W)
    handed = np.empty(W)
    # occurrences
    dis_a = np.zeros((D, W), dtype=np.int64)
    dis_e = np.zeros((D, W), dtype=np.int64)
    dis_on = np.zeros((D, W), dtype=np.bool_)
    haz_a = np.zeros((H, W), dtype=np.int64)
    haz_e = np.zeros((H, W), dtype=np.int64)
    haz_j = np.zeros((H, W), dtype=np.int64)
    haz_last = np.full((H, W), -1, dtype=np.int64)
    haz_of_pair = np.empty(H, dtype=np.int64)
    for z in range(haz_node_ptr.shape[0] - 1):
        for h in range(haz_node_ptr[z], haz_node_ptr[z + 1]):
            haz_of_pair[h] = z
    # metrics
    m_demand = np.zeros((R, W))
    m_served = np.zeros((R, W))
    m_days_short = np.zeros((R, W))
    m_peak = np.zeros((R, W))
    m_area = np.zeros((R, W))
    m_proc = np.zeros((R, W))
    m_ship = np.zeros((R, W))
    m_hold = np.zeros((R, W))
    t_first = np.full((R, W), -1, dtype=np.int64)
    t_low = np.full((R, W), -1, dtype=np.int64)
    t_rec = np.full((R, W), -1, dtype=np.int64)
    onset = np.zeros((R, W), dtype=np.int64)
    ship_total = np.zeros(W)
    hold_total = np.zeros(W)
    produced = np.zeros((C, W))
    used_inputs = np.zeros((C, W))
    consumed = np.zeros((C, W))
    lost = np.zeros((C, W))

    # ---- day 0: warm stock and pipelines; the replication's scenario disruptions -----------
    _start(
        B,
        D,
        H,
        L,
        buffer_initial,
        dis_a,
        dis_duration,
        dis_e,
        dis_on,
        dis_probability,
        dis_start,
        dis_stream,
        dist_cdf,
        dist_kind,
        dist_params,
        dist_values,
        dist_values_ptr,
        haz_a,
        haz_duration,
        haz_e,
        haz_of_pair,
        haz_pair_stream,
        haz_rate_per_day,
        lane_initial_flow,
        lane_lead_time,
        pipe,
        pipe_ptr,
        rep0,
        seed,
        stock,
        transit,
    )

    for t in range(horizon):
        # ---- phase 1: disruption states -----------------------------------------------------
        _phase1_states(
            D,
            H,
            K,
            L,
            avail,
            choke_any,
            choke_capacity_factor,
            choke_detour_days,
            closed,
            consumer_of_node,
            counter,
            detour_factor,
            dis_a,
            dis_e,
            dis_kind,
            dis_licensing_delay,
            dis_on,
            dis_recovery_days,
            dis_severity,
            dis_target,
            dist_cdf,
            dist_kind,
            dist_params,
            dist_values,
            dist_values_ptr,
            export_lanes,
            export_ptr,
            extra,
            f_node,
            g_lane,
            gx_lane,
            haz_a,
            haz_duration,
            haz_e,
            haz_j,
            haz_last,
            haz_nodes,
            haz_of_pair,
            haz_pair_stream,
            haz_rate_per_day,
            haz_recovery_days,
            haz_severity,
            lane_choke_ptr,
            lane_chokes,
            lane_detour_days,
            lane_detour_factor,
            lane_dirty,
            lane_from,
            lane_impaired,
            lane_touched,
            lic,
            lic_any,
            phi,
            rep0,
            seed,
            surge,
            t,
            x_lane,
        )

        # ---- phase 2: arrivals --------------------------------------------------------------
        _phase2_arrivals(
            B,
            L,
            buffer_capacity,
            buffer_commodity,
            commodity_price,
            cursor,
            g_lane,
            lane_buffer,
            lane_commodity,
            lane_consumer,
            lane_dirty,
            lost,
            m_proc,
            pipe,
            pipe_ptr,
            stock,
            transit,
        )

        # ---- phase 3: production ------------------------------------------------------------
        _phase3_production(
            N,
            bom_commodity,
            bom_per_unit,
            bom_ptr,
            buffer_capacity,
            f_node,
            node_capacity,
            node_commodity,
            node_kind,
            produced,
            scratch_a,
            stock,
            used_inputs,
        )

        # ---- phase 4: demand ----------------------------------------------------------------
        _phase4_demand(
            D,
            H,
            R,
            consumed,
            consumers,
            dis_a,
            dis_affects,
            dis_e,
            dis_on,
            dis_recovery_days,
            haz_a,
            haz_e,
            haz_last,
            haz_nodes,
            haz_of_pair,
            haz_recovery_days,
            m_area,
            m_days_short,
            m_demand,
            m_peak,
            m_served,
            n_active,
            node_commodity,
            node_demand_cv,
            node_demand_mean,
            node_demand_stream,
            onset,
            out_daily,
            out_row0,
            record_daily,
            rep0,
            scratch_a,
            scratch_b,
            seed,
            stock,
            surge,
            t,
            t_first,
            t_low,
            t_rec,
            threshold,
            upstream_node,
        )

        # ---- phase 5: ordering --------------------------------------------------------------
        _phase5_ordering(
            buffer_target,
            group_lanes,
            group_ptr,
            lane_buffer,
            order,
            order_buffers,
            position,
            release_lanes,
            sharing_lanes,
            stock,
            transit,
        )

        # ---- phase 6a: sourcing shares and normal allocation ---------------------------------
        _phase6a_allocation(
            avail,
            capacity_sum,
            counter,
            f_node,
            filled,
            group_lanes,
            group_ptr,
            handed,
            lane_buffer,
            lane_capacity,
            lane_impaired,
            lane_share,
            lane_switch_delay,
            n_receivers,
            n_unbounded,
            node_capacity,
            node_kind,
            order,
            order_buffers,
            phi,
            release_lanes,
            request,
            scratch_a,
            scratch_b,
            sharing_lanes,
            stock,
            supplier_lanes,
            supplier_nodes,
            supplier_ptr,
            supplier_rank,
            toward,
        )

        # ---- phase 6b/6c: stockpile release, then allied sharing ------------------------------
        _phase6bc_release_and_sharing(
            R,
            buffer_initial,
            buffer_target,
            consumer_of_node,
            consumers,
            cover,
            f_node,
            filled,
            lane_capacity,
            lane_consumer,
            need,
            node_capacity,
            node_demand_mean,
            phi,
            position,
            release_lanes,
            release_max_fraction,
            release_nodes,
            release_ptr,
            release_trigger_days,
            request,
            sharing_floor_days,
            sharing_lanes,
            sharing_max_fraction,
            sharing_nodes,
            sharing_ptr,
            sharing_trigger_days,
            stock,
            toward,
        )

        # ---- phase 7: shipping --------------------------------------------------------------
        _phase7_shipping(
            L,
            cursor,
            detour_factor,
            extra,
            filled,
            lane_consumer,
            lane_cost,
            lane_from,
            lane_lead_time,
            lane_touched,
            lic,
            m_ship,
            pipe,
            pipe_ptr,
            ship_total,
            stock,
            t,
            transit,
            x_lane,
        )

        # ---- end of day: holding costs ------------------------------------------------------
        _end_of_day(
            B,
            R,
            buffer_node,
            consumers,
            hold_total,
            m_hold,
            node_holding_cost,
            stock,
        )

    # ---- outputs ---------------------------------------------------------------------------
    for w in range(n_active):
        row = out_row0 + w
        for r in range(R):
            demand = m_demand[r, w]
            served = m_served[r, w]
            out_consumer[row, r, _DEMAND] = demand
            out_consumer[row, r, _SERVED] = served
            out_consumer[row, r, _SHORTFALL] = demand - served
            out_consumer[row, r, _FILL] = served / demand if demand > 0.0 else 1.0
            out_consumer[row, r, _DAYS_SHORT] = m_days_short[r, w]
            out_consumer[row, r, _PEAK] = m_peak[r, w]
            out_consumer[row, r, _AREA] = m_area[r, w]
            out_consumer[row, r, _PROCUREMENT] = m_proc[r, w]
            out_consumer[row, r, _SHIPPING] = m_ship[r, w]
            out_consumer[row, r, _HOLDING] = m_hold[r, w]
            out_consumer[row, r, _CENSORED] = 0.0
            first = t_first[r, w]
            if first < 0:
                out_consumer[row, r, _TTS] = math.nan
                out_consumer[row, r, _TTR] = math.nan
            else:
                out_consumer[row, r, _TTS] = first - onset[r, w]
                if t_low[r, w] < 0:
                    out_consumer[row, r, _TTR] = first + 1 - onset[r, w]
                elif t_rec[r, w] < 0:
                    out_consumer[row, r, _TTR] = horizon - onset[r, w]
                    out_consumer[row, r, _CENSORED] = 1.0
                else:
                    out_consumer[row, r, _TTR] = t_rec[r, w] - onset[r, w]
        out_network[row, 0] = ship_total[w]
        out_network[row, 1] = hold_total[w]
        out_network[row, 2] = 0.0  # fixed costs: added by the wrapper (no randomness)
        for c in range(C):
            out_conservation[row, c, _C_PRODUCED] = produced[c, w]
            out_conservation[row, c, _C_DEMAND] = consumed[c, w]
            out_conservation[row, c, _C_INPUTS] = used_inputs[c, w]
            out_conservation[row, c, _C_LOST] = lost[c, w]
            out_conservation[row, c, _C_FINAL] = 0.0
            out_conservation[row, c, _C_FINAL_TRANSIT] = 0.0
            out_conservation[row, c, _C_INIT] = 0.0
            out_conservation[row, c, _C_INIT_TRANSIT] = 0.0
        for b in range(B):
            out_conservation[row, buffer_commodity[b], _C_FINAL] += stock[b, w]
            out_conservation[row, buffer_commodity[b], _C_INIT] += buffer_initial[b]
        for lane in range(L):
            c = lane_commodity[lane]
            for s in range(pipe_ptr[lane], pipe_ptr[lane + 1]):
                out_conservation[row, c, _C_FINAL_TRANSIT] += pipe[s, w]
            out_conservation[row, c, _C_INIT_TRANSIT] += (
                lane_initial_flow[lane] * lane_lead_time[lane]
            )


@jit
def _onset(
    t: int,
    r: int,
    w: int,
    D: int,
    H: int,
    dis_on: np.ndarray,
    dis_a: np.ndarray,
    dis_e: np.ndarray,
    dis_recovery_days: np.ndarray,
    dis_affects: np.ndarray,
    haz_a: np.ndarray,
    haz_e: np.ndarray,
    haz_last: np.ndarray,
    haz_of_pair: np.ndarray,
    haz_nodes: np.ndarray,
    haz_recovery_days: np.ndarray,
    upstream_node: np.ndarray,
) -> int:
    """Onset of the shortfall that starts on day t for consumer r (section 7.1)."""
    earliest_in_effect = -1
    latest_before = -1
    for d in range(D):
        if not dis_on[d, w] or not dis_affects[r, d]:
            continue
        a = dis_a[d, w]
        if a > t:
            continue
        if t < dis_e[d, w] + dis_recovery_days[d]:
            if earliest_in_effect < 0 or a < earliest_in_effect:
                earliest_in_effect = a
        elif a < t and a > latest_before:
            latest_before = a
    for h in range(H):
        if not upstream_node[r, haz_nodes[h]]:
            continue
        a = haz_a[h, w]
        if a <= t and t < haz_e[h, w] + haz_recovery_days[haz_of_pair[h]]:
            if earliest_in_effect < 0 or a < earliest_in_effect:
                earliest_in_effect = a
        else:
            last = haz_last[h, w]
            if 0 <= last < t and last > latest_before:
                latest_before = last
    if earliest_in_effect >= 0:
        return earliest_in_effect
    if latest_before >= 0:
        return latest_before
    return 0


def simulate(
    rep_start: int,
    n_reps: int,
    seed: np.uint64,
    horizon: int,
    threshold: float,
    network: tuple[Any, ...],
    tables: tuple[Any, ...],
    out_consumer: np.ndarray,
    out_network: np.ndarray,
    out_conservation: np.ndarray,
    out_daily: np.ndarray,
    block_first: int,
    block_last: int,
) -> None:
    """Simulate blocks ``block_first .. block_last - 1`` of replications ``rep_start ..``.

    Block ``b`` holds replications ``rep_start + b * BLOCK ..`` (at most ``n_reps`` in all) and
    writes output rows ``b * BLOCK ..``; callers split the blocks among threads (the compiled
    block releases the GIL), and no two blocks share an output row. This loop is plain Python on
    purpose: compiling it as well (a tuple of some 80 arrays unpacked into the block's
    arguments) cost about 4 s of compile time for a few microseconds per block at run time.

    Args:
        network: the Network arrays in `resilience.engines.kernel.NETWORK_ARGUMENTS` order.
        tables: the derived index tables in `resilience.network.tables.KernelTables` field order.
        out_consumer: (n_reps, R, N_CONSUMER_METRICS) float64, written in place.
        out_network: (n_reps, N_NETWORK_METRICS) float64, written in place.
        out_conservation: (n_reps, C, N_CONSERVATION) float64, written in place.
        out_daily: (n_reps, R, horizon) float32 daily service, or shape (0, 0, 0) for none.
    """
    for block in range(block_first, block_last):
        first = block * BLOCK
        active = min(BLOCK, n_reps - first)
        _simulate_block(
            rep_start + first, active, seed, horizon, threshold,
            *network, *tables,
            out_consumer, out_network, out_conservation, out_daily, first,
        )  # fmt: skip
