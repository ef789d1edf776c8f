"""resilience: supply-chain resilience simulation for chips, critical minerals and LNG.

The data flow (docs/model.md): a scenario file is loaded and validated (`load_scenario`), compiled
into a `Network` of arrays (`compile_network`), and run by an engine.
"""

from resilience.compiler import compile_network
from resilience.errors import Problem, ResilienceError, ScenarioError
from resilience.loader import LoadedScenario, load_scenario
from resilience.network import Network
from resilience.schema import Scenario

__all__ = [
    "LoadedScenario",
    "Network",
    "Problem",
    "ResilienceError",
    "Scenario",
    "ScenarioError",
    "compile_network",
    "load_scenario",
]
