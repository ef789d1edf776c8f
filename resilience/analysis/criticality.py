"""Criticality: knock out each element in turn and measure what it does downstream.

An element is a node (a mine, refinery, fab, terminal, stockpile), a lane, a chokepoint, or a
supplier country (all its producing and storage nodes at once). Its knockout is a disruption
of severity 1 from day ``start`` for ``duration`` days, added to the scenario under an id of
its own, so every other random stream is unchanged and the knockout run pairs replication by
replication with the base run (common random numbers).

Only elements upstream of the consumers asked about are knocked out: anything else cannot
reach them (the upstream sets are the ones the onset rule uses, docs/model.md section 7.1).

For each element and each of those consumers the result is the change in expected shortfall
(units and share of demand) and in CVaR95 of shortfall, P(short) under the knockout, and the
Simchi-Levi pair: time to recover, TTR = the knockout's duration, against time to survive, TTS
= the median over replications of the days from the knockout to the consumer's first short
day (none when the consumer is never short). An element whose TTS is below its TTR is one the
consumer cannot ride out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from resilience.analysis.intervals import tail_statistics
from resilience.model.outcomes import CONSUMER_METRICS
from resilience.network.arrays import NODE_KIND_CODES, Network
from resilience.network.tables import KernelTables

__all__ = ["ELEMENT_KINDS", "Element", "ElementImpact", "elements", "impact"]

ElementKind = Literal["node", "lane", "chokepoint", "country"]
ELEMENT_KINDS: tuple[ElementKind, ...] = ("node", "lane", "chokepoint", "country")

FloatArray = npt.NDArray[np.float64]
_COLUMN = {name: i for i, name in enumerate(CONSUMER_METRICS)}


@dataclass(frozen=True)
class Element:
    """An element and the disruption tables (raw, as in a scenario file) that knock it out."""

    kind: ElementKind
    id: str
    disruptions: dict[str, dict[str, Any]] = field(repr=False)


@dataclass(frozen=True)
class ElementImpact:
    """What knocking out one element does to one consumer (see the module docstring)."""

    kind: str
    element: str
    consumer: str
    commodity: str
    delta_shortfall: float  # units
    delta_share_short: float  # share of demand
    delta_cvar95: float  # units
    p_short: float
    tts: float  # days, median over the replications with a shortfall; NaN when none
    ttr: float  # days, the knockout's duration


def _knockout(kind: str, target: str, start: int, duration: int) -> dict[str, Any]:
    return {
        "kind": kind,
        "target": target,
        "start": start,
        "duration": duration,
        "severity": 1.0,
        "description": f"criticality: {kind} {target} out for {duration} days",
    }


def elements(
    network: Network,
    tables: KernelTables,
    consumers: Sequence[int],
    kinds: Sequence[ElementKind],
    *,
    start: int,
    duration: int,
    prefix: str = "knockout",
) -> list[Element]:
    """The elements upstream of the consumer rows ``consumers``, with their knockouts.

    Args:
        consumers: rows of `Network.consumers` whose supply is at stake.
        kinds: which kinds of element to knock out.
        start, duration: the knockout's first day and length in days.
        prefix: start of the added disruptions' ids (must not clash with the scenario's).
    """
    upstream: npt.NDArray[np.bool_] = np.asarray(
        tables.upstream_node[list(consumers)].any(axis=0), dtype=np.bool_
    )  # (N,): node n feeds one of the consumers
    consumer_kind = NODE_KIND_CODES["consumer"]
    suppliers = [
        n for n in range(network.n_nodes) if upstream[n] and network.node_kind[n] != consumer_kind
    ]
    found: list[Element] = []
    count = 0

    def add(kind: ElementKind, element_id: str, targets: list[tuple[str, str]]) -> None:
        nonlocal count
        tables_of = {}
        for disruption_kind, target in targets:
            count += 1
            tables_of[f"{prefix}-{count}"] = _knockout(disruption_kind, target, start, duration)
        found.append(Element(kind, element_id, tables_of))

    if "node" in kinds:
        for n in suppliers:
            add("node", network.node_ids[n], [("node", network.node_ids[n])])
    upstream_lanes = [
        lane for lane in range(network.n_lanes) if upstream[int(network.lane_to[lane])]
    ]
    if "lane" in kinds:
        for lane in upstream_lanes:
            add("lane", network.lane_ids[lane], [("lane", network.lane_ids[lane])])
    if "chokepoint" in kinds:
        passed = sorted(
            {
                int(k)
                for lane in upstream_lanes
                for k in network.lane_chokes[
                    network.lane_choke_ptr[lane] : network.lane_choke_ptr[lane + 1]
                ]
            }
        )
        for k in passed:
            add(
                "chokepoint", network.chokepoint_ids[k], [("chokepoint", network.chokepoint_ids[k])]
            )
    if "country" in kinds:
        by_country: dict[str, list[tuple[str, str]]] = {}
        for n in suppliers:
            country = network.country_ids[network.node_country[n]]
            by_country.setdefault(country, []).append(("node", network.node_ids[n]))
        for country, targets in sorted(by_country.items()):
            add("country", country, targets)
    return found


def impact(
    network: Network,
    element: Element,
    base: FloatArray,
    knocked: FloatArray,
    consumers: Sequence[int],
    *,
    duration: int,
) -> list[ElementImpact]:
    """One `ElementImpact` per consumer row in ``consumers``.

    Args:
        base, knocked: (replications, R, len(CONSUMER_METRICS)) outcomes of the base run and of
            the run with ``element`` knocked out, on the same replications.
    """
    rows = []
    for r in consumers:
        node = network.consumers[r]
        b, k = base[:, r, :], knocked[:, r, :]
        demand = float(k[:, _COLUMN["demand"]].mean())
        delta = float(k[:, _COLUMN["shortfall"]].mean() - b[:, _COLUMN["shortfall"]].mean())
        cvar = float(
            tail_statistics(k[:, _COLUMN["shortfall"]])[6]
            - tail_statistics(b[:, _COLUMN["shortfall"]])[6]
        )
        # The model's TTS counts from the onset of the occurrence in effect on the first short
        # day (docs/model.md 7.1): on an undisrupted scenario, the knockout's first day.
        survive = k[:, _COLUMN["tts"]]
        short = (k[:, _COLUMN["days_short"]] > 0) & ~np.isnan(survive)
        tts = float(np.median(survive[short])) if short.any() else math.nan
        rows.append(
            ElementImpact(
                kind=element.kind,
                element=element.id,
                consumer=network.node_ids[node],
                commodity=network.commodity_ids[network.node_commodity[node]],
                delta_shortfall=delta,
                delta_share_short=delta / demand if demand > 0 else 0.0,
                delta_cvar95=cvar,
                p_short=float((k[:, _COLUMN["days_short"]] > 0).mean()),
                tts=tts,
                ttr=float(duration),
            )
        )
    return rows
