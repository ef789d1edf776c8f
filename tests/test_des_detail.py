"""The SimPy engine's detailed mode: whole cargoes, finite fleets, canal slots, berths and
disruptions at any time of day (docs/des.md).

Checked against closed forms (a fleet's throughput, a canal's slot rate), against the fluid model
in the limit where the detail vanishes, for conservation of material, and on the worked Panama
drought comparison whose numbers docs/des.md quotes.
"""

from __future__ import annotations

import copy
import math
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import tomli_w

from resilience.engines.des import FLUID, DesModel, DetailOptions, Layout
from resilience.engines.des.cargo import LOADED_OFFSET, CargoLane
from resilience.engines.des.clock import PRODUCTION
from resilience.engines.des.disruptions import time_of_day_shifts
from resilience.engines.des.metrics import Outcome
from resilience.engines.kernel import run_batch
from resilience.model.outcomes import metric_index
from resilience.network.compiler import compile_network
from resilience.scenario.checks import check_scenario
from resilience.scenario.loader import load_scenario
from resilience.scenario.schema import Scenario

from .conftest import ROOT
from .generated import assert_relatively_close
from .test_des import TOLERANCE, balance
from .test_reference import _kitchen_sink


def _scenario(raw: dict[str, Any]) -> Scenario:
    scenario = Scenario.model_validate(raw)
    assert check_scenario(scenario) == []
    return scenario


def _run(raw: dict[str, Any], *, fluid: bool = False, replication: int = 0) -> DesModel:
    scenario = _scenario(raw)
    network = compile_network(scenario)
    options = FLUID if fluid else DetailOptions.from_scenario(scenario, network)
    model = DesModel(Layout.build(network), replication, options=options)
    model.simulate()
    return model


def _metric(outcome: Outcome, name: str) -> np.ndarray:
    return outcome.consumer[:, metric_index(name)]


def _conserved(outcome: Outcome) -> None:
    left, right = balance(outcome.conservation)
    np.testing.assert_allclose(left, right, rtol=1e-9, atol=1e-9)


# -- the worked comparison of docs/des.md: the shipped Panama drought ----------------------------

DOCS = ROOT / "docs" / "des.md"
PANAMA = "disruptions/panama-drought-2023"
PANAMA_CONSUMERS = ("jp_lng", "kr_lng", "tw_lng")
PANAMA_LANES = ("us_jp_lng", "us_kr_lng", "us_tw_lng")
PANAMA_REPLICATIONS = (0, 1)
PANAMA_VARIANTS = (
    "fluid (= kernel)",
    "detail, no drought",
    "fleet, fluid routing",
    "slots, unlimited fleet",
    "fleet and slots",
)


def panama_overlay() -> dict[str, Any]:
    """The overlay that docs/des.md shows (the TOML block after its panama-overlay marker)."""
    text = DOCS.read_text(encoding="utf-8")
    block = text.split("<!-- panama-overlay -->", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    return tomllib.loads(block)


def _panama_variant(variant: str, folder: Path) -> tuple[Scenario, bool]:
    """The scenario of one row of the comparison, and whether it runs in fluid mode."""
    if variant.startswith("fluid"):
        return load_scenario(PANAMA).scenario, True
    overlay = panama_overlay()
    overrides = []
    if variant == "detail, no drought":
        overrides.append("disruptions.drought.severity=0")
    elif variant == "fleet, fluid routing":
        del overlay["chokepoints"]
    elif variant == "slots, unlimited fleet":
        for lane in overlay["lanes"].values():
            lane["vessels"]["fleet"] = 100_000
    path = folder / f"{variant.replace(' ', '-').replace(',', '')}.toml"
    path.write_text(tomli_w.dumps(overlay), encoding="utf-8")
    return load_scenario(PANAMA, overrides, [path]).scenario, False


def panama_rows(folder: Path) -> list[str]:
    """The rows of the comparison table in docs/des.md, computed now (means over replications)."""
    rows = []
    for variant in PANAMA_VARIANTS:
        scenario, fluid = _panama_variant(variant, folder)
        network = compile_network(scenario)
        layout = Layout.build(network)
        options = FLUID if fluid else DetailOptions.from_scenario(scenario, network)
        nodes = [network.node_row[name] for name in PANAMA_CONSUMERS]
        lanes = [network.lane_row[name] for name in PANAMA_LANES]
        consumers = [network.consumers.tolist().index(node) for node in nodes]
        cover, landed, short, waits, diverted = [], [], [], [], 0
        for replication in PANAMA_REPLICATIONS:
            model = DesModel(layout, replication, options=options)
            model.start()
            lowest = np.full(len(nodes), np.inf)
            for day in range(network.horizon_days):
                model.env.run(until=day + 1)
                lowest = np.minimum(lowest, [model.S[n] / layout.mu[n] for n in nodes])
            outcome = model.outcome()
            _conserved(outcome)
            cover.append(lowest)
            landed.append(
                sum(
                    layout.lead[lane] * layout.initial_flow[lane]
                    + model.lanes[lane].shipped
                    - model.lanes[lane].in_transit()
                    for lane in lanes
                )
            )
            short.append(_metric(outcome, "shortfall")[consumers])
            for canal in model.canals.values():
                waits += [wait for _, wait in canal.waits]
                diverted += canal.diverted
        low = " / ".join(f"{value:.1f}" for value in np.mean(cover, axis=0))
        lost = " / ".join(f"{value:.0f}" for value in np.mean(short, axis=0))
        wait = f"{np.mean(waits):.1f} / {max(waits):.1f}" if waits else "-"
        count = str(diverted / len(PANAMA_REPLICATIONS)) if waits else "-"
        rows.append(f"| {variant} | {low} | {np.mean(landed):,.0f} | {wait} | {count} | {lost} |")
    return rows


@pytest.fixture(scope="module")
def panama(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    return panama_rows(tmp_path_factory.mktemp("panama"))


def test_panama_comparison_is_the_one_documented(panama: list[str]) -> None:
    text = DOCS.read_text(encoding="utf-8")
    for row in panama:
        assert row in text, (
            f"docs/des.md is out of date; expected the row\n{row}\n"
            "(print every row with: .venv/bin/python -m tests.test_des_detail)"
        )


def test_fleet_and_slot_limits_bring_korea_close_to_running_dry(panama: list[str]) -> None:
    def lowest_cover(row: str) -> list[float]:
        return [float(x) for x in row.split("|")[2].split("/")]

    fluid, calm, _, slots, both = (lowest_cover(row) for row in panama)
    assert min(calm) > 5.0  # whole cargoes alone cost some cover, no more
    assert lowest_cover(panama[2])[1] > 5.0  # the fleet with fluid routing copes
    assert both[1] < 2.0 < slots[1] < fluid[1]  # Korea: queues, then queues and a short fleet


# -- closed forms ---------------------------------------------------------------------------------


def _one_lane(
    *,
    lead: int = 10,
    demand: float = 50.0,
    vessels: dict[str, Any] | None = None,
    slots: dict[str, Any] | None = None,
    berths: dict[str, Any] | None = None,
    horizon: int = 200,
) -> dict[str, Any]:
    """A source with room to spare, one lane, one consumer with two days of cover."""
    raw: dict[str, Any] = {
        "scenario": {"name": "one-lane", "horizon_days": horizon, "seed": 5, "replications": 1},
        "commodities": {"x": {"unit": "t"}},
        "countries": {"AA": {"name": "A"}, "BB": {"name": "B"}},
        "chokepoints": {"canal": {"name": "Canal"}},
        "nodes": {
            "src": {"country": "AA", "kind": "source", "commodity": "x",
                    "capacity_per_day": 4 * demand, "inventory": {"target_days": 5}},
            "dst": {"country": "BB", "kind": "consumer", "commodity": "x",
                    "demand": {"mean_per_day": demand}, "inventory": {"target_days": 2}},
        },
        "lanes": {"ab": {"from": "src", "to": "dst", "commodity": "x", "lead_time_days": lead,
                         "chokepoints": ["canal"]}},
    }  # fmt: skip
    if vessels is not None:
        raw["lanes"]["ab"]["vessels"] = vessels
    if slots is not None:
        raw["chokepoints"]["canal"]["slots"] = slots
    if berths is not None:
        raw["nodes"]["dst"]["berths"] = berths
    return raw


def _served(model: DesModel, first: int, last: int) -> float:
    """Units served to the one consumer on days first .. last - 1."""
    return float(sum(model.records.served[0][first:last]))


def test_a_fleet_delivers_at_most_fleet_times_size_per_cycle() -> None:
    """n vessels of size Q on a cycle of (L - 1/2) + ballast days carry n Q / cycle a day."""
    lead, ballast, fleet, size = 10, 10.0, 2, 100.0
    model = _run(
        _one_lane(lead=lead, vessels={"cargo_size": size, "fleet": fleet, "ballast_days": ballast})
    )
    rate = fleet * size / (lead - LOADED_OFFSET + ballast)  # 10.26 units/day << demand 50
    window = 39 * 4  # four cycles of 19.5 days, after the warm start has landed
    served = _served(model, 40, 40 + window)
    assert served == pytest.approx(rate * window, rel=0.02)
    lane = model.lanes[0]
    assert isinstance(lane, CargoLane)
    assert lane.vessel_wait > 0.0  # cargoes queue for the two vessels
    _conserved(model.outcome())


def test_canal_slots_pass_at_most_their_rate() -> None:
    """Vessels arrive faster than one slot a day; transits come exactly a day apart."""
    model = _run(
        _one_lane(
            vessels={"cargo_size": 10.0, "fleet": 1000},
            slots={"per_day": 3.0, "other_traffic_per_day": 2.0},  # one slot a day left
        )
    )
    canal = model.canals[0]
    times = np.array([time for time, _ in canal.waits])
    assert np.diff(times).min() == pytest.approx(1.0)
    waits = [wait for _, wait in canal.waits]
    assert waits[-1] > waits[len(waits) // 2] > 10.0  # the queue only grows: no detour here
    assert canal.diverted == 0
    assert _metric(model.outcome(), "fill_rate")[0] < 0.5


def test_berths_limit_unloading() -> None:
    """One berth, 48 hours a cargo: at most half a cargo a day lands."""
    model = _run(
        _one_lane(
            vessels={"cargo_size": 20.0, "fleet": 1000},
            berths={"count": 1, "hours_per_cargo": 48.0},
        )
    )
    assert _served(model, 60, 180) == pytest.approx(20.0 / 2.0 * 120, rel=0.02)
    _conserved(model.outcome())


def test_small_cargoes_on_a_large_fleet_approach_the_fluid_model() -> None:
    """With tiny cargoes and no limits, detail only rounds the timing of deliveries."""
    raw = _one_lane(vessels={"cargo_size": 1.0, "fleet": 100_000}, horizon=120)
    raw["disruptions"] = {
        "outage": {"kind": "node", "target": "src", "start": 30, "duration": 8},
        "closure": {"kind": "lane", "target": "ab", "start": 70, "duration": 6},
    }
    raw["nodes"]["src"]["capacity_per_day"] = 50.0
    fluid = _run(raw, fluid=True).outcome()
    detail = _run(raw).outcome()
    np.testing.assert_allclose(_metric(detail, "shortfall"), _metric(fluid, "shortfall"), rtol=0.02)
    assert _metric(fluid, "shortfall")[0] > 0.0
    _conserved(detail)


# -- disruptions at any time of day ----------------------------------------------------------------


def test_a_supplier_outage_at_a_time_of_day_moves_its_effect_by_at_most_a_day() -> None:
    """model.md 9.2 (L = 3, S = 5, a = 20, D = 8) with the outage shifted by a drawn fraction:
    production at its phase sees the outage one day later when the shift passes that phase."""
    raw = _one_lane(lead=3, demand=10.0, horizon=60)
    raw["nodes"]["src"].update(capacity_per_day=10.0, inventory={"target_days": 0})
    raw["nodes"]["dst"]["inventory"] = {"target_days": 5}
    raw["disruptions"] = {"outage": {"kind": "node", "target": "src", "start": 20, "duration": 8}}
    raw["des"] = {"time_of_day": True}
    seen = set()
    for replication in range(8):
        model = _run(raw, replication=replication)
        shift = time_of_day_shifts(model.seed, replication, model.timeline)[0]
        late = int(shift > PRODUCTION)
        seen.add(late)
        served = model.records.served[0]
        short = [t for t, s in enumerate(served) if s < 10.0 - 1e-9]
        assert short == [28 + late, 29 + late, 30 + late]
        assert _metric(model.outcome(), "shortfall")[0] == pytest.approx(30.0)
    assert seen == {0, 1}


# -- switching detail off, and conservation with everything on ----------------------------------


def test_detail_false_runs_the_fluid_model() -> None:
    raw = _one_lane(
        vessels={"cargo_size": 70.0, "fleet": 2}, slots={"per_day": 1.0}, berths={"count": 1}
    )
    raw["des"] = {"detail": False, "time_of_day": True}
    scenario = _scenario(raw)
    network = compile_network(scenario)
    options = DetailOptions.from_scenario(scenario, network)
    assert options == FLUID
    assert options.mode == "fluid"
    layout = Layout.build(network)
    outcome = DesModel(layout, 0, options=options).run()
    kernel = run_batch(network, layout.tables, 0, 1)
    assert_relatively_close(outcome.consumer, kernel.consumer[0], TOLERANCE, "consumer")


@pytest.mark.parametrize("replication", [0, 1])
def test_every_detail_at_once_conserves_material(replication: int) -> None:
    raw = copy.deepcopy(_kitchen_sink())
    raw["lanes"]["src_term"]["vessels"] = {"cargo_size": 150.0, "fleet": 4}
    raw["lanes"]["src2_c1"]["vessels"] = {"cargo_size": 60.0, "fleet": 6, "ballast_days": 12}
    raw["lanes"]["fab_c1"]["vessels"] = {"cargo_size": 80.0, "fleet": 3}
    raw["chokepoints"]["strait"]["slots"] = {"per_day": 2.0}
    raw["nodes"]["gas_c1"]["berths"] = {"count": 1, "hours_per_cargo": 30.0}
    raw["des"] = {"time_of_day": True}
    model = _run(raw, replication=replication)
    outcome = model.outcome()
    _conserved(outcome)
    assert not math.isnan(float(_metric(outcome, "fill_rate").sum()))
    assert sum(lane.cargoes for lane in model.lanes if isinstance(lane, CargoLane)) > 0


if __name__ == "__main__":  # print the comparison's rows for docs/des.md
    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(panama_rows(Path(folder))))
