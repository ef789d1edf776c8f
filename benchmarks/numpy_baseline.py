"""A NumPy-vectorised comparator of the kernel on the benchmark's reference network.

The benchmarks report how much faster the Numba kernel (kernels/) is than "good NumPy". This
module is that NumPy, cut down to the mechanisms the benchmark reference network uses
(benchmarks/bench_kernel.py, resilience/scenario/synthetic.py with hazards and a chokepoint
closure): node hazards and scenario node or chokepoint disruptions, chokepoint detours,
switching to alternate sources, pro-rata allocation (by baseline share or by request),
production with inputs, order-up-to ordering (adaptive or fixed targets), constant demand and
capped buffers. It refuses any other network (`supported`), and is
a comparator, not an oracle: the kernel and the plain-Python reference remain the model's
implementations of record, and tests/test_numpy_baseline.py keeps this one equal to the kernel
on the reference network.

All ``count`` replications run at once: every state array is ``(elements, count)`` like the
kernel's ``state[element, w]`` blocks, and each phase works on whole arrays or loops in Python
over network elements with NumPy operations over the replication axis. There is no Python loop
over replications.

- The timeline (occurrences, hazard renewals) is drawn by the kernels' own compiled functions
  (`kernels.timeline`), so there is one implementation of the random numbers.
- Sums that feed the dynamics (stock, positions, pipelines, request totals) are added in the
  kernel's order. Where several elements add into one row (lanes into a buffer, lanes out of a
  supplier), `_Scatter` applies the additions in "rounds" of distinct rows, which keeps the
  sequential order of every row without a Python loop per element. Totals that only feed the
  outputs (costs, conservation terms) are kept per element and reduced once at the end.

Timing note: a day allocates many ``(elements, count)`` float64 temporaries. With glibc's
default settings, freed memory is handed back to the OS and faulted in again; setting e.g.
``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_`` to a large value in the benchmark's
environment removes that cost.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kernels.codes import (
    CHOKEPOINT,
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    N_CONSERVATION,
    N_CONSUMER_METRICS,
    N_NETWORK_METRICS,
    NODE,
    PROCESSOR,
    SHORT_DAY_TOLERANCE,
    SOURCE,
    STORAGE,
)
from kernels.timeline import disruption_occurrences, hazard_events
from resilience.network.arrays import Network
from resilience.network.tables import KernelTables

__all__ = ["simulate_numpy", "supported"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_M = {name: i for i, name in enumerate(CONSUMER_METRICS)}
_T = {name: i for i, name in enumerate(CONSERVATION_TERMS)}


def supported(network: Network, tables: KernelTables) -> list[str]:
    """The mechanisms of ``network`` this comparator does not implement (empty: supported)."""
    missing = []
    kinds = set(network.dis_kind.tolist()) - {NODE, CHOKEPOINT}
    if kinds:
        missing.append(f"disruption kinds {sorted(kinds)} (only node and chokepoint)")
    if np.any(network.node_demand_cv > 0.0):
        missing.append("random demand")
    if np.any(tables.supplier_rank != 0):
        missing.append("priority allocation")
    if len(tables.release_lanes) or len(tables.sharing_lanes):
        missing.append("stockpile release or allied sharing")
    if np.any(network.lane_detour_days >= 0):
        missing.append("lane-specific detours")
    return missing


class _Scatter:
    """``target[rows[i]] += values[i]`` (or ``*=``) for ``i`` in order, as fancy-indexed rounds.

    NumPy's ``target[rows] += values`` drops repeated rows and ``np.add.at`` is slow, so the
    items are split into rounds: round ``k`` holds the ``k``-th item aimed at each row. Within a
    round the rows are distinct, and rounds run in order, so every row receives its items in
    the original order, as in the kernel's loop.
    """

    def __init__(self, rows: npt.ArrayLike) -> None:
        rows = np.asarray(rows, dtype=np.int64)
        seen: dict[int, int] = {}
        rank = np.empty(len(rows), dtype=np.int64)
        for i, row in enumerate(rows.tolist()):
            rank[i] = seen.get(row, 0)
            seen[row] = rank[i] + 1
        self.size = len(rows)
        self.rounds: list[tuple[IntArray | slice, IntArray]] = []
        for k in range(int(rank.max()) + 1 if len(rows) else 0):
            items = np.flatnonzero(rank == k)
            # A single round over all items needs no gather of the values.
            self.rounds.append((slice(None) if len(items) == len(rows) else items, rows[items]))

    def add(self, target: np.ndarray, values: np.ndarray) -> None:
        for items, rows in self.rounds:
            target[rows] += values[items]

    def multiply(self, target: np.ndarray, values: np.ndarray) -> None:
        for items, rows in self.rounds:
            target[rows] *= values[items]


def _members(ptr: IntArray, items: IntArray) -> tuple[IntArray, IntArray, _Scatter]:
    """For a CSR relation: the items in order, the row of each, and a scatter into the rows."""
    owner = np.repeat(np.arange(len(ptr) - 1), np.diff(ptr)).astype(np.int64)
    return np.asarray(items, dtype=np.int64), owner, _Scatter(owner)


# ---- the simulation --------------------------------------------------------------------------


def simulate_numpy(
    network: Network,
    tables: KernelTables,
    first: int,
    count: int,
    seed: int | None = None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Simulate replications ``first .. first + count - 1`` of ``network``, all at once.

    Same meaning as
    ``resilience.engines.kernel.run_batch(network, tables, first, count, seed=seed)``.

    Returns:
        ``(consumer, network_totals, conservation)``: float64 arrays of shapes (count, R, 13),
        (count, 3) and (count, C, 8), in the column order of `kernels.codes`.

    Raises:
        ValueError: ``count < 1``.
        NotImplementedError: the network uses a mechanism this comparator leaves out.
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    missing = supported(network, tables)
    if missing:
        raise NotImplementedError("the NumPy comparator does not model " + "; ".join(missing))
    # Like the kernel (error_model="numpy"), divisions by zero in branches that np.where
    # discards give inf/NaN quietly.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        run = _Run(network, tables, first, count, network.seed if seed is None else seed)
        for t in range(network.horizon_days):
            run.day(t)
        return run.outputs()


class _Run:
    """The state of ``W`` replications and the static tables of the network, phase by phase.

    Arrays are ``(elements, W)``; names follow kernels/. Totals that only feed the outputs
    (costs, the conservation terms) are kept per element (lane, buffer, producer) and reduced
    once at the end, instead of being scattered into their rows every day.
    """

    def __init__(
        self, net: Network, tables: KernelTables, first: int, count: int, seed: int
    ) -> None:
        self.net = net
        self.tb = tables
        W = self.W = count
        N, B, L = net.n_nodes, net.n_buffers, net.n_lanes
        self.N, self.L = N, L
        self.cols = np.arange(W)
        self.seed = np.uint64(seed)
        self.reps = np.arange(first, first + count, dtype=np.uint64)
        self.dists = (
            net.dist_kind, net.dist_params, net.dist_values_ptr, net.dist_values, net.dist_cdf
        )  # fmt: skip

        # ---- static tables ------------------------------------------------------------------
        self.consumers = net.consumers.astype(np.int64)
        self.lane_from = net.lane_from.astype(np.int64)
        self.lane_buffer = net.lane_buffer.astype(np.int64)
        self.lane_lead = net.lane_lead_time.astype(np.int64)
        self.pipe_base = tables.pipe_ptr[:-1]
        self.pipe_size = np.diff(tables.pipe_ptr)
        self.into_buffer = _Scatter(self.lane_buffer)
        self.out_of_node = _Scatter(self.lane_from)
        # Round i holds the i-th chokepoint of every lane, so that products over a lane's
        # chokepoints run in the kernel's order.
        n_chokes = np.diff(net.lane_choke_ptr)
        incidence_lane = np.repeat(np.arange(L), n_chokes)
        incidence_pos = np.arange(len(net.lane_chokes)) - net.lane_choke_ptr[incidence_lane]
        self.choke_rounds = [
            (
                incidence_lane[incidence_pos == i],
                net.lane_chokes[incidence_pos == i].astype(np.int64),
            )
            for i in range(int(n_chokes.max()) if L else 0)
        ]
        self.lane_has_choke = np.zeros((L, len(net.chokepoint_ids)), dtype=np.bool_)
        self.lane_has_choke[incidence_lane, net.lane_chokes] = True
        # Buffers with a finite capacity (overflow clipping).
        self.capped = np.flatnonzero(np.isfinite(net.buffer_capacity))
        # Producers (sources and processors) in node order, and their BOM rows by position.
        kind = net.node_kind
        self.producers = np.flatnonzero((kind == SOURCE) | (kind == PROCESSOR))
        producer_row = np.full(N, -1, dtype=np.int64)
        producer_row[self.producers] = np.arange(len(self.producers))
        bom_node = np.repeat(np.arange(N), np.diff(net.bom_ptr))
        bom_pos = np.arange(len(net.bom_per_unit)) - net.bom_ptr[bom_node]
        self.bom_producer = producer_row[bom_node]  # producer row of each BOM row
        self.bom_rounds = [
            (self.bom_producer[bom_pos == i], np.flatnonzero(bom_pos == i))
            for i in range(int(bom_pos.max()) + 1 if len(bom_pos) else 0)
        ]
        self.mu = net.node_demand_mean[self.consumers]  # constant demand (cv = 0)
        # Ordering: share groups (CSR in the kernel's lane order).
        self.order_buffers = tables.order_buffers
        self.group_lanes, self.group_of, self.into_group = _members(
            tables.group_ptr, tables.group_lanes
        )
        self.group_buffer = self.order_buffers[self.group_of]
        self.group_share = net.lane_share[self.group_lanes][:, None]
        self.group_delay = net.lane_switch_delay[self.group_lanes][:, None]
        # Unbounded and bounded lanes take over shares and pass requests differently.
        unbounded = np.isinf(net.lane_capacity[self.group_lanes])
        self.open_rows = np.flatnonzero(unbounded)
        self.open_into = _Scatter(self.group_of[self.open_rows])
        self.capped_rows = np.flatnonzero(~unbounded)
        self.capped_into = _Scatter(self.group_of[self.capped_rows])
        self.capped_cap = net.lane_capacity[self.group_lanes[self.capped_rows], None]
        self.group_cap = net.lane_capacity[self.group_lanes][:, None]
        self.group_flow = net.lane_initial_flow[self.group_lanes][:, None]
        # Suppliers: their outbound normal lanes, allocated pro-rata.
        self.supplier_lanes, self.supplier_of, self.into_supplier = _members(
            tables.supplier_ptr, tables.supplier_lanes
        )
        self.supplier_storage = (net.node_kind[tables.supplier_nodes] == STORAGE)[:, None]
        self.supplier_flow = net.lane_initial_flow[self.supplier_lanes][:, None]
        self.supplier_spot = ~(self.supplier_flow > 0.0)

        # ---- state (section 2.6) ------------------------------------------------------------
        self.stock = np.repeat(net.buffer_initial[:, None], W, axis=1)
        self.pipe = np.zeros((int(tables.pipe_ptr[-1]), W))
        for lane in np.flatnonzero(net.lane_initial_flow > 0.0):
            base, lead = self.pipe_base[lane], self.lane_lead[lane]
            self.pipe[base : base + lead] = net.lane_initial_flow[lane]  # lead < ring size
        self.transit = np.repeat((net.lane_initial_flow * self.lane_lead)[:, None], W, axis=1)
        self.counter = np.zeros((L, W), dtype=np.int64)
        self.position = np.zeros((B, W))
        self.order = np.zeros((B, W))
        self.request = np.zeros((L, W))
        self.filled = np.zeros((L, W))

        # ---- the replications' scenario disruptions and first hazard events ----------------
        D = len(net.disruption_ids)
        self.dis_on = np.zeros((D, W), dtype=np.bool_)
        self.dis_a = np.zeros((D, W), dtype=np.int64)
        self.dis_e = np.zeros((D, W), dtype=np.int64)
        for d in range(D):
            disruption_occurrences(
                net.dis_probability[d], net.dis_start[d], net.dis_duration[d], *self.dists,
                self.seed, self.reps, net.dis_stream[d], self.dis_on[d], self.dis_a[d],
                self.dis_e[d],
            )  # fmt: skip
        H = len(net.haz_nodes)
        self.haz_nodes = net.haz_nodes.astype(np.int64)
        self.haz_of_pair = np.repeat(np.arange(len(net.hazard_ids)), np.diff(net.haz_node_ptr))
        self.haz_ramp = net.haz_recovery_days[self.haz_of_pair].astype(np.int64)[:, None]
        self.haz_severity = net.haz_severity[self.haz_of_pair][:, None]
        self.haz_a = np.zeros((H, W), dtype=np.int64)
        self.haz_e = np.zeros((H, W), dtype=np.int64)
        self.haz_j = np.zeros((H, W), dtype=np.int64)  # index of the current event
        self.haz_last = np.full((H, W), -1, dtype=np.int64)  # latest start so far (onset)
        self.hazards_into = _Scatter(self.haz_nodes)
        for z in range(len(net.hazard_ids)):
            self._renew(z, (np.arange(net.haz_node_ptr[z], net.haz_node_ptr[z + 1]),), 0)

        # ---- metrics and output-only totals --------------------------------------------------
        R = len(self.consumers)
        self.m_demand = np.zeros((R, W))
        self.m_served = np.zeros((R, W))
        self.m_days_short = np.zeros((R, W))
        self.m_peak = np.zeros((R, W))
        self.m_area = np.zeros((R, W))
        self.t_first = np.full((R, W), -1, dtype=np.int64)
        self.t_low = np.full((R, W), -1, dtype=np.int64)
        self.t_rec = np.full((R, W), -1, dtype=np.int64)
        self.recovered = np.zeros((R, W), dtype=np.bool_)
        self.spells = np.zeros((R, W))
        self.short_yesterday = np.zeros((R, W), dtype=np.bool_)
        self.onset = np.zeros((R, W), dtype=np.int64)
        self.delivered = np.zeros((L, W))  # phase 2, before clipping (procurement)
        self.shipped = np.zeros((L, W))
        self.stock_days = np.zeros((B, W))  # sum of end-of-day stock (holding)
        self.produced = np.zeros((len(self.producers), W))
        self.used = np.zeros((len(net.bom_per_unit), W))
        self.lost = np.zeros((len(self.capped), W))

    def _renew(self, z: int, due: tuple[IntArray, ...], ramp: int) -> None:
        """Draw the next event of the due (pair, replication) items of hazard ``z``
        (`kernels.timeline.hazard_events`); ``due`` indexes the (H, W) state arrays, with all
        replications when it holds pair rows only (day 0)."""
        net = self.net
        if len(due) == 1:  # day 0: every replication of these pairs, event 0
            pairs = np.repeat(due[0], self.W)
            reps = np.tile(self.reps, len(due[0]))
            due = (pairs, np.tile(self.cols, len(due[0])))
            j = np.zeros(len(pairs), dtype=np.int64)
            previous_end = np.zeros(len(pairs), dtype=np.int64)
        else:
            pairs, reps = due[0], self.reps[due[1]]
            j = self.haz_j[due] + 1
            previous_end = self.haz_e[due] + ramp
        a = np.empty(len(pairs), dtype=np.int64)
        e = np.empty(len(pairs), dtype=np.int64)
        hazard_events(
            j, previous_end, net.haz_rate_per_day[z], net.haz_duration[z], *self.dists,
            self.seed, reps, net.haz_pair_stream[pairs], a, e,
        )  # fmt: skip
        self.haz_j[due] = j
        self.haz_a[due] = a
        self.haz_e[due] = e

    # ---- one day (section 5) ----------------------------------------------------------------

    def day(self, t: int) -> None:
        self.phase1_states(t)
        self.phase2_arrivals(t)
        self.phase3_production()
        self.phase4_demand(t)
        self.phase5_ordering()
        self.phase6a_allocation()
        self.phase7_shipping(t)
        self.stock_days += self.stock

    def phase1_states(self, t: int) -> None:
        """Section 5.1: disruption levels, factors, lane throughput and switching counters."""
        net, W = self.net, self.W
        f_node = np.ones((self.N, W))
        closed = np.ones((len(net.chokepoint_ids), W))  # prod (1 - level); x_k = 1 - closed

        # Hazards: advance each (pair, replication) past events whose effect has ended (the up
        # time counts from the end of the ramp), until none is due.
        for z in range(len(net.hazard_ids)):
            start, end = int(net.haz_node_ptr[z]), int(net.haz_node_ptr[z + 1])
            ramp = int(net.haz_recovery_days[z])
            while True:
                rows, cols = np.nonzero(self.haz_e[start:end] + ramp <= t)
                if len(rows) == 0:
                    break
                due = (rows + start, cols)
                old_a = self.haz_a[due]
                self.haz_last[due] = np.where(old_a <= t, old_a, self.haz_last[due])
                self._renew(z, due, ramp)
        if len(self.haz_nodes):
            a, e, ramps = self.haz_a, self.haz_e, self.haz_ramp
            started = a <= t
            self.haz_last = np.where(started, a, self.haz_last)
            u = t - e
            ramping = self.haz_severity * (ramps - u) / (ramps + 1.0)
            # level = severity before e, the ramp for u < ramp, else 0; blended with 0/1
            # factors, exact for finite values and faster than np.where on mixed masks.
            level = self.haz_severity * (u < 0) + ramping * ((u >= 0) & (u < ramps))
            self.hazards_into.multiply(f_node, 1.0 - level * started)

        # Scenario disruptions (node or chokepoint), in row order (effects multiply).
        for d in range(len(net.disruption_ids)):
            on = self.dis_on[d]
            if not on.any():
                continue
            a, e = self.dis_a[d], self.dis_e[d]
            severity = float(net.dis_severity[d])
            ramp = int(net.dis_recovery_days[d])
            u = t - e
            ramping = severity * (ramp - u) / (ramp + 1.0)
            level = np.where(t < e, severity, np.where(u < ramp, ramping, 0.0))
            level = np.where(t < a, 0.0, level)
            active = on & (level > 0.0)
            if not active.any():
                continue
            factor = np.where(active, 1.0 - level, 1.0)  # times 1.0 leaves a factor unchanged
            target = int(net.dis_target[d])
            if int(net.dis_kind[d]) == NODE:
                f_node[target] *= factor
            else:
                closed[target] *= factor

        # Lanes through a chokepoint closed in some replication today ("touched", as in the
        # kernel): combined closure x and the detour (extra days, capacity factor) of the
        # closed chokepoints. Every other lane has x = 0 and ships direct.
        shut = (closed < 1.0).any(axis=1)
        touched = np.any(self.lane_has_choke[:, shut], axis=1)
        self.touched = np.flatnonzero(touched)
        row = np.cumsum(touched) - 1  # row of a touched lane in the arrays below
        n = len(self.touched)
        through = np.ones((n, W))
        any_closed = np.zeros((n, W), dtype=np.bool_)
        extra = np.zeros((n, W), dtype=np.int64)
        factor = np.ones((n, W))
        for lanes, chokes in self.choke_rounds if n else ():
            keep = touched[lanes]
            rows, chokes = row[lanes[keep]], chokes[keep]
            open_share = closed[chokes]
            through[rows] *= open_share
            is_closed = open_share < 1.0
            any_closed[rows] |= is_closed
            days = net.choke_detour_days[chokes][:, None]
            no_detour = days < 0
            cheapest = np.minimum(factor[rows], net.choke_capacity_factor[chokes][:, None])
            factor[rows] = np.where(is_closed, np.where(no_detour, 0.0, cheapest), factor[rows])
            longest = np.maximum(extra[rows], days)
            extra[rows] = np.where(is_closed & ~no_detour, longest, extra[rows])
        factor = np.where(any_closed, factor, 0.0)
        x = 1.0 - through

        # phi = (1 - x) + x * F on touched lanes, 1 elsewhere.
        phi = np.ones((self.L, W))
        phi[self.touched] *= (1.0 - x) + x * factor
        avail = np.minimum(1.0, phi) * f_node[self.lane_from]
        self.counter = (self.counter + 1) * (avail < 1.0)  # reset to 0 when available

        self.f_node = f_node
        self.x_touched, self.extra_touched, self.factor_touched = x, extra, factor
        self.phi, self.avail = phi, avail

    def phase2_arrivals(self, t: int) -> None:
        """Section 5.2: deliver what is due on every lane; clip overflow."""
        here = self.pipe_base + t % self.pipe_size
        deliver = self.pipe[here]
        self.pipe[here] = 0.0
        self.into_buffer.add(self.stock, deliver)
        self.transit -= deliver
        self.delivered += deliver
        if len(self.capped):
            stock = self.stock[self.capped]
            cap = self.net.buffer_capacity[self.capped, None]
            over = stock > cap
            self.lost += np.where(over, stock - cap, 0.0)
            self.stock[self.capped] = np.where(over, cap, stock)

    def phase3_production(self) -> None:
        """Section 5.3: sources and processors produce up to capacity, room and inputs."""
        net, N = self.net, self.N
        nodes = self.producers
        p = np.minimum(
            net.node_capacity[nodes, None] * self.f_node[nodes],
            net.buffer_capacity[nodes, None] - self.stock[nodes],
        )
        for producers, rows in self.bom_rounds:
            ratio = self.stock[N + rows] / net.bom_per_unit[rows, None]
            p[producers] = np.minimum(p[producers], ratio)
        p = np.where(p < 0.0, 0.0, p)
        used = net.bom_per_unit[:, None] * p[self.bom_producer]
        self.stock[N:] -= used  # buffer N + m is the input stock of BOM row m
        self.stock[nodes] += p
        self.used += used
        self.produced += p

    def phase4_demand(self, t: int) -> None:
        """Sections 5.4 and 7: serve the (constant) demand, then the metrics of the day."""
        demand = np.repeat(self.mu[:, None], self.W, axis=1)
        nodes = self.consumers
        stock = self.stock[nodes]
        served = np.minimum(stock, demand)
        short = demand - served
        self.stock[nodes] = stock - served
        self.m_demand += demand
        self.m_served += served
        self.m_peak = np.maximum(self.m_peak, short)
        positive = demand > 0.0
        self.m_area += 1.0 - np.where(positive, served / demand, 1.0)

        # Short days, onset and recovery. The kernel's tracking pass recomputes the service as
        # (demand - short) / demand, and the threshold tests use that value, as there.
        service = np.where(positive, (demand - short) / demand, 1.0)
        short_day = short > SHORT_DAY_TOLERANCE * np.maximum(1.0, demand)
        self.m_days_short += short_day
        self.spells += short_day & ~self.short_yesterday
        self.short_yesterday = short_day
        new = short_day & (self.t_first < 0)
        if new.any():
            self.t_first[new] = t
            self.onset[new] = self._onset(t, *np.nonzero(new))
        # Recovery (section 7.1): after t_low, the first day of a run of days at or above the
        # threshold that lasts the window; a low day breaks the run.
        watching = (self.t_first >= 0) & ~self.recovered
        threshold = self.net.recovery_threshold
        after_low = watching & (self.t_low >= 0)
        self.t_low[watching & (self.t_low < 0) & (service < threshold)] = t
        self.t_rec[after_low & (service < threshold)] = -1
        good = after_low & (service >= threshold)
        self.t_rec[good & (self.t_rec < 0)] = t
        window = self.net.recovery_window_days
        self.recovered |= good & (t - self.t_rec + 1 >= window)

    def _onset(self, t: int, rows: IntArray, cols: IntArray) -> IntArray:
        """Section 7.1: onsets of the shortfalls that start today, per (consumer, replication)."""
        net, tb = self.net, self.tb
        never = np.iinfo(np.int64).max
        earliest = np.full(len(rows), never)  # earliest start among occurrences in effect
        latest = np.full(len(rows), -1)  # latest start before t among the others
        for d in range(len(net.disruption_ids)):
            a = self.dis_a[d, cols]
            seen = self.dis_on[d, cols] & tb.dis_affects[rows, d] & (a <= t)
            in_effect = seen & (t < self.dis_e[d, cols] + net.dis_recovery_days[d])
            earliest = np.where(in_effect, np.minimum(earliest, a), earliest)
            latest = np.where(seen & ~in_effect & (a < t), np.maximum(latest, a), latest)
        if len(self.haz_nodes):
            upstream = tb.upstream_node[rows][:, self.haz_nodes].T  # (H, pairs)
            a = self.haz_a[:, cols]
            in_effect = upstream & (a <= t) & (t < self.haz_e[:, cols] + self.haz_ramp)
            last = self.haz_last[:, cols]
            before = upstream & ~in_effect & (last >= 0) & (last < t)
            earliest = np.minimum(earliest, np.where(in_effect, a, never).min(axis=0))
            latest = np.maximum(latest, np.where(before, last, -1).max(axis=0))
        return np.where(earliest < never, earliest, np.where(latest >= 0, latest, 0))

    def phase5_ordering(self) -> None:
        """Section 5.5: positions (stock plus everything in transit) and order-up-to orders."""
        buffers = self.order_buffers
        # Each ordering buffer adds its group's lanes in group order (rows are groups here).
        position = self.stock[buffers]
        self.into_group.add(position, self.transit[self.group_lanes])
        self.position[buffers] = position
        target = self.net.buffer_target[buffers, None]
        if self.net.adaptive_ordering:
            # The pipeline part of the target follows today's detours (no licensing delays or
            # surges on this network): X_b = sum_l s_l E_l x_l F_l / den_l in group order.
            days = np.zeros((self.L, self.W))
            if len(self.touched):
                x, factor = self.x_touched, self.factor_touched
                extra = self.extra_touched
                den = (1.0 - x) + x * factor
                detoured = (x != 0.0) & (extra != 0) & (den > 0.0)
                share = np.divide(x * factor, den, out=np.zeros_like(x), where=detoured)
                days[self.touched] = np.where(detoured, extra * share, 0.0)
            shift = np.zeros_like(position)
            self.into_group.add(shift, self.group_share * days[self.group_lanes])
            rate = self.net.buffer_reference_rate[buffers, None]
            # T_b + r_b ((m - 1) P_b + m X_b) with no surge (m = 1) is T_b + r_b X_b exactly.
            target = np.where(shift == 0.0, target, target + rate * shift)
        self.order[buffers] = np.maximum(0.0, target - position)

    def phase6a_allocation(self) -> None:
        """Section 5.6: effective shares and requests per group, then pro-rata fills."""
        net, tb, W = self.net, self.tb, self.W
        lanes, group_of = self.group_lanes, self.group_of
        n_groups = len(self.order_buffers)
        base = self.group_share
        counter = self.counter[lanes]
        receives = counter == 0
        n_receivers = np.zeros((n_groups, W), dtype=np.int64)
        self.into_group.add(n_receivers, receives)
        switched = (counter > self.group_delay) & (n_receivers[group_of] > 0)
        share = base
        if switched.any():
            # Switched lanes hand the impaired part of their share to the receivers: equally
            # among unbounded receivers if there are any, else by capacity.
            impaired = base * (1.0 - self.avail[lanes])
            handed = np.zeros((n_groups, W))
            self.into_group.add(handed, np.where(switched, impaired, 0.0))
            handed = handed[group_of]
            gain = np.zeros_like(handed)
            n_unbounded = np.zeros((n_groups, W), dtype=np.int64)
            rows = self.open_rows
            if len(rows):
                self.open_into.add(n_unbounded, receives[rows])
                gain[rows] = handed[rows] / n_unbounded[group_of[rows]]
            rows = self.capped_rows
            if len(rows):
                capacity_sum = np.zeros((n_groups, W))
                self.capped_into.add(capacity_sum, np.where(receives[rows], self.capped_cap, 0.0))
                by_capacity = handed[rows] * self.capped_cap / capacity_sum[group_of[rows]]
                gain[rows] = np.where(n_unbounded[group_of[rows]] > 0, 0.0, by_capacity)
            share = np.where(
                switched,
                base - impaired,
                np.where(receives & (handed > 0.0), base + gain, base),
            )
        # Requests through each lane (through-capacity, section 5.1): min(y, K) undisrupted,
        # at most phi times the undisrupted flow when disrupted.
        order_share = self.order[self.group_buffer] * share
        phi = self.phi[lanes]
        limit = np.where(phi < 1.0, phi * self.group_flow, self.group_cap)
        self.request[lanes] = np.minimum(order_share, limit)

        # Allocation: each supplier's available stock against the sum of its requests.
        nodes = tb.supplier_nodes
        available = np.maximum(0.0, self.stock[nodes])
        f = self.f_node[nodes]
        limit = np.where(f > 0.0, net.node_capacity[nodes, None] * f, 0.0)
        available = np.where(self.supplier_storage, np.minimum(available, limit), available)
        request = self.request[self.supplier_lanes]
        total = np.zeros_like(available)
        self.into_supplier.add(total, request)
        if not self.net.allocation_by_share:
            scale = np.where(total <= available, 1.0, available / total)
            self.filled[self.supplier_lanes] = request * scale[self.supplier_of]
            return
        short = total > available
        fill = np.where(short[self.supplier_of], 0.0, request)
        if short.any():
            fill = self._split_by_share(request, available, short, fill)
        self.filled[self.supplier_lanes] = fill

    def _split_by_share(
        self, request: FloatArray, available: FloatArray, short: np.ndarray, fill: FloatArray
    ) -> FloatArray:
        """Water-filling by undisrupted flow at the ``short`` (supplier, replication) items, as
        `kernels.ordering.split_by_share`; ``request`` and ``fill`` are per supplier lane."""
        of, flow, spot = self.supplier_of, self.supplier_flow, self.supplier_spot
        into = self.into_supplier
        remaining = np.where(short, available, 0.0)
        pending = short[of] & (request > 0.0) & ~spot
        while pending.any():
            weight = np.zeros_like(remaining)
            into.add(weight, np.where(pending, flow, 0.0))
            level = np.divide(remaining, weight, out=np.zeros_like(remaining), where=weight > 0.0)
            entitled = np.where(pending, level[of] * flow, 0.0)
            met = pending & (request <= entitled)
            n_met = np.zeros(remaining.shape, dtype=np.int64)
            into.add(n_met, met)
            none_met = pending & (n_met[of] == 0)
            fill = np.where(none_met, entitled, fill)
            fill = np.where(met, request, fill)
            # remaining = max(0, remaining - request) per met lane, in lane order
            for items, rows in into.rounds:
                taken = np.where(met[items], request[items], 0.0)
                remaining[rows] = np.where(
                    met[items], np.maximum(0.0, remaining[rows] - taken), remaining[rows]
                )
            exhausted = np.zeros(remaining.shape, dtype=np.bool_)
            into.add(exhausted, none_met)
            remaining = np.where(exhausted, 0.0, remaining)
            pending = pending & ~met & ~none_met
        if spot.any():
            spot_total = np.zeros_like(remaining)
            into.add(spot_total, np.where(spot & short[of], request, 0.0))
            fits = spot_total[of] <= remaining[of]
            spread = np.divide(
                request * remaining[of], spot_total[of], out=np.zeros_like(request),
                where=spot_total[of] > 0.0,
            )  # fmt: skip
            fill = np.where(spot & short[of], np.where(fits, request, spread), fill)
        return fill

    def phase7_shipping(self, t: int) -> None:
        """Section 5.8: fills leave their supplier and enter the pipeline, direct or detoured."""
        q = self.filled
        self.out_of_node.add(self.stock, -q)
        self.transit += q
        self.shipped += q
        # Lanes without a closure in any replication today ship everything
        # direct, into one slot per lane; the others need a slot per (lane, replication).
        touched = np.zeros(self.L, dtype=np.bool_)
        touched[self.touched] = True
        calm = np.flatnonzero(~touched)
        slot = self.pipe_base[calm] + (t + self.lane_lead[calm]) % self.pipe_size[calm]
        self.pipe[slot] += q[calm]
        hit = np.flatnonzero(touched)
        if not len(hit):
            return
        x, factor, extra = self.x_touched, self.factor_touched, self.extra_touched
        q = q[hit]
        shipped = q > 0.0  # den > 0 whenever q > 0
        den = (1.0 - x) + x * factor
        direct = np.where(shipped, q * (1.0 - x) / den, 0.0)
        detour = np.where(shipped, q - direct, 0.0)
        base = self.pipe_base[hit, None]
        size = self.pipe_size[hit, None]
        delay = t + self.lane_lead[hit, None]
        self.pipe[base + delay % size, self.cols] += direct
        self.pipe[base + (delay + extra) % size, self.cols] += detour

    # ---- outputs (resilience.model.outcomes layout) -----------------------------------------

    def outputs(self) -> tuple[FloatArray, FloatArray, FloatArray]:
        net, tb = self.net, self.tb
        W, R, C = self.W, len(self.consumers), len(net.commodity_ids)
        horizon = net.horizon_days
        demand, served = self.m_demand, self.m_served
        first, low, rec, onset = self.t_first, self.t_low, self.t_rec, self.onset
        short = first >= 0
        ttr = np.where(low < 0, first + 1 - onset, np.where(rec < 0, horizon - onset, rec - onset))
        # Costs per consumer from the per-lane and per-buffer totals.
        lanes = np.flatnonzero(tb.lane_consumer >= 0)
        procurement = np.zeros((R, W))
        shipping = np.zeros((R, W))
        price = net.commodity_price[net.lane_commodity]
        np.add.at(procurement, tb.lane_consumer[lanes], price[lanes, None] * self.delivered[lanes])
        np.add.at(
            shipping, tb.lane_consumer[lanes], net.lane_cost[lanes, None] * self.shipped[lanes]
        )
        holding_rate = net.node_holding_cost[net.buffer_node][:, None]
        columns = {
            "demand": demand,
            "served": served,
            "shortfall": demand - served,
            "fill_rate": np.where(demand > 0.0, served / demand, 1.0),
            "days_short": self.m_days_short,
            "peak_shortfall": self.m_peak,
            "tts": np.where(short, first - onset, np.nan),
            "ttr": np.where(short, ttr, np.nan),
            "censored": (short & (low >= 0) & (rec < 0)).astype(np.float64),
            "loss_area": self.m_area,
            "procurement_cost": procurement,
            "shipping_cost": shipping,
            "holding_cost": holding_rate[self.consumers] * self.stock_days[self.consumers],
            "spells": self.spells,
        }
        consumer = np.zeros((W, R, N_CONSUMER_METRICS))
        for name, values in columns.items():
            consumer[:, :, _M[name]] = values.T

        totals = np.zeros((W, N_NETWORK_METRICS))
        totals[:, 0] = (net.lane_cost[:, None] * self.shipped).sum(axis=0)
        totals[:, 1] = (holding_rate * self.stock_days).sum(axis=0)
        totals[:, 2] = horizon * float(net.node_fixed_cost.sum())

        conservation = np.zeros((W, C, N_CONSERVATION))
        # What is left in each lane's ring (rings are never empty, as reduceat needs).
        in_pipe = np.add.reduceat(self.pipe, tb.pipe_ptr[:-1], axis=0) if self.L else self.pipe
        for c in range(C):
            buffers = net.buffer_commodity == c
            lanes_c = net.lane_commodity == c
            term = {
                "initial_stock": net.buffer_initial[buffers].sum(),
                "initial_transit": (
                    net.lane_initial_flow[lanes_c] * net.lane_lead_time[lanes_c]
                ).sum(),
                "produced": self.produced[net.node_commodity[self.producers] == c].sum(axis=0),
                "consumed_demand": served[net.node_commodity[self.consumers] == c].sum(axis=0),
                "consumed_inputs": self.used[net.bom_commodity == c].sum(axis=0),
                "final_stock": self.stock[buffers].sum(axis=0),
                "final_transit": in_pipe[lanes_c].sum(axis=0),
                "lost": self.lost[net.buffer_commodity[self.capped] == c].sum(axis=0),
            }
            for name, value in term.items():
                conservation[:, c, _T[name]] = value
        return consumer, totals, conservation
