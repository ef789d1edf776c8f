"""The Numba kernel against the plain-Python reference of docs/model.md: equal to 1e-12.

The reference (resilience/model/reference.py) was written separately from the kernel, from the model
document alone, as readable per-replication Python. Agreement on random generated networks with
every mechanism switched on (hazards, closures with detours, export restrictions, surges,
priority allocation, switching, stockpile release, allied sharing, random demand) is the check
that the fast kernel computes the documented model.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resilience.engines.kernel import run_batch
from resilience.model.reference import simulate_replication
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.scenario.loader import load_scenario
from resilience.scenario.synthetic import synthetic_scenario

from .generated import assert_relatively_close, compile_raw, generated_network, network_options
from .test_reference import _kitchen_sink

TOLERANCE = 1e-12


def _compare(network: Network, replications: list[int]) -> None:
    tables = build_tables(network)
    for replication in replications:
        kernel = run_batch(network, tables, replication, 1)
        reference = simulate_replication(network, replication)
        assert_relatively_close(
            kernel.consumer[0], reference.consumer, TOLERANCE, f"consumer, rep {replication}"
        )
        assert_relatively_close(
            kernel.network[0], reference.network, TOLERANCE, f"network, rep {replication}"
        )
        assert_relatively_close(
            kernel.conservation[0],
            reference.conservation,
            TOLERANCE,
            f"conservation, rep {replication}",
        )


def test_demo_agrees() -> None:
    _compare(compile_network(load_scenario("demo").scenario), [0, 1, 2, 37])


def test_every_mechanism_agrees() -> None:
    _compare(compile_raw(_kitchen_sink()), [0, 1, 2, 3, 4, 5])


@pytest.mark.parametrize(
    ("pro_rata_by", "order_target"),
    [("orders", "fixed"), ("orders", "adaptive"), ("share", "fixed")],
)
def test_every_mechanism_agrees_under_the_other_rules(pro_rata_by: str, order_target: str) -> None:
    """The allocation and ordering rules a scenario can choose instead of the defaults."""
    raw = _kitchen_sink()
    raw.setdefault("policies", {}).update(pro_rata_by=pro_rata_by, order_target=order_target)
    _compare(compile_raw(raw), [0, 1, 2, 3])


@settings(
    max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(options=network_options(), replication=st.integers(0, 10_000))
def test_random_networks_agree(options: dict[str, Any], replication: int) -> None:
    _compare(generated_network(horizon=150, **options), [replication])


@pytest.mark.parametrize("seed", [1, 2])
def test_stressed_synthetic_networks_agree(seed: int) -> None:
    raw = synthetic_scenario(
        40, 100, seed=seed, hazards=True, chokepoint_closure=True, demand_cv=0.5
    )
    _compare(compile_raw(raw), [0, 5, 999])
