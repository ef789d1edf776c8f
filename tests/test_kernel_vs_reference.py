"""The Numba kernel against the plain-Python reference of docs/model.md: equal to 1e-12.

The reference (resilience/reference.py) was written separately from the kernel, from the model
document alone, as readable per-replication Python. Agreement on random generated networks with
every mechanism switched on (hazards, closures with detours, export restrictions, surges,
priority allocation, switching, stockpile release, allied sharing, random demand) is the check
that the fast kernel computes the documented model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resilience.checks import check_scenario
from resilience.compiler import compile_network
from resilience.engine import build_tables, run_batch
from resilience.loader import load_scenario
from resilience.network import Network
from resilience.reference import simulate_replication
from resilience.schema import Scenario
from resilience.synthetic import synthetic_scenario

from .test_reference import _kitchen_sink

TOLERANCE = 1e-12


def _assert_close(kernel: np.ndarray, reference: np.ndarray, what: str) -> None:
    """|a - b| <= 1e-12 * max(1, |a|, |b|) elementwise; NaN exactly where the other is NaN."""
    assert kernel.shape == reference.shape, what
    np.testing.assert_array_equal(np.isnan(kernel), np.isnan(reference), err_msg=what)
    a = np.nan_to_num(kernel)
    b = np.nan_to_num(reference)
    scale = np.maximum(1.0, np.maximum(np.abs(a), np.abs(b)))
    worst = float(np.max(np.abs(a - b) / scale)) if a.size else 0.0
    assert worst <= TOLERANCE, f"{what}: relative difference {worst:.3e}"


def _compare(network: Network, replications: list[int]) -> None:
    tables = build_tables(network)
    for replication in replications:
        kernel = run_batch(network, tables, replication, 1)
        reference = simulate_replication(network, replication)
        _assert_close(kernel.consumer[0], reference.consumer, f"consumer, rep {replication}")
        _assert_close(kernel.network[0], reference.network, f"network, rep {replication}")
        _assert_close(
            kernel.conservation[0], reference.conservation, f"conservation, rep {replication}"
        )


def _network(raw: dict[str, Any]) -> Network:
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return compile_network(scenario)


def test_demo_agrees() -> None:
    _compare(compile_network(load_scenario("demo").scenario), [0, 1, 2, 37])


def test_every_mechanism_agrees() -> None:
    _compare(_network(_kitchen_sink()), [0, 1, 2, 3, 4, 5])


@settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    seed=st.integers(0, 100_000),
    nodes=st.integers(10, 30),
    extra_lanes=st.integers(0, 30),
    hazards=st.booleans(),
    closure=st.booleans(),
    cv=st.sampled_from([0.0, 0.3]),
    priority=st.booleans(),
    sharing=st.booleans(),
    export=st.booleans(),
    replication=st.integers(0, 10_000),
)
def test_random_networks_agree(
    seed: int,
    nodes: int,
    extra_lanes: int,
    hazards: bool,
    closure: bool,
    cv: float,
    priority: bool,
    sharing: bool,
    export: bool,
    replication: int,
) -> None:
    raw = synthetic_scenario(
        nodes, nodes + extra_lanes, seed=seed, horizon_days=150, hazards=hazards,
        chokepoint_closure=closure, demand_cv=cv,
    )  # fmt: skip
    if priority:
        raw["policies"]["allocation"] = "priority"
        raw["policies"]["priority_order"] = ["JP", "US", "TW"]
    if sharing:
        # Half-day triggers: with constant demand, cover passes through whole days exactly, and
        # a tie with an integer trigger would make the decision hang on the last bit of a sum
        # that the two implementations add in different orders (docs/model.md, section 10).
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
    _compare(_network(raw), [replication])


@pytest.mark.parametrize("seed", [1, 2])
def test_stressed_synthetic_networks_agree(seed: int) -> None:
    raw = synthetic_scenario(
        40, 100, seed=seed, hazards=True, chokepoint_closure=True, demand_cv=0.5
    )
    _compare(_network(raw), [0, 5, 999])
