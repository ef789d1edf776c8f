"""The wrapper hands the kernel its records in the kernel's order, and codes have one source."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np
import pytest

import kernels.codes as codes
from kernels.daily import BLOCK_WIDTHS, simulate
from kernels.records import NetworkArrays, Outputs, Tables, block_width
from resilience.engines.kernel import NETWORK_ARGUMENTS, kernel_records
from resilience.model import outcomes
from resilience.network import arrays
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import KernelTables, build_tables
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario


def _demo() -> Network:
    return compile_network(load_scenario("demo").scenario)


def test_network_record_fields_are_network_fields_with_their_declared_dtypes() -> None:
    assert NetworkArrays._fields == NETWORK_ARGUMENTS
    declared = {spec.name: spec for spec in fields(Network)}
    for name in NetworkArrays._fields:
        assert name in declared, name
    network = _demo()
    net, _ = kernel_records(network, build_tables(network))
    for name in NetworkArrays._fields:
        meta = declared[name].metadata
        if meta:  # an array: the kernel is compiled for the declared dtype and rank
            value = getattr(net, name)
            assert value.dtype == meta["dtype"], name
            assert value.ndim == meta["shape"].count(",") + (meta["shape"][-2] != ","), name
        else:  # a policy scalar
            assert type(getattr(net, name)) is float, name


def test_tables_record_matches_kernel_tables_field_for_field() -> None:
    assert tuple(spec.name for spec in fields(KernelTables)) == Tables._fields


def test_kernel_records_carry_each_array_under_its_own_name() -> None:
    network = _demo()
    tables = build_tables(network)
    net, tab = kernel_records(network, tables)
    for name in NetworkArrays._fields:
        value = getattr(net, name)
        if isinstance(value, np.ndarray):
            assert value is getattr(network, name), name
            assert value.flags.c_contiguous, name
        else:
            assert value == getattr(network, name), name
    for name in Tables._fields:
        assert getattr(tab, name) is getattr(tables, name), name


def test_simulate_takes_the_records_in_the_wrappers_order() -> None:
    parameters = list(inspect.signature(simulate).parameters)
    assert parameters == [
        "rep_start", "n_reps", "seed", "horizon", "threshold", "window", "net", "tab", "out",
        "block_first", "block_last", "width",
    ]  # fmt: skip
    assert Outputs._fields == ("consumer", "network", "conservation", "daily")


def test_codes_and_columns_have_one_source() -> None:
    assert arrays.NODE_KIND_CODES is codes.NODE_KIND_CODES
    assert arrays.LANE_MODE_CODES is codes.LANE_MODE_CODES
    assert arrays.DISRUPTION_KIND_CODES is codes.DISRUPTION_KIND_CODES
    assert arrays.DISTRIBUTION_CODES is codes.DISTRIBUTION_CODES
    assert arrays.ALLOCATION_CODES is codes.ALLOCATION_CODES
    assert outcomes.CONSUMER_METRICS is codes.CONSUMER_METRICS
    assert outcomes.NETWORK_METRICS is codes.NETWORK_METRICS
    assert outcomes.CONSERVATION_TERMS is codes.CONSERVATION_TERMS
    assert codes.CONSUMER_METRICS.index("ttr") == codes.TTR
    assert codes.CONSERVATION_TERMS.index("lost") == codes.LOST


def test_no_number_depends_on_the_block_width() -> None:
    """`block_width` picks 32 replications per block on large networks and 64 otherwise; the
    kernel is compiled for each width it supports (the width is a compile-time constant), and
    no other width is accepted."""
    raw = synthetic_scenario(
        40, 90, seed=2, horizon_days=150, hazards=True, chokepoint_closure=True
    )
    network = compile_network(Scenario.model_validate(raw))
    net, tab = kernel_records(network, build_tables(network))
    count = 100
    results = []
    for width in BLOCK_WIDTHS:
        out = Outputs(
            np.empty((count, len(network.consumers), len(codes.CONSUMER_METRICS))),
            np.empty((count, len(codes.NETWORK_METRICS))),
            np.empty((count, len(network.commodity_ids), len(codes.CONSERVATION_TERMS))),
            np.empty((count, len(network.consumers), network.horizon_days), dtype=np.float32),
        )
        n_blocks = -(-count // width)
        simulate(5, count, np.uint64(7), network.horizon_days, 0.95, 14, net, tab, out, 0, n_blocks,
                 width)  # fmt: skip
        results.append(out)
    for other in results[1:]:
        for mine, theirs in zip(results[0], other, strict=True):
            np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match="width must be one of"):
        simulate(5, count, np.uint64(7), network.horizon_days, 0.95, 14, net, tab, results[0], 0,
                 1, 16)  # fmt: skip
    assert BLOCK_WIDTHS == (32, 64)
    assert block_width(100) == 64
    assert block_width(16_000) == 32
