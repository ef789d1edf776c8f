"""The compiled `Network`: a scenario as contiguous arrays that both engines read.

Structure of arrays, fixed dtypes, no Python objects in anything a kernel sees. Every array is
declared once below with its shape (in the symbols of `DIMENSIONS`), dtype, unit and meaning; the
constructor checks each array against its declaration, and docs/network.md is generated from the
same declarations (`network_reference`), so the documentation cannot drift from the code.

Conventions:
- Rows follow the scenario's table order (nodes, lanes, ... as written after ``extends`` merging);
  ``*_ids`` tuples map rows to ids and ``*_row`` dicts map ids to rows.
- "Unbounded" capacities are ``inf``; absent optional integers are ``-1``.
- Variable-length relations are CSR pairs: ``x_ptr`` (length n+1) and ``x_items``; the items of
  row i are ``x_items[x_ptr[i]:x_ptr[i+1]]``.
- Buffers: rows ``0..N-1`` are the nodes' own stock (of the node's commodity); row ``N+m`` is the
  input stock of bill-of-materials row ``m``. Lanes deliver into a buffer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from kernels.codes import (
    ALLOCATION_CODES,
    DISRUPTION_KIND_CODES,
    DISTRIBUTION_CODES,
    LANE_MODE_CODES,
    NODE_KIND_CODES,
)

__all__ = [
    "ALLOCATION_CODES",
    "DIMENSIONS",
    "DISRUPTION_KIND_CODES",
    "DISTRIBUTION_CODES",
    "LANE_MODE_CODES",
    "NODE_KIND_CODES",
    "Network",
    "csr",
    "network_reference",
]

# The codes are defined once, in kernels/codes.py, which the kernels read too.

DIMENSIONS = {
    "C": "commodities",
    "Y": "countries",
    "N": "nodes",
    "M": "bill-of-materials rows (all processors' inputs)",
    "B": "buffers = N + M",
    "L": "lanes (scenario lanes, then generated sharing lanes)",
    "K": "chokepoints",
    "I": "lane-chokepoint incidences",
    "Q": "distributions (start and duration of disruptions and hazards)",
    "V": "empirical distribution values, all distributions together",
    "D": "disruptions",
    "Z": "background hazards",
    "H": "hazard-node pairs (the nodes each hazard strikes)",
    "R": "consumers",
}


def _array(shape: str, dtype: Any, unit: str, doc: str) -> Any:
    return field(metadata={"shape": shape, "dtype": np.dtype(dtype), "unit": unit, "doc": doc})


F8, I4, I8, I1, U8, B1 = np.float64, np.int32, np.int64, np.int8, np.uint64, np.bool_

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int32]
PtrArray = npt.NDArray[np.int64]
CodeArray = npt.NDArray[np.int8]
KeyArray = npt.NDArray[np.uint64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class Network:
    """A compiled scenario. Build with `resilience.network.compiler.compile_network`."""

    # Identity and run settings
    name: str
    horizon_days: int
    seed: int
    replications: int
    recovery_threshold: float
    recovery_window_days: int
    commodity_ids: tuple[str, ...]
    commodity_units: tuple[str, ...]
    country_ids: tuple[str, ...]
    node_ids: tuple[str, ...]
    lane_ids: tuple[str, ...]
    chokepoint_ids: tuple[str, ...]
    disruption_ids: tuple[str, ...]
    hazard_ids: tuple[str, ...]

    # Commodities and countries
    commodity_price: FloatArray = _array("(C,)", F8, "currency/unit", "procurement price")
    country_priority: IntArray = _array(
        "(Y,)", I4, "rank", "allocation rank (0 first); unranked countries share the last rank"
    )

    # Nodes
    node_kind: CodeArray = _array("(N,)", I1, "code", "NODE_KIND_CODES")
    node_country: IntArray = _array("(N,)", I4, "row", "owner country row")
    node_commodity: IntArray = _array("(N,)", I4, "row", "commodity produced, held or consumed")
    node_capacity: FloatArray = _array(
        "(N,)", F8, "units/day", "production (source, processor) or outflow (storage); inf"
    )
    node_holding_cost: FloatArray = _array("(N,)", F8, "currency/unit/day", "holding cost")
    node_fixed_cost: FloatArray = _array("(N,)", F8, "currency/day", "fixed cost of the node")
    node_strategic: BoolArray = _array("(N,)", B1, "flag", "strategic stockpile")
    node_demand_mean: FloatArray = _array("(N,)", F8, "units/day", "consumer mean demand; else 0")
    node_demand_cv: FloatArray = _array("(N,)", F8, "ratio", "coefficient of variation of demand")
    node_demand_stream: KeyArray = _array(
        "(N,)", U8, "key", "random stream key of the consumer's demand ('demand:' + id)"
    )

    # Bill of materials (CSR over nodes)
    bom_ptr: PtrArray = _array("(N+1,)", I8, "index", "bill-of-materials rows of node i")
    bom_commodity: IntArray = _array("(M,)", I4, "row", "input commodity")
    bom_per_unit: FloatArray = _array("(M,)", F8, "input units/output unit", "quantity per unit")

    # Buffers
    buffer_node: IntArray = _array("(B,)", I4, "row", "node holding the buffer")
    buffer_commodity: IntArray = _array("(B,)", I4, "row", "commodity held")
    buffer_reference_rate: FloatArray = _array(
        "(B,)", F8, "units/day", "rate that days of cover refer to (docs/model.md)"
    )
    buffer_initial: FloatArray = _array("(B,)", F8, "units", "stock on day 0")
    buffer_target: FloatArray = _array(
        "(B,)", F8, "units", "order-up-to position: on-hand target plus expected pipeline"
    )
    buffer_pipeline_days: FloatArray = _array(
        "(B,)", F8, "days", "expected pipeline P_b = sum of s_l L_l over normal inbound lanes"
    )
    buffer_capacity: FloatArray = _array("(B,)", F8, "units", "most it can hold; inf")
    buffer_lane_ptr: PtrArray = _array("(B+1,)", I8, "index", "inbound lanes of buffer i")
    buffer_lanes: IntArray = _array("(L,)", I4, "row", "lane rows grouped by destination buffer")

    # Lanes
    lane_from: IntArray = _array("(L,)", I4, "row", "origin node")
    lane_to: IntArray = _array("(L,)", I4, "row", "destination node")
    lane_buffer: IntArray = _array("(L,)", I4, "row", "destination buffer")
    lane_commodity: IntArray = _array("(L,)", I4, "row", "commodity carried")
    lane_mode: CodeArray = _array("(L,)", I1, "code", "LANE_MODE_CODES")
    lane_lead_time: IntArray = _array("(L,)", I4, "days", "lead time, >= 1")
    lane_capacity: FloatArray = _array("(L,)", F8, "units/day", "capacity; inf")
    lane_cost: FloatArray = _array("(L,)", F8, "currency/unit", "shipping cost")
    lane_share: FloatArray = _array(
        "(L,)", F8, "fraction", "sourcing share of the destination buffer's orders; 0 = alternate"
    )
    lane_initial_flow: FloatArray = _array(
        "(L,)", F8, "units/day", "warm start: due on each of days 0..lead-1 (normal lanes)"
    )
    lane_switch_delay: IntArray = _array(
        "(L,)", I4, "days", "days impaired before orders move to alternates"
    )
    lane_detour_days: IntArray = _array(
        "(L,)", I4, "days", "lane's own detour extra days; -1 = use the chokepoints'"
    )
    lane_detour_factor: FloatArray = _array(
        "(L,)", F8, "fraction", "lane's own detour capacity factor; -1 = use the chokepoints'"
    )
    lane_choke_ptr: PtrArray = _array("(L+1,)", I8, "index", "chokepoints of lane i")
    lane_chokes: IntArray = _array("(I,)", I4, "row", "chokepoint rows")
    node_out_ptr: PtrArray = _array("(N+1,)", I8, "index", "outbound lanes of node i")
    node_out_lanes: IntArray = _array("(L,)", I4, "row", "lane rows grouped by origin node")

    # Chokepoints
    choke_detour_days: IntArray = _array("(K,)", I4, "days", "detour extra days; -1 = no detour")
    choke_capacity_factor: FloatArray = _array(
        "(K,)", F8, "fraction", "share of a lane's capacity the detour carries"
    )

    # Distributions (start and duration, in days, before rounding to whole days)
    dist_kind: CodeArray = _array("(Q,)", I1, "code", "DISTRIBUTION_CODES")
    dist_params: FloatArray = _array(
        "(Q,3)", F8, "days or shape", "parameters in schema.DISTRIBUTION_PARAMETERS order; 0-pad"
    )
    dist_values_ptr: PtrArray = _array("(Q+1,)", I8, "index", "empirical values of distribution i")
    dist_values: FloatArray = _array("(V,)", F8, "days", "empirical values")
    dist_cdf: FloatArray = _array("(V,)", F8, "probability", "cumulative weights, last = 1")

    # Disruptions
    dis_kind: CodeArray = _array("(D,)", I1, "code", "DISRUPTION_KIND_CODES")
    dis_target: IntArray = _array(
        "(D,)", I4, "row", "node, lane or chokepoint row; -1 for export restrictions"
    )
    dis_origin: IntArray = _array("(D,)", I4, "row", "export restriction: origin country; -1")
    dis_commodity: IntArray = _array("(D,)", I4, "row", "export restriction: commodity; -1")
    dis_destinations: BoolArray = _array(
        "(D,Y)", B1, "flag", "export restriction: destination countries affected"
    )
    dis_licensing_delay: IntArray = _array("(D,)", I4, "days", "extra days for licensed exports")
    dis_start: IntArray = _array("(D,)", I4, "row", "distribution of the start day")
    dis_duration: IntArray = _array("(D,)", I4, "row", "distribution of the duration")
    dis_severity: FloatArray = _array("(D,)", F8, "fraction", "severity in [0, 1]")
    dis_recovery_days: IntArray = _array("(D,)", I4, "days", "linear recovery ramp")
    dis_probability: FloatArray = _array("(D,)", F8, "probability", "chance of occurring")
    dis_stream: KeyArray = _array("(D,)", U8, "key", "random stream key (from the id)")

    # Background hazards
    haz_node_ptr: PtrArray = _array("(Z+1,)", I8, "index", "hazard-node pairs of hazard i")
    haz_nodes: IntArray = _array("(H,)", I4, "row", "node struck")
    haz_pair_stream: KeyArray = _array(
        "(H,)", U8, "key", "random stream key of each pair (hazard id + ':' + node id)"
    )
    haz_rate_per_day: FloatArray = _array(
        "(Z,)", F8, "1/day", "1 / mean up time, calibrated so outages start at annual_rate"
    )
    haz_duration: IntArray = _array("(Z,)", I4, "row", "distribution of outage days")
    haz_severity: FloatArray = _array("(Z,)", F8, "fraction", "share of capacity lost")
    haz_recovery_days: IntArray = _array("(Z,)", I4, "days", "linear recovery ramp")

    # Consumers and policies
    consumers: IntArray = _array("(R,)", I4, "row", "consumer node rows, in node order")
    allocation: int = 0
    allocation_by_share: bool = True
    adaptive_ordering: bool = True
    release_trigger_days: float = 7.0
    release_max_fraction: float = 0.05
    sharing_trigger_days: float = 0.0
    sharing_floor_days: float = 0.0
    sharing_max_fraction: float = 0.0

    def __post_init__(self) -> None:
        sizes = {
            "C": len(self.commodity_ids),
            "Y": len(self.country_ids),
            "N": len(self.node_ids),
            "M": int(self.bom_ptr[-1]) if len(self.bom_ptr) else 0,
            "L": len(self.lane_ids),
            "K": len(self.chokepoint_ids),
            "I": int(self.lane_choke_ptr[-1]) if len(self.lane_choke_ptr) else 0,
            "Q": len(self.dist_kind),
            "V": int(self.dist_values_ptr[-1]) if len(self.dist_values_ptr) else 0,
            "D": len(self.disruption_ids),
            "Z": len(self.hazard_ids),
            "H": int(self.haz_node_ptr[-1]) if len(self.haz_node_ptr) else 0,
            "R": int(np.count_nonzero(self.node_kind == NODE_KIND_CODES["consumer"])),
        }
        sizes["B"] = sizes["N"] + sizes["M"]
        for spec in array_fields():
            value = getattr(self, spec.name)
            expected_dtype = spec.metadata["dtype"]
            if not isinstance(value, np.ndarray) or value.dtype != expected_dtype:
                got = getattr(value, "dtype", type(value).__name__)
                raise TypeError(f"Network.{spec.name}: expected {expected_dtype}, got {got}")
            if not value.flags.c_contiguous:
                raise ValueError(f"Network.{spec.name}: must be C-contiguous")
            shape = _evaluate_shape(spec.metadata["shape"], sizes)
            if value.shape != shape:
                raise ValueError(
                    f"Network.{spec.name}: expected shape {spec.metadata['shape']} = {shape}, "
                    f"got {value.shape}"
                )
            value.setflags(write=False)

    @property
    def n_nodes(self) -> int:
        return len(self.node_ids)

    @property
    def n_lanes(self) -> int:
        return len(self.lane_ids)

    @property
    def n_buffers(self) -> int:
        return len(self.buffer_node)

    @cached_property
    def node_row(self) -> dict[str, int]:
        """Node id -> row."""
        return {node_id: row for row, node_id in enumerate(self.node_ids)}

    @cached_property
    def lane_row(self) -> dict[str, int]:
        """Lane id -> row."""
        return {lane_id: row for row, lane_id in enumerate(self.lane_ids)}

    @cached_property
    def commodity_row(self) -> dict[str, int]:
        """Commodity id -> row."""
        return {commodity: row for row, commodity in enumerate(self.commodity_ids)}

    @cached_property
    def country_row(self) -> dict[str, int]:
        """Country id -> row."""
        return {country: row for row, country in enumerate(self.country_ids)}

    @cached_property
    def chokepoint_row(self) -> dict[str, int]:
        """Chokepoint id -> row."""
        return {choke: row for row, choke in enumerate(self.chokepoint_ids)}


def csr(
    groups: Sequence[Sequence[int]], item_dtype: npt.DTypeLike = np.int32
) -> tuple[npt.NDArray[np.int64], np.ndarray]:
    """``(ptr, items)`` of a list of row lists: row ``i`` is ``items[ptr[i]:ptr[i + 1]]``.

    ``ptr`` is int64 with ``len(groups) + 1`` entries; ``items`` has ``item_dtype``.
    """
    ptr = np.zeros(len(groups) + 1, dtype=np.int64)
    ptr[1:] = np.cumsum([len(group) for group in groups])
    count = int(ptr[-1])
    items = np.fromiter((i for group in groups for i in group), dtype=item_dtype, count=count)
    return ptr, items


def array_fields() -> list[Any]:
    """The dataclass fields of `Network` that hold arrays, in declaration order."""
    return [spec for spec in fields(Network) if "shape" in spec.metadata]


def _evaluate_shape(shape: str, sizes: dict[str, int]) -> tuple[int, ...]:
    dims = []
    for part in shape.strip("()").split(","):
        part = part.strip()
        if not part:
            continue
        if part.isdigit():
            dims.append(int(part))
        elif part.endswith("+1"):
            dims.append(sizes[part[:-2]] + 1)
        else:
            dims.append(sizes[part])
    return tuple(dims)


def network_reference() -> str:
    """Markdown tables of every `Network` array: name, shape, dtype, unit, meaning."""
    lines = [
        "| symbol | counts |",
        "|---|---|",
        *(f"| `{symbol}` | {meaning} |" for symbol, meaning in DIMENSIONS.items()),
        "",
        "| array | shape | dtype | unit | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in array_fields():
        meta = spec.metadata
        lines.append(
            f"| `{spec.name}` | `{meta['shape']}` | `{meta['dtype']}` | {meta['unit']} "
            f"| {meta['doc']} |"
        )
    return "\n".join(lines) + "\n"
