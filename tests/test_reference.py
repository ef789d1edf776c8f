"""The plain-Python reference engine against docs/model.md: the uniform, the timeline, the worked
example of section 9, steady state, conservation, common random numbers and long-run availability.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from resilience.model.outcomes import (
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    NETWORK_METRICS,
    metric_index,
)
from resilience.model.reference import ReferenceRun, simulate_replication
from resilience.model.timeline import mix, round_days, sample_timeline, uniform
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.scenario.checks import check_scenario
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario

DEMO_CONSUMERS = ("jp_lng", "kr_lng", "tw_lng", "us_chips", "jp_chips")


def _compile(raw: dict[str, Any]) -> Network:
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return compile_network(scenario)


def _metric(outcome: Any, name: str, row: int = 0) -> float:
    return float(outcome.consumer[row, metric_index(name)])


def _balance(conservation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) of section 7.3 per commodity."""
    terms = {name: conservation[:, i] for i, name in enumerate(CONSERVATION_TERMS)}
    left = terms["initial_stock"] + terms["initial_transit"] + terms["produced"]
    right = (
        terms["consumed_demand"]
        + terms["consumed_inputs"]
        + terms["final_stock"]
        + terms["final_transit"]
        + terms["lost"]
    )
    return left, right


# -- section 4: the uniform ----------------------------------------------------------------------


def _uniform_numpy(seed: int, replication: int, key: int, k: int) -> float:
    """Section 4.2 again, on numpy uint64 arrays (which wrap modulo 2^64 silently)."""

    def mix64(z: np.ndarray) -> np.ndarray:
        z = z + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))

    def u64(value: int) -> np.ndarray:
        return np.array([value], dtype=np.uint64)

    h = mix64(mix64(mix64(mix64(u64(seed)) ^ u64(replication)) ^ u64(key)) ^ u64(k))
    return float(((h >> np.uint64(11)).astype(np.float64) + 0.5)[0] * 2.0**-53)


def test_mix_is_splitmix64() -> None:
    # The first outputs of SplitMix64 seeded with 0 (Vigna's reference implementation).
    golden = 0x9E3779B97F4A7C15
    assert mix(0) == 0xE220A8397B1DCDAF
    assert mix(golden) == 0x6E789E6AA1B965F4
    assert mix(2 * golden % 2**64) == 0x06C45D188009454F


@pytest.mark.parametrize(
    ("seed", "replication", "key", "k"),
    [(0, 0, 0, 0), (20260302, 7, 2**64 - 1, 3), (2**63 - 1, 123456, 0xDEADBEEF12345678, 729)],
)
def test_uniform_matches_a_uint64_implementation(
    seed: int, replication: int, key: int, k: int
) -> None:
    u = uniform(seed, replication, key, k)
    assert u == _uniform_numpy(seed, replication, key, k)
    assert 0.0 < u < 1.0


def test_round_days_rounds_halves_up_and_never_below_zero() -> None:
    assert [round_days(x) for x in (-3.0, 0.49, 0.5, 1.5, 2.5, 7.2)] == [0, 0, 1, 2, 3, 7]


def test_demo_closure_start_uses_slot_one_and_the_uniform_transform() -> None:
    network = compile_network(load_scenario("demo").scenario)
    key = int(network.dis_stream[0])
    for replication in range(5):
        (occurrence,) = sample_timeline(network, replication)
        u1 = uniform(network.seed, replication, key, 1)
        assert occurrence.a == math.floor(60.0 + 60.0 * u1 + 0.5)
        assert 60 <= occurrence.e - occurrence.a <= 180
        assert (occurrence.s, occurrence.R, occurrence.kind) == (1.0, 28, "chokepoint")


def test_hazard_events_form_an_alternating_renewal_process() -> None:
    network = _compile(synthetic_scenario(40, 90, seed=2, hazards=True))
    timeline = sample_timeline(network, 3)
    by_pair: dict[str, list[Any]] = defaultdict(list)
    for occurrence in timeline:
        by_pair[occurrence.source].append(occurrence)
    assert len(by_pair) > 10
    mean_up = 1.0 / float(network.haz_rate_per_day[0])
    for pair, events in by_pair.items():
        key = int(network.haz_pair_stream[list(network.node_ids).index(pair.split(":")[1])])
        first_up = round_days(-mean_up * math.log(uniform(network.seed, 3, key, 0)))
        assert events[0].a == first_up
        for event in events:
            assert event.a < network.horizon_days
            assert 5 <= event.e - event.a <= 15
        for before, after in itertools.pairwise(events):
            assert after.a >= before.e + before.R


# -- section 9: the worked example -----------------------------------------------------------------


def _worked_example(outage: str, lead: int, cover: int, duration: int) -> Network:
    """Section 9: S0 -> C, demand d = 10, an outage of the lane or of S0 on days 20 .. 20+D-1."""
    return _compile(
        {
            "scenario": {"name": "worked", "horizon_days": 60, "seed": 1, "replications": 1},
            "commodities": {"x": {"unit": "t"}},
            "countries": {"AA": {"name": "A"}},
            "nodes": {
                "S0": {
                    "country": "AA",
                    "kind": "source",
                    "commodity": "x",
                    "capacity_per_day": 10.0,
                    "inventory": {"target_days": 0},
                },
                "C": {
                    "country": "AA",
                    "kind": "consumer",
                    "commodity": "x",
                    "demand": {"mean_per_day": 10.0},
                    "inventory": {"target_days": cover},
                },
            },
            "lanes": {
                "S0_C": {
                    "from": "S0",
                    "to": "C",
                    "commodity": "x",
                    "lead_time_days": lead,
                    "share": 1.0,
                }
            },
            "disruptions": {
                "outage": {
                    "kind": outage,
                    "target": "S0_C" if outage == "lane" else "S0",
                    "start": 20,
                    "duration": duration,
                    "severity": 1.0,
                }
            },
        }
    )


@pytest.mark.parametrize("outage", ["lane", "node"])
@pytest.mark.parametrize(
    ("lead", "cover", "duration"),
    [(1, 5, 8), (3, 5, 8), (1, 5, 5), (3, 5, 2), (3, 0, 2), (4, 2, 9)],
)
def test_worked_example(outage: str, lead: int, cover: int, duration: int) -> None:
    d, a, horizon = 10.0, 20, 60
    network = _worked_example(outage, lead, cover, duration)
    run = ReferenceRun(network, 0)
    for t in range(horizon):
        run.run_day(t)
    outcome = run.outcome()
    consumer = network.node_row["C"]
    short_days = [
        t
        for t, (demand, served) in enumerate(
            zip(run.daily_demand[consumer], run.daily_served[consumer], strict=True)
        )
        if demand - served > 1e-9
    ]
    missing = max(0, duration - cover)
    # 9.1: short on a+S .. a+D-1, TTS = S, TTR = D; 9.2: everything L days later.
    delay = 0 if outage == "lane" else lead
    assert short_days == list(range(a + delay + cover, a + delay + duration))
    assert _metric(outcome, "shortfall") == d * missing
    assert _metric(outcome, "days_short") == missing
    assert _metric(outcome, "loss_area") == missing
    assert _metric(outcome, "peak_shortfall") == (d if missing else 0.0)
    assert _metric(outcome, "fill_rate") == pytest.approx(1.0 - missing / horizon, abs=1e-15)
    if missing:
        assert short_days[0] == a + _metric(outcome, "tts")
        assert _metric(outcome, "tts") == cover + delay
        assert _metric(outcome, "ttr") == duration + delay
    else:
        assert math.isnan(_metric(outcome, "tts"))
        assert math.isnan(_metric(outcome, "ttr"))
    assert _metric(outcome, "censored") == 0.0


def test_worked_example_lane_outage_day_by_day() -> None:
    """The table of section 9.1: d = 10, S = 5, L = 1, a = 20, D = 8."""
    network = _worked_example("lane", lead=1, cover=5, duration=8)
    consumer, source, lane = network.node_row["C"], network.node_row["S0"], 0
    # day: (served, C at end, in transit at end, S0 at end)
    table = {
        19: (10, 50, 10, 0),
        20: (10, 40, 10, 10),
        21: (10, 30, 10, 10),
        22: (10, 20, 10, 10),
        23: (10, 10, 10, 10),
        24: (10, 0, 10, 10),
        25: (0, 0, 10, 10),
        26: (0, 0, 10, 10),
        27: (0, 0, 10, 10),
        28: (10, 0, 10, 0),
        29: (10, 0, 10, 0),
    }
    run = ReferenceRun(network, 0)
    for t in range(30):
        run.run_day(t)
        if t < 19:
            assert run.daily_served[consumer][t] == 10.0
            assert (run.S[consumer], run.in_transit(lane)) == (50.0, 10.0)
        if t in table:
            served = run.daily_served[consumer][t]
            assert (served, run.S[consumer], run.in_transit(lane), run.S[source]) == table[t]
        if t == 20:
            assert run.IP[consumer] == 50.0  # the held cargo counts in the position


# -- section 2.6: steady state ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "network",
    [
        pytest.param(lambda: _compile(synthetic_scenario(30, 60, seed=1)), id="synthetic-30x60"),
        pytest.param(
            lambda: compile_network(
                load_scenario(
                    "demo",
                    [
                        "disruptions.hormuz_closure.probability=0",
                        *(f"nodes.{node}.demand.cv=0" for node in DEMO_CONSUMERS),
                    ],
                ).scenario
            ),
            id="demo-undisrupted-deterministic",
        ),
    ],
)
def test_undisrupted_deterministic_network_serves_all_demand(network: Any) -> None:
    net = network()
    outcome = simulate_replication(net, 0)
    assert outcome.timeline == []
    assert outcome.consumer.shape == (len(net.consumers), len(CONSUMER_METRICS))
    assert outcome.network.shape == (len(NETWORK_METRICS),)
    np.testing.assert_array_equal(outcome.consumer[:, metric_index("shortfall")], 0.0)
    np.testing.assert_array_equal(outcome.consumer[:, metric_index("fill_rate")], 1.0)
    np.testing.assert_array_equal(outcome.consumer[:, metric_index("days_short")], 0.0)
    assert np.isnan(outcome.consumer[:, metric_index("tts")]).all()


def test_constant_demand_draws_no_random_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> float:
        raise AssertionError("cv = 0 demand drew a random number")

    monkeypatch.setattr("resilience.model.rules.uniform", refuse)
    network = _compile(synthetic_scenario(30, 60, seed=1))
    outcome = simulate_replication(network, 0)
    demand = outcome.consumer[:, metric_index("demand")]
    np.testing.assert_array_equal(demand, 10.0 * network.horizon_days)


# -- section 7.3: conservation ---------------------------------------------------------------------


def _kitchen_sink() -> dict[str, Any]:
    """A small scenario that exercises every mechanism of section 5: a processor, storage, a
    strategic stockpile, allied sharing, priority allocation, alternates and switching, lane
    capacities, detours (a chokepoint's and a lane override), a chokepoint without a detour, an
    export restriction with licensing delay, a demand surge, a partial lane disruption (held
    cargo), a node outage, hazards, overflow losses, and every drawn distribution family."""

    def node(country: str, kind: str, commodity: str, **more: Any) -> dict[str, Any]:
        return {"country": country, "kind": kind, "commodity": commodity, **more}

    def lane(origin: str, to: str, commodity: str, lead: int, **more: Any) -> dict[str, Any]:
        return {"from": origin, "to": to, "commodity": commodity, "lead_time_days": lead, **more}

    return {
        "scenario": {"name": "sink", "horizon_days": 365, "seed": 11, "replications": 3},
        "commodities": {
            "ore": {"unit": "t", "price_per_unit": 3.0},
            "chips": {"unit": "kw", "price_per_unit": 50.0},
            "lng": {"unit": "kt", "price_per_unit": 7.0},
        },
        "countries": {c: {"name": c} for c in ("AA", "BB", "CC", "DD")},
        "chokepoints": {
            "strait": {"name": "Strait", "detour_days": 7, "capacity_factor": 0.6},
            "canal": {"name": "Canal"},
        },
        "nodes": {
            "mine": node(
                "AA", "source", "ore", capacity_per_day=3.0, inventory={"target_days": 2},
                holding_cost=0.1, fixed_cost_per_day=2.0,
            ),
            "mine2": node("BB", "source", "ore", capacity_per_day=2.0),
            "fab": node(
                "BB", "processor", "chips", capacity_per_day=100.0,
                inputs=[{"commodity": "ore", "per_unit": 0.02}],
                inventory={"target_days": 5}, holding_cost=0.5,
            ),
            "chip_c1": node(
                "CC", "consumer", "chips", demand={"mean_per_day": 45.0, "cv": 0.2},
                inventory={"target_days": 10}, holding_cost=0.2,
            ),
            "chip_c2": node(
                "DD", "consumer", "chips", demand={"mean_per_day": 40.0, "cv": 0.2},
                inventory={"target_days": 10},
            ),
            "lng_src": node("AA", "source", "lng", capacity_per_day=100.0),
            "lng_src2": node("DD", "source", "lng", capacity_per_day=45.0),
            "terminal": node(
                "BB", "storage", "lng", capacity_per_day=80.0, inventory={"target_days": 3},
                holding_cost=0.05,
            ),
            "stockpile": node("CC", "storage", "lng", strategic=True, inventory={"initial": 500.0}),
            "gas_c1": node(
                "CC", "consumer", "lng", demand={"mean_per_day": 50.0, "cv": 0.3},
                inventory={"target_days": 5, "capacity": 320.0}, holding_cost=0.01,
            ),
            "gas_c2": node(
                "DD", "consumer", "lng", demand={"mean_per_day": 30.0, "cv": 0.1},
                inventory={"target_days": 8},
            ),
        },
        "lanes": {
            "mine_fab": lane(
                "mine", "fab", "ore", 5, share=0.7, capacity_per_day=2.0, cost_per_unit=1.0
            ),
            "mine2_fab": lane("mine2", "fab", "ore", 3, share=0.3),
            "fab_c1": lane("fab", "chip_c1", "chips", 4, chokepoints=["strait"], cost_per_unit=0.3),
            "fab_c2": lane("fab", "chip_c2", "chips", 6),
            "src_term": lane(
                "lng_src", "terminal", "lng", 10, chokepoints=["strait", "canal"],
                cost_per_unit=0.2,
            ),
            "src2_term": lane("lng_src2", "terminal", "lng", 12),
            "term_c1": lane(
                "terminal", "gas_c1", "lng", 3, share=0.6, capacity_per_day=60.0,
                cost_per_unit=0.1,
            ),
            "src2_c1": lane(
                "lng_src2", "gas_c1", "lng", 15, share=0.4, capacity_per_day=30.0,
                chokepoints=["canal"], detour={"extra_days": 4, "capacity_factor": 0.5},
            ),
            "src_c1_alt": lane(
                "lng_src", "gas_c1", "lng", 8, capacity_per_day=40.0, chokepoints=["strait"]
            ),
            "src_c2": lane("lng_src", "gas_c2", "lng", 9),
            "term_c2": lane("terminal", "gas_c2", "lng", 4, cost_per_unit=0.4),
            "release_c1": lane("stockpile", "gas_c1", "lng", 2),
        },
        "disruptions": {
            "strait_closure": {
                "kind": "chokepoint", "target": "strait", "severity": 0.8,
                "start": {"dist": "uniform", "low": 20, "high": 60},
                "duration": {"dist": "triangular", "low": 10, "mode": 30, "high": 60},
                "recovery_days": 10,
            },
            "canal_closure": {
                "kind": "chokepoint", "target": "canal",
                "start": {"dist": "lognormal", "median": 100, "sigma": 0.3},
                "duration": {"dist": "weibull", "shape": 1.5, "scale": 30},
            },
            "export_ban": {
                "kind": "export_restriction", "origin": "AA", "commodity": "lng",
                "destinations": ["BB", "CC"], "severity": 0.7, "licensing_delay_days": 5,
                "start": {"dist": "exponential", "mean": 50},
                "duration": {"dist": "empirical", "values": [20, 40, 80], "weights": [1, 2, 1]},
                "recovery_days": 3,
            },
            "gas_surge": {
                "kind": "demand_surge", "target": "gas_c2", "severity": 0.5, "start": 150,
                "duration": 20, "recovery_days": 5, "probability": 0.7,
            },
            "port_strike": {
                "kind": "lane", "target": "term_c2", "severity": 0.5, "start": 200,
                "duration": 15,
            },
            "fab_fire": {
                "kind": "node", "target": "fab", "start": 250, "duration": 20, "recovery_days": 4,
            },
        },
        "hazards": {
            "breakdowns": {
                "kinds": ["source"], "annual_rate": 3.0,
                "duration": {"dist": "exponential", "mean": 5}, "severity": 0.8,
                "recovery_days": 2,
            }
        },
        "policies": {
            "allocation": "priority",
            "priority_order": ["CC"],
            "switching_delay_days": 5,
            "stockpile_release": {"trigger_cover_days": 4.0, "max_daily_release_fraction": 0.1},
            "allied_sharing": {
                "members": ["CC", "DD"], "trigger_cover_days": 3.0, "donor_floor_days": 6.0,
                "max_share_fraction": 0.3, "lead_time_days": 2,
            },
        },
    }  # fmt: skip


def _synthetic_stressed(seed: int) -> Network:
    return _compile(
        synthetic_scenario(40, 90, seed=seed, hazards=True, chokepoint_closure=True, demand_cv=0.3)
    )


@pytest.mark.parametrize(
    "network",
    [
        pytest.param(lambda: _synthetic_stressed(1), id="synthetic-seed1"),
        pytest.param(lambda: _synthetic_stressed(2), id="synthetic-seed2"),
        pytest.param(lambda: _synthetic_stressed(3), id="synthetic-seed3"),
        pytest.param(lambda: compile_network(load_scenario("demo").scenario), id="demo"),
        pytest.param(lambda: _compile(_kitchen_sink()), id="kitchen-sink"),
    ],
)
def test_material_is_conserved_in_every_replication(network: Any) -> None:
    net = network()
    for replication in range(3):
        outcome = simulate_replication(net, replication)
        assert outcome.conservation.shape == (len(net.commodity_ids), len(CONSERVATION_TERMS))
        left, right = _balance(outcome.conservation)
        tolerance = 1e-9 * np.maximum(1.0, np.abs(left))
        assert (np.abs(left - right) <= tolerance).all(), (replication, left, right)
        assert np.isfinite(outcome.consumer[:, metric_index("shortfall")]).all()


def test_kitchen_sink_exercises_every_mechanism() -> None:
    network = _compile(_kitchen_sink())
    run = ReferenceRun(network, 0)
    licensed = detoured = 0
    for t in range(network.horizon_days):
        run.run_day(t)
        for lane in range(network.n_lanes):
            if run.fill[lane] > 0.0:
                licensed += run.lic[lane] > 0
                detoured += run.x_l[lane] > 0.0 and run.F[lane] > 0.0
    outcome = run.outcome()
    shipped = dict(zip(network.lane_ids, run.shipped, strict=True))
    assert shipped["release_c1"] > 0.0
    assert shipped["sharing:chip_c1->chip_c2"] > 0.0
    assert shipped["src_c1_alt"] > 0.0  # an alternate took orders after the switching delay
    assert licensed > 0
    assert detoured > 0
    assert outcome.conservation[network.commodity_row["lng"], CONSERVATION_TERMS.index("lost")] > 0
    assert (outcome.consumer[:, metric_index("days_short")] > 0).any()
    assert (outcome.network > 0.0).all()


# -- section 4.1: common random numbers ----------------------------------------------------------


def test_adding_a_disruption_leaves_every_other_occurrence_unchanged() -> None:
    raw = synthetic_scenario(40, 90, seed=5, hazards=True, chokepoint_closure=True, demand_cv=0.3)
    extra = {
        "kind": "node",
        "target": "src0",
        "start": {"dist": "uniform", "low": 10, "high": 200},
        "duration": {"dist": "exponential", "mean": 20},
        "probability": 0.6,
    }
    widened = dict(raw, disruptions={"extra": extra, **raw["disruptions"]})  # shifts the rows
    base, more = _compile(raw), _compile(widened)
    seen_extra = 0
    for replication in range(8):
        before = sample_timeline(base, replication)
        after = sample_timeline(more, replication)
        seen_extra += any(occurrence.source == "extra" for occurrence in after)
        assert [o for o in after if o.source != "extra"] == before
    assert 0 < seen_extra < 8
    # Demand streams are unchanged too.
    demand = metric_index("demand")
    np.testing.assert_array_equal(
        simulate_replication(base, 0).consumer[:, demand],
        simulate_replication(more, 0).consumer[:, demand],
    )


# -- section 3.3: long-run availability ----------------------------------------------------------


def test_long_run_fill_rate_is_the_sources_availability() -> None:
    """One source, one consumer, no stock, lead time 1, exponential up and down times.

    Exactly: with severity 1 and no ramp, day t is short iff the source is out on day t-1
    (nothing was shipped then, and nothing is held in stock), and short days lose all demand.
    Statistically: outages start `annual_rate` times a year (model.md 3.3), so a cycle (up time
    plus outage) lasts 365 / rate days and the fraction of days out tends to
    rate * E[D] / 365 (renewal-reward), with E[D] the mean whole-day outage: for D the rounding
    of Exponential(m_d) with a positive draw never below one day,
    E[D] = P(D >= 1) + sum_{k >= 2} P(X >= k - 1/2) = 1 + exp(-1.5 / m_d) / (1 - exp(-1 / m_d)).

    Tolerance. For an alternating renewal process with exponential up (mean m_u) and down
    (mean m_d) times, the fraction of a horizon T spent down has asymptotic variance
    2 m_u^2 m_d^2 / ((m_u + m_d)^3 T). Pooling n replications divides it by n; we allow 4
    standard deviations. On top, the edges of the horizon (the run starts up, the one-day lead
    time shifts every outage by a day) move it by at most about (1 + m_d) / T = 0.0015; we
    allow 0.002.
    """
    rate, m_d, horizon, replications, d = 6.0, 10.0, 20 * 365, 16, 10.0
    mean_outage = 1.0 + math.exp(-1.5 / m_d) / (1.0 - math.exp(-1.0 / m_d))
    m_u = 365.0 / rate - mean_outage
    raw = {
        "scenario": {"name": "availability", "horizon_days": horizon, "seed": 7},
        "commodities": {"x": {"unit": "t"}},
        "countries": {"AA": {"name": "A"}},
        "nodes": {
            "S0": {
                "country": "AA",
                "kind": "source",
                "commodity": "x",
                "capacity_per_day": d,
                "inventory": {"target_days": 0},
            },
            "C": {
                "country": "AA",
                "kind": "consumer",
                "commodity": "x",
                "demand": {"mean_per_day": d},
                "inventory": {"target_days": 0},
            },
        },
        "lanes": {"S0_C": {"from": "S0", "to": "C", "commodity": "x", "lead_time_days": 1}},
        "hazards": {
            "breakdowns": {
                "kinds": ["source"],
                "annual_rate": rate,
                "duration": {"dist": "exponential", "mean": m_d},
                "severity": 1.0,
            }
        },
    }
    network = _compile(raw)
    fill_rates = []
    for replication in range(replications):
        outcome = simulate_replication(network, replication)
        out = set()
        for occurrence in outcome.timeline:
            out.update(range(occurrence.a, min(occurrence.e, horizon)))
        short = sum(1 for t in range(1, horizon) if t - 1 in out)
        assert _metric(outcome, "days_short") == short
        assert _metric(outcome, "shortfall") == pytest.approx(d * short, rel=1e-12)
        fill_rates.append(_metric(outcome, "fill_rate"))
    availability = 1.0 - rate * mean_outage / 365.0
    sd = math.sqrt(2 * m_u**2 * m_d**2 / ((m_u + m_d) ** 3 * horizon) / replications)
    tolerance = 4 * sd + 0.002  # about 0.019
    assert abs(float(np.mean(fill_rates)) - availability) <= tolerance
