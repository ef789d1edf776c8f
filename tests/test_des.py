"""The SimPy engine in fluid mode against the Numba kernel: every number to 1e-9 relative.

For the same scenario, seed and replication, every consumer metric, the network cost totals and
the conservation terms of the DES must equal the kernel's to ``|a - b| <= 1e-9 * max(1, |a|,
|b|)``, NaN exactly where the other is NaN (docs/model.md, first section). Checked on every
shipped scenario, on a network that exercises every mechanism, and on random generated networks
with hazards, closures, random demand, priority allocation, allied sharing and export controls.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from resilience.engines.des import DesModel, Layout, run_des_batch
from resilience.engines.des.clock import DesEnvironment
from resilience.engines.kernel import run_batch
from resilience.model.outcomes import CONSERVATION_TERMS, metric_index
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.scenario.catalog import list_scenarios
from resilience.scenario.loader import load_scenario
from resilience.scenario.synthetic import synthetic_scenario

from .generated import assert_relatively_close, compile_raw, generated_network, network_options
from .test_reference import _kitchen_sink, _worked_example

TOLERANCE = 1e-9


def balance(conservation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) of model.md 7.3 per commodity."""
    terms = {name: conservation[:, i] for i, name in enumerate(CONSERVATION_TERMS)}
    left = terms["initial_stock"] + terms["initial_transit"] + terms["produced"]
    right = (
        terms["consumed_demand"] + terms["consumed_inputs"] + terms["final_stock"]
        + terms["final_transit"] + terms["lost"]
    )  # fmt: skip
    return left, right


def compare(network: Network, replications: list[int], seed: int | None = None) -> None:
    layout = Layout.build(network)
    for replication in replications:
        kernel = run_batch(network, layout.tables, replication, 1, seed=seed)
        des = DesModel(layout, replication, seed=seed).run()
        where = f"{network.name}, replication {replication}"
        for part, ours, theirs in (
            ("consumer metrics", des.consumer, kernel.consumer[0]),
            ("network totals", des.network, kernel.network[0]),
            ("conservation", des.conservation, kernel.conservation[0]),
        ):
            assert_relatively_close(ours, theirs, TOLERANCE, f"{part}, {where}")
        left, right = balance(des.conservation)
        np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9, err_msg=where)


_network = compile_raw


SHIPPED = [item.name for item in list_scenarios()]


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_scenario_agrees_with_the_kernel(name: str) -> None:
    network = compile_network(load_scenario(name).scenario)
    compare(network, [0])  # one replication each keeps the suite quick as scenarios are added


def test_every_mechanism_agrees_with_the_kernel() -> None:
    compare(_network(_kitchen_sink()), [0, 1, 2, 3])


def test_the_demo_agrees_with_the_kernel_and_a_seed_override() -> None:
    network = compile_network(load_scenario("demo").scenario)
    compare(network, [1, 2, 37])
    compare(network, [3], seed=12345)


def test_the_reference_network_agrees_with_the_kernel() -> None:
    """The benchmark's network (50 nodes, 100 lanes, hazards and a closure), a full year."""
    raw = synthetic_scenario(50, 100, seed=0, hazards=True, chokepoint_closure=True)
    compare(_network(raw), [0, 7])


@settings(
    max_examples=12, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(options=network_options(max_nodes=24), replication=st.integers(0, 10_000))
def test_random_networks_agree_with_the_kernel(options: dict[str, Any], replication: int) -> None:
    # Several hazard outages within the short horizon.
    compare(generated_network(horizon=120, hazard_rate=6.0, **options), [replication])


@pytest.mark.parametrize("outage", ["lane", "node"])
def test_worked_example_of_the_model_page(outage: str) -> None:
    """docs/model.md 9: d = 10, S = 5, L = 3, a = 20, D = 8: shortfall 30, TTS and TTR."""
    network = _worked_example(outage, lead=3, cover=5, duration=8)
    outcome = DesModel(Layout.build(network), 0).run()
    delay = 0 if outage == "lane" else 3

    def metric(name: str) -> float:
        return float(outcome.consumer[0, metric_index(name)])

    assert metric("shortfall") == 30.0
    assert metric("days_short") == 3.0
    assert metric("tts") == 5 + delay
    assert metric("ttr") == 8 + delay


def test_lane_outage_day_by_day() -> None:
    """The table of model.md 9.1 (d = 10, S = 5, L = 1, a = 20, D = 8), read between days."""
    network = _worked_example("lane", lead=1, cover=5, duration=8)
    model = DesModel(Layout.build(network), 0)
    consumer, source = network.node_row["C"], network.node_row["S0"]
    model.start()
    rows = []
    for day in range(19, 30):
        model.env.run(until=day + 1)
        rows.append((model.S[consumer], model.lanes[0].in_transit(), model.S[source]))
    assert rows == [
        (50, 10, 0), (40, 10, 10), (30, 10, 10), (20, 10, 10), (10, 10, 10), (0, 10, 10),
        (0, 10, 10), (0, 10, 10), (0, 10, 10), (0, 10, 0), (0, 10, 0),
    ]  # fmt: skip


def test_batches_and_daily_service_match_single_replications() -> None:
    network = compile_network(load_scenario("demo").scenario)
    layout = Layout.build(network)
    batch = run_des_batch(layout, 4, 2, daily=True)
    assert batch.first == 4
    assert batch.count == 2
    assert batch.daily_service is not None
    assert batch.daily_service.shape == (2, len(network.consumers), network.horizon_days)
    single = DesModel(layout, 5).run()
    np.testing.assert_array_equal(batch.consumer[1], single.consumer)
    # The mean daily service is 1 - loss area / horizon by definition (model.md 7); the fill
    # rate weights days by demand, so it differs when demand varies (cv > 0 here).
    service = batch.daily_service[1].mean(axis=1)
    area = single.consumer[:, metric_index("loss_area")]
    np.testing.assert_allclose(service, 1.0 - area / network.horizon_days, rtol=1e-6)


def test_event_count_is_what_simpy_processed() -> None:
    """`DesEnvironment.events_processed` counts exactly the events `step` takes off the queue."""
    network = compile_network(load_scenario("demo").scenario)
    model = DesModel(Layout.build(network), 0)
    model.start()
    steps = 0
    while model.env.peek() < 30:
        model.env.step()
        steps += 1
    assert model.env.events_processed == steps
    assert isinstance(model.env, DesEnvironment)


def test_replication_must_not_be_negative() -> None:
    network = compile_network(load_scenario("demo").scenario)
    with pytest.raises(ValueError, match="replication"):
        DesModel(Layout.build(network), -1)
