"""Demand (phase 4), holding costs (end of day) and the per-replication outcomes (section 7).

`demand` serves each consumer's (surged, lognormal) demand from stock and keeps the `Metrics`
sums: demand and served (units), days short, peak shortfall (units/day), loss area
(service-days), spells of shortage, and the first-short/low/recovered days that give TTS and
TTR. `holding` adds the day's holding costs (currency). `write_outputs` writes a block's rows of
the `Outputs` record in the column order of `kernels.codes`.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit_phase
from kernels.codes import (
    CENSORED,
    CONSUMED_DEMAND,
    CONSUMED_INPUTS,
    DAYS_SHORT,
    DEMAND,
    FILL_RATE,
    FINAL_STOCK,
    FINAL_TRANSIT,
    FIXED_COST_TOTAL,
    HOLDING_COST,
    HOLDING_COST_TOTAL,
    INITIAL_STOCK,
    INITIAL_TRANSIT,
    LOSS_AREA,
    LOST,
    PEAK_SHORTFALL,
    PROCUREMENT_COST,
    PRODUCED,
    SERVED,
    SHIPPING_COST,
    SHIPPING_COST_TOTAL,
    SHORT_DAY_TOLERANCE,
    SHORTFALL,
    SPELLS,
    TTR,
    TTS,
)
from kernels.draws import standard_normal
from kernels.elementary import exp
from kernels.records import (
    Block,
    Factors,
    Metrics,
    NetworkArrays,
    Occurrences,
    Outputs,
    Scratch,
    Stocks,
    Tables,
)
from kernels.rng import uniform


@jit_phase
def _onset(net: NetworkArrays, tab: Tables, occ: Occurrences, t: int, r: int, w: int) -> int:
    """Onset (a day) of the shortfall that starts on day t for consumer r, replication w
    (section 7.1)."""
    dis_on, dis_a, dis_e = occ.dis_on, occ.dis_a, occ.dis_e
    haz_a, haz_e, haz_last, haz_of_pair = occ.haz_a, occ.haz_e, occ.haz_last, occ.haz_of_pair
    dis_recovery_days = net.dis_recovery_days
    haz_nodes = net.haz_nodes
    haz_recovery_days = net.haz_recovery_days
    dis_affects = tab.dis_affects
    upstream_node = tab.upstream_node
    D = dis_on.shape[0]
    H = haz_a.shape[0]
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


@jit_phase
def demand(
    blk: Block,
    net: NetworkArrays,
    tab: Tables,
    occ: Occurrences,
    fac: Factors,
    sto: Stocks,
    met: Metrics,
    scr: Scratch,
    out: Outputs,
    t: int,
    W: int,
) -> None:
    """Phase 4: serve demand from stock, lost sales; shortfall bookkeeping for TTS/TTR (sections
    5.4, 7.1).
    """
    R = net.consumers.shape[0]
    consumers = net.consumers
    node_commodity = net.node_commodity
    node_demand_cv = net.node_demand_cv
    node_demand_mean = net.node_demand_mean
    node_demand_stream = net.node_demand_stream
    surge = fac.surge
    stock = sto.stock
    consumed = met.consumed
    m_area = met.area
    m_days_short = met.days_short
    m_demand = met.demand
    m_peak = met.peak
    m_served = met.served
    onset = met.onset
    t_first = met.t_first
    t_low = met.t_low
    t_rec = met.t_rec
    recovered = met.recovered
    spells = met.spells
    short_yesterday = met.short_yesterday
    scratch_a = scr.a
    scratch_b = scr.b
    out_daily = out.daily
    n_active = blk.n_active
    out_row0 = blk.row0
    record_daily = out.daily.shape[0] > 0
    rep0 = blk.rep0
    seed = blk.seed
    threshold = blk.threshold
    window = blk.window
    for r in range(R):
        n = consumers[r]
        mu = node_demand_mean[n]
        cv = node_demand_cv[n]
        c = node_commodity[n]
        sigma = math.sqrt(math.log(1.0 + cv * cv))
        log_mean = math.log(mu) - 0.5 * sigma * sigma if mu > 0.0 else 0.0
        key = node_demand_stream[n]
        if cv > 0.0 and mu > 0.0:
            # The uniforms in a loop of their own: integer hashing, which the compiler
            # vectorises; so is the next loop, whose log, cos and exp are `kernels.elementary`'s.
            for w in range(W):
                rep = np.uint64(rep0 + w)
                scratch_a[w] = uniform(seed, rep, key, np.uint64(2 * t))
                scratch_b[w] = uniform(seed, rep, key, np.uint64(2 * t + 1))
            for w in range(W):
                normal = standard_normal(scratch_a[w], scratch_b[w])
                scratch_a[w] = exp(log_mean + sigma * normal)
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
            recovering = t_first[r, w] >= 0 and not recovered[r, w]
            is_short = short > SHORT_DAY_TOLERANCE * max(1.0, demand)
            watch |= recovering or is_short or short_yesterday[r, w]
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
            is_short = short > SHORT_DAY_TOLERANCE * max(1.0, demand)
            if is_short:
                m_days_short[r, w] += 1.0
                spells[r, w] += 0.0 if short_yesterday[r, w] else 1.0
                if t_first[r, w] < 0:
                    t_first[r, w] = t
                    onset[r, w] = _onset(net, tab, occ, t, r, w)
            short_yesterday[r, w] = is_short
            if t_first[r, w] < 0 or recovered[r, w]:
                continue
            if t_low[r, w] < 0:
                if service < threshold:
                    t_low[r, w] = t
            elif service < threshold:
                t_rec[r, w] = -1  # the run of good days is broken: not recovered yet
            else:
                if t_rec[r, w] < 0:
                    t_rec[r, w] = t
                # Recovered once service has held for the window (section 7.1).
                recovered[r, w] = t - t_rec[r, w] + 1 >= window


@jit_phase
def holding(net: NetworkArrays, sto: Stocks, met: Metrics, W: int) -> None:
    """End of day: holding costs on every buffer and on each consumer's stock (section 7.2)."""
    B = net.buffer_node.shape[0]
    R = net.consumers.shape[0]
    buffer_node = net.buffer_node
    consumers = net.consumers
    node_holding_cost = net.node_holding_cost
    stock = sto.stock
    hold_total = met.hold_total
    m_hold = met.holding
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


@jit_phase
def write_outputs(
    blk: Block, net: NetworkArrays, tab: Tables, sto: Stocks, met: Metrics, out: Outputs
) -> None:
    """Write the block's ``n_active`` replications to output rows ``row0 ..`` of ``out``
    (columns of `kernels.codes`): the consumer metrics, the network totals (fixed costs are
    added by the wrapper) and the conservation terms of section 7.3.
    """
    n_active = blk.n_active
    out_row0 = blk.row0
    horizon = blk.horizon
    R = net.consumers.shape[0]
    C = net.commodity_price.shape[0]
    B = net.buffer_node.shape[0]
    L = net.lane_from.shape[0]
    buffer_commodity = net.buffer_commodity
    buffer_initial = net.buffer_initial
    lane_commodity = net.lane_commodity
    lane_initial_flow = net.lane_initial_flow
    lane_lead_time = net.lane_lead_time
    pipe_ptr = tab.pipe_ptr
    stock = sto.stock
    pipe = sto.pipe
    m_demand, m_served, m_days_short, m_peak = met.demand, met.served, met.days_short, met.peak
    m_area, m_proc, m_ship, m_hold = met.area, met.procurement, met.shipping, met.holding
    t_first, t_low, t_rec, onset = met.t_first, met.t_low, met.t_rec, met.onset
    spells = met.spells
    ship_total, hold_total = met.ship_total, met.hold_total
    produced, consumed, used_inputs, lost = met.produced, met.consumed, met.used_inputs, met.lost
    out_consumer, out_network, out_conservation = out.consumer, out.network, out.conservation
    for w in range(n_active):
        row = out_row0 + w
        for r in range(R):
            demand = m_demand[r, w]
            served = m_served[r, w]
            out_consumer[row, r, DEMAND] = demand
            out_consumer[row, r, SERVED] = served
            out_consumer[row, r, SHORTFALL] = demand - served
            out_consumer[row, r, FILL_RATE] = served / demand if demand > 0.0 else 1.0
            out_consumer[row, r, DAYS_SHORT] = m_days_short[r, w]
            out_consumer[row, r, PEAK_SHORTFALL] = m_peak[r, w]
            out_consumer[row, r, LOSS_AREA] = m_area[r, w]
            out_consumer[row, r, PROCUREMENT_COST] = m_proc[r, w]
            out_consumer[row, r, SHIPPING_COST] = m_ship[r, w]
            out_consumer[row, r, HOLDING_COST] = m_hold[r, w]
            out_consumer[row, r, SPELLS] = spells[r, w]
            out_consumer[row, r, CENSORED] = 0.0
            first = t_first[r, w]
            if first < 0:
                out_consumer[row, r, TTS] = math.nan
                out_consumer[row, r, TTR] = math.nan
            else:
                out_consumer[row, r, TTS] = first - onset[r, w]
                # t_rec >= 0 after t_low: service held for the window or to the horizon's end.
                if t_low[r, w] < 0:
                    out_consumer[row, r, TTR] = first + 1 - onset[r, w]
                elif t_rec[r, w] < 0:
                    out_consumer[row, r, TTR] = horizon - onset[r, w]
                    out_consumer[row, r, CENSORED] = 1.0
                else:
                    out_consumer[row, r, TTR] = t_rec[r, w] - onset[r, w]
        out_network[row, SHIPPING_COST_TOTAL] = ship_total[w]
        out_network[row, HOLDING_COST_TOTAL] = hold_total[w]
        out_network[row, FIXED_COST_TOTAL] = 0.0  # added by the wrapper (no randomness)
        for c in range(C):
            out_conservation[row, c, PRODUCED] = produced[c, w]
            out_conservation[row, c, CONSUMED_DEMAND] = consumed[c, w]
            out_conservation[row, c, CONSUMED_INPUTS] = used_inputs[c, w]
            out_conservation[row, c, LOST] = lost[c, w]
            out_conservation[row, c, FINAL_STOCK] = 0.0
            out_conservation[row, c, FINAL_TRANSIT] = 0.0
            out_conservation[row, c, INITIAL_STOCK] = 0.0
            out_conservation[row, c, INITIAL_TRANSIT] = 0.0
        for b in range(B):
            out_conservation[row, buffer_commodity[b], FINAL_STOCK] += stock[b, w]
            out_conservation[row, buffer_commodity[b], INITIAL_STOCK] += buffer_initial[b]
        for lane in range(L):
            c = lane_commodity[lane]
            for s in range(pipe_ptr[lane], pipe_ptr[lane + 1]):
                out_conservation[row, c, FINAL_TRANSIT] += pipe[s, w]
            out_conservation[row, c, INITIAL_TRANSIT] += (
                lane_initial_flow[lane] * lane_lead_time[lane]
            )
