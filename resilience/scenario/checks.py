"""Checks that need more than one table: references, shares, cycles, reachability.

`check_scenario_references` works on raw (possibly invalid) tables, so that the loader can report
a dangling reference in the same pass as a type error elsewhere; it skips whatever is not of the
expected shape, since the schema reports that. `check_scenario` runs it on a validated scenario
and adds the structural checks that only make sense once every table is valid.
"""

from __future__ import annotations

import difflib
import itertools
from collections import defaultdict, deque
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from resilience.errors import Problem
from resilience.scenario.durations import rounded_duration_mean, up_time_days
from resilience.scenario.schema import Scenario

__all__ = ["SHARE_TOLERANCE", "check_scenario", "check_scenario_references"]

SHARE_TOLERANCE = 1e-6
"""How far the given sourcing shares of one destination may stray from 1."""

_TARGET_TABLE = {
    "node": "nodes",
    "lane": "lanes",
    "chokepoint": "chokepoints",
    "demand_surge": "nodes",
}


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name)
    return (
        {k: v for k, v in value.items() if isinstance(v, dict)} if isinstance(value, dict) else {}
    )


def _ids(data: Mapping[str, Any], name: str) -> set[str]:
    value = data.get(name)
    return set(value) if isinstance(value, dict) else set()


def _missing(
    path: tuple[str | int, ...], value: Any, known: set[str], what: str
) -> Iterator[Problem]:
    if isinstance(value, str) and value not in known:
        close = difflib.get_close_matches(value, sorted(known), n=1, cutoff=0.6)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        yield Problem("", path, f"unknown {what} {value!r}{hint}")


def _missing_each(
    path: tuple[str | int, ...], values: Any, known: set[str], what: str
) -> Iterator[Problem]:
    if isinstance(values, list):
        for index, value in enumerate(values):
            yield from _missing((*path, index), value, known, what)


def check_scenario_references(data: Mapping[str, Any]) -> list[Problem]:
    """Every id a table mentions must name an entry of the right table."""
    countries = _ids(data, "countries")
    commodities = _ids(data, "commodities")
    nodes = _table(data, "nodes")
    node_ids = _ids(data, "nodes")
    lane_ids = _ids(data, "lanes")
    known = {"nodes": node_ids, "lanes": lane_ids, "chokepoints": _ids(data, "chokepoints")}
    problems: list[Problem] = []

    for node_id, node in nodes.items():
        at = ("nodes", node_id)
        problems += _missing((*at, "country"), node.get("country"), countries, "country")
        problems += _missing((*at, "commodity"), node.get("commodity"), commodities, "commodity")
        inputs = node.get("inputs")
        if isinstance(inputs, list):
            for index, entry in enumerate(inputs):
                if isinstance(entry, dict):
                    problems += _missing(
                        (*at, "inputs", index, "commodity"),
                        entry.get("commodity"),
                        commodities,
                        "commodity",
                    )

    for lane_id, lane in _table(data, "lanes").items():
        at = ("lanes", lane_id)
        problems += _missing((*at, "from"), lane.get("from"), node_ids, "node")
        problems += _missing((*at, "to"), lane.get("to"), node_ids, "node")
        problems += _missing((*at, "commodity"), lane.get("commodity"), commodities, "commodity")
        problems += _missing_each(
            (*at, "chokepoints"), lane.get("chokepoints"), known["chokepoints"], "chokepoint"
        )

    for name, disruption in _table(data, "disruptions").items():
        at = ("disruptions", name)
        kind = disruption.get("kind")
        table = _TARGET_TABLE.get(kind) if isinstance(kind, str) else None
        if table is not None:
            what = "node" if table == "nodes" else table[:-1]
            problems += _missing((*at, "target"), disruption.get("target"), known[table], what)
            target = nodes.get(str(disruption.get("target")))
            if kind == "demand_surge" and target is not None and target.get("kind") != "consumer":
                problems.append(
                    Problem("", (*at, "target"),
                            f"a demand_surge targets a consumer node; {disruption.get('target')!r}"
                            f" is a {target.get('kind')}")
                )  # fmt: skip
        problems += _missing((*at, "origin"), disruption.get("origin"), countries, "country")
        problems += _missing(
            (*at, "commodity"), disruption.get("commodity"), commodities, "commodity"
        )
        problems += _missing_each(
            (*at, "destinations"), disruption.get("destinations"), countries, "country"
        )

    for name, hazard in _table(data, "hazards").items():
        at = ("hazards", name)
        problems += _missing_each((*at, "countries"), hazard.get("countries"), countries, "country")
        problems += _missing_each(
            (*at, "commodities"), hazard.get("commodities"), commodities, "commodity"
        )

    policies = data.get("policies")
    if isinstance(policies, dict):
        problems += _missing_each(
            ("policies", "priority_order"), policies.get("priority_order"), countries, "country"
        )
        delays = policies.get("switching_delay_by_commodity")
        if isinstance(delays, dict):
            for commodity in delays:
                problems += _missing(
                    ("policies", "switching_delay_by_commodity", commodity),
                    commodity,
                    commodities,
                    "commodity",
                )
        sharing = policies.get("allied_sharing")
        if isinstance(sharing, dict):
            at = ("policies", "allied_sharing")
            problems += _missing_each(
                (*at, "members"), sharing.get("members"), countries, "country"
            )
            problems += _missing_each(
                (*at, "commodities"), sharing.get("commodities"), commodities, "commodity"
            )
    return problems


def check_scenario(scenario: Scenario, *, raw: Mapping[str, Any] | None = None) -> list[Problem]:
    """All cross-table checks of a schema-valid scenario.

    ``raw`` is the scenario's tables as read (the loader has them), which the reference checks
    walk instead of a fresh dump of the validated model; defaults refer to no other table, so
    the two give the same problems.
    """
    problems = check_scenario_references(
        raw if raw is not None else scenario.model_dump(by_alias=True)
    )
    if problems:
        # Structural checks would only repeat a dangling reference in other words.
        return problems
    problems += _check_lane_ends(scenario)
    problems += _check_inventories(scenario)
    problems += _check_shares(scenario)
    problems += _check_bill_of_materials(scenario)
    problems += _check_hazard_classes(scenario)
    problems += _check_hazard_rates(scenario)
    problems += _check_stream_names(scenario)
    if not problems:
        problems += _check_reachability(scenario)
    return problems


def _accepts(scenario: Scenario, node_id: str) -> set[str]:
    """The commodities a node takes in by lane."""
    node = scenario.nodes[node_id]
    if node.kind == "processor":
        return {entry.commodity for entry in node.inputs}
    if node.kind == "source":
        return set()
    return {node.commodity}


def _check_lane_ends(scenario: Scenario) -> list[Problem]:
    problems = []
    for lane_id, lane in scenario.lanes.items():
        at = ("lanes", lane_id)
        origin = scenario.nodes[lane.from_]
        if lane.from_ == lane.to:
            problems.append(
                Problem("", (*at, "to"), f"a lane cannot run from {lane.to!r} to itself")
            )
            continue
        if origin.kind == "consumer":
            problems.append(
                Problem("", (*at, "from"),
                        f"{lane.from_!r} is a consumer; lanes start at a source, processor or "
                        "storage node (allied sharing between consumers is a policy)")
            )  # fmt: skip
        if lane.commodity != origin.commodity:
            problems.append(
                Problem("", (*at, "commodity"),
                        f"{lane.from_!r} supplies {origin.commodity!r}, the lane says "
                        f"{lane.commodity!r}")
            )  # fmt: skip
        accepted = _accepts(scenario, lane.to)
        destination = scenario.nodes[lane.to]
        if lane.commodity not in accepted:
            expected = (
                "nothing (a source takes no inputs)"
                if not accepted
                else " or ".join(repr(c) for c in sorted(accepted))
            )
            problems.append(
                Problem("", (*at, "to"),
                        f"{lane.to!r} (a {destination.kind}) does not take {lane.commodity!r}; "
                        f"it takes {expected}")
            )  # fmt: skip
        if destination.strategic:
            problems.append(
                Problem("", (*at, "to"),
                        f"{lane.to!r} is a strategic stockpile; stockpiles are not replenished "
                        "within the horizon, so no lane may lead into one")
            )  # fmt: skip
        if origin.strategic and destination.kind != "consumer":
            problems.append(
                Problem("", (*at, "to"),
                        f"a strategic stockpile releases to consumers; {lane.to!r} is a "
                        f"{destination.kind}")
            )  # fmt: skip
    return problems


def _check_inventories(scenario: Scenario) -> list[Problem]:
    problems = []
    for node_id, node in scenario.nodes.items():
        inventory = node.inventory
        capacity, initial = inventory.capacity, inventory.initial
        if capacity is not None and initial is not None and initial > capacity:
            problems.append(
                Problem("", ("nodes", node_id, "inventory", "initial"),
                        f"initial stock {initial} exceeds the capacity {capacity}")
            )  # fmt: skip
    return problems


def _check_shares(scenario: Scenario) -> list[Problem]:
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for lane_id, lane in scenario.lanes.items():
        if not scenario.nodes[lane.from_].strategic:
            groups[(lane.to, lane.commodity)].append(lane_id)
    problems = []
    for (destination, commodity), lane_ids in groups.items():
        shares = [scenario.lanes[i].share for i in lane_ids]
        given = [share for share in shares if share is not None]
        if given and abs(sum(given) - 1.0) > SHARE_TOLERANCE:
            listed = ", ".join(
                f"{i}={scenario.lanes[i].share}" for i in lane_ids if scenario.lanes[i].share
            )
            problems.append(
                Problem("", ("lanes", lane_ids[0], "share"),
                        f"the shares of the lanes into {destination!r} for {commodity!r} add up to "
                        f"{sum(given):.6g}, expected 1 ({listed})")
            )  # fmt: skip
    return problems


def _check_bill_of_materials(scenario: Scenario) -> list[Problem]:
    """The commodity graph (input -> output) must be acyclic."""
    edges: dict[str, set[str]] = defaultdict(set)
    maker: dict[tuple[str, str], str] = {}
    for node_id, node in scenario.nodes.items():
        for entry in node.inputs:
            edges[entry.commodity].add(node.commodity)
            maker.setdefault((entry.commodity, node.commodity), node_id)
    cycle = _find_cycle(edges)
    if cycle is None:
        return []
    steps = " -> ".join(cycle)
    via = sorted({maker[step] for step in itertools.pairwise(cycle)})
    return [
        Problem("", ("nodes", via[0], "inputs"),
                f"bill-of-materials cycle: {steps} (through nodes {', '.join(via)})")
    ]  # fmt: skip


def _find_cycle(edges: Mapping[str, Iterable[str]]) -> list[str] | None:
    """A cycle in a directed graph as [a, b, ..., a], or None (iterative DFS, three colours)."""
    state: dict[str, int] = {}
    for root in sorted(edges):
        if state.get(root):
            continue
        stack: list[tuple[str, Iterator[str]]] = [(root, iter(sorted(edges.get(root, ()))))]
        path = [root]
        state[root] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return [*path[path.index(child) :], child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(edges.get(child, ())))))
    return None


def _check_hazard_classes(scenario: Scenario) -> list[Problem]:
    problems = []
    for name, hazard in scenario.hazards.items():
        matched = [
            node_id
            for node_id, node in scenario.nodes.items()
            if (not hazard.kinds or node.kind in hazard.kinds)
            and (not hazard.countries or node.country in hazard.countries)
            and (not hazard.commodities or node.commodity in hazard.commodities)
        ]
        if not matched:
            problems.append(
                Problem("", ("hazards", name),
                        "matches no node (check kinds, countries and commodities)")
            )  # fmt: skip
    return problems


def _check_hazard_rates(scenario: Scenario) -> list[Problem]:
    """A hazard's outages and ramps fit in its cycle of ``365 / annual_rate`` days (model.md
    3.3): the rate counts outage starts, so an outage that lasts longer than the cycle makes the
    stated rate impossible."""
    problems = []
    for name, hazard in scenario.hazards.items():
        if up_time_days(hazard.annual_rate, hazard.duration, hazard.recovery_days) > 0.0:
            continue
        busy = rounded_duration_mean(hazard.duration) + hazard.recovery_days
        problems.append(
            Problem("", ("hazards", name, "annual_rate"),
                    f"{hazard.annual_rate:g} outages a year cannot start on one node: each "
                    f"takes {busy:.4g} days on average (outage plus recovery_days), so at most "
                    f"{365.0 / busy:.4g} a year fit")
        )  # fmt: skip
    return problems


RESERVED_STREAM_PREFIXES = ("demand",)
"""Hazard names that would share random streams with another purpose (model.md 4.1): a hazard's
stream on node X is ``<hazard>:X``, and consumer X's demand stream is ``demand:X``."""


def _check_stream_names(scenario: Scenario) -> list[Problem]:
    """No two random streams share a name (model.md 4.1), so no two draws are correlated.

    Ids cannot contain ``:`` (the schema's identifier pattern), so disruption streams (``<id>``),
    hazard streams (``<hazard>:<node>``) and demand streams (``demand:<consumer>``) can only
    collide through a hazard called ``demand``.
    """
    return [
        Problem("", ("hazards", name),
                f"{name!r} is reserved: consumer demand draws from the streams "
                f"'{name}:<consumer id>', so a hazard of that name would strike in step with "
                "demand; choose another name")
        for name in scenario.hazards
        if name in RESERVED_STREAM_PREFIXES
    ]  # fmt: skip


def _check_reachability(scenario: Scenario) -> list[Problem]:
    """Every consumer is reachable from a source, and every processor input has a lane."""
    delivered = {(lane.to, lane.commodity) for lane in scenario.lanes.values()}
    problems = []
    for node_id, node in scenario.nodes.items():
        for index, entry in enumerate(node.inputs):
            if (node_id, entry.commodity) not in delivered:
                problems.append(
                    Problem("", ("nodes", node_id, "inputs", index, "commodity"),
                            f"no lane delivers {entry.commodity!r} to processor {node_id!r}")
                )  # fmt: skip
    # One search forward from every source: linear in nodes + lanes, however many consumers.
    out_of: dict[str, list[str]] = defaultdict(list)
    for lane in scenario.lanes.values():
        out_of[lane.from_].append(lane.to)
    reached = {node_id for node_id, node in scenario.nodes.items() if node.kind == "source"}
    queue = deque(reached)
    while queue:
        for downstream in out_of[queue.popleft()]:
            if downstream not in reached:
                reached.add(downstream)
                queue.append(downstream)
    for node_id, node in scenario.nodes.items():
        if node.kind == "consumer" and node_id not in reached:
            problems.append(
                Problem("", ("nodes", node_id),
                        f"no source can reach consumer {node_id!r}: no chain of lanes leads to it "
                        "from a source node")
            )  # fmt: skip
    return problems
