"""Generated networks and the relative-tolerance check shared by the engine-agreement tests.

The kernel, the plain-Python reference, the NumPy baseline and the SimPy engine are compared on
the same random networks. They are built here in one way, with every mechanism available
(hazards, a chokepoint closure, random demand, priority allocation, allied sharing, an export
restriction). Sharing triggers are half days (4.5 and 9.5): with constant demand a consumer's
cover passes through whole days exactly, and a tie with a whole-day trigger would make two
correct engines part on the last bit of a sum (docs/model.md, section 10).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st

from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.scenario.checks import check_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario

__all__ = ["assert_relatively_close", "compile_raw", "generated_network", "network_options"]


def compile_raw(raw: dict[str, Any]) -> Network:
    """Validate, check and compile a scenario table."""
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return compile_network(scenario)


def generated_network(
    *,
    seed: int,
    nodes: int,
    extra_lanes: int,
    horizon: int,
    hazards: bool = False,
    closure: bool = False,
    cv: float = 0.0,
    priority: bool = False,
    sharing: bool = False,
    export: bool = False,
    hazard_rate: float | None = None,
) -> Network:
    """A synthetic network with the chosen mechanisms switched on."""
    raw = synthetic_scenario(
        nodes, nodes + extra_lanes, seed=seed, horizon_days=horizon, hazards=hazards,
        chokepoint_closure=closure, demand_cv=cv,
    )  # fmt: skip
    if hazards and hazard_rate is not None:
        raw["hazards"]["outages"]["annual_rate"] = hazard_rate
    if priority:
        raw["policies"]["allocation"] = "priority"
        raw["policies"]["priority_order"] = ["JP", "US", "TW"]
    if sharing:
        raw["policies"]["allied_sharing"] = {
            "members": ["US", "JP", "KR", "TW", "AU"],
            "trigger_cover_days": 4.5,
            "donor_floor_days": 9.5,
        }
    if export:
        raw.setdefault("disruptions", {})["controls"] = {
            "kind": "export_restriction", "origin": "CN", "commodity": "ore_a",
            "start": {"dist": "uniform", "low": 10, "high": 60}, "duration": 40,
            "severity": 0.7, "licensing_delay_days": 12, "recovery_days": 5,
        }  # fmt: skip
    return compile_raw(raw)


def network_options(max_nodes: int = 30) -> st.SearchStrategy[dict[str, Any]]:
    """Keyword arguments for `generated_network` (the horizon is the caller's)."""
    return st.fixed_dictionaries(
        {
            "seed": st.integers(0, 100_000),
            "nodes": st.integers(10, max_nodes),
            "extra_lanes": st.integers(0, max_nodes),
            "hazards": st.booleans(),
            "closure": st.booleans(),
            "cv": st.sampled_from([0.0, 0.3]),
            "priority": st.booleans(),
            "sharing": st.booleans(),
            "export": st.booleans(),
        }
    )


def assert_relatively_close(a: np.ndarray, b: np.ndarray, tolerance: float, what: str) -> None:
    """``|a - b| <= tolerance * max(1, |a|, |b|)`` elementwise; NaN exactly where the other is."""
    assert a.shape == b.shape, what
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b), err_msg=what)
    left = np.nan_to_num(a)
    right = np.nan_to_num(b)
    scale = np.maximum(1.0, np.maximum(np.abs(left), np.abs(right)))
    worst = float(np.max(np.abs(left - right) / scale)) if left.size else 0.0
    assert worst <= tolerance, f"{what}: relative difference {worst:.3e}"
