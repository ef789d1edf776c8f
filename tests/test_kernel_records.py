"""The wrapper hands the kernel its records in the kernel's order, and codes have one source."""

from __future__ import annotations

import inspect
from dataclasses import fields

import numpy as np

import kernels.codes as codes
from kernels.daily import simulate
from kernels.records import NetworkArrays, Outputs, Tables
from resilience.engines.kernel import NETWORK_ARGUMENTS, kernel_records
from resilience.model import outcomes
from resilience.network import arrays
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.network.tables import KernelTables, build_tables
from resilience.scenario.loader import load_scenario


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
        "rep_start", "n_reps", "seed", "horizon", "threshold", "net", "tab", "out",
        "block_first", "block_last",
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
