"""Stress test: Simchi-Levi's time to survive (TTS) as a linear program, element by element.

Simchi-Levi, Schmidt and Wei (2014) and Simchi-Levi et al. (2015) define, for each node of a
supply network, the time to recover (TTR: how long the node takes to come back, an input) and
the time to survive (TTS: the longest the network can still meet demand with the node down,
drawing on the inventory everywhere and on the capacity that remains). TTS is the optimum of a
linear program: maximise ``t`` such that, over a window of ``t`` days, the surviving capacities
(rates times ``t``) and the inventories (a one-off supply) can be routed through the network to
meet ``demand x t``. An element whose TTS is below its TTR is an exposure.

This module builds that program from the compiled `Network`, the same arrays the simulation
reads, for the undisrupted network with one element knocked out (severity 1, for good):

- **Stock.** Every buffer's stock on day 0 (docs/model.md 2.6) and the goods then in transit
  on the normal lanes into it (``L_l x lane_initial_flow_l``) are one-off supply; the goods in
  transit on a knocked-out lane are held (section 5.2), so they do not count.
- **Rates.** A source or processor produces at most ``K_n x t`` (0 when knocked out; it can
  still ship the stock it holds, section 6); a processor uses ``q_i`` of each input per unit;
  storage ships at most ``K_n`` per day (nothing when knocked out); a strategic stockpile at
  most ``min(K_n, max_daily_release_fraction x initial)`` per day, never replenished; a donor of
  allied sharing never below ``donor_floor_days`` of its demand. Unbounded capacities
  (``inf``) are unconstrained.
- **Lanes and lead times.** A lane carries at most ``K_l x phi_l`` per day, where ``phi_l`` is
  0 for a knocked-out lane and the detour's capacity factor for a lane through a closed
  chokepoint (0 without a detour). New shipments take ``L_l`` days (plus the detour's extra
  days): what a lane delivers within the window is its pipeline plus what left its origin by
  day ``t - L_l``, so its capacity counts over ``(t - L_l)+`` days and the origin's production
  over ``(t - lag)+`` days for every lag of its outbound lanes (the nested, earliest-deadline
  conditions of a production schedule). The program is linear in ``t`` between consecutive
  lags, so it is solved interval by interval from ``t = 0`` until the optimum falls inside an
  interval (`survival_time`).
- **Demand.** Each consumer asked about must receive ``mean_per_day x t``.

It is the optimistic, perfect-foresight bound of the simulation (the best routing, immediate
switching, no ordering rule): on a single tier of suppliers feeding consumers directly, with
constant demand and no switching delay, the simulated first short day is ``floor(TTS)`` days
after the knockout (tests/test_stress.py). Lead times of several tiers are not compounded
(each lane's lag is its own), so on deeper networks the LP's TTS is an upper bound.

Two figures per element and consumer: the consumer's TTS alone (it has first call on everything
that survives, ``tts_lp``: if even that is below TTR, the consumer cannot ride the loss out
whatever the others do), and Simchi-Levi's network TTS, every consumer of the network served
together (``tts_lp_network``: the day the first consumer, of any commodity, must go short).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.optimize import linprog

from resilience.analysis.criticality import Element
from resilience.errors import ResilienceError
from resilience.model.outcomes import CONSUMER_METRICS
from resilience.network.arrays import LANE_MODE_CODES, NODE_KIND_CODES, Network
from resilience.network.tables import KernelTables

__all__ = [
    "NO_KNOCKOUT",
    "Knockout",
    "StressError",
    "StressRow",
    "knockout_of",
    "simulated_tts",
    "stress_rows",
    "survival_time",
]

FloatArray = npt.NDArray[np.float64]
_COLUMN = {name: i for i, name in enumerate(CONSUMER_METRICS)}
_SOURCE, _PROCESSOR = NODE_KIND_CODES["source"], NODE_KIND_CODES["processor"]
_STORAGE, _CONSUMER = NODE_KIND_CODES["storage"], NODE_KIND_CODES["consumer"]
_NORMAL, _SHARING = LANE_MODE_CODES["normal"], LANE_MODE_CODES["sharing"]


class StressError(ResilienceError):
    """The solver failed on a stress-test program (a bug or a numerically broken network)."""


@dataclass(frozen=True)
class Knockout:
    """What an element's loss takes out of the network: rows of nodes, lanes, chokepoints."""

    kind: str
    element: str
    nodes: frozenset[int]
    lanes: frozenset[int]
    chokepoints: frozenset[int]


@dataclass(frozen=True)
class StressRow:
    """One element and one consumer (days throughout; ``inf``: survives indefinitely)."""

    kind: str
    element: str
    consumer: str
    commodity: str
    tts_lp: float  # the consumer alone, with first call on everything that survives
    tts_lp_network: float  # every consumer of the network served together (Simchi-Levi's TTS)
    ttr: float  # the knockout's duration plus its recovery ramp
    exposed: bool  # tts_lp < ttr: short before recovery even with first call on everything
    network_exposed: bool  # tts_lp_network < ttr: some consumer of the network is short first
    tts_sim: float  # median simulated TTS over the short replications; NaN: never short
    p_short: float  # share of simulated replications with a short day; NaN: not simulated


def knockout_of(network: Network, element: Element) -> Knockout:
    """The rows an element's knockout disruptions (`criticality.elements`) take out."""
    nodes, lanes, chokes = set(), set(), set()
    for table in element.disruptions.values():
        target = str(table["target"])
        if table["kind"] == "node":
            nodes.add(network.node_row[target])
        elif table["kind"] == "lane":
            lanes.add(network.lane_row[target])
        elif table["kind"] == "chokepoint":
            chokes.add(network.chokepoint_row[target])
    return Knockout(element.kind, element.id, frozenset(nodes), frozenset(lanes), frozenset(chokes))


NO_KNOCKOUT = Knockout("none", "", frozenset(), frozenset(), frozenset())
"""The intact network: a consumer's TTS with nothing lost (finite only when its demand outruns
what the network can bring it at all)."""


def _lane_effect(network: Network, knockout: Knockout, lane: int) -> tuple[float, int]:
    """(phi, lag): the lane's throughput factor and its days from departure to arrival."""
    if lane in knockout.lanes:
        return 0.0, int(network.lane_lead_time[lane])
    closed = [int(k) for k in _chokes(network, lane) if int(k) in knockout.chokepoints]
    if not closed:
        return 1.0, int(network.lane_lead_time[lane])
    # A full closure (x = 1) leaves phi = F, the detour's factor (docs/model.md 5.1).
    if network.lane_detour_factor[lane] >= 0:
        factor, extra = float(network.lane_detour_factor[lane]), int(network.lane_detour_days[lane])
    elif any(network.choke_detour_days[k] < 0 for k in closed):
        factor, extra = 0.0, 0
    else:
        factor = float(min(network.choke_capacity_factor[k] for k in closed))
        extra = int(max(network.choke_detour_days[k] for k in closed))
    return factor, int(network.lane_lead_time[lane]) + extra


class _Rows:
    """A sparse constraint system ``A z <= b`` under construction, one row at a time.

    Each row carries the lag from which it applies (0: always): a row about lanes of lag ``g``
    only holds once ``t >= g``.
    """

    def __init__(self) -> None:
        self.rows: list[int] = []
        self.columns: list[int] = []
        self.values: list[float] = []
        self.rhs: list[float] = []
        self.lag: list[float] = []

    def add(self, terms: dict[int, float], rhs: float, lag: float = 0.0) -> None:
        row = len(self.rhs)
        for column, value in terms.items():
            self.rows.append(row)
            self.columns.append(column)
            self.values.append(value)
        self.rhs.append(rhs)
        self.lag.append(lag)


@dataclass(frozen=True)
class _Program:
    """One knockout's program over every interval of ``t``: z = (t, x_l..., p_n...).

    Column 0 is ``t``; a lane's column applies from its lag on (its shipments arrive within
    the window only once ``t >= lag``); `_solve` keeps the rows and columns of an interval.
    """

    matrix: sparse.csr_matrix
    rhs: FloatArray
    row_lag: FloatArray  # (rows,) the row holds from this t on
    column_lag: FloatArray  # (columns,) the column exists from this t on
    lags: list[float]  # distinct lags of the lanes that carry anything, ascending


def _rate(network: Network, knockout: Knockout, node: int) -> float:
    """Units per day the node can add to (producer) or send from (storage) its stock."""
    if node in knockout.nodes:
        return 0.0
    capacity = float(network.node_capacity[node])
    if network.node_kind[node] == _STORAGE and network.node_strategic[node]:
        cap = network.release_max_fraction * float(network.buffer_initial[node])
        return min(capacity, cap)
    return capacity


def _program(
    network: Network, tables: KernelTables, knockout: Knockout, required: Sequence[int]
) -> _Program:
    """The program of ``knockout`` with the consumer nodes ``required`` to be served."""
    consumer_row = {int(node): r for r, node in enumerate(network.consumers)}
    scope = np.asarray(
        tables.upstream_node[[consumer_row[n] for n in required]].any(axis=0), dtype=np.bool_
    )  # (N,) nodes upstream of the required consumers: nothing else can reach them
    in_scope = [lane for lane in range(network.n_lanes) if scope[network.lane_to[lane]]]
    effect = {lane: _lane_effect(network, knockout, lane) for lane in in_scope}
    carrying = [lane for lane in in_scope if effect[lane][0] > 0]
    lag = {lane: float(effect[lane][1]) for lane in carrying}
    nodes = [int(n) for n in np.flatnonzero(scope)]
    producers = [n for n in nodes if network.node_kind[n] in (_SOURCE, _PROCESSOR)]
    x = {lane: 1 + i for i, lane in enumerate(carrying)}
    p = {n: 1 + len(carrying) + i for i, n in enumerate(producers)}
    column_lag = np.zeros(1 + len(carrying) + len(producers))
    for lane, column in x.items():
        column_lag[column] = lag[lane]

    inflow: dict[int, list[int]] = {}  # buffer -> carrying lanes delivering into it
    outflow: dict[int, list[int]] = {}  # node -> carrying lanes leaving it
    for lane in carrying:
        inflow.setdefault(int(network.lane_buffer[lane]), []).append(lane)
        outflow.setdefault(int(network.lane_from[lane]), []).append(lane)
    pipeline = np.zeros(network.n_buffers)  # units in transit at the knockout, by buffer
    for lane in in_scope:
        if lane not in knockout.lanes and network.lane_mode[lane] == _NORMAL:
            pipeline[network.lane_buffer[lane]] += (
                float(network.lane_lead_time[lane]) * network.lane_initial_flow[lane]
            )
    rows = _Rows()

    # Finite lane capacities: x_l <= K_l phi_l (t - lag_l).
    for lane in carrying:
        capacity = float(network.lane_capacity[lane])
        if math.isfinite(capacity):
            rate = capacity * effect[lane][0]
            rows.add({x[lane]: 1.0, 0: -rate}, -rate * lag[lane], lag[lane])

    required_nodes = set(required)
    for n in nodes:
        kind = network.node_kind[n]
        stock = float(network.buffer_initial[n]) + pipeline[n]
        out = outflow.get(n, [])
        rate = _rate(network, knockout, n)
        arrivals = {x[lane]: -1.0 for lane in inflow.get(n, [])}
        # Balance of the node's own stock: what leaves <= stock + arrivals (+ production).
        balance = {**arrivals, **{x[lane]: 1.0 for lane in out}}
        if n in p:
            balance[p[n]] = -1.0
        if kind == _CONSUMER and n in required_nodes:
            balance[0] = float(network.node_demand_mean[n])
        rows.add(balance, stock)
        if kind == _CONSUMER and any(network.lane_mode[lane] == _SHARING for lane in out):
            # A donor gives only from stock above its floor (docs/model.md 5.7): never more
            # than it holds and receives, less the floor, whatever its own demand takes.
            floor = network.sharing_floor_days * float(network.node_demand_mean[n])
            rows.add({**arrivals, **{x[lane]: 1.0 for lane in out}}, max(0.0, stock - floor))
        # Production capacity, and each processor's inputs.
        if n in p and math.isfinite(rate):
            rows.add({p[n]: 1.0, 0: -rate}, 0.0)
        if kind == _PROCESSOR:
            for m in range(int(network.bom_ptr[n]), int(network.bom_ptr[n + 1])):
                buffer = network.n_nodes + m
                terms = {x[lane]: -1.0 for lane in inflow.get(buffer, [])}
                terms[p[n]] = float(network.bom_per_unit[m])
                rows.add(terms, float(network.buffer_initial[buffer]) + pipeline[buffer])
        # Nested deadlines: what leaves on lanes of lag >= g must be ready by t - g.
        if not out or not math.isfinite(rate) or kind == _CONSUMER:
            continue
        producer = n in p
        for g in sorted({lag[lane] for lane in out}):
            terms = {x[lane]: 1.0 for lane in out if lag[lane] >= g}
            terms[0] = -rate
            if producer:
                terms.update(arrivals)
            rows.add(terms, (stock if producer else 0.0) - rate * g, g)

    matrix = sparse.csr_matrix(
        (rows.values, (rows.rows, rows.columns)), shape=(len(rows.rhs), len(column_lag))
    )
    return _Program(
        matrix,
        np.asarray(rows.rhs, dtype=np.float64),
        np.asarray(rows.lag, dtype=np.float64),
        column_lag,
        sorted(set(lag.values())),
    )


def _solve(program: _Program, low: float, high: float, what: str) -> float:
    """max t over [low, high] (high may be inf): NaN when infeasible, inf when unbounded."""
    rows = program.row_lag <= low
    columns = program.column_lag <= low
    matrix = program.matrix[rows][:, columns]
    objective = np.zeros(int(columns.sum()))
    objective[0] = -1.0  # maximise t
    bounds = [(low, None if math.isinf(high) else high)] + [(0.0, None)] * (len(objective) - 1)
    result = linprog(
        objective,
        A_ub=matrix if matrix.shape[0] else None,
        b_ub=program.rhs[rows] if matrix.shape[0] else None,
        bounds=bounds,
        method="highs",
    )
    if result.status == 3:
        return math.inf
    if result.status == 2:
        return math.nan
    if result.status != 0:
        raise StressError(f"stress test of {what}: {result.message}")
    return float(result.x[0])


def survival_time(
    network: Network, tables: KernelTables, knockout: Knockout, required: Sequence[int]
) -> float:
    """Days the consumer nodes ``required`` can all be served with ``knockout`` in force.

    Returns ``inf`` when they can be served indefinitely. Solves one linear program (scipy's
    HiGHS) per interval between consecutive lane lags, from ``t = 0`` up, and stops at the
    first interval whose optimum lies inside it (module docstring).
    """
    program = _program(network, tables, knockout, required)
    edges = [0.0, *(lag for lag in program.lags if lag > 0), math.inf]
    what = f"{knockout.kind} {knockout.element}".strip()
    for low, high in itertools.pairwise(edges):
        best = _solve(program, low, high, what)
        if math.isnan(best):
            # Infeasible already at the interval's start: the previous one ended there exactly.
            return low
        if best < high:
            return best
    return math.inf


def simulated_tts(outcomes: FloatArray, consumer: int) -> tuple[float, float]:
    """(median TTS over the short replications, P(short)) of one consumer row.

    Args:
        outcomes: (replications, R, len(CONSUMER_METRICS)) outcomes of a knockout run.
    """
    rows = outcomes[:, consumer, :]
    short = rows[:, _COLUMN["days_short"]] > 0
    survive = rows[:, _COLUMN["tts"]]
    defined = short & ~np.isnan(survive)
    tts = float(np.median(survive[defined])) if defined.any() else math.nan
    return tts, float(short.mean())


def stress_rows(
    network: Network,
    tables: KernelTables,
    consumers: Sequence[int],
    knockouts: Iterable[Knockout],
    *,
    ttr: float,
) -> list[StressRow]:
    """The LP rows of every knockout and consumer row in ``consumers`` (not yet simulated).

    Args:
        consumers: rows of `Network.consumers` whose supply is at stake.
        ttr: the knockouts' time to recover, days.
    """
    nodes = [int(network.consumers[r]) for r in consumers]
    everyone = [int(node) for node in network.consumers]
    intact = {r: survival_time(network, tables, NO_KNOCKOUT, [nodes[i]])
              for i, r in enumerate(consumers)}  # fmt: skip
    rows = []
    for knockout in knockouts:
        joint = survival_time(network, tables, knockout, everyone)
        for r, node in zip(consumers, nodes, strict=True):
            alone = (
                survival_time(network, tables, knockout, [node])
                if _touches(network, tables, knockout, r)
                else intact[r]
            )
            rows.append(
                StressRow(
                    kind=knockout.kind,
                    element=knockout.element,
                    consumer=network.node_ids[node],
                    commodity=network.commodity_ids[network.node_commodity[node]],
                    tts_lp=alone,
                    tts_lp_network=joint,
                    ttr=ttr,
                    exposed=alone < ttr,
                    network_exposed=joint < ttr,
                    tts_sim=math.nan,
                    p_short=math.nan,
                )
            )
    return rows


def _touches(network: Network, tables: KernelTables, knockout: Knockout, consumer: int) -> bool:
    """Whether ``knockout`` takes out anything upstream of consumer row ``consumer``."""
    upstream = tables.upstream_node[consumer]
    if any(upstream[n] for n in knockout.nodes):
        return True
    lanes = [lane for lane in range(network.n_lanes) if upstream[network.lane_to[lane]]]
    if any(lane in knockout.lanes for lane in lanes):
        return True
    return any(int(k) in knockout.chokepoints for lane in lanes for k in _chokes(network, lane))


def _chokes(network: Network, lane: int) -> npt.NDArray[np.int32]:
    """The chokepoint rows lane ``lane`` passes."""
    return network.lane_chokes[network.lane_choke_ptr[lane] : network.lane_choke_ptr[lane + 1]]
