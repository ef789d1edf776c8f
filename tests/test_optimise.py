"""`resilience optimise` against a hand answer, as a user runs it, and with bad input.

The hand scenario: one consumer (40 t/day, price 200, capital 5% a year, storage 0.1 per
t-day) fed by one lane that closes from day 50 for 30 days; the closed lane holds its cargo
(docs/model.md 5.2), so the consumer lives on its stock: s days of cover serve s of the 30 days
and the shortfall is 40 x max(0, 30 - s) t in every replication (no randomness). More cover
costs more (capital, storage and the procurement of what it serves), so the cheapest cover with
an expected shortfall of at most 400 t is s* = 30 - 400/40 = 20 days. The search (differential
evolution, then COBYQA from its best point) with a budget of 40 points over 0..60 days ends
within 0.1% of the range above s* (seeded, so the figure is reproducible: the tolerance is the
optimiser's final trust region, not noise).
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from resilience.analysis.design import Range
from resilience.analysis.optimise import OptimiseError, optimise, parse_target
from resilience.runs.optimise import OptimiseSettings, run_optimise

from .test_run_directories import refused, resilience

HAND = """\
[scenario]
name = "hand-optimise"
horizon_days = 200
replications = 8
seed = 5

[costs]
capital_rate_per_year = 0.05

[commodities.gas]
unit = "t"
price_per_unit = 200

[countries.A]
name = "A"

[nodes.main]
country = "A"
kind = "source"
commodity = "gas"
capacity_per_day = 100

[nodes.user]
country = "A"
kind = "consumer"
commodity = "gas"
holding_cost = 0.1
demand = { mean_per_day = 40 }
inventory = { target_days = 5 }

[lanes.main_user]
from = "main"
to = "user"
commodity = "gas"
lead_time_days = 5

[disruptions.closure]
kind = "lane"
target = "main_user"
start = 50
duration = 30
"""

DAYS = "nodes.user.inventory.target_days"


def test_targets_are_parsed() -> None:
    target = parse_target("cvar95(shortfall, jp_lng) <= 1_500")
    assert (target.column, target.consumer, target.bound) == ("cvar95", "jp_lng", 1500.0)
    assert parse_target(" share( shortfall ,tw_lng)<=0.25 ").column == "share_short"
    assert parse_target("p_short(kr_lng) <= 0.1").column == "p_short"
    assert parse_target("mean(shortfall, x) <= 3").column == "expected_shortfall"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cvar95(jp_lng) <= 5", "expected MEASURE(shortfall, CONSUMER) <= NUMBER"),
        ("cvar99(shortfall, jp_lng) <= 5", "expected MEASURE(shortfall, CONSUMER)"),
        ("cvar95(shortfall, jp_lng) >= 5", "expected MEASURE(shortfall, CONSUMER)"),
        ("cvar95(shortfall, jp_lng) <= lots", "the bound 'lots' is not a number"),
        ("cvar95(shortfall, jp_lng) <= inf", "is not a number"),
    ],
)
def test_malformed_targets_are_refused(text: str, message: str) -> None:
    with pytest.raises(OptimiseError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_target(text)


def test_the_cheapest_cover_meeting_the_target_is_the_hand_answer(tmp_path: Path) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    target = parse_target("mean(shortfall, user) <= 400")
    result = run_optimise(
        str(path), [Range(DAYS, 0.0, 60.0)], target, OptimiseSettings(budget=40, threads=1)
    )
    best_days = float(result.best.point[0].partition("=")[2])
    assert 20.0 <= best_days <= 20.0 + 0.001 * 60.0
    assert result.best.risk <= 400.0
    # every evaluation agrees with the hand formula, and the answer is the cheapest feasible one
    for evaluation in result.search.evaluations:
        days = float(evaluation.point[0].partition("=")[2])
        assert evaluation.risk == pytest.approx(40.0 * max(0.0, 30.0 - days), abs=1e-6)
    feasible = [e.cost for e in result.search.evaluations if e.feasible]
    assert result.best.cost == min(feasible)
    assert 5 <= len(result.search.evaluations) <= 40


def test_the_search_alone_on_a_closed_form() -> None:
    """cost = a + 2b, risk = max(0, 40 - a - b) <= 10 over [0, 60]^2: the optimum is a = 30,
    b = 0 (cost 30); 60 evaluations end within 0.1% of that cost (seeded)."""

    def evaluate(points: list[tuple[str, ...]]) -> list[tuple[float, float]]:
        values = [[float(part.partition("=")[2]) for part in point] for point in points]
        return [(a + 2 * b, max(0.0, 40.0 - a - b)) for a, b in values]

    search = optimise([Range("a", 0, 60), Range("b", 0, 60)], evaluate, 10.0, budget=60, seed=2)
    assert search.best is not None
    assert 30.0 <= search.best.cost <= 30.03
    assert len(search.evaluations) <= 60


def test_optimise_from_the_command_line(tmp_path: Path) -> None:
    """A shipped scenario, few replications: the directory holds the history of every point,
    the best point (the cheapest that met the target) and a manifest."""
    out = tmp_path / "opt"
    result = resilience(
        "optimise", "disruptions/taiwan-blockade", "--lever",
        "nodes.tw_lng.inventory.target_days=5:60", "--target",
        "share(shortfall, tw_lng) <= 0.45", "--budget", "10", "-n", "32", "--out", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "The cheapest design found" in result.stdout
    assert "points met the target" in result.stdout
    assert {p.name for p in out.iterdir()} >= {"manifest.json", "history.parquet", "optimise.json"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "optimise"
    assert manifest["replications"] == 32
    # The base scenario's provenance, as every other manifest records it.
    assert manifest["scenario_files"][0].endswith("taiwan-blockade.toml")
    assert manifest["overrides"] == []
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["resolved_scenario"]["scenario"]["name"] == "taiwan-blockade"
    history = pq.read_table(out / "history.parquet").to_pylist()
    assert len(history) == manifest["evaluations"] <= 10
    (best,) = [row for row in history if row["best"]]
    assert best["meets_target"]
    assert best["risk"] <= 0.45
    assert best["annual_cost"] == min(r["annual_cost"] for r in history if r["meets_target"])
    document = json.loads((out / "optimise.json").read_text())
    assert document["best"]["risk"] == best["risk"]


def test_an_unreachable_target_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    out = tmp_path / "opt"
    result = resilience(
        "optimise", str(path), "--lever", f"{DAYS}=0:10", "--target",
        "mean(shortfall, user) <= 400", "--budget", "10", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    refused(result, "evaluated reaches it; the least risk reached was")
    least = float(result.stderr.split("least risk reached was ")[1].split()[0])
    assert least == pytest.approx(800.0)  # 40 x (30 - 10): the local phase finds the top end
    assert not (out / "manifest.json").exists()
    assert not (out / "history.parquet").exists()


@pytest.mark.parametrize(
    ("arguments", "fragments"),
    [
        (("--lever", "nodes.user.inventry.target_days=0:10"), ("inventry",)),
        (("--lever", f"{DAYS}=10:10"), ("--lever", "the range is empty")),
        (("--lever", f"{DAYS}=ten:20"), ("--lever", "expected PATH=LOW:HIGH")),
        (("--lever", f"{DAYS}=0:10", "--target", "mean(shortfall, nobody) <= 1"),
         ("no consumer 'nobody'", "user")),
        (("--lever", f"{DAYS}=0:10", "--target", "mean shortfall <= 1"),
         ("expected MEASURE(shortfall, CONSUMER) <= NUMBER",)),
        (("--target", "mean(shortfall, user) <= 1"), ("give at least one --lever",)),
    ],
)  # fmt: skip
def test_bad_input_is_refused(
    tmp_path: Path, arguments: tuple[str, ...], fragments: tuple[str, ...]
) -> None:
    path = tmp_path / "hand.toml"
    path.write_text(HAND)
    if "--target" not in arguments:
        arguments = (*arguments, "--target", "mean(shortfall, user) <= 400")
    result = resilience("optimise", str(path), *arguments, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert result.stdout == ""


# docs/analysis.md's worked example: the command, and the figures the doc prints.
WORKED_EXAMPLE = (
    "optimise", "disruptions/taiwan-blockade", "--overlay",
    "policies/us-japan-technology-prosperity-deal", "--lever",
    "nodes.jp_adv.inventory.target_days=30:90", "--lever",
    "nodes.us_lead.capacity_per_day=4:17.8", "--target", "cvar95(shortfall, jp_adv) <= 50",
    "-n", "100", "--budget", "40", "--seed", "7",
)  # fmt: skip


def test_the_worked_example_of_docs_analysis(tmp_path: Path) -> None:
    """The figures docs/analysis.md quotes come out of the engine (to the digits printed) and
    stand in the doc as printed."""
    result = resilience(*WORKED_EXAMPLE, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    best = document["best"]
    days = best["levers"]["nodes.jp_adv.inventory.target_days"]
    capacity = best["levers"]["nodes.us_lead.capacity_per_day"]
    levers_cost = sum(best["lever_costs"].values())
    assert (days, capacity) == ("82.7527", "4")
    assert document["evaluations"] == 40
    assert document["met_target"] == 32
    assert f"{best['annual_cost']:.6g}" == "1.33076e+12"
    assert f"{levers_cost / 1e9:.3g} bn" == "18.5 bn"
    assert f"{best['risk']:.6g}" == "49.9997"
    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysis.md").read_text()
    assert f"| `nodes.jp_adv.inventory.target_days` | {days} |" in doc
    assert f"| `nodes.us_lead.capacity_per_day` | {capacity} |" in doc
    assert "| 40 | 32 | 1.33076e+12 | 18.5 bn | 49.9997 |" in doc
    command = " ".join(WORKED_EXAMPLE[1:]).replace("'", "")
    flat = " ".join(doc.split("## Optimise")[1].split("```")[1].replace("\\\n", " ").split())
    assert command.replace("cvar95(shortfall, jp_adv) <= 50", "") in flat.replace(
        "'cvar95(shortfall, jp_adv) <= 50'", ""
    ).replace(" --out runs/tw-opt", "")
