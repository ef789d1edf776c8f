"""The annual cost of every lever, against values derived by hand (docs/analysis.md, Costs).

The hand network: one consumer (40 units/day, 10 days of cover, holding 0.1 per unit-day) fed
by a main source (share 0.75, shipping 1 per unit, fixed cost 10 a day, 2 days of stock) and a
friend-shored source (share 0.25, premium 4 per unit, a purchase guarantee of 20 units/day,
capacity 50/day costing 30 per unit/day a year), an alternate lane with a premium of 9 and no
share, and a strategic stockpile of 500 units (storage 0.5 per unit-day) that never releases
in an undisrupted year (cover stays at 10 days > the 7-day trigger). Price 200 per unit,
capital 5% a year, horizon 365 days, no randomness (cv 0):

- capital = 0.05 x 200 x (200 main-source stock + 0 + 400 cover + 500 stockpile) = 11,000
- capacity = 30 x 50 = 1,500
- premium = 365 x 4 x (0.25 x 40) = 14,600 (the alternate's contracted flow is 0)
- guarantee = 365 x 20 x (200 + 4) = 1,489,200
- sharing = 0 (no pact)
- procurement = 365 x 40 x 200 = 2,920,000; shipping = 365 x 30 x 1 = 10,950;
  holding = 365 x (0.1 x 400 + 0.5 x 500) = 105,850; fixed = 365 x 10 = 3,650.

Tolerance: 1e-9 relative (sums of a few hundred float64 terms).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from resilience.analysis.costs import COST_COMPONENTS, LEVER_COSTS, lever_costs
from resilience.network.compiler import compile_network
from resilience.scenario.loader import load_scenario

from .conftest import SCENARIOS
from .test_run_directories import refused, resilience

HAND = """\
[scenario]
name = "hand-costs"
horizon_days = 365
replications = 4
seed = 3

[costs]
capital_rate_per_year = 0.05

[commodities.gas]
unit = "t"
price_per_unit = 200

[countries.A]
name = "A"
[countries.B]
name = "B"

[nodes.main]
country = "A"
kind = "source"
commodity = "gas"
capacity_per_day = 100
fixed_cost_per_day = 10
inventory = { target_days = 2 }

[nodes.friend]
country = "B"
kind = "source"
commodity = "gas"
capacity_per_day = 50
capacity_cost_per_year = 30

[nodes.reserve]
country = "A"
kind = "storage"
commodity = "gas"
strategic = true
holding_cost = 0.5
inventory = { initial = 500 }

[nodes.user]
country = "A"
kind = "consumer"
commodity = "gas"
holding_cost = 0.1
demand = { mean_per_day = 40 }
inventory = { target_days = 10 }

[lanes.main_user]
from = "main"
to = "user"
commodity = "gas"
lead_time_days = 5
cost_per_unit = 1
share = 0.75

[lanes.friend_user]
from = "friend"
to = "user"
commodity = "gas"
lead_time_days = 10
share = 0.25
premium_per_unit = 4
guaranteed_per_day = 20

[lanes.friend_user_spot]
from = "friend"
to = "user"
commodity = "gas"
lead_time_days = 12
premium_per_unit = 9

[lanes.reserve_user]
from = "reserve"
to = "user"
commodity = "gas"
lead_time_days = 3
"""

EXPECTED = {
    "procurement": 2_920_000.0,
    "shipping": 10_950.0,
    "holding": 105_850.0,
    "fixed": 3_650.0,
    "capital": 11_000.0,
    "capacity": 1_500.0,
    "premium": 14_600.0,
    "guarantee": 1_489_200.0,
    "sharing": 0.0,
}

CUT = """
[disruptions.friend_closed]
kind = "lane"
target = "friend_user"
duration = 365
"""


def _run(path: Path, cwd: Path) -> dict[str, Any]:
    result = resilience("run", str(path), "--json", cwd=cwd)
    assert result.returncode == 0, result.stderr
    summary: dict[str, Any] = json.loads(result.stdout)
    return summary


def test_every_lever_costs_what_the_hand_says(tmp_path: Path) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    costs = _run(path, tmp_path)["annual_cost"]
    assert list(costs) == list(COST_COMPONENTS)
    for name, value in EXPECTED.items():
        assert costs[name]["mean"] == pytest.approx(value, rel=1e-9, abs=1e-9), name
    assert costs["total"]["mean"] == pytest.approx(sum(EXPECTED.values()), rel=1e-9)


def test_a_guarantee_and_a_premium_are_paid_when_nothing_is_taken(tmp_path: Path) -> None:
    """The friend-shored lane closed all year: it ships nothing, yet its guarantee and premium
    cost the same; the main lane carries more (switching after 30 days), so shipping rises."""
    path = tmp_path / "cut.toml"
    path.write_text(HAND + CUT)
    costs = _run(path, tmp_path)["annual_cost"]
    for name in LEVER_COSTS:
        assert costs[name]["mean"] == pytest.approx(EXPECTED[name], rel=1e-9, abs=1e-9), name
    assert costs["shipping"]["mean"] > EXPECTED["shipping"]


def test_the_header_shows_the_annual_cost(tmp_path: Path) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    result = resilience("run", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "annual cost 4.56 M a year: procurement 2.92 M, shipping 10.9 k" in result.stdout
    assert "guarantee 1.49 M" in result.stdout


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("nodes.user.capacity_cost_per_year", "5", "capacity_cost_per_year needs capacity_per_day"),
        ("lanes.friend_user.premium_per_unit", "-1", "expected a number >= 0"),
        ("costs.capital_rate_per_year", "1.5", "expected a number <= 1"),
    ],
)
def test_bad_cost_figures_are_refused(tmp_path: Path, key: str, value: str, message: str) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    refused(
        resilience("run", str(path), "--set", f"{key}={value}", cwd=tmp_path),
        key.split(".")[-1],
        message,
    )


POLICIES = sorted(path.stem for path in (SCENARIOS / "policies").glob("*.toml"))


@pytest.mark.parametrize("policy", POLICIES)
def test_every_shipped_policy_costs_more_than_the_baseline(policy: str) -> None:
    """Each overlay's levers cost more a year than the baseline's (compiled, not simulated:
    the lever components do not depend on the random draws)."""
    base = compile_network(load_scenario("baseline").scenario)
    with_policy = compile_network(load_scenario("baseline", (), (f"policies/{policy}",)).scenario)
    extra = sum(lever_costs(with_policy).values()) - sum(lever_costs(base).values())
    assert extra > 0, policy


def test_the_policy_cost_table_of_docs_scenarios_is_what_the_files_give() -> None:
    """docs/scenarios.md, "Costs": each overlay's lever costs above the baseline's, as printed
    (three significant digits, `resilience.cli.summary_table.amount`)."""
    from resilience.cli.summary_table import amount

    doc = (SCENARIOS.parent / "docs" / "scenarios.md").read_text()
    base = lever_costs(compile_network(load_scenario("baseline").scenario))
    for policy in POLICIES:
        overlay = (f"policies/{policy}",)
        costs = lever_costs(compile_network(load_scenario("baseline", (), overlay).scenario))
        cells = [
            f"+{amount(costs[name] - base[name])}" if costs[name] != base[name] else "0"
            for name in LEVER_COSTS
        ]
        total = f"+{amount(sum(costs.values()) - sum(base.values()))}"
        row = f"| `{policy}` | {' | '.join(cells)} | {total} |"
        assert row in doc, row
