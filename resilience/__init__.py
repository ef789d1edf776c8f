"""resilience: supply-chain resilience simulation for chips, critical minerals and LNG.

The data flow (docs/model.md): a scenario file is loaded and validated (`load_scenario`), compiled
into a `Network` of arrays (`compile_network`), and run by an engine. In a notebook, `run`,
`compare`, `sweep` and `load_run` return results as pandas tables (the ``notebook`` extra;
docs/notebook.ipynb).

The package is layered; each layer imports only those below it (checked by import-linter in
`make lint`):

    cli -> runs -> analysis | outputs -> engines -> model -> network -> scenario -> errors

The names below are imported lazily, so that `import resilience` (and commands such as
`resilience validate`) do not pay for numba, SimPy or pyarrow until a name needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from resilience.errors import Problem, ResilienceError, ScenarioError
    from resilience.network.arrays import Network
    from resilience.network.compiler import compile_network
    from resilience.runs.api import Result, compare, load_run, run, sweep
    from resilience.scenario.loader import LoadedScenario, load_scenario
    from resilience.scenario.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Network",
    "Problem",
    "ResilienceError",
    "Result",
    "Scenario",
    "ScenarioError",
    "compare",
    "compile_network",
    "load_run",
    "load_scenario",
    "run",
    "sweep",
]

_WHERE = {
    "LoadedScenario": "resilience.scenario.loader",
    "Network": "resilience.network.arrays",
    "Problem": "resilience.errors",
    "ResilienceError": "resilience.errors",
    "Scenario": "resilience.scenario.schema",
    "ScenarioError": "resilience.errors",
    "compile_network": "resilience.network.compiler",
    "load_scenario": "resilience.scenario.loader",
    "Result": "resilience.runs.api",
    "run": "resilience.runs.api",
    "compare": "resilience.runs.api",
    "sweep": "resilience.runs.api",
    "load_run": "resilience.runs.api",
}


def __getattr__(name: str) -> Any:
    """Import a public name on first use (PEP 562)."""
    if name not in _WHERE:
        raise AttributeError(f"module 'resilience' has no attribute {name!r}")
    return getattr(importlib.import_module(_WHERE[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
