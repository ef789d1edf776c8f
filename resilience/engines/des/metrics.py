"""What one replication of the SimPy engine reports (model.md section 7).

The processes fill a `resilience.model.metrics.Records` as the days go by; `outcome` hands it,
with the final state, to `resilience.model.metrics.replication_metrics`, the same statement of
section 7 that the reference day loop uses, and adds what only this engine counts (its events).
"""

from __future__ import annotations

from dataclasses import dataclass

from resilience.model.layout import Layout
from resilience.model.metrics import Metrics, Records, replication_metrics
from resilience.model.timeline import Occurrence

__all__ = ["Outcome", "outcome"]


@dataclass(frozen=True)
class Outcome(Metrics):
    """One replication's results: the `Metrics` of section 7 and ``events``, the SimPy events
    processed."""

    events: int


def outcome(
    layout: Layout,
    records: Records,
    *,
    final_stock: list[float],
    final_transit: list[float],
    shipped: list[float],
    timeline: list[Occurrence],
    events: int,
) -> Outcome:
    """Section 7 from the records and the final state: ``final_stock`` per buffer,
    ``final_transit`` and ``shipped`` (units loaded within the horizon) per lane."""
    metrics = replication_metrics(
        layout.network,
        layout.tables,
        records,
        final_stock=final_stock,
        final_transit=final_transit,
        shipped=shipped,
        timeline=timeline,
    )
    return Outcome(*metrics.arrays(), events=events)
