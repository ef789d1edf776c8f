"""The NumPy baseline of the benchmarks (benchmarks/numpy_baseline.py) against the kernel.

The benchmarks quote the Numba kernel's speed against this vectorised NumPy comparator, which is
only a fair comparison if both compute the same thing: every reported number must agree with
`resilience.engines.kernel.run_batch` to 1e-9 relative on the benchmark's reference network. The
comparator models only the mechanisms that network uses and refuses others by name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from benchmarks.numpy_baseline import simulate_numpy, supported
from resilience.engines.kernel import run_batch
from resilience.model.outcomes import metric_index
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.scenario.checks import check_scenario
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario

from .generated import assert_relatively_close
from .test_reference import _kitchen_sink

TOLERANCE = 1e-9


def _compare(network: Network, count: int, first: int = 0, seed: int | None = None) -> np.ndarray:
    """Both engines on replications ``first .. first + count - 1``; the consumer outcomes."""
    tables = build_tables(network)
    kernel = run_batch(network, tables, first, count, seed=seed)
    consumer, totals, conservation = simulate_numpy(network, tables, first, count, seed)
    assert_relatively_close(consumer, kernel.consumer, TOLERANCE, "consumer")
    assert_relatively_close(totals, kernel.network, TOLERANCE, "network totals")
    assert_relatively_close(conservation, kernel.conservation, TOLERANCE, "conservation")
    return consumer


def _network(raw: dict[str, Any]) -> Network:
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return compile_network(scenario)


def _policies(sharing: bool = True) -> dict[str, Any]:
    """A stressed synthetic network with random demand, priority allocation and sharing."""
    raw = synthetic_scenario(
        30, 60, seed=3, horizon_days=200, hazards=True, chokepoint_closure=True, demand_cv=0.3
    )
    raw["policies"]["allocation"] = "priority"
    raw["policies"]["priority_order"] = ["JP", "US", "TW"]
    if sharing:
        # Half-day trigger and floor: cover cannot hit them exactly, so no decision hangs on a
        # tie between sums added in different orders (docs/model.md, section 10). They are set
        # high enough for sharing to happen in this network.
        raw["policies"]["allied_sharing"] = {
            "members": ["US", "JP", "KR", "TW", "AU"],
            "trigger_cover_days": 10.5,
            "donor_floor_days": 12.5,
        }
    return raw


def _reference(horizon: int = 365) -> Network:
    """The benchmark's reference network (benchmarks/bench_kernel.py)."""
    raw = synthetic_scenario(
        50, 100, seed=0, horizon_days=horizon, hazards=True, chokepoint_closure=True
    )
    return _network(raw)


def test_reference_network_agrees() -> None:
    network = _reference()
    assert supported(network, build_tables(network)) == []
    consumer = _compare(network, 64)
    assert (consumer[:, :, metric_index("days_short")] > 0).any()


def test_replication_offset_and_seed_agree() -> None:
    """Streams depend on the replication index and the seed, not on the batch."""
    _compare(_reference(horizon=120), 5, first=1000, seed=123)


def test_other_mechanisms_are_refused_by_name() -> None:
    """The comparator models only what the reference network uses; it says what it leaves out."""
    network = _network(_policies())
    tables = build_tables(network)
    assert "random demand" in "; ".join(supported(network, tables))
    with pytest.raises(NotImplementedError, match="allied sharing"):
        simulate_numpy(network, tables, 0, 4)
    kitchen_sink = _network(_kitchen_sink())
    assert supported(kitchen_sink, build_tables(kitchen_sink))


@pytest.mark.parametrize("count", [0, -1])
def test_count_must_be_positive(count: int) -> None:
    network = compile_network(load_scenario("demo").scenario)
    with pytest.raises(ValueError, match="count"):
        simulate_numpy(network, build_tables(network), 0, count)
