"""Compiling a generated 5,000-node, 20,000-lane network (target: under 2 s)."""

from __future__ import annotations

from typing import Any

import pytest

from resilience.network.compiler import compile_network
from resilience.scenario.checks import check_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario

COMPILE_TARGET_SECONDS = 2.0


@pytest.fixture(scope="module")
def large_raw() -> dict[str, Any]:
    return synthetic_scenario(5000, 20000, seed=0, hazards=True, chokepoint_closure=True)


@pytest.fixture(scope="module")
def large_scenario(large_raw: dict[str, Any]) -> Scenario:
    return Scenario.model_validate(large_raw)


def test_compile_5000_nodes_20000_lanes(benchmark: Any, large_scenario: Scenario) -> None:
    network = benchmark(compile_network, large_scenario)
    assert network.n_nodes == 5000
    assert network.n_lanes == 20000
    benchmark.extra_info["nodes"] = network.n_nodes
    benchmark.extra_info["lanes"] = network.n_lanes
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["target_seconds"] = COMPILE_TARGET_SECONDS
    assert mean < COMPILE_TARGET_SECONDS, (
        f"compile took {mean:.2f} s, target {COMPILE_TARGET_SECONDS} s"
    )


def test_validate_check_and_compile_5000_nodes(benchmark: Any, large_raw: dict[str, Any]) -> None:
    def load() -> Any:
        scenario = Scenario.model_validate(large_raw)
        assert check_scenario(scenario) == []
        return compile_network(scenario)

    network = benchmark.pedantic(load, rounds=3, iterations=1)
    assert network.n_lanes == 20000
    mean = benchmark.stats.stats.mean
    benchmark.extra_info["end_to_end_seconds"] = mean
    assert mean < COMPILE_TARGET_SECONDS
