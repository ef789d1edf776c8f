"""Disruptions as processes: occurrences change levels, the board keeps the combined state.

Each occurrence of the sampled timeline (`resilience.model.timeline.sample_timeline`, the
same list the other engines read) is a long-lived process. On each day its level changes
(model.md 3.2: the start, the end of the full-severity period, every day of the recovery ramp)
it tells the `DisruptionBoard`. The board combines the levels of all occurrences on an element
(section 3.4) and, once every change of that instant has arrived, recomputes the lane states of
section 5.1 for the lanes concerned: closures, detours, throughput and availability factors,
licensing delays and the start of each lane's impairment (from which the switching counter
follows). Nothing is recomputed on days without a change.

In fluid mode the levels change at the start of the day (phase 1). With ``time_of_day`` (the
detailed mode of docs/des.md) each occurrence is shifted by a fraction of a day drawn from its
own stream, so it starts and ends at some time of day and the phases before that time still
see the old state.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import Any

import simpy

from resilience.engines.des.trace import TraceLog
from resilience.model.layout import Layout
from resilience.model.rules import closure, combined_factor, licensing_delay, surge_multiplier
from resilience.model.states import DayStates
from resilience.model.timeline import Occurrence, uniform
from resilience.network.compiler import stream_key

__all__ = ["DisruptionBoard", "change_days", "occurrence_process", "time_of_day_shifts"]

_NODE, _LANE, _CHOKE, _EXPORT = "node", "lane", "chokepoint", "export_restriction"


def change_days(occurrence: Occurrence, horizon: int) -> list[int]:
    """The days before ``horizon`` on which the level of ``occurrence`` may change (3.2).

    The level is ``s`` on days ``a .. e-1``, steps down on each ramp day ``e .. e+R-1`` and is
    0 from ``e+R`` on, so setting it on day ``a`` and on days ``max(e, a+1) .. e+R`` reproduces
    it on every day.
    """
    a, e, ramp = occurrence.a, occurrence.e, occurrence.R
    days = [a, *range(max(e, a + 1), e + ramp + 1)]
    return [day for day in days if day < horizon]


def time_of_day_shifts(seed: int, replication: int, timeline: list[Occurrence]) -> list[float]:
    """Per occurrence, the fraction of a day (in (0, 1)) by which its changes are shifted.

    Draw ``j`` of the stream ``"<source>:time-of-day"`` is used for the ``j``-th occurrence of
    a source (a scenario disruption has one; a hazard on a node has one per event). Ids hold no
    ``:``, so these streams never collide with those of model.md 4.1, whose draws are unchanged.
    """
    counts: dict[str, int] = {}
    shifts = []
    for occurrence in timeline:
        j = counts.get(occurrence.source, 0)
        counts[occurrence.source] = j + 1
        key = stream_key(f"{occurrence.source}:time-of-day")
        shifts.append(uniform(seed, replication, key, j))
    return shifts


def occurrence_process(
    env: simpy.Environment,
    board: DisruptionBoard,
    index: int,
    occurrence: Occurrence,
    horizon: int,
    shift: float,
) -> Generator[Any, Any, None]:
    """Set the level of occurrence ``index`` at ``day + shift`` on each of its change days."""
    for day in change_days(occurrence, horizon):
        yield env.timeout(day + shift - env.now)
        board.set_level(index, occurrence.level(day))


class DisruptionBoard(DayStates):
    """The combined disruption state of every element (model.md 3.4, 5.1), kept current.

    Attributes read by the other processes: those of `DayStates`, and
        since: first day of the lane's current impairment (``a_l < 1``), -1 when unimpaired, so
            that the switching counter of day ``t`` is ``t - since + 1`` (0 when -1).
        impaired: the set of lanes with ``since >= 0``.
        version: bumped on every change of state, for caches of derived quantities.

    ``slot_chokes`` (detailed mode) are the chokepoints with transit slots: their closure level
    takes slots away (docs/des.md) instead of sending a share of each lane's flow round the
    detour, so they are left out of ``x_l``, ``E`` and ``F``.
    """

    def __init__(
        self,
        env: simpy.Environment,
        layout: Layout,
        timeline: list[Occurrence],
        *,
        slot_chokes: frozenset[int] = frozenset(),
        trace: TraceLog | None = None,
    ) -> None:
        super().__init__(layout)
        self.env = env
        self.timeline = timeline
        self.trace = trace
        net = layout.network
        n_nodes, n_lanes = layout.n_nodes, layout.n_lanes
        n_chokes = len(layout.choke_detour_days)
        self.level = [0.0] * len(timeline)
        self.node_occurrences: list[list[int]] = [[] for _ in range(n_nodes)]
        self.surge_occurrences: list[list[int]] = [[] for _ in range(n_nodes)]
        self.lane_occurrences: list[list[int]] = [[] for _ in range(n_lanes)]
        self.choke_occurrences: list[list[int]] = [[] for _ in range(n_chokes)]
        self.export_occurrences: list[list[int]] = [[] for _ in range(n_lanes)]
        self.delay: dict[int, int] = {}  # export occurrence -> licensing delay, days
        for i, occurrence in enumerate(timeline):
            kind, target = occurrence.kind, occurrence.target
            if kind == _NODE:
                self.node_occurrences[target].append(i)
            elif kind == _LANE:
                self.lane_occurrences[target].append(i)
            elif kind == _CHOKE:
                self.choke_occurrences[target].append(i)
            elif kind == _EXPORT:
                d = layout.disruption_row[occurrence.source]
                self.delay[i] = int(net.dis_licensing_delay[d])
                for lane in layout.export_lanes[d]:
                    self.export_occurrences[lane].append(i)
            else:
                self.surge_occurrences[target].append(i)
        self.out_lanes: list[list[int]] = [[] for _ in range(n_nodes)]
        for lane, origin in enumerate(layout.lane_from):
            self.out_lanes[origin].append(lane)
        self.route_chokes = [
            [k for k in chokes if k not in slot_chokes] for chokes in layout.lane_chokes
        ]
        self.choke_lanes: list[list[int]] = [[] for _ in range(n_chokes)]
        for lane, chokes in enumerate(layout.lane_chokes):
            for k in chokes:
                self.choke_lanes[k].append(lane)

        self.since = [-1] * n_lanes
        self.impaired: set[int] = set()  # lanes with since >= 0
        self.version = 0  # counts the changes of state
        self._dirty: list[set[int]] = [set(), set(), set(), set(), set()]
        self._settling = False
        self._change: simpy.Event | None = None

    def start(self, horizon: int, shifts: list[float] | None = None) -> None:
        """Start one process per occurrence that changes anything before ``horizon``."""
        for i, occurrence in enumerate(self.timeline):
            shift = 0.0 if shifts is None else shifts[i]
            if occurrence.a < horizon:
                self.env.process(occurrence_process(self.env, self, i, occurrence, horizon, shift))

    def next_change(self) -> simpy.Event:
        """An event that succeeds once the state next changes (for cargoes waiting on a route)."""
        if self._change is None:
            self._change = self.env.event()
        return self._change

    def set_level(self, index: int, level: float) -> None:
        """Occurrence ``index`` now has ``level``; the board settles once this instant is over."""
        self.level[index] = level
        occurrence = self.timeline[index]
        kind, target = occurrence.kind, occurrence.target
        dirty = self._dirty
        if kind == _NODE:
            dirty[0].add(target)
        elif kind == _LANE:
            dirty[1].add(target)
        elif kind == _CHOKE:
            dirty[2].add(target)
        elif kind == _EXPORT:
            dirty[3].update(self.layout.export_lanes[self.layout.disruption_row[occurrence.source]])
        else:
            dirty[4].add(target)
        if self.trace is not None:
            self.trace.disruption(self.env.now, occurrence, level)
        if not self._settling:
            # Events already scheduled for this instant (the other occurrences changing now)
            # are processed before one scheduled now, so the board settles after all of them.
            self._settling = True
            self.env.timeout(0.0).callbacks.append(self._settle)

    def _levels(self, occurrences: list[int]) -> list[float]:
        """The levels of ``occurrences`` (indices into the timeline), in timeline order."""
        level = self.level
        return [level[i] for i in occurrences]

    def _settle(self, _event: simpy.Event) -> None:
        self._settling = False
        self.version += 1
        nodes, lanes_g, chokes, exports, surges = self._dirty
        lanes: set[int] = set()
        for n in nodes:
            self.f[n] = combined_factor(self._levels(self.node_occurrences[n]))
            lanes.update(self.out_lanes[n])
        for n in surges:
            self.surge[n] = surge_multiplier(self._levels(self.surge_occurrences[n]))
        for lane in lanes_g:
            self.g[lane] = combined_factor(self._levels(self.lane_occurrences[lane]))
            lanes.add(lane)
        for k in chokes:
            self.x_k[k] = closure(self._levels(self.choke_occurrences[k]))
            lanes.update(self.choke_lanes[k])
        for lane in exports:
            self.gx[lane] = combined_factor(self._levels(self.export_occurrences[lane]))
            occurrences = self.export_occurrences[lane]
            self.lic[lane] = licensing_delay(
                self._levels(occurrences), [self.delay[i] for i in occurrences]
            )
            lanes.add(lane)
        day = math.floor(self.env.now)
        for lane in sorted(lanes):
            self._lane_state(lane, day)
        for group in self._dirty:
            group.clear()
        if self._change is not None:
            change, self._change = self._change, None
            change.succeed()

    def _lane_state(self, lane: int, day: int) -> None:
        """Section 5.1, step 2 and 3, for one lane."""
        # Chokepoints with transit slots (detailed mode) act on the vessels, not on the split.
        if self.settle_lane(lane, self.route_chokes[lane]) < 1.0:
            if self.since[lane] < 0:
                self.since[lane] = day
                self.impaired.add(lane)
        elif self.since[lane] >= 0:
            self.since[lane] = -1
            self.impaired.discard(lane)
