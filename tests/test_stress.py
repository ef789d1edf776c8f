"""`resilience stress`: Simchi-Levi's time-to-survive LP against hand-derived values and the
simulation.

Two hand-built networks, each with constant demand (cv = 0), so every replication is the same
and the simulated TTS is exact:

- **Two suppliers.** Consumer C with demand D = 10/day and S = 5 days of stock (50 units);
  sources A and B, each of capacity c = 6/day and no stock of their own, each sending half of
  C's orders over an unbounded lane of lead time L = 2; no switching delay. Knocking out A (or
  its country): the goods at sea (L x D = 20) still land, B ships c from the first day and
  they arrive L days later, so supply over t days is 50 + 20 + c (t - L) >= D t, i.e.
  TTS = L + S D / (D - c) = 2 + 50 / 4 = 14.5. Knocking out lane a: its 10 units at sea are
  held (docs/model.md 5.2), so 50 + 10 + c (t - L) >= D t gives TTS = (60 - 12) / 4 = 12.
  With c >= D the consumer survives indefinitely (TTS = inf).
- **Detour.** Source A (capacity 10) -> C over a lane of capacity 10 and lead time 2 through a
  strait whose detour adds 3 days at 40% of the capacity. Closing the strait: 50 + 20 +
  4 (t - 5) >= 10 t gives TTS = 50 / 6 = 8.33; losing the lane: S = 5; losing A: S + L = 7.

In the simulation the first short day comes floor(TTS) days after the knockout (service is
full on each day whose stock covers it; the LP's t is continuous): the test asserts exact
agreement (to 1e-9) with floor(LP TTS), and NaN (never short) where the LP says inf.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from resilience.analysis.criticality import elements
from resilience.analysis.stress import NO_KNOCKOUT, knockout_of, survival_time
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.runs.stress import StressSettings, run_stress
from resilience.scenario.loader import LoadedScenario, load_scenario
from resilience.scenario.schema import Scenario
from resilience.scenario.synthetic import synthetic_scenario

from .test_run_directories import refused, resilience

TWO_SUPPLIERS = """\
[scenario]
name = "two-suppliers"
horizon_days = 80
replications = 2
seed = 1

[commodities.x]
unit = "t"

[countries.AA]
name = "A"

[countries.BB]
name = "B"

[nodes.A]
country = "AA"
kind = "source"
commodity = "x"
capacity_per_day = {capacity}
inventory = {{ target_days = 0 }}

[nodes.B]
country = "BB"
kind = "source"
commodity = "x"
capacity_per_day = {capacity}
inventory = {{ target_days = 0 }}

[nodes.C]
country = "AA"
kind = "consumer"
commodity = "x"
inventory = {{ target_days = 5 }}
demand = {{ mean_per_day = 10 }}

[lanes.a]
from = "A"
to = "C"
commodity = "x"
lead_time_days = 2

[lanes.b]
from = "B"
to = "C"
commodity = "x"
lead_time_days = 2

[policies]
switching_delay_days = 0
"""

DETOUR = """\
[scenario]
name = "detour"
horizon_days = 60
replications = 2
seed = 1

[commodities.x]
unit = "t"

[countries.AA]
name = "A"

[chokepoints.k]
name = "strait"
detour_days = 3
capacity_factor = 0.4

[nodes.A]
country = "AA"
kind = "source"
commodity = "x"
capacity_per_day = 10
inventory = { target_days = 0 }

[nodes.C]
country = "AA"
kind = "consumer"
commodity = "x"
inventory = { target_days = 5 }
demand = { mean_per_day = 10 }

[lanes.l]
from = "A"
to = "C"
commodity = "x"
lead_time_days = 2
capacity_per_day = 10
chokepoints = ["k"]
"""

D, S, L, C = 10.0, 5.0, 2.0, 6.0
TWO_SUPPLIER_TTS = {
    ("node", "A"): L + S * D / (D - C),
    ("node", "B"): L + S * D / (D - C),
    ("country", "AA"): L + S * D / (D - C),
    ("country", "BB"): L + S * D / (D - C),
    ("lane", "a"): (S * D + L * D / 2 - C * L) / (D - C),
    ("lane", "b"): (S * D + L * D / 2 - C * L) / (D - C),
}
DETOUR_TTS = {
    ("node", "A"): S + L,
    ("lane", "l"): S,
    ("chokepoint", "k"): (S * D + L * D - 0.4 * 10 * (L + 3)) / (D - 0.4 * 10),
    ("country", "AA"): S + L,
}


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _lp(path: Path) -> dict[tuple[str, str], float]:
    """LP TTS of consumer C for every element, through the pure API."""
    network = compile_network(load_scenario(str(path)).scenario)
    tables = build_tables(network)
    found = elements(network, tables, [0], ("node", "lane", "chokepoint", "country"),
                     start=10, duration=30)  # fmt: skip
    consumer = [int(network.consumers[0])]
    assert survival_time(network, tables, NO_KNOCKOUT, consumer) == math.inf
    return {
        (e.kind, e.id): survival_time(network, tables, knockout_of(network, e), consumer)
        for e in found
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [(TWO_SUPPLIERS.format(capacity=C), TWO_SUPPLIER_TTS), (DETOUR, DETOUR_TTS)],
    ids=["two-suppliers", "detour"],
)
def test_lp_gives_the_hand_derived_tts(
    tmp_path: Path, text: str, expected: dict[tuple[str, str], float]
) -> None:
    """LP optimum = hand value (module docstring) to 1e-9; the intact network lasts forever."""
    got = _lp(_write(tmp_path, "net.toml", text))
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert got[key] == pytest.approx(value, abs=1e-9), key


def test_enough_capacity_left_survives_forever(tmp_path: Path) -> None:
    """c = D = 10: the surviving supplier covers the demand alone, so TTS = inf."""
    got = _lp(_write(tmp_path, "net.toml", TWO_SUPPLIERS.format(capacity=10)))
    assert all(value == math.inf for value in got.values()), got


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (TWO_SUPPLIERS.format(capacity=C), TWO_SUPPLIER_TTS),
        (DETOUR, DETOUR_TTS),
        (TWO_SUPPLIERS.format(capacity=10), dict.fromkeys(TWO_SUPPLIER_TTS, math.inf)),
    ],
    ids=["two-suppliers", "detour", "enough-capacity"],
)
def test_simulated_tts_agrees_with_the_lp(
    tmp_path: Path, text: str, expected: dict[tuple[str, str], float]
) -> None:
    """The CLI's table: LP TTS as derived by hand, simulated TTS = floor(LP TTS) exactly
    (constant demand), never short where the LP says inf; TTS < TTR = 30 flags every finite
    one."""
    path = _write(tmp_path, "net.toml", text)
    result = resilience("stress", str(path), "--start", "10", "--duration", "30", "-n", "2",
                        "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {(row["kind"], row["element"]): row for row in json.loads(result.stdout)}
    assert set(rows) == set(expected)
    for key, tts in expected.items():
        row = rows[key]
        assert row["ttr"] == 30.0
        if math.isinf(tts):
            assert row["tts_lp"] is None  # JSON null: inf
            assert row["tts_sim"] is None
            assert row["p_short"] == 0.0
            assert row["exposed"] is False
        else:
            assert row["tts_lp"] == pytest.approx(tts, abs=1e-9), key
            assert row["tts_sim"] == pytest.approx(math.floor(tts + 1e-9), abs=1e-9), key
            assert row["p_short"] == 1.0
            assert row["exposed"] is True
            assert row["tts_lp_network"] == pytest.approx(tts, abs=1e-9)  # one consumer


def test_ramp_adds_to_ttr(tmp_path: Path) -> None:
    """TTR = duration + ramp = 10 + 3 = 13: below A's TTS of 14.5 (no exposure), above lane
    a's 12 (an exposure)."""
    path = _write(tmp_path, "net.toml", TWO_SUPPLIERS.format(capacity=C))
    result = resilience("stress", str(path), "--duration", "10", "--ramp", "3", "--lp-only",
                        "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = {(row["kind"], row["element"]): row for row in json.loads(result.stdout)}
    assert rows[("node", "A")]["ttr"] == 13.0
    assert rows[("node", "A")]["exposed"] is False
    assert rows[("lane", "a")]["exposed"] is True
    assert rows[("node", "A")]["tts_sim"] is None  # --lp-only: not simulated


def test_stress_on_a_shipped_scenario_writes_a_directory(tmp_path: Path) -> None:
    """demo, Japan's LNG: the terminal table, then the run directory with its manifest and a
    table of one row per element and consumer, in Parquet and CSV alike."""
    out = tmp_path / "stress"
    result = resilience("stress", "demo", "--consumer", "jp_lng", "--kinds", "node,chokepoint",
                        "-n", "8", "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "Least time to survive first" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        ".resilience", "manifest.json", "stress.parquet", "stress.csv", "stress.json",
    }  # fmt: skip
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "stress"
    assert manifest["consumers"] == ["jp_lng"]
    assert manifest["lp"] == {"solver": "scipy.optimize.linprog", "method": "highs"}
    assert manifest["replications"] == 8
    table = pq.read_table(out / "stress.parquet").to_pylist()
    with (out / "stress.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(table) > 0
    assert {row["kind"] for row in table} == {"node", "chokepoint"}
    assert {row["consumer"] for row in table} == {"jp_lng"}
    assert [row["element"] for row in rows] == [row["element"] for row in table]
    for row in table:
        assert row["exposed"] == (row["tts_lp"] < row["ttr"])
        assert row["network_exposed"] == (row["tts_lp_network"] < row["ttr"])
        # The network TTS serves everyone, so it never exceeds one consumer's own.
        assert row["tts_lp_network"] <= row["tts_lp"] + 1e-9


def test_stress_refuses_an_unknown_scenario(tmp_path: Path) -> None:
    refused(resilience("stress", "demo-nope", cwd=tmp_path), "demo-nope")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--kinds", "node,port"), "--kinds node,port: expected some of node, lane"),
        (("--duration", "0"), "--duration"),
        (("--ramp", "-1"), "--ramp"),
        (("--bogus",), "--bogus"),
    ],
)
def test_stress_refuses_bad_options(tmp_path: Path, args: tuple[str, ...], message: str) -> None:
    result = resilience("stress", "demo", *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.iterdir())  # nothing written


def test_stress_refuses_an_unknown_consumer(tmp_path: Path) -> None:
    refused(resilience("stress", "demo", "--consumer", "jp_lgn", "--lp-only", cwd=tmp_path),
            "--consumer jp_lgn: no such consumer")  # fmt: skip


# docs/analysis.md's worked example: (kind, element, consumer) -> (TTS alone, network TTS,
# simulated TTS, P(short)); None is "never" (LP) or "-" (never short in the simulation).
WORKED_EXAMPLE = {
    ("node", "au_lng", "jp_lng"): (None, 35.9, 28, 1.0),
    ("node", "au_lng", "kr_lng"): (None, 35.9, 57, 0.781),
    ("node", "au_lng", "tw_lng"): (None, 35.9, 29, 1.0),
    ("lane", "tw_us_chips", "us_chips"): (50.2, 50.2, 50, 1.0),
    ("node", "tw_fab", "us_chips"): (91.6, 88.5, None, 0.0),
    ("node", "us_lng", "jp_lng"): (None, 136.5, None, 0.0),
    ("chokepoint", "hormuz", "kr_lng"): (None, 345.5, None, 0.0),
    ("chokepoint", "hormuz", "tw_lng"): (None, 345.5, 55, 1.0),
}


def test_the_worked_example_of_docs_analysis(tmp_path: Path) -> None:
    """The figures docs/analysis.md quotes come out of `resilience stress demo --duration 60`
    (LP days to the 0.1 printed, simulated days exactly, P(short) to the percent) and stand
    in the doc as printed."""
    result = resilience("stress", "demo", "--duration", "60", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {(r["kind"], r["element"], r["consumer"]): r for r in json.loads(result.stdout)}
    assert len({(kind, element) for kind, element, _ in rows}) == 36
    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysis.md").read_text()
    section = doc[doc.index("## Stress test") :]

    def shown(value: float | None, spec: str) -> str:
        return "never" if value is None else f"{value:{spec}}"

    for (kind, element, consumer), (alone, network, sim, p_short) in WORKED_EXAMPLE.items():
        row = rows[(kind, element, consumer)]
        for got, want in ((row["tts_lp"], alone), (row["tts_lp_network"], network)):
            assert (got is None) == (want is None)
            if want is not None:
                assert got == pytest.approx(want, abs=0.05)
        assert row["tts_sim"] == sim
        assert row["p_short"] == pytest.approx(p_short, abs=0.005)
        simulated = "-" if sim is None else str(sim)
        line = (
            f"| {kind} {element} | {consumer} | {shown(alone, '.1f')} | "
            f"{shown(network, '.1f')} | {simulated} | {p_short:.0%} |"
        )
        assert line in section, line


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_lp_bounds_the_simulation_on_random_networks(seed: int) -> None:
    """Every knockout of a random 12-node network (constant demand, from day 0): whenever the
    LP says the consumer runs short before the element is back (TTS < TTR = 120 days), the
    simulation is short too, and no later than the LP's TTS (the LP is the best any schedule
    can do)."""
    raw = synthetic_scenario(12, 20, seed=seed, horizon_days=200)
    loaded = LoadedScenario(Scenario.model_validate(raw), (Path("synthetic.toml"),), ())
    result = run_stress(loaded, StressSettings(replications=1, duration=120, threads=1))
    exposed = [row for row in result.rows if row.exposed]
    assert exposed  # the bound is checked on some rows
    for row in exposed:
        assert row.tts_sim <= row.tts_lp + 1e-9, row
