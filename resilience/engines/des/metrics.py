"""What one replication of the SimPy engine reports (model.md section 7).

The processes fill a `resilience.model.metrics.Records` as the days go by; at the end
`DesModel.outcome` hands it, with the final state, to
`resilience.model.metrics.replication_metrics`, the same statement of section 7 that the
reference day loop uses, and `Outcome` adds what only this engine counts (its events).
"""

from __future__ import annotations

from dataclasses import dataclass

from resilience.model.metrics import Metrics

__all__ = ["Outcome"]


@dataclass(frozen=True)
class Outcome(Metrics):
    """One replication's results: the `Metrics` of section 7 and ``events``, the SimPy events
    processed."""

    events: int
