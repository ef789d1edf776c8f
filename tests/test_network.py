"""The network compiler: arrays, their declarations, and the quantities they resolve."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from resilience.network.arrays import LANE_MODE_CODES, NODE_KIND_CODES, Network, array_fields
from resilience.network.compiler import compile_network, stream_key
from resilience.network.exposure import consumer_exposures
from resilience.scenario.catalog import list_scenarios
from resilience.scenario.checks import check_scenario
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario


def _compile(raw: dict) -> Network:
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return compile_network(scenario)


def test_every_array_is_declared_contiguous_and_read_only(demo_path: Path) -> None:
    network = compile_network(load_scenario(demo_path).scenario)
    declared = array_fields()
    assert len(declared) > 60
    for spec in declared:
        value = getattr(network, spec.name)
        assert value.dtype == spec.metadata["dtype"], spec.name
        assert value.flags.c_contiguous, spec.name
        assert not value.flags.writeable, spec.name
        assert spec.metadata["unit"], spec.name
        assert spec.metadata["doc"], spec.name


def test_a_wrong_dtype_is_refused(demo_path: Path) -> None:
    network = compile_network(load_scenario(demo_path).scenario)
    from dataclasses import replace

    with pytest.raises(TypeError, match="lane_lead_time"):
        replace(network, lane_lead_time=network.lane_lead_time.astype(np.int64))


def test_id_maps_and_csr_relations_agree() -> None:
    network = _compile(synthetic_scenario(200, 600, seed=3, hazards=True))
    assert all(network.node_ids[row] == node for node, row in network.node_row.items())
    assert all(network.lane_ids[row] == lane for lane, row in network.lane_row.items())
    # Every lane appears once among its destination buffer's lanes and its origin's lanes.
    for lane in range(network.n_lanes):
        buffer = network.lane_buffer[lane]
        inbound = network.buffer_lanes[
            network.buffer_lane_ptr[buffer] : network.buffer_lane_ptr[buffer + 1]
        ]
        origin = network.lane_from[lane]
        outbound = network.node_out_lanes[
            network.node_out_ptr[origin] : network.node_out_ptr[origin + 1]
        ]
        assert lane in inbound
        assert lane in outbound
        assert network.buffer_commodity[buffer] == network.lane_commodity[lane]
    assert sorted(network.buffer_lanes.tolist()) == list(range(network.n_lanes))
    # Hazards struck every node, each pair with its own stream key.
    assert len(network.haz_nodes) == network.n_nodes
    assert len(set(network.haz_pair_stream.tolist())) == network.n_nodes


def test_shares_targets_and_warm_start_follow_the_model() -> None:
    raw = synthetic_scenario(20, 40, seed=1)
    network = _compile(raw)
    for buffer in range(network.n_buffers):
        lanes = network.buffer_lanes[
            network.buffer_lane_ptr[buffer] : network.buffer_lane_ptr[buffer + 1]
        ]
        normal = [lane for lane in lanes if network.lane_mode[lane] == LANE_MODE_CODES["normal"]]
        if not normal:
            continue
        # No share given in the synthetic scenario: equal shares that sum to 1.
        assert network.lane_share[normal].sum() == pytest.approx(1.0)
        rate = network.buffer_reference_rate[buffer]
        pipeline = sum(network.lane_share[lane] * network.lane_lead_time[lane] for lane in normal)
        node = network.buffer_node[buffer]
        target_days = raw["nodes"][network.node_ids[node]]["inventory"]["target_days"]
        assert network.buffer_target[buffer] == pytest.approx(rate * (target_days + pipeline))
        assert network.buffer_initial[buffer] == pytest.approx(rate * target_days)
        for lane in normal:
            expected = min(network.lane_share[lane] * rate, network.lane_capacity[lane])
            assert network.lane_initial_flow[lane] == pytest.approx(expected)


def test_given_shares_make_the_others_alternates(tmp_path: Path) -> None:
    raw = synthetic_scenario(12, 20, seed=2)
    consumer = next(n for n, v in raw["nodes"].items() if v["kind"] == "consumer")
    into = [k for k, lane in raw["lanes"].items() if lane["to"] == consumer]
    extra = dict(raw["lanes"][into[0]])
    raw["lanes"]["alt"] = extra
    for lane_id in into:
        raw["lanes"][lane_id]["share"] = 1.0 / len(into)
    network = _compile(raw)
    assert network.lane_share[network.lane_row["alt"]] == 0.0
    assert sum(network.lane_share[network.lane_row[k]] for k in into) == pytest.approx(1.0)


def test_export_restriction_defaults_to_every_other_country() -> None:
    raw = synthetic_scenario(20, 40, seed=4)
    raw["disruptions"] = {
        "ga": {"kind": "export_restriction", "origin": "CN", "commodity": "ore_a", "duration": 100,
               "licensing_delay_days": 45, "severity": 0.5}
    }  # fmt: skip
    network = _compile(raw)
    row = network.country_row["CN"]
    assert network.dis_origin[0] == row
    assert not network.dis_destinations[0, row]
    assert network.dis_destinations[0].sum() == len(network.country_ids) - 1
    assert network.dis_licensing_delay[0] == 45
    assert network.dis_stream[0] == np.uint64(stream_key("ga"))


def test_distributions_are_tabulated_in_parameter_order() -> None:
    raw = synthetic_scenario(20, 40, seed=5, chokepoint_closure=True)
    raw["disruptions"]["closure"]["duration"] = {
        "dist": "empirical", "values": [10, 20, 40], "weights": [1, 2, 1]
    }  # fmt: skip
    network = _compile(raw)
    start = network.dis_start[0]
    duration = network.dis_duration[0]
    assert network.dist_kind[start] == 4  # uniform
    assert network.dist_params[start].tolist() == [30.0, 90.0, 0.0]
    lo, hi = network.dist_values_ptr[duration], network.dist_values_ptr[duration + 1]
    assert network.dist_values[lo:hi].tolist() == [10.0, 20.0, 40.0]
    assert network.dist_cdf[lo:hi].tolist() == [0.25, 0.75, 1.0]


def test_allied_sharing_generates_lanes_between_member_consumers(demo_path: Path) -> None:
    loaded = load_scenario(demo_path, ['policies.allied_sharing.members=["JP", "KR", "TW"]'])
    network = compile_network(loaded.scenario)
    sharing = [i for i, mode in enumerate(network.lane_mode) if mode == LANE_MODE_CODES["sharing"]]
    lng = [
        row for row in network.consumers
        if network.commodity_ids[network.node_commodity[row]] == "lng"
    ]  # fmt: skip
    assert len(sharing) == len(lng) * (len(lng) - 1)
    assert all(
        network.lane_share[i] == 0.0 and math.isinf(network.lane_capacity[i]) for i in sharing
    )


def test_exposure_shares_sum_to_one_for_every_consumer(demo_path: Path) -> None:
    network = compile_network(load_scenario(demo_path).scenario)
    exposures = consumer_exposures(network)
    assert len(exposures) == int((network.node_kind == NODE_KIND_CODES["consumer"]).sum())
    for item in exposures:
        assert sum(item.by_country.values()) == pytest.approx(1.0)
        assert all(0.0 <= share <= 1.0 + 1e-12 for share in item.by_chokepoint.values())


def test_large_generated_network_compiles() -> None:
    network = _compile(
        synthetic_scenario(5000, 20000, seed=0, hazards=True, chokepoint_closure=True)
    )
    assert network.n_nodes == 5000
    assert network.n_lanes == 20000
    assert network.n_buffers == 5000 + 2 * int(0.10 * 5000)


def test_every_random_stream_has_its_own_key() -> None:
    """model.md 4.1: disruption, hazard-on-node and demand streams never share a key, in any
    shipped scenario (a shared key would make two draws identical, not independent)."""
    for item in list_scenarios():
        network = compile_network(load_scenario(item.name).scenario)
        consumers = network.node_demand_stream[network.consumers]
        keys = np.concatenate([network.dis_stream, network.haz_pair_stream, consumers])
        assert np.unique(keys).size == keys.size, item.name
