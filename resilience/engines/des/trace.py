"""The event log of one replication: what happened, when, where, to how much, and why.

A `TraceLog` is handed to the processes of a traced run; untraced runs pass ``None`` and pay
one comparison per step. Each row is one event:

- ``time``: simulated time in days (day ``t`` is ``[t, t+1)``; docs/des.md gives the phase
  times within a day);
- ``event``: what happened (`EVENTS` lists them);
- ``node`` / ``lane``: the node id and/or lane id concerned ("" when none; a chokepoint's id goes
  in ``node`` for slot and disruption events on it, with the cause saying so);
- ``commodity``: the commodity id ("" for disruptions that are not about one commodity);
- ``quantity``: units of the commodity, or the level (a fraction) for ``disruption`` rows;
- ``cause``: the disruption id, hazard stream, policy or mechanism behind the event.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from resilience.model.layout import Layout
from resilience.model.timeline import Occurrence

__all__ = ["EVENTS", "TRACE_COLUMNS", "TraceLog"]

TRACE_COLUMNS = ("time", "event", "node", "lane", "commodity", "quantity", "cause")

EVENTS: dict[str, str] = {
    "disruption": "an occurrence's level changed (quantity: the new level)",
    "deliver": "a lane delivered cargo into its destination (phase 2, or a cargo unloaded)",
    "hold": "cargo due on a disrupted lane waits a day (model.md 5.2)",
    "lost": "stock above a buffer's capacity was removed (phase 2)",
    "produce": "a source or processor produced (phase 3)",
    "demand": "a consumer's demand of the day (phase 4)",
    "shortfall": "demand not served (phase 4)",
    "order": "a buffer's order-up-to quantity (phase 5)",
    "ship": "a supplier loaded a lane (phase 7; cause: normal, release or sharing)",
    "detour": "the part of a shipment sent round a closed chokepoint (cause: the chokepoints)",
    "cargo": "a full cargo was formed at the loading port (detailed mode)",
    "sail": "a cargo got a vessel and sailed (detailed mode; cause: the wait, in days)",
    "queue": "a vessel joined a canal's slot queue (detailed mode)",
    "transit": "a vessel passed a canal (detailed mode; cause: the wait, in days)",
    "divert": "a vessel took the detour instead of the queue (detailed mode)",
    "berth": "a vessel got a berth (detailed mode; cause: the wait, in days)",
    "ballast": "an empty vessel is back and free (detailed mode)",
}


@dataclass
class TraceLog:
    """Rows of one replication's event log, as they happen (ids resolved through ``layout``)."""

    layout: Layout
    rows: list[tuple[float, str, str, str, str, float, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def node(self, time: float, event: str, node: int, quantity: float, cause: str = "") -> None:
        """An event at node row ``node`` (its commodity)."""
        layout = self.layout
        commodity = layout.network.commodity_ids[layout.node_commodity[node]]
        self.rows.append((time, event, layout.node_ids[node], "", commodity, quantity, cause))

    def buffer(
        self, time: float, event: str, buffer: int, quantity: float, cause: str = ""
    ) -> None:
        """An event at buffer row ``buffer`` (its node, the buffer's commodity)."""
        layout = self.layout
        commodity = layout.network.commodity_ids[layout.buffer_commodity[buffer]]
        node = layout.node_ids[layout.buffer_node[buffer]]
        self.rows.append((time, event, node, "", commodity, quantity, cause))

    def lane(self, time: float, event: str, lane: int, quantity: float, cause: str = "") -> None:
        """An event on lane row ``lane`` (its destination node, its commodity)."""
        layout = self.layout
        commodity = layout.network.commodity_ids[layout.lane_commodity[lane]]
        node = layout.node_ids[layout.lane_to[lane]]
        self.rows.append((time, event, node, layout.lane_ids[lane], commodity, quantity, cause))

    def disruption(self, time: float, occurrence: Occurrence, level: float) -> None:
        """An occurrence's level changed."""
        layout = self.layout
        net = layout.network
        node = lane = ""
        commodity = ""
        if occurrence.kind in ("node", "demand_surge"):
            node = layout.node_ids[occurrence.target]
            commodity = net.commodity_ids[layout.node_commodity[occurrence.target]]
        elif occurrence.kind == "lane":
            lane = layout.lane_ids[occurrence.target]
            commodity = net.commodity_ids[layout.lane_commodity[occurrence.target]]
        elif occurrence.kind == "chokepoint":
            node = net.chokepoint_ids[occurrence.target]
        else:
            d = layout.disruption_row[occurrence.source]
            commodity = net.commodity_ids[int(net.dis_commodity[d])]
        cause = f"{occurrence.kind} {occurrence.source}"
        self.rows.append((time, "disruption", node, lane, commodity, level, cause))

    def table(self) -> pa.Table:
        """The log as an Arrow table, sorted by time (stable: same-time rows keep their order)."""
        rows = sorted(self.rows, key=lambda row: row[0])
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(TRACE_COLUMNS)
        types = (pa.float64(), pa.string(), pa.string(), pa.string(), pa.string(), pa.float64(),
                 pa.string())  # fmt: skip
        return pa.table(
            {
                name: pa.array(list(values), type=kind)
                for name, values, kind in zip(TRACE_COLUMNS, columns, types, strict=True)
            }
        )
