"""Generated scenarios of any size, for benchmarks and property tests.

`synthetic_scenario` builds a valid scenario table (the dict a TOML file would parse to) with a
given number of nodes and lanes: mines of two ores, fabs that turn them into chips, LNG plants
and terminals, and consumers of chips and LNG, wired so that every consumer is reachable and
every fab gets both inputs. Capacities exceed demand by a margin, so that an undisrupted run has
no shortfall; hazards on every node and one chokepoint closure can be switched on.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["synthetic_scenario"]

_COUNTRIES = ("US", "JP", "KR", "TW", "AU", "CN", "QA", "MY", "NL", "CL", "CD", "ID")
_CHOKEPOINTS = ("hormuz", "malacca", "taiwan_strait", "panama", "suez", "bab_el_mandeb")


def synthetic_scenario(
    n_nodes: int,
    n_lanes: int,
    *,
    seed: int = 0,
    horizon_days: int = 365,
    hazards: bool = False,
    chokepoint_closure: bool = False,
    demand_cv: float = 0.0,
) -> dict[str, Any]:
    """A valid scenario table with ``n_nodes`` nodes and ``n_lanes`` lanes.

    Args:
        n_nodes: at least 10.
        n_lanes: at least the number of mandatory lanes (about 0.7 * n_nodes).
        seed: seeds the layout (a local generator; no global random state).
        horizon_days: the scenario's horizon.
        hazards: add background hazards striking every node (2 outages/year, 5-15 days).
        chokepoint_closure: add one closure of the first chokepoint (days 60-120).
        demand_cv: coefficient of variation of every consumer's demand.
    """
    if n_nodes < 10:
        raise ValueError("n_nodes must be at least 10")
    rng = np.random.default_rng(seed)
    n_sources = max(3, int(0.35 * n_nodes))
    n_fabs = max(1, int(0.10 * n_nodes))
    n_storage = max(1, int(0.05 * n_nodes))
    n_consumers = n_nodes - n_sources - n_fabs - n_storage

    nodes: dict[str, dict[str, Any]] = {}
    by_role: dict[str, list[str]] = {"ore_a": [], "ore_b": [], "lng": [], "fab": [], "terminal": []}
    for i in range(n_sources):
        commodity = ("ore_a", "ore_b", "lng")[i % 3]
        node_id = f"src{i}"
        by_role[commodity].append(node_id)
        nodes[node_id] = {"kind": "source", "commodity": commodity, "inventory": {"target_days": 2}}
    for i in range(n_fabs):
        node_id = f"fab{i}"
        by_role["fab"].append(node_id)
        nodes[node_id] = {
            "kind": "processor",
            "commodity": "chips",
            "inputs": [
                {"commodity": "ore_a", "per_unit": 0.01},
                {"commodity": "ore_b", "per_unit": 0.02},
            ],
            "inventory": {"target_days": 10},
        }  # fmt: skip
    for i in range(n_storage):
        node_id = f"term{i}"
        by_role["terminal"].append(node_id)
        nodes[node_id] = {"kind": "storage", "commodity": "lng", "inventory": {"target_days": 5}}
    consumers = []
    for i in range(n_consumers):
        node_id = f"con{i}"
        consumers.append(node_id)
        commodity = "chips" if i % 2 == 0 else "lng"
        nodes[node_id] = {
            "kind": "consumer",
            "commodity": commodity,
            "inventory": {"target_days": 14},
            "demand": {"mean_per_day": 10.0, "cv": demand_cv},
        }
    for node_id, node in nodes.items():
        node["country"] = _COUNTRIES[int(rng.integers(len(_COUNTRIES)))]
        node["name"] = node_id

    suppliers = {
        "chips": by_role["fab"],
        "lng": by_role["lng"] + by_role["terminal"],
        "ore_a": by_role["ore_a"],
        "ore_b": by_role["ore_b"],
    }
    lanes: dict[str, dict[str, Any]] = {}

    def add_lane(origin: str, destination: str, commodity: str) -> None:
        lane: dict[str, Any] = {
            "from": origin,
            "to": destination,
            "commodity": commodity,
            "lead_time_days": int(rng.integers(2, 30)),
            "cost_per_unit": float(rng.uniform(0.1, 2.0)),
        }
        passes = [c for c in _CHOKEPOINTS if rng.random() < 0.15]
        if passes:
            lane["chokepoints"] = passes
        lanes[f"lane{len(lanes)}"] = lane

    def pick(pool: list[str]) -> str:
        return pool[int(rng.integers(len(pool)))]

    for fab in by_role["fab"]:
        add_lane(pick(by_role["ore_a"]), fab, "ore_a")
        add_lane(pick(by_role["ore_b"]), fab, "ore_b")
    for terminal in by_role["terminal"]:
        add_lane(pick(by_role["lng"]), terminal, "lng")
    for consumer in consumers:
        commodity = nodes[consumer]["commodity"]
        add_lane(pick(suppliers[commodity]), consumer, commodity)
    if n_lanes < len(lanes):
        raise ValueError(f"n_lanes must be at least {len(lanes)} for {n_nodes} nodes")
    destinations = consumers + by_role["fab"]
    while len(lanes) < n_lanes:
        destination = pick(destinations)
        node = nodes[destination]
        if node["kind"] == "processor":
            commodity = ("ore_a", "ore_b")[int(rng.integers(2))]
        else:
            commodity = node["commodity"]
        add_lane(pick(suppliers[commodity]), destination, commodity)

    # Capacity: each supplier can serve 1.5x what its lanes could ask of it at equal shares.
    inbound: dict[tuple[str, str], int] = {}
    for route in lanes.values():
        key = (route["to"], route["commodity"])
        inbound[key] = inbound.get(key, 0) + 1
    need = dict.fromkeys(nodes, 0.0)
    for node_id, spec in nodes.items():
        if spec["kind"] == "consumer":
            need[node_id] = spec["demand"]["mean_per_day"]
    # Fabs and terminals first need what consumers ask of them, then pass it upstream.
    for stage in ("consumer", "storage", "processor"):
        for route in lanes.values():
            receiver = nodes[route["to"]]
            if receiver["kind"] != stage:
                continue
            ways = inbound[(route["to"], route["commodity"])]
            per_lane = need[route["to"]] / ways
            if receiver["kind"] == "processor":
                per_unit = next(
                    entry["per_unit"]
                    for entry in receiver["inputs"]
                    if entry["commodity"] == route["commodity"]
                )
                per_lane = 1.5 * need[route["to"]] * per_unit / ways
            need[route["from"]] += per_lane
    for node_id, spec in nodes.items():
        if spec["kind"] in ("source", "processor"):
            spec["capacity_per_day"] = round(1.5 * need[node_id] + 1.0, 6)

    scenario: dict[str, Any] = {
        "scenario": {
            "name": f"synthetic-{n_nodes}x{n_lanes}",
            "description": "generated network for benchmarks and property tests",
            "horizon_days": horizon_days,
            "seed": seed,
            "replications": 100,
        },
        "commodities": {
            "ore_a": {"unit": "t"},
            "ore_b": {"unit": "t"},
            "chips": {"unit": "kwafers"},
            "lng": {"unit": "kt"},
        },
        "countries": {code: {"name": code} for code in _COUNTRIES},
        "chokepoints": {
            name: {
                "name": name.replace("_", " ").title(),
                "detour_days": 10,
                "capacity_factor": 0.8,
            }
            for name in _CHOKEPOINTS
        },
        "nodes": nodes,
        "lanes": lanes,
        "policies": {"switching_delay_days": 14},
    }
    if hazards:
        scenario["hazards"] = {
            "outages": {
                "description": "random plant and port outages on every node",
                "annual_rate": 2.0,
                "duration": {"dist": "uniform", "low": 5, "high": 15},
                "severity": 1.0,
                "recovery_days": 3,
            }
        }
    if chokepoint_closure:
        scenario["disruptions"] = {
            "closure": {
                "kind": "chokepoint",
                "target": _CHOKEPOINTS[0],
                "start": {"dist": "uniform", "low": 30, "high": 90},
                "duration": 60,
                "severity": 1.0,
                "recovery_days": 10,
            }
        }
    return scenario
