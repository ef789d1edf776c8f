"""The state of one SimPy replication that every process shares, below the processes.

`DesState` owns the mutable state of one replication: the environment, stock per buffer
(``S``), today's positions, requests and fills, the running records and the disruption board.
The lanes, node agents and emergency policy take it as their only link to the run, and
`resilience.engines.des.model.DesModel` extends it with those processes. Keeping the state in
this lower module lets the processes read it without importing the model that builds them (the
sub-package has no import cycle).
"""

from __future__ import annotations

from resilience.engines.des.clock import DesEnvironment
from resilience.engines.des.disruptions import DisruptionBoard
from resilience.engines.des.options import DetailOptions
from resilience.engines.des.trace import TraceLog
from resilience.model.layout import Layout
from resilience.model.metrics import Records
from resilience.model.timeline import sample_timeline
from resilience.network.arrays import Network

__all__ = ["DesState"]


class DesState:
    """The state of replication ``replication`` of ``network`` (whose structure is ``layout``).

    Args:
        layout: `Layout.build` of the network, shared by every replication of it.
        network: ``layout.network``, or a copy of it with another seed.
        replication: the replication index (streams depend on it), ``>= 0``.
        options: the detailed-mode options (docs/des.md).
        trace: keep the event log (`TraceLog`) of the run in ``self.trace``.

    Attributes (quantities in units of each buffer's or lane's commodity):
        S: (B,) stock on hand per buffer.   IP: (B,) today's inventory position per buffer.
        T: (B,) today's order-up-to position per buffer (section 5.5).
        request, fill: (L,) today's normal requests and fills per lane (phases 6a and 7).
        records: the running totals for the metrics.   board: the disruption state.
    """

    def __init__(
        self,
        layout: Layout,
        network: Network,
        replication: int,
        options: DetailOptions,
        trace: bool,
    ) -> None:
        self.layout = layout
        self.replication = replication
        self.seed = network.seed
        self.options = options
        self.timeline = sample_timeline(network, replication)
        self.env = DesEnvironment()
        self.trace = TraceLog(layout) if trace else None
        n_buffers, n_lanes = layout.n_buffers, layout.n_lanes
        self.S = list(layout.initial)
        self.IP = [0.0] * n_buffers
        self.T = list(layout.target)
        self.request = [0.0] * n_lanes
        self.fill = [0.0] * n_lanes
        self.records = Records.start(network)
        self.consumer_row = {n: r for r, n in enumerate(layout.consumers)}
        self.board = DisruptionBoard(
            self.env, layout, self.timeline, slot_chokes=options.slot_chokes, trace=self.trace
        )
