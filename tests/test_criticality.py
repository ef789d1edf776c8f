"""`resilience criticality` against the worked example of docs/model.md section 9.

One source S0 (capacity d), one lane of lead time L, one consumer with S days of stock and
constant demand d. Knocking out the lane or the source for D days from day a costs exactly
d * max(0, D - S) (section 9.1 and 9.2); the consumer survives S days after a lane outage and
S + L days after a source outage (TTS), against the element's recovery time TTR = D.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_run_directories import refused, resilience

D_PER_DAY, STOCK, LEAD, OUT_FOR = 10.0, 5, 3, 8

ONE_LANE = f"""\
[scenario]
name = "one-lane"
horizon_days = 80
replications = 8
seed = 1

[commodities.x]
unit = "t"

[countries.AA]
name = "A"

[nodes.S0]
country = "AA"
kind = "source"
commodity = "x"
capacity_per_day = {D_PER_DAY}

[nodes.C]
country = "AA"
kind = "consumer"
commodity = "x"
inventory = {{ target_days = {STOCK} }}
demand = {{ mean_per_day = {D_PER_DAY} }}

[lanes.l]
from = "S0"
to = "C"
commodity = "x"
lead_time_days = {LEAD}
"""


@pytest.fixture
def one_lane(tmp_path: Path) -> Path:
    path = tmp_path / "one-lane.toml"
    path.write_text(ONE_LANE)
    return path


def test_knockouts_cost_what_section_9_says(one_lane: Path, tmp_path: Path) -> None:
    """Exact (deterministic network): shortfall 10 * (8 - 5) = 30 for the lane, the source and
    the source's country; TTS 5 for the lane, 5 + 3 = 8 for the source; TTR 8."""
    result = resilience("criticality", str(one_lane), "--start", "20", "--duration",
                        str(OUT_FOR), "-n", "8", "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    ranked = {(row["kind"], row["element"]): row for row in json.loads(result.stdout)}
    assert set(ranked) == {("lane", "l"), ("node", "S0"), ("country", "AA")}
    expected = D_PER_DAY * max(0, OUT_FOR - STOCK)
    for row in ranked.values():
        assert row["delta_shortfall"] == pytest.approx(expected, abs=1e-9)
        assert row["p_short"] == 1.0
        assert row["ttr"] == OUT_FOR
    assert ranked[("lane", "l")]["tts"] == STOCK
    assert ranked[("node", "S0")]["tts"] == STOCK + LEAD
    assert ranked[("country", "AA")]["tts"] == STOCK + LEAD


def test_a_short_knockout_costs_nothing(one_lane: Path, tmp_path: Path) -> None:
    """D = 4 <= S = 5: stock covers the outage; no element causes a shortfall."""
    result = resilience("criticality", str(one_lane), "--duration", "4", "-n", "8", "--json",
                        cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert rows
    assert all(row["delta_shortfall"] == 0.0 for row in rows)
    assert all(row["p_short"] == 0.0 for row in rows)


def test_criticality_on_a_shipped_scenario(tmp_path: Path) -> None:
    """Which chokepoint matters most for Japan's LNG, in the demo: the table, the directory."""
    out = tmp_path / "crit"
    result = resilience("criticality", "demo", "--consumer", "jp_lng",
                        "--kinds", "chokepoint,lane", "--duration", "60", "-n", "64",
                        "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Most critical first" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        ".resilience", "manifest.json", "criticality.json", "criticality.parquet",
    }  # fmt: skip
    ranking = json.loads((out / "criticality.json").read_text())["ranking"]
    assert {row["kind"] for row in ranking} <= {"chokepoint", "lane"}
    assert [row["rank"] for row in ranking] == list(range(1, len(ranking) + 1))
    shares = [row["delta_share_short"] for row in ranking]
    assert shares == sorted(shares, reverse=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--consumer", "jp_lgn"), "--consumer jp_lgn: no such consumer"),
        (("--country", "XX"), "--country XX: no such country"),
    ],
)
def test_criticality_refuses_unknown_targets(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    refused(resilience("criticality", "demo", *args, "-n", "8", cwd=tmp_path), message)


def test_criticality_refuses_unknown_kinds(tmp_path: Path) -> None:
    result = resilience("criticality", "demo", "--kinds", "node,port", cwd=tmp_path)
    assert result.returncode == 2
    assert "--kinds node,port: expected some of node, lane, chokepoint, country" in result.stderr
    assert "Traceback" not in result.stderr
