"""Phase 1, disruption states (docs/model.md 3.2-3.4, 5.1), and day 0's sampled occurrences.

`sample_occurrences` draws each replication's scenario disruptions and first hazard events
(`kernels.timeline`). `disruption_states` runs first every day: it advances hazard renewals, then
writes the `Factors` record from the occurrence levels: node factors f (N, W), lane and export
factors g, gx (L, W), licensing delays (L, W, days), chokepoint open shares (K, W), demand surges
(R, W), detours (extra days, capacity factor) and through-capacity phi (L, W), availability and
the switching counters (L, W, consecutive impaired days). Factors are fractions in [0, 1].
"""

from __future__ import annotations

import numpy as np

from kernels._jit import jit_phase
from kernels.codes import CHOKEPOINT, LANE, NODE, SURGE
from kernels.records import Block, Factors, NetworkArrays, Occurrences, Tables
from kernels.timeline import disruption_occurrence, hazard_event, occurrence_level


@jit_phase
def sample_occurrences(blk: Block, net: NetworkArrays, occ: Occurrences) -> None:
    """Day 0: each replication's scenario disruptions and first hazard events (sections 3.2,
    3.3, 4.3), written to ``occ`` (days, (D, W) and (H, W)); the arithmetic is `kernels.timeline`.
    """
    dist_kind = net.dist_kind
    dist_params = net.dist_params
    dist_values_ptr = net.dist_values_ptr
    dist_values = net.dist_values
    dist_cdf = net.dist_cdf
    for w in range(occ.dis_a.shape[1]):
        rep = np.uint64(blk.rep0 + w)
        for d in range(net.dis_kind.shape[0]):
            on, a, e = disruption_occurrence(
                net.dis_probability[d], net.dis_start[d], net.dis_duration[d], dist_kind,
                dist_params, dist_values_ptr, dist_values, dist_cdf, blk.seed, rep,
                net.dis_stream[d],
            )  # fmt: skip
            if on:
                occ.dis_on[d, w] = True
                occ.dis_a[d, w] = a
                occ.dis_e[d, w] = e
        for h in range(net.haz_nodes.shape[0]):
            z = occ.haz_of_pair[h]
            a, e = hazard_event(
                np.int64(0), np.int64(0), net.haz_rate_per_day[z], net.haz_duration[z], dist_kind,
                dist_params, dist_values_ptr, dist_values, dist_cdf, blk.seed, rep,
                net.haz_pair_stream[h],
            )  # fmt: skip
            occ.haz_a[h, w] = a
            occ.haz_e[h, w] = e


@jit_phase
def disruption_states(
    blk: Block, net: NetworkArrays, tab: Tables, occ: Occurrences, fac: Factors, t: int, W: int
) -> None:
    """Phase 1: occurrence levels, node/lane/export factors, chokepoint closures, surges, detours
    and switching counters (section 5.1).
    """
    D = net.dis_kind.shape[0]
    H = net.haz_nodes.shape[0]
    K = net.choke_detour_days.shape[0]
    L = net.lane_from.shape[0]
    choke_capacity_factor = net.choke_capacity_factor
    choke_detour_days = net.choke_detour_days
    dis_kind = net.dis_kind
    dis_licensing_delay = net.dis_licensing_delay
    dis_recovery_days = net.dis_recovery_days
    dis_severity = net.dis_severity
    dis_target = net.dis_target
    dist_cdf = net.dist_cdf
    dist_kind = net.dist_kind
    dist_params = net.dist_params
    dist_values = net.dist_values
    dist_values_ptr = net.dist_values_ptr
    haz_duration = net.haz_duration
    haz_nodes = net.haz_nodes
    haz_pair_stream = net.haz_pair_stream
    haz_rate_per_day = net.haz_rate_per_day
    haz_recovery_days = net.haz_recovery_days
    haz_severity = net.haz_severity
    lane_choke_ptr = net.lane_choke_ptr
    lane_chokes = net.lane_chokes
    lane_detour_days = net.lane_detour_days
    lane_detour_factor = net.lane_detour_factor
    lane_from = net.lane_from
    lane_switch_delay = net.lane_switch_delay
    consumer_of_node = tab.consumer_of_node
    export_lanes = tab.export_lanes
    export_ptr = tab.export_ptr
    dis_a = occ.dis_a
    dis_e = occ.dis_e
    dis_on = occ.dis_on
    haz_a = occ.haz_a
    haz_e = occ.haz_e
    haz_j = occ.haz_j
    haz_last = occ.haz_last
    haz_of_pair = occ.haz_of_pair
    avail = fac.avail
    choke_any = fac.choke_any
    closed = fac.closed
    counter = fac.counter
    detour_factor = fac.detour_factor
    extra = fac.extra
    f_node = fac.f_node
    g_lane = fac.g_lane
    gx_lane = fac.gx_lane
    lane_dirty = fac.lane_dirty
    lane_switching = fac.lane_switching
    lane_touched = fac.lane_touched
    lic = fac.lic
    lic_any = fac.lic_any
    phi = fac.phi
    surge = fac.surge
    x_lane = fac.x_lane
    rep0 = blk.rep0
    seed = blk.seed
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
                    j = haz_j[h, w] + 1
                    haz_j[h, w] = j
                    a, e = hazard_event(
                        j, haz_e[h, w] + ramp, haz_rate_per_day[z], haz_duration[z], dist_kind,
                        dist_params, dist_values_ptr, dist_values, dist_cdf, seed,
                        np.uint64(rep0 + w), haz_pair_stream[h],
                    )  # fmt: skip
                    haz_a[h, w] = a
                    haz_e[h, w] = e
        for w in range(W):
            a = haz_a[h, w]
            haz_last[h, w] = a if a <= t else haz_last[h, w]
            f_node[node, w] *= 1.0 - occurrence_level(t, a, haz_e[h, w], severity, ramp)
    for d in range(D):
        kind = dis_kind[d]
        target = dis_target[d]
        severity = dis_severity[d]
        ramp = dis_recovery_days[d]
        for w in range(W):
            if not dis_on[d, w]:
                continue
            level = occurrence_level(t, dis_a[d, w], dis_e[d, w], severity, ramp)
            if level <= 0.0:
                continue
            if kind == NODE:
                f_node[target, w] *= 1.0 - level
            elif kind == LANE:
                g_lane[target, w] *= 1.0 - level
                lane_dirty[target] = True
            elif kind == CHOKEPOINT:
                closed[target, w] *= 1.0 - level
            elif kind == SURGE:
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
        delay = lane_switch_delay[lane]
        switching = False
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
                switching |= c_l > delay
            lane_switching[lane] = switching
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
            switching |= counter[lane, w] > delay
        lane_switching[lane] = switching
