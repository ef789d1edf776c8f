"""The Monte Carlo kernel against closed forms, invariants and itself.

Reference results here come from outside the code: the exact shortfall of an outage against a
stock of S days (docs/model.md section 9, derived by hand from the phase order), the long-run
availability MTBF / (MTBF + MTTR) of an alternating renewal process, and conservation of
material. Determinism tests compare runs bit for bit.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from resilience.engines.execution import LocalExecutor, ProcessExecutor, plan_batches
from resilience.engines.kernel import run_batch
from resilience.model.outcomes import CONSERVATION_TERMS, BatchResult, metric_index
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.scenario.loader import load_scenario
from resilience.scenario.synthetic import synthetic_scenario

from .generated import compile_raw, generated_network, network_options

_network = compile_raw


def _run(network: Network, count: int, first: int = 0, **options: Any) -> BatchResult:
    return run_batch(network, build_tables(network), first, count, **options)


def _metric(result: BatchResult, name: str, consumer: int = 0) -> np.ndarray:
    return result.consumer[:, consumer, metric_index(name)]


def one_lane(
    d: float, stock_days: int, lead: int, outage: str, start: int, duration: int, horizon: int = 80
) -> dict[str, Any]:
    """Section 9's network: a source of capacity d, one lane, a consumer with S days of stock."""
    raw: dict[str, Any] = {
        "scenario": {"name": "one-lane", "horizon_days": horizon, "seed": 1},
        "commodities": {"x": {"unit": "t"}},
        "countries": {"AA": {"name": "A"}},
        "nodes": {
            "S0": {"country": "AA", "kind": "source", "commodity": "x", "capacity_per_day": d},
            "C": {
                "country": "AA",
                "kind": "consumer",
                "commodity": "x",
                "inventory": {"target_days": stock_days},
                "demand": {"mean_per_day": d},
            },
        },
        "lanes": {"l": {"from": "S0", "to": "C", "commodity": "x", "lead_time_days": lead}},
    }
    target = {"lane": "l", "node": "S0"}[outage]
    raw["disruptions"] = {
        "outage": {"kind": outage, "target": target, "start": start, "duration": duration}
    }
    return raw


@pytest.mark.parametrize("lead", [1, 3])
@pytest.mark.parametrize(("stock_days", "duration"), [(5, 8), (5, 5), (5, 2), (0, 6), (10, 30)])
def test_lane_outage_shortfall_is_d_times_days_beyond_stock(
    lead: int, stock_days: int, duration: int
) -> None:
    d, start = 10.0, 20
    result = _run(_network(one_lane(d, stock_days, lead, "lane", start, duration)), 1)
    short_days = max(0, duration - stock_days)
    assert _metric(result, "shortfall")[0] == pytest.approx(d * short_days, abs=1e-9)
    assert _metric(result, "days_short")[0] == short_days
    assert _metric(result, "loss_area")[0] == pytest.approx(short_days, abs=1e-12)
    if short_days:
        assert _metric(result, "tts")[0] == stock_days
        assert _metric(result, "ttr")[0] == duration
    else:
        assert math.isnan(_metric(result, "tts")[0])


@pytest.mark.parametrize("lead", [1, 3])
@pytest.mark.parametrize(("stock_days", "duration"), [(5, 8), (5, 3), (2, 12)])
def test_supplier_outage_is_felt_one_lead_time_later(
    lead: int, stock_days: int, duration: int
) -> None:
    d, start = 10.0, 20
    result = _run(_network(one_lane(d, stock_days, lead, "node", start, duration)), 1)
    short_days = max(0, duration - stock_days)
    assert _metric(result, "shortfall")[0] == pytest.approx(d * short_days, abs=1e-9)
    if short_days:
        assert _metric(result, "tts")[0] == stock_days + lead
        assert _metric(result, "ttr")[0] == duration + lead


def test_undisrupted_networks_serve_every_day() -> None:
    demo = compile_network(
        load_scenario("demo", ["disruptions.hormuz_closure.probability=0"]).scenario
    )
    synthetic = _network(synthetic_scenario(60, 150, seed=3))
    for network in (demo, synthetic):
        result = _run(network, 40)
        assert np.all(result.consumer[:, :, metric_index("shortfall")] == 0.0)
        assert np.all(result.consumer[:, :, metric_index("fill_rate")] == 1.0)


def _rounded_outage_mean(mean: float) -> float:
    """E[D] for D an Exponential(mean) draw rounded to whole days, halves up, a positive draw at
    least one day (model.md 4.3): P(D >= 1) = 1 plus the sum of P(X >= k - 1/2) over k >= 2."""
    return 1.0 + math.exp(-1.5 / mean) / (1.0 - math.exp(-1.0 / mean))


def test_long_run_fill_rate_equals_availability() -> None:
    """One supplier, no stock, exponential outages at a stated annual rate: fill rate -> the
    availability 1 - rate * E[D] / 365 (outages start `rate` times a year, model.md 3.3; each
    keeps the supplier out for E[D] whole days on average).

    Tolerance: 4 standard errors of the mean over replications, plus 0.002 for the start-up
    effect (every replication starts with the supplier up) over a 20-year horizon.
    """
    rate, mttr = 365.0 / 75.0, 15.0
    raw = one_lane(10.0, 0, 1, "node", 0, 0, horizon=20 * 365)
    del raw["disruptions"]
    raw["nodes"]["S0"]["inventory"] = {"target_days": 0}
    raw["hazards"] = {
        "outages": {"annual_rate": rate, "duration": {"dist": "exponential", "mean": mttr}}
    }
    result = _run(_network(raw), 256)
    fill = _metric(result, "fill_rate")
    expected = 1.0 - rate * _rounded_outage_mean(mttr) / 365.0
    assert abs(expected - 60.0 / 75.0) < 1e-3  # rounding to whole days barely matters
    standard_error = fill.std(ddof=1) / math.sqrt(fill.size)
    assert abs(fill.mean() - expected) <= 4 * standard_error + 0.002


@pytest.fixture(scope="module")
def busy_network() -> Network:
    """Hazards everywhere, a chokepoint closure, random demand, a priority policy."""
    raw = synthetic_scenario(40, 100, seed=7, hazards=True, chokepoint_closure=True, demand_cv=0.3)
    raw["policies"]["allocation"] = "priority"
    raw["policies"]["priority_order"] = ["JP", "US", "KR"]
    return _network(raw)


def test_results_do_not_depend_on_threads_or_batch_size(busy_network: Network) -> None:
    tables = build_tables(busy_network)
    reference = run_batch(busy_network, tables, 0, 1000, threads=1)
    two_threads = run_batch(busy_network, tables, 0, 1000, threads=2)
    np.testing.assert_array_equal(reference.consumer, two_threads.consumer)
    for size in (1, 7, 1000):
        parts = [
            run_batch(busy_network, tables, plan.first, plan.count)
            for plan in plan_batches(1000 if size != 1 else 40, size)
        ]
        joined = np.concatenate([part.consumer for part in parts])
        np.testing.assert_array_equal(joined, reference.consumer[: joined.shape[0]])


def test_worker_processes_give_the_same_numbers(busy_network: Network) -> None:
    batches = plan_batches(96, 32)
    local = list(LocalExecutor(threads=1).run(busy_network, batches, seed=5, daily=False))
    spread = list(ProcessExecutor(workers=2).run(busy_network, batches, seed=5, daily=False))
    for a, b in zip(local, spread, strict=True):
        assert a.first == b.first
        np.testing.assert_array_equal(a.consumer, b.consumer)


def test_adding_a_disruption_leaves_the_others_draws_alone() -> None:
    base = synthetic_scenario(30, 70, seed=2, chokepoint_closure=True, demand_cv=0.2)
    with_extra = synthetic_scenario(30, 70, seed=2, chokepoint_closure=True, demand_cv=0.2)
    # A disruption that never occurs still owns a stream; with one shared sequential generator
    # it would shift every later draw.
    with_extra["disruptions"] = {
        "aaa_first": {"kind": "node", "target": "src0", "duration": 30, "probability": 0.0},
        **with_extra["disruptions"],
    }
    a = _run(_network(base), 64)
    b = _run(_network(with_extra), 64)
    np.testing.assert_array_equal(a.consumer, b.consumer)


def test_seed_changes_the_draws(busy_network: Network) -> None:
    a = _run(busy_network, 32, seed=1).consumer
    b = _run(busy_network, 32, seed=2).consumer
    assert not np.array_equal(a, b)


def _balance(conservation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    terms = {name: conservation[..., i] for i, name in enumerate(CONSERVATION_TERMS)}
    left = terms["initial_stock"] + terms["initial_transit"] + terms["produced"]
    right = (
        terms["consumed_demand"] + terms["consumed_inputs"] + terms["final_stock"]
        + terms["final_transit"] + terms["lost"]
    )  # fmt: skip
    return left, right


@settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(options=network_options(max_nodes=40))
def test_material_is_conserved_in_every_replication(options: dict[str, Any]) -> None:
    """initial + in transit + produced = consumed + inputs + final + in transit + lost."""
    result = _run(generated_network(horizon=200, **options), 33)
    left, right = _balance(result.conservation)
    assert np.all(np.abs(left - right) <= 1e-9 * np.maximum(1.0, np.abs(left)))
    assert np.all(result.conservation >= -1e-9)


def test_daily_service_is_recorded_on_request(busy_network: Network) -> None:
    with_daily = _run(busy_network, 40, daily=True)
    assert with_daily.daily_service is not None
    assert with_daily.daily_service.shape == (40, len(busy_network.consumers), 365)
    served = with_daily.daily_service
    assert np.all((served >= 0.0) & (served <= 1.0))
    # Days below full service are exactly the days counted as short (up to the tolerance).
    loss = (1.0 - served.astype(np.float64)).sum(axis=2)
    np.testing.assert_allclose(
        loss, with_daily.consumer[:, :, metric_index("loss_area")], atol=1e-3
    )
    assert _run(busy_network, 40).daily_service is None
