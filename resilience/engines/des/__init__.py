"""The SimPy engine: docs/model.md as processes, and the discrete detail the kernel lacks.

In fluid mode it runs exactly the daily model that the Numba kernel runs, and agrees with it to
1e-9 on every reported number; in detailed mode (docs/des.md) it adds whole cargoes on finite
fleets, canal transit slots, unloading berths and disruptions at any time of day.

- `Layout.build(network)`: the static structure, once per network.
- `DesModel(layout, replication, ...)`: one replication; ``.run()`` returns an `Outcome`.
- `DetailOptions.from_scenario(scenario, network)`: what a scenario switches on.
- `DesExecutor`: batches of replications for ``resilience run --engine des``.
- `resilience.runs.trace.trace_scenario`: the event log of one replication (`resilience trace`).
"""

from resilience.engines.des.executor import DesExecutor, run_des_batch
from resilience.engines.des.metrics import Outcome
from resilience.engines.des.model import DesModel, simulate
from resilience.engines.des.options import FLUID, DetailOptions
from resilience.engines.des.trace import EVENTS, TRACE_COLUMNS, TraceLog
from resilience.model.layout import Layout

__all__ = [
    "EVENTS",
    "FLUID",
    "TRACE_COLUMNS",
    "DesExecutor",
    "DesModel",
    "DetailOptions",
    "Layout",
    "Outcome",
    "TraceLog",
    "run_des_batch",
    "simulate",
]
