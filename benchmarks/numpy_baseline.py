"""A NumPy-vectorised baseline of the daily model (docs/model.md), for benchmarks only.

The benchmarks report how much faster the Numba kernel (kernels/daily.py) is than "good NumPy".
This module is that NumPy: it runs the same model on the same compiled `Network` and
`KernelTables`, with all ``count`` replications at once. Every state array is shaped
``(elements, count)``, like the kernel's ``state[element, w]`` blocks, and each phase either
works on whole ``(elements, count)`` arrays or loops in Python over network elements (lanes,
nodes, share groups, suppliers) with NumPy vector operations over the replication axis in place
of the kernel's inner ``for w in range(W)`` loops. There is no Python loop over replications.

It produces the kernel's numbers (to 1e-9, tests/test_numpy_baseline.py):

- Random numbers come from the same counter-based SplitMix64 uniform (docs/model.md 4.2), here
  over uint64 arrays, with the same counter slots and transforms (4.3). The first three mixing
  steps of a stream depend only on (seed, replication, key), so they are computed once per
  stream and each draw costs one more mix.
- Sums that feed the dynamics (stock, positions, pipelines, request totals) are added in the
  kernel's order. Where several elements add into one row (lanes into a buffer, lanes out of a
  supplier), `_Scatter` applies the additions in "rounds" of distinct rows, which keeps the
  sequential order of every row without a Python loop per element. Different orders would
  differ in the last bit, and a tie in a discontinuous test could then go the other way
  (docs/model.md, section 10). Totals that only feed the outputs (costs, conservation terms)
  are kept per lane, buffer or producer and reduced once at the end, in NumPy's order.
- Transcendental functions (log, exp, cos) are NumPy's, which may differ from the kernel's
  libm by an ulp; that moves results by about 1e-16, far inside the tolerance.

Nothing in the package imports this module: the kernel and the plain-Python reference
(resilience/model/reference.py) remain the model's implementations of record, and the test keeps
this one in step with the kernel.

Timing note: a day allocates many ``(elements, count)`` float64 temporaries. With glibc's
default settings, freed memory is handed back to the OS and faulted in again, which on the
reference network costs about as much as the arithmetic (measure with ``/usr/bin/time -v``:
minor page faults). Setting e.g. ``MALLOC_TRIM_THRESHOLD_`` and ``MALLOC_MMAP_THRESHOLD_`` to
a large value in the benchmark's environment removes that cost.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from kernels.codes import EMPIRICAL, EXPONENTIAL, FIXED, LOGNORMAL, TRIANGULAR, UNIFORM, WEIBULL
from kernels.daily import N_CONSERVATION, N_CONSUMER_METRICS, N_NETWORK_METRICS
from resilience.model.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS
from resilience.network.arrays import DISRUPTION_KIND_CODES, NODE_KIND_CODES, Network
from resilience.network.tables import KernelTables

__all__ = ["simulate_numpy"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
KeyArray = npt.NDArray[np.uint64]

_SOURCE, _PROCESSOR, _STORAGE = (NODE_KIND_CODES[k] for k in ("source", "processor", "storage"))
_NODE, _LANE, _CHOKE, _EXPORT, _SURGE = (
    DISRUPTION_KIND_CODES[k]
    for k in ("node", "lane", "chokepoint", "export_restriction", "demand_surge")
)
_SHORT_TOLERANCE = 1e-9  # section 7: a day is short when shortfall > 1e-9 * max(1, d_t)

_M = {name: i for i, name in enumerate(CONSUMER_METRICS)}
_T = {name: i for i, name in enumerate(CONSERVATION_TERMS)}

# ---- random numbers (docs/model.md 4.2, 4.3) -------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_TWO_M53 = 2.0**-53


def _mix(z: KeyArray) -> KeyArray:
    """SplitMix64 step on a uint64 array (kernels.rng.mix); arithmetic wraps modulo 2**64."""
    with np.errstate(over="ignore"):
        z = z + _GOLDEN
        z = (z ^ (z >> np.uint64(30))) * _M1
        z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def _streams(replication_state: KeyArray, keys: KeyArray) -> KeyArray:
    """``mix(mix(mix(seed) ^ rep) ^ key)`` for each stream key and replication: (keys, W).

    ``replication_state`` is ``mix(mix(seed) ^ rep)``, one per replication.
    """
    return _mix(keys.astype(np.uint64)[:, None] ^ replication_state[None, :])


def _uniform(stream: KeyArray, k: int | IntArray) -> FloatArray:
    """Draw ``k`` of the streams whose three first mixes are ``stream`` (kernels.rng.uniform)."""
    h = _mix(stream ^ np.asarray(k).astype(np.uint64))
    return ((h >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_M53


def _round_days(x: FloatArray) -> IntArray:
    """Whole days, halves up, never below 0 (kernels.draws.round_days)."""
    value = np.floor(x + 0.5)
    return np.where(value > 0.0, value, 0.0).astype(np.int64)


def _draw_days(network: Network, dist: int, stream: KeyArray, slot: int | IntArray) -> FloatArray:
    """Draws from distribution row ``dist`` using counter slots ``slot, slot + 1`` of each stream.

    The vector form of kernels.draws.draw_days; ``slot`` is a scalar or matches ``stream``.
    """
    kind = int(network.dist_kind[dist])
    p0, p1, p2 = (float(v) for v in network.dist_params[dist])
    if kind == FIXED:
        return np.full(stream.shape, p0)
    u = _uniform(stream, slot)
    if kind == EXPONENTIAL:
        return -p0 * np.log(u)
    if kind == LOGNORMAL:
        u2 = _uniform(stream, np.asarray(slot) + 1)
        z = np.sqrt(-2.0 * np.log(u)) * np.cos(2.0 * math.pi * u2)
        return p0 * np.exp(p1 * z)
    if kind == WEIBULL:
        return p1 * (-np.log(u)) ** (1.0 / p0)
    if kind == UNIFORM:
        return p0 + (p1 - p0) * u
    if kind == TRIANGULAR:
        low, mode, high = p0, p1, p2
        if high == low:
            return np.full(stream.shape, low)
        split = (mode - low) / (high - low)
        lower = low + np.sqrt(u * (high - low) * (mode - low))
        upper = high - np.sqrt((1.0 - u) * (high - low) * (high - mode))
        return np.where(u < split, lower, upper)
    assert kind == EMPIRICAL
    start, end = int(network.dist_values_ptr[dist]), int(network.dist_values_ptr[dist + 1])
    # The smallest i with u < cdf[i], else the last value.
    index = np.searchsorted(network.dist_cdf[start:end], u, side="right")
    return network.dist_values[start:end][np.minimum(index, end - start - 1)]


# ---- ordered scatter -------------------------------------------------------------------------


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

    Args:
        network: the compiled network.
        tables: ``resilience.engines.kernel.build_tables(network)``.
        first: index of the first replication.
        count: number of replications (>= 1).
        seed: overrides ``network.seed``.

    Returns:
        ``(consumer, network_totals, conservation)``: float64 arrays of shapes (count, R, 13),
        (count, 3) and (count, C, 8), in the layout of resilience.model.outcomes.
    """
    if count < 1:
        raise ValueError("count must be >= 1")
    # Like the kernel (error_model="numpy"), divisions by zero in branches that np.where
    # discards give inf/NaN quietly.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        run = _Run(network, tables, first, count, network.seed if seed is None else seed)
        for t in range(network.horizon_days):
            run.day(t)
        return run.outputs()


class _Run:
    """The state of ``W`` replications and the static tables of the network, phase by phase.

    Arrays are ``(elements, W)``; names follow kernels/daily.py. Totals that only feed the
    outputs (costs, the conservation terms) are kept per element (lane, buffer, producer) and
    reduced once at the end, instead of being scattered into their rows every day.
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

        reps = np.arange(first, first + count, dtype=np.uint64)
        seed_state = _mix(np.array([seed], dtype=np.uint64))
        self.rep_state = _mix(seed_state ^ reps)

        # ---- static tables ------------------------------------------------------------------
        self.consumers = net.consumers.astype(np.int64)
        self.lane_from = net.lane_from.astype(np.int64)
        self.lane_buffer = net.lane_buffer.astype(np.int64)
        self.lane_lead = net.lane_lead_time.astype(np.int64)
        self.lane_cap = net.lane_capacity
        self.lane_unbounded = np.isinf(net.lane_capacity)
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
        self.producers = np.flatnonzero((kind == _SOURCE) | (kind == _PROCESSOR))
        producer_row = np.full(N, -1, dtype=np.int64)
        producer_row[self.producers] = np.arange(len(self.producers))
        bom_node = np.repeat(np.arange(N), np.diff(net.bom_ptr))
        bom_pos = np.arange(len(net.bom_per_unit)) - net.bom_ptr[bom_node]
        self.bom_producer = producer_row[bom_node]  # producer row of each BOM row
        self.bom_rounds = [
            (self.bom_producer[bom_pos == i], np.flatnonzero(bom_pos == i))
            for i in range(int(bom_pos.max()) + 1 if len(bom_pos) else 0)
        ]
        # Consumers: demand parameters (scalar math, as in the kernel) and random streams.
        mu = net.node_demand_mean[self.consumers]
        cv = net.node_demand_cv[self.consumers]
        self.mu = mu
        sigma = np.array([math.sqrt(math.log(1.0 + c * c)) for c in cv])
        log_mean = np.array(
            [math.log(m) - 0.5 * s * s if m > 0.0 else 0.0 for m, s in zip(mu, sigma, strict=True)]
        )
        self.random_demand = np.flatnonzero((cv > 0.0) & (mu > 0.0))
        self.demand_sigma = sigma[self.random_demand, None]
        self.demand_log_mean = log_mean[self.random_demand, None]
        self.demand_stream = _streams(
            self.rep_state, net.node_demand_stream[self.consumers[self.random_demand]]
        )
        # Ordering: share groups (CSR in the kernel's lane order) and the buffers to position.
        self.order_buffers = tables.order_buffers
        self.group_lanes, self.group_of, self.into_group = _members(
            tables.group_ptr, tables.group_lanes
        )
        self.group_buffer = self.order_buffers[self.group_of]
        self.group_share = net.lane_share[self.group_lanes][:, None]
        self.group_delay = net.lane_switch_delay[self.group_lanes][:, None]
        # Unbounded and bounded lanes take over shares and pass requests differently.
        unbounded = self.lane_unbounded[self.group_lanes]
        self.open_rows = np.flatnonzero(unbounded)
        self.open_into = _Scatter(self.group_of[self.open_rows])
        self.capped_rows = np.flatnonzero(~unbounded)
        self.capped_into = _Scatter(self.group_of[self.capped_rows])
        self.capped_cap = net.lane_capacity[self.group_lanes[self.capped_rows], None]
        # Release and sharing lanes also count in their consumer's position (section 5.5).
        self.extra_lanes = np.concatenate([tables.release_lanes, tables.sharing_lanes])
        self.extra_into = _Scatter(self.lane_buffer[self.extra_lanes])
        # Buffers with a position: the ordering buffers, and the consumers for phase 6b/6c.
        # (Validation makes every consumer reachable by a normal lane, so every consumer
        # orders and this is the kernel's set.)
        self.positioned = np.union1d(self.order_buffers, self.consumers)
        # Suppliers: their outbound normal lanes in rank order. All are first allocated
        # pro-rata (one rank) at once; the few with several ranks are then redone in a loop.
        self.supplier_lanes, self.supplier_of, self.into_supplier = _members(
            tables.supplier_ptr, tables.supplier_lanes
        )
        self.supplier_storage = (net.node_kind[tables.supplier_nodes] == _STORAGE)[:, None]
        ranks, ptr = tables.supplier_rank, tables.supplier_ptr
        self.ranked_suppliers = [
            i for i in range(len(tables.supplier_nodes)) if ranks[ptr[i]] != ranks[ptr[i + 1] - 1]
        ]
        self.policies = len(self.extra_lanes) > 0
        self.toward_into = _Scatter(self.lane_buffer[self.supplier_lanes])

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
        if D:
            streams = _streams(self.rep_state, net.dis_stream)
            self.dis_on = _uniform(streams, 0) < net.dis_probability[:, None]
            for d in range(D):
                a = _round_days(_draw_days(net, int(net.dis_start[d]), streams[d], 1))
                e = a + _round_days(_draw_days(net, int(net.dis_duration[d]), streams[d], 3))
                self.dis_a[d] = np.where(self.dis_on[d], a, 0)
                self.dis_e[d] = np.where(self.dis_on[d], e, 0)
        H = len(net.haz_nodes)
        self.haz_nodes = net.haz_nodes.astype(np.int64)
        self.haz_of_pair = np.repeat(np.arange(len(net.hazard_ids)), np.diff(net.haz_node_ptr))
        self.haz_ramp = net.haz_recovery_days[self.haz_of_pair].astype(np.int64)[:, None]
        self.haz_severity = net.haz_severity[self.haz_of_pair][:, None]
        self.haz_stream = _streams(self.rep_state, net.haz_pair_stream)
        self.haz_a = np.zeros((H, W), dtype=np.int64)
        self.haz_e = np.zeros((H, W), dtype=np.int64)
        self.haz_j = np.zeros((H, W), dtype=np.int64)  # index of the current event
        self.haz_last = np.full((H, W), -1, dtype=np.int64)  # latest start so far (onset)
        self.hazards_into = _Scatter(self.haz_nodes)
        for z in range(len(net.hazard_ids)):
            rows = slice(net.haz_node_ptr[z], net.haz_node_ptr[z + 1])
            stream = self.haz_stream[rows]
            up = -np.log(_uniform(stream, 0)) / net.haz_rate_per_day[z]
            self.haz_a[rows] = _round_days(up)
            self.haz_e[rows] = self.haz_a[rows] + _round_days(
                _draw_days(net, int(net.haz_duration[z]), stream, 1)
            )

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
        self.onset = np.zeros((R, W), dtype=np.int64)
        self.delivered = np.zeros((L, W))  # phase 2, before clipping (procurement)
        self.shipped = np.zeros((L, W))
        self.stock_days = np.zeros((B, W))  # sum of end-of-day stock (holding)
        self.produced = np.zeros((len(self.producers), W))
        self.used = np.zeros((len(net.bom_per_unit), W))
        self.lost = np.zeros((len(self.capped), W))

    # ---- one day (section 5) ----------------------------------------------------------------

    def day(self, t: int) -> None:
        self.phase1_states(t)
        self.phase2_arrivals(t)
        self.phase3_production()
        self.phase4_demand(t)
        self.phase5_ordering()
        self.phase6a_allocation()
        if self.policies:
            self.phase6bc_release_and_sharing()
        self.phase7_shipping(t)
        self.stock_days += self.stock

    def phase1_states(self, t: int) -> None:
        """Section 5.1: disruption levels, factors, lane throughput and switching counters."""
        net, tb, W = self.net, self.tb, self.W
        f_node = np.ones((self.N, W))
        closed = np.ones((len(net.chokepoint_ids), W))  # prod (1 - level); x_k = 1 - closed
        surge = np.ones((len(self.consumers), W))
        # Lane and export factors and licensing delays stay None (1, 1, 0) on days without
        # a lane disruption or export restriction in effect.
        g: FloatArray | None = None
        gx: FloatArray | None = None
        lic: IntArray | None = None

        # Hazards: advance each (pair, replication) past events whose effect has ended (the up
        # time counts from the end of the ramp), with masked draws until none is due.
        for z in range(len(net.hazard_ids)):
            pairs = slice(net.haz_node_ptr[z], net.haz_node_ptr[z + 1])
            ramp = int(net.haz_recovery_days[z])
            # Views: the masked writes below update the state arrays.
            a, e, j, last = (
                state[pairs] for state in (self.haz_a, self.haz_e, self.haz_j, self.haz_last)
            )
            while True:
                due = np.nonzero(e + ramp <= t)
                if len(due[0]) == 0:
                    break
                old_a = a[due]
                last[due] = np.where(old_a <= t, old_a, last[due])
                jj = j[due] + 1
                j[due] = jj
                stream = self.haz_stream[pairs][due]
                up = -np.log(_uniform(stream, 3 * jj)) / net.haz_rate_per_day[z]
                new_a = e[due] + ramp + _round_days(up)
                a[due] = new_a
                duration = _draw_days(net, int(net.haz_duration[z]), stream, 3 * jj + 1)
                e[due] = new_a + _round_days(duration)
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

        # Scenario disruptions, in row order (effects multiply).
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
            kind = int(net.dis_kind[d])
            target = int(net.dis_target[d])
            if kind == _NODE:
                f_node[target] *= factor
            elif kind == _LANE:
                g = np.ones((self.L, W)) if g is None else g
                g[target] *= factor
            elif kind == _CHOKE:
                closed[target] *= factor
            elif kind == _SURGE:
                surge[tb.consumer_of_node[target]] *= np.where(active, 1.0 + level, 1.0)
            else:
                gx = np.ones((self.L, W)) if gx is None else gx
                lic = np.zeros((self.L, W), dtype=np.int64) if lic is None else lic
                lanes = tb.export_lanes[tb.export_ptr[d] : tb.export_ptr[d + 1]]
                gx[lanes] *= factor
                delay = int(net.dis_licensing_delay[d])
                lic[lanes] = np.where(active & (delay > lic[lanes]), delay, lic[lanes])

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
        own = self.touched[net.lane_detour_days[self.touched] >= 0]  # lanes with an override
        if len(own):
            rows = row[own]
            overridden = any_closed[rows]
            extra[rows] = np.where(overridden, net.lane_detour_days[own, None], extra[rows])
            factor[rows] = np.where(overridden, net.lane_detour_factor[own, None], factor[rows])
        factor = np.where(any_closed, factor, 0.0)
        x = 1.0 - through

        # phi = g * gx * ((1 - x) + x * F), multiplied in that order.
        phi = np.ones((self.L, W)) if g is None else g.copy()
        if gx is not None:
            phi *= gx
        phi[self.touched] *= (1.0 - x) + x * factor
        avail = np.minimum(1.0, phi) * f_node[self.lane_from]
        self.counter = (self.counter + 1) * (avail < 1.0)  # reset to 0 when available

        self.f_node, self.g, self.lic, self.surge = f_node, g, lic, surge
        self.x_touched, self.extra_touched, self.factor_touched = x, extra, factor
        self.phi, self.avail = phi, avail

    def phase2_arrivals(self, t: int) -> None:
        """Section 5.2: deliver ``g * due`` on every lane, hold the rest a day; clip overflow."""
        cursor = t % self.pipe_size
        here = self.pipe_base + cursor
        due = self.pipe[here]
        self.pipe[here] = 0.0
        if self.g is None:
            deliver = due
        else:
            # A lane disruption holds the fraction 1 - g of what is due for one more day.
            deliver = self.g * due
            self.pipe[self.pipe_base + (cursor + 1) % self.pipe_size] += due - deliver
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
        """Sections 5.4 and 7: serve demand, then the metrics of the day."""
        demand = np.repeat(self.mu[:, None], self.W, axis=1)
        if len(self.random_demand):
            u1 = _uniform(self.demand_stream, 2 * t)
            u2 = _uniform(self.demand_stream, 2 * t + 1)
            normal = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
            demand[self.random_demand] = np.exp(self.demand_log_mean + self.demand_sigma * normal)
        demand *= self.surge
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
        short_day = short > _SHORT_TOLERANCE * np.maximum(1.0, demand)
        self.m_days_short += short_day
        new = short_day & (self.t_first < 0)
        if new.any():
            self.t_first[new] = t
            self.onset[new] = self._onset(t, *np.nonzero(new))
        started = self.t_first >= 0
        threshold = self.net.recovery_threshold
        low = started & (self.t_low < 0) & (service < threshold)
        recovered = started & (self.t_low >= 0) & (self.t_rec < 0) & (service >= threshold)
        self.t_low[low] = t
        self.t_rec[recovered] = t

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
        buffers = self.positioned
        self.position[buffers] = self.stock[buffers]
        # Each ordering buffer adds its group's lanes in group order (rows are groups here).
        position = self.stock[self.order_buffers]
        self.into_group.add(position, self.transit[self.group_lanes])
        self.position[self.order_buffers] = position
        self.extra_into.add(self.position, self.transit[self.extra_lanes])
        target = self.net.buffer_target[buffers, None]
        self.order[buffers] = np.maximum(0.0, target - self.position[buffers])

    def phase6a_allocation(self) -> None:
        """Section 5.6: effective shares and requests per group, then each supplier's fills."""
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
        # Requests through each lane (through-capacity, section 5.1).
        order_share = self.order[self.group_buffer] * share
        phi = self.phi[lanes]
        request = phi * order_share
        rows = self.capped_rows
        if len(rows):
            request[rows] = np.minimum(order_share[rows], self.capped_cap * phi[rows])
        self.request[lanes] = request

        # Allocation: each supplier's available stock against the sum of its requests.
        nodes = tb.supplier_nodes
        available = np.maximum(0.0, self.stock[nodes])
        f = self.f_node[nodes]
        limit = np.where(f > 0.0, net.node_capacity[nodes, None] * f, 0.0)
        available = np.where(self.supplier_storage, np.minimum(available, limit), available)
        request = self.request[self.supplier_lanes]
        total = np.zeros_like(available)
        self.into_supplier.add(total, request)
        scale = np.where(total <= available, 1.0, available / total)
        self.filled[self.supplier_lanes] = request * scale[self.supplier_of]
        for i in self.ranked_suppliers:
            self._allocate_by_rank(i, available[i], total[i])
        if self.policies:
            # Q_b of section 5.7: today's normal fills toward each buffer.
            self.toward = np.zeros_like(self.stock)
            self.toward_into.add(self.toward, self.filled[self.supplier_lanes])

    def _allocate_by_rank(self, i: int, available: FloatArray, total: FloatArray) -> None:
        """Priority allocation of supplier ``i``: ranks in order, each in full while stock lasts,
        the first that does not fit pro-rata, the rest nothing."""
        tb = self.tb
        j0, j1 = int(tb.supplier_ptr[i]), int(tb.supplier_ptr[i + 1])
        everything = total <= available
        remaining = available.copy()
        j = j0
        while j < j1:
            k = j
            while k < j1 and tb.supplier_rank[k] == tb.supplier_rank[j]:
                k += 1
            lanes = tb.supplier_lanes[j:k]
            group = np.zeros(self.W)
            for lane in lanes:
                group += self.request[lane]
            fits = everything | (group <= remaining)
            scale = np.where(group > 0.0, remaining / group, 0.0)
            for lane in lanes:
                self.filled[lane] = np.where(fits, self.request[lane], self.request[lane] * scale)
            remaining = np.where(fits, remaining - group, 0.0)
            j = k

    def _thru(self, lane: int, request: FloatArray) -> FloatArray:
        """What a lane passes of a request (section 5.1, through-capacity)."""
        phi = self.phi[lane]
        if self.lane_unbounded[lane]:
            passed: FloatArray = phi * request
        else:
            passed = np.minimum(request, self.lane_cap[lane] * phi)
        return passed

    def phase6bc_release_and_sharing(self) -> None:
        """Section 5.7: stockpile releases, then allied sharing, stockpile by stockpile and
        donor by donor, each filling its lanes' requests (pro-rata when short)."""
        net, tb = self.net, self.tb
        nodes = self.consumers
        mu = self.mu[:, None]
        cover = np.where(mu > 0.0, self.stock[nodes] / mu, np.inf)
        need = np.maximum(
            0.0, net.buffer_target[nodes, None] - self.position[nodes] - self.toward[nodes]
        )

        def fill(
            lanes: IntArray, trigger: float, offer: FloatArray, eligible: npt.ArrayLike
        ) -> None:
            total = np.zeros(self.W)
            for lane in lanes:
                r = tb.lane_consumer[lane]
                ask = np.where(cover[r] < trigger, self._thru(lane, need[r]), 0.0)
                self.request[lane] = ask
                total += ask
            scale = np.where(total <= offer, 1.0, offer / total)
            for lane in lanes:
                give = np.where(eligible, self.request[lane] * scale, 0.0)
                self.filled[lane] = give
                need[tb.lane_consumer[lane]] -= give

        for i, z in enumerate(tb.release_nodes):
            f = self.f_node[z]
            limit = np.where(f > 0.0, net.node_capacity[z] * f, 0.0)
            daily_cap = net.release_max_fraction * net.buffer_initial[z]
            available = np.maximum(0.0, np.minimum(np.minimum(self.stock[z], daily_cap), limit))
            lanes = tb.release_lanes[tb.release_ptr[i] : tb.release_ptr[i + 1]]
            fill(lanes, net.release_trigger_days, available, True)
        floor = net.sharing_floor_days
        for i, donor in enumerate(tb.sharing_nodes):
            eligible = cover[tb.consumer_of_node[donor]] > floor
            surplus = self.stock[donor] - floor * net.node_demand_mean[donor]
            offer = np.maximum(0.0, net.sharing_max_fraction * surplus)
            lanes = tb.sharing_lanes[tb.sharing_ptr[i] : tb.sharing_ptr[i + 1]]
            fill(lanes, net.sharing_trigger_days, offer, eligible)

    def phase7_shipping(self, t: int) -> None:
        """Section 5.8: fills leave their supplier and enter the pipeline, direct or detoured."""
        q = self.filled
        self.out_of_node.add(self.stock, -q)
        self.transit += q
        self.shipped += q
        # Lanes without a closure or licensing delay in any replication today ship everything
        # direct, into one slot per lane; the others need a slot per (lane, replication).
        touched = np.zeros(self.L, dtype=np.bool_)
        touched[self.touched] = True
        if self.lic is not None:
            touched |= (self.lic > 0).any(axis=1)
        calm = np.flatnonzero(~touched)
        slot = self.pipe_base[calm] + (t + self.lane_lead[calm]) % self.pipe_size[calm]
        self.pipe[slot] += q[calm]
        hit = np.flatnonzero(touched)
        if not len(hit):
            return
        # x, F and E of the lanes hit (0 for a lane with a licensing delay but no closure).
        x = np.zeros((len(hit), self.W))
        factor = np.zeros((len(hit), self.W))
        extra = np.zeros((len(hit), self.W), dtype=np.int64)
        closing = np.isin(hit, self.touched)
        x[closing] = self.x_touched
        factor[closing] = self.factor_touched
        extra[closing] = self.extra_touched
        q = q[hit]
        shipped = q > 0.0  # den > 0 whenever q > 0
        den = (1.0 - x) + x * factor
        direct = np.where(shipped, q * (1.0 - x) / den, 0.0)
        detour = np.where(shipped, q - direct, 0.0)
        base = self.pipe_base[hit, None]
        size = self.pipe_size[hit, None]
        delay = t + self.lane_lead[hit, None] + (0 if self.lic is None else self.lic[hit])
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
