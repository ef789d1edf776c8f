"""The typed records the kernel passes around: named tuples of arrays (Numba types them).

Three records come from the wrapper (``resilience.engines.kernel``) and are read-only to the
kernel, except `Outputs`, which it writes:

- `NetworkArrays`: the compiled Network's arrays that the kernel reads (docs/network.md gives each
  one's shape, dtype and unit; the field names are the Network's attribute names).
- `Tables`: the static index tables derived from it (``resilience.network.tables.KernelTables``,
  same field names and order).
- `Outputs`: the output arrays, written in place.

The others are a block's working state, allocated by `kernels.daily` for each block of W
replications (`block_width`); every array has the replications as its last, contiguous axis:

- `Block`: which replications the block runs and where it writes them.
- `Occurrences`: the sampled disruption and hazard occurrences (phase 1 advances hazards).
- `Factors`: what phase 1 writes each day and later phases read.
- `Stocks`: the material state: stock, pipelines, positions, orders, requests and fills.
- `Metrics`: running sums and first-day markers for the outputs (section 7).
- `Scratch`: per-block vectors of length W reused within a phase.

`new_occurrences`, `new_factors`, `new_stocks`, `new_metrics` and `new_scratch` allocate them.

Shapes use docs/network.md's symbols (N nodes, B buffers, L lanes, K chokepoints, D disruptions,
H hazard-node pairs, R consumers, C commodities; P = ``pipe_ptr[L]`` pipeline slots).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from kernels._jit import jit_phase
from kernels.pages import lane_rows

__all__ = [
    "BLOCK",
    "FACTOR_LANE_FLOATS",
    "LARGE_NETWORK_BLOCK",
    "LARGE_NETWORK_LANES",
    "STOCK_LANE_FLOATS",
    "Block",
    "Factors",
    "Metrics",
    "NetworkArrays",
    "Occurrences",
    "Outputs",
    "Scratch",
    "Stocks",
    "Tables",
    "block_width",
    "new_factors",
    "new_lane_floats",
    "new_metrics",
    "new_occurrences",
    "new_scratch",
    "new_stocks",
]

A = np.ndarray

BLOCK = 64
"""Replications per block (W) on most networks: the width of the vectorised inner loops. Measured
on the reference network (50 nodes, 100 lanes, hazards and a closure; one thread): 16 -> 84,
32 -> 92, 64 -> 155, 128 -> 179, 256 -> 158 million lane-days per second. A block's state grows
as lanes x W, so very large networks use narrower blocks (`block_width`). Results do not depend
on the width: each replication's arithmetic is its own."""

LARGE_NETWORK_LANES = 4000
"""Above this many lanes a block is 32 replications wide: on a 16,000-lane network (one thread)
32 gave 44-52 and 64 gave 34-35 million lane-days per second; on the 100-lane reference network
64 gave 139 and 32 gave 93."""


LARGE_NETWORK_BLOCK = 32
"""Replications per block above `LARGE_NETWORK_LANES` lanes."""


def block_width(n_lanes: int) -> int:
    """Replications per block for a network of ``n_lanes`` lanes (`BLOCK`, or
    `LARGE_NETWORK_BLOCK` when large)."""
    return BLOCK if n_lanes <= LARGE_NETWORK_LANES else LARGE_NETWORK_BLOCK


class NetworkArrays(NamedTuple):
    """The Network fields the kernel reads (docs/network.md: shapes, dtypes, units)."""

    commodity_price: A
    node_kind: A
    node_commodity: A
    node_capacity: A
    node_holding_cost: A
    node_strategic: A
    node_demand_mean: A
    node_demand_cv: A
    node_demand_stream: A
    bom_ptr: A
    bom_per_unit: A
    bom_commodity: A
    buffer_node: A
    buffer_commodity: A
    buffer_initial: A
    buffer_target: A
    buffer_reference_rate: A
    buffer_pipeline_days: A
    buffer_capacity: A
    lane_from: A
    lane_buffer: A
    lane_commodity: A
    lane_lead_time: A
    lane_capacity: A
    lane_cost: A
    lane_share: A
    lane_initial_flow: A
    lane_switch_delay: A
    lane_detour_days: A
    lane_detour_factor: A
    lane_choke_ptr: A
    lane_chokes: A
    choke_detour_days: A
    choke_capacity_factor: A
    dist_kind: A
    dist_params: A
    dist_values_ptr: A
    dist_values: A
    dist_cdf: A
    dis_kind: A
    dis_target: A
    dis_licensing_delay: A
    dis_start: A
    dis_duration: A
    dis_severity: A
    dis_recovery_days: A
    dis_probability: A
    dis_stream: A
    haz_node_ptr: A
    haz_nodes: A
    haz_pair_stream: A
    haz_rate_per_day: A
    haz_duration: A
    haz_severity: A
    haz_recovery_days: A
    consumers: A
    release_trigger_days: float
    release_max_fraction: float
    sharing_trigger_days: float
    sharing_floor_days: float
    sharing_max_fraction: float
    allocation_by_share: float  # 1.0: pro rata by undisrupted flow; 0.0: by requests
    adaptive_ordering: float  # 1.0: targets follow detours, licensing delays and surges


class Tables(NamedTuple):
    """Static index tables (``resilience.network.tables.KernelTables``; G ordering buffers, S
    suppliers). All int64 except the two boolean masks."""

    consumer_of_node: A  # (N,) consumer row of a consumer node, else -1
    lane_consumer: A  # (L,) consumer row of the lane's destination, else -1
    pipe_ptr: A  # (L+1,) each lane's ring of pipeline slots
    export_ptr: A  # (D+1,) lanes matched by export restriction d
    export_lanes: A
    order_buffers: A  # (G,) buffers that order
    group_ptr: A  # (G+1,) normal inbound lanes of each ordering buffer
    group_lanes: A
    supplier_nodes: A  # (S,) nodes with outbound normal lanes
    supplier_ptr: A  # (S+1,) their outbound normal lanes, by destination rank
    supplier_lanes: A
    supplier_rank: A
    release_nodes: A  # stockpiles with release lanes
    release_ptr: A
    release_lanes: A
    sharing_nodes: A  # donor consumers with sharing lanes
    sharing_ptr: A
    sharing_lanes: A
    upstream_node: A  # (R, N) bool: node n is upstream of consumer r (or is r)
    dis_affects: A  # (R, D) bool: disruption d affects consumer r


class Outputs(NamedTuple):
    """Output arrays of a batch of n replications, written in place (kernels.codes columns)."""

    consumer: A  # (n, R, N_CONSUMER_METRICS) float64
    network: A  # (n, N_NETWORK_METRICS) float64
    conservation: A  # (n, C, N_CONSERVATION) float64
    daily: A  # (n, R, horizon) float32 daily service, or (0, 0, 0) for none


class Block(NamedTuple):
    """One block of replications: ``rep0 .. rep0 + n_active - 1`` written to output rows
    ``row0 ..``; ``seed`` is the run's seed, ``horizon`` in days, ``threshold`` the recovery
    threshold of section 7.1 (a service fraction) and ``window`` the days service must stay at
    or above it to count as recovered. ``width`` is W, the replications per block; the usual
    width is compiled in as a constant instead (`kernels.daily`)."""

    rep0: int
    n_active: int
    row0: int
    width: int
    seed: np.uint64
    horizon: int
    threshold: float
    window: int


class Occurrences(NamedTuple):
    """Sampled occurrences: day indices (int64), ``(D, W)`` and ``(H, W)``."""

    dis_on: A  # (D, W) bool: the disruption occurs in this replication
    dis_a: A  # (D, W) first day at full severity
    dis_e: A  # (D, W) first day after the full-severity period
    haz_a: A  # (H, W) the current (or next) hazard event's a
    haz_e: A  # (H, W) its e
    haz_j: A  # (H, W) its index j in the pair's renewal sequence (stream slots 3j..3j+2)
    haz_last: A  # (H, W) start of the latest event that has started, -1 before
    haz_of_pair: A  # (H,) the hazard row z of each pair


class Factors(NamedTuple):
    """What phase 1 writes each day (section 5.1), all ``(., W)`` unless noted."""

    f_node: A  # (N, W) node capacity factor, product of (1 - level)
    g_lane: A  # (L, W) lane-disruption factor (valid where lane_dirty)
    gx_lane: A  # (L, W) export-restriction factor (valid where lane_dirty)
    lic: A  # (L, W) int64 licensing delay today, days
    closed: A  # (K, W) product of (1 - level) of closures; x_k = 1 - closed
    surge: A  # (R, W) demand multiplier
    phi: A  # (L, W) through-capacity factor
    avail: A  # (L, W) availability min(1, phi) * f_node[origin]
    x_lane: A  # (L, W) closed share of the lane's route (valid where lane_touched)
    extra: A  # (L, W) int64 detour extra days (valid where lane_touched)
    detour_factor: A  # (L, W) detour capacity factor (valid where lane_touched)
    counter: A  # (L, W) int32 consecutive impaired days (switching, section 5.6)
    choke_any: A  # (K,) bool: closed in some replication today
    lic_any: A  # (L,) bool: a licensing delay in some replication today
    lane_touched: A  # (L,) bool: a closure or licensing delay today
    lane_dirty: A  # (L,) bool: g/gx/lic rows written by a disruption
    lane_switching: A  # (L,) bool: some replication has counter > lane_switch_delay


class Stocks(NamedTuple):
    """Material state, units of each commodity; ``(., W)`` float64 unless noted."""

    stock: A  # (B, W) on hand
    pipe: A  # (P, W) due per ring slot
    transit: A  # (L, W) in transit per lane
    cursor: A  # (L,) int64 today's ring slot, t % ring size
    position: A  # (B, W) inventory position (phase 5)
    order: A  # (B, W) order-up-to order (phase 5)
    target: A  # (B, W) today's order-up-to position T_b(t) (phase 5; 6b/6c read it)
    request: A  # (L, W) requests (phases 6)
    filled: A  # (L, W) fills (phases 6), shipped in phase 7
    toward: A  # (B, W) today's normal fills toward each buffer (6b/6c)
    need: A  # (R, W) consumer's remaining need (6b/6c)
    cover: A  # (R, W) consumer's days of cover (6b/6c)


class Metrics(NamedTuple):
    """Running sums and markers (section 7); ``(R, W)`` unless noted."""

    demand: A  # units
    served: A  # units
    days_short: A  # days
    peak: A  # units/day
    area: A  # service-days
    procurement: A  # currency
    shipping: A  # currency
    holding: A  # currency
    t_first: A  # int64 first short day, -1
    t_low: A  # int64 first day below the threshold after t_first, -1
    t_rec: A  # int64 first day of the current run at or above the threshold after t_low, -1
    recovered: A  # bool: that run has lasted the recovery window
    spells: A  # spells of shortage (maximal runs of short days)
    short_yesterday: A  # bool: the previous day was short
    onset: A  # int64 onset of the first shortfall
    ship_total: A  # (W,) currency, all lanes
    hold_total: A  # (W,) currency, all buffers
    produced: A  # (C, W) units
    used_inputs: A  # (C, W) units
    consumed: A  # (C, W) units
    lost: A  # (C, W) units


class Scratch(NamedTuple):
    """Per-block vectors of length W, reused within a phase (meaning given where used)."""

    a: A
    b: A
    n_receivers: A
    n_unbounded: A
    capacity_sum: A
    handed: A


# ---- a block's working records ------------------------------------------------------------------
# The constructors live beside the record types: Numba's cache of a compiled function is keyed on
# its own source file, so a change to a record here also recompiles the code that builds it.


@jit_phase
def new_occurrences(net: NetworkArrays, W: int) -> Occurrences:
    """A block's empty occurrence arrays (filled by `sample_occurrences`)."""
    D = net.dis_kind.shape[0]
    H = net.haz_nodes.shape[0]
    haz_of_pair = np.empty(H, dtype=np.int64)
    for z in range(net.haz_node_ptr.shape[0] - 1):
        for h in range(net.haz_node_ptr[z], net.haz_node_ptr[z + 1]):
            haz_of_pair[h] = z
    return Occurrences(
        np.zeros((D, W), dtype=np.bool_),
        np.zeros((D, W), dtype=np.int64),
        np.zeros((D, W), dtype=np.int64),
        np.zeros((H, W), dtype=np.int64),
        np.zeros((H, W), dtype=np.int64),
        np.zeros((H, W), dtype=np.int64),
        np.full((H, W), -1, dtype=np.int64),
        haz_of_pair,
    )


FACTOR_LANE_FLOATS = 6
"""Factors' float ``(L, W)`` arrays: g_lane, gx_lane, phi, avail, x_lane, detour_factor."""

STOCK_LANE_FLOATS = 3
"""Stocks' float ``(L, W)`` arrays: transit, request, filled."""


@jit_phase
def new_lane_floats(net: NetworkArrays, tab: Tables, W: int) -> A:
    """A block's float arrays with a row per lane or pipeline slot, as one zeroed array of
    ``(FACTOR_LANE_FLOATS + STOCK_LANE_FLOATS) * L + P`` rows and ``W`` columns, asked to be on
    huge pages (`kernels.pages`): its first `FACTOR_LANE_FLOATS` ranges of ``L`` rows become
    `new_factors`' lane arrays, the next `STOCK_LANE_FLOATS` those of `new_stocks`, and the last
    ``P`` rows its pipeline ring (``P = tab.pipe_ptr[L]`` slots). One allocation rather than
    several: on a large network it is well above 32 MiB, so it is always fresh memory, which
    the request for huge pages applies to."""
    L = net.lane_from.shape[0]
    return lane_rows((FACTOR_LANE_FLOATS + STOCK_LANE_FLOATS) * L + tab.pipe_ptr[L], W, np.float64)


@jit_phase
def new_factors(net: NetworkArrays, W: int, lane_floats: A) -> Factors:
    """A block's factor arrays in their no-disruption state; their ``(L, W)`` float arrays are
    rows of ``lane_floats`` (`new_lane_floats`)."""
    N = net.node_kind.shape[0]
    L = net.lane_from.shape[0]
    K = net.choke_detour_days.shape[0]
    R = net.consumers.shape[0]
    # g and gx start at 1 and are reset lazily where lane_dirty (most lanes are never touched);
    # the others are written before they are read.
    lane_floats[: FACTOR_LANE_FLOATS * L] = 1.0
    lane_days = lane_rows(2 * L, W, np.int64)  # lic, extra
    return Factors(
        np.empty((N, W)),
        lane_floats[0:L],
        lane_floats[L : 2 * L],
        lane_days[0:L],
        np.empty((K, W)),
        np.empty((R, W)),
        lane_floats[2 * L : 3 * L],
        lane_floats[3 * L : 4 * L],
        lane_floats[4 * L : 5 * L],
        lane_days[L : 2 * L],
        lane_floats[5 * L : 6 * L],
        lane_rows(L, W, np.int32),
        np.zeros(K, dtype=np.bool_),
        np.zeros(L, dtype=np.bool_),
        np.zeros(L, dtype=np.bool_),
        np.zeros(L, dtype=np.bool_),
        np.zeros(L, dtype=np.bool_),
    )


@jit_phase
def new_stocks(net: NetworkArrays, tab: Tables, W: int, lane_floats: A) -> Stocks:
    """A block's material state, empty (filled by `warm_start`); transit, request, filled and the
    pipeline ring are rows of ``lane_floats`` (`new_lane_floats`), zero."""
    B = net.buffer_node.shape[0]
    L = net.lane_from.shape[0]
    R = net.consumers.shape[0]
    first = FACTOR_LANE_FLOATS * L
    return Stocks(
        np.empty((B, W)),
        lane_floats[first + STOCK_LANE_FLOATS * L :],
        lane_floats[first : first + L],
        np.zeros(L, dtype=np.int64),
        np.zeros((B, W)),
        np.zeros((B, W)),
        np.empty((B, W)),
        lane_floats[first + L : first + 2 * L],
        lane_floats[first + 2 * L : first + 3 * L],
        np.zeros((B, W)),
        np.zeros((R, W)),
        np.empty((R, W)),
    )


@jit_phase
def new_metrics(net: NetworkArrays, W: int) -> Metrics:
    """A block's running sums at zero and markers at -1."""
    R = net.consumers.shape[0]
    C = net.commodity_price.shape[0]
    return Metrics(
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.zeros((R, W)),
        np.full((R, W), -1, dtype=np.int64),
        np.full((R, W), -1, dtype=np.int64),
        np.full((R, W), -1, dtype=np.int64),
        np.zeros((R, W), dtype=np.bool_),
        np.zeros((R, W)),
        np.zeros((R, W), dtype=np.bool_),
        np.zeros((R, W), dtype=np.int64),
        np.zeros(W),
        np.zeros(W),
        np.zeros((C, W)),
        np.zeros((C, W)),
        np.zeros((C, W)),
        np.zeros((C, W)),
    )


@jit_phase
def new_scratch(W: int) -> Scratch:
    """A block's scratch vectors."""
    return Scratch(
        np.empty(W),
        np.empty(W),
        np.empty(W),
        np.empty(W),
        np.empty(W),
        np.empty(W),
    )
