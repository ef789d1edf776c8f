"""Designs, sweeps and the Pareto frontier, against hand values and as a user runs them.

References: the Latin hypercube's defining property (one point in each of N equal strata of
every dimension), a hand-checked dominance example, and common random numbers (a sweep point
equal to the base scenario reproduces `resilience run` of the base exactly).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from resilience.analysis.design import (
    DesignError,
    Lever,
    Range,
    grid,
    parse_lever,
    parse_range,
    sample,
    split_values,
)
from resilience.analysis.frontier import pareto_front

from .test_run_directories import refused, resilience

STOCK = "nodes.jp_lng.inventory"
LEVERS = ("--set", f"{STOCK}.target_days=12,30", "--set", f"{STOCK}.initial_days=12,30")


def test_values_split_at_top_level_commas_only() -> None:
    assert split_values("1,2.5, 'a,b' ,[1, 2],{x = 1, y = 2}") == [
        "1", "2.5", "'a,b'", "[1, 2]", "{x = 1, y = 2}",
    ]  # fmt: skip


def test_grid_is_every_combination_first_lever_slowest() -> None:
    points = grid([Lever("a.b", ("1", "2")), Lever("c.d", ("x", "y", "z"))])
    assert len(points) == 6
    assert points[0] == ("a.b=1", "c.d=x")
    assert points[2] == ("a.b=1", "c.d=z")
    assert points[3] == ("a.b=2", "c.d=x")


def test_latin_hypercube_fills_every_stratum_once() -> None:
    """20 points in 2 dimensions: each of the 20 equal strata of each range holds one point."""
    ranges = [Range("a", 0.0, 10.0), Range("b", 100.0, 300.0)]
    points = sample("lhs", ranges, 20, seed=4)
    values = np.array([[float(item.partition("=")[2]) for item in point] for point in points])
    for j, r in enumerate(ranges):
        strata = np.floor((values[:, j] - r.low) / (r.high - r.low) * 20).astype(int)
        assert sorted(strata) == list(range(20))
    assert points == sample("lhs", ranges, 20, seed=4)  # seeded


def test_integer_levers_are_rounded() -> None:
    points = sample("sobol", [Range("days", 1.0, 90.0, integer=True)], 16, seed=1)
    assert all(point[0].partition("=")[2].isdigit() for point in points)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: parse_range("a.b=5:5"), "the range is empty"),
        (lambda: parse_range("a.b=9:1"), "the range is empty"),
        (lambda: parse_range("a.b=1-9"), "expected PATH=LOW:HIGH"),
        (lambda: parse_lever("a.b"), "expected PATH=VALUE"),
        (lambda: sample("sobol", [Range("a", 0, 1)], 50, seed=1), "power of two (e.g. 32 or 64)"),
    ],
)
def test_bad_designs_are_refused(call: object, message: str) -> None:
    with pytest.raises(DesignError, match=message.replace("(", r"\(").replace(")", r"\)")):
        call()  # type: ignore[operator]


def test_pareto_front_by_hand() -> None:
    """(cost, risk): A(1, 9) B(2, 5) C(3, 5) D(4, 1) E(2.5, 8): C is dominated by B (same
    risk, dearer), E by B (dearer and riskier); A, B, D are the frontier."""
    front = pareto_front([1, 2, 3, 4, 2.5], [9, 5, 5, 1, 8])
    assert front.tolist() == [True, True, False, True, False]


def test_sweep_and_frontier_from_the_command_line(tmp_path: Path) -> None:
    """A 2x2 grid on the demo: one row per point and consumer; the point equal to the base
    scenario gives the same expected shortfall as `resilience run` with the same seed and
    replications (common random numbers), exactly; the frontier is written beside it."""
    out = tmp_path / "sweep"
    result = resilience("sweep", "demo", *LEVERS, "-n", "200", "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "4 design points x 200 replications" in result.stdout
    table = pq.read_table(out / "sweep.parquet").to_pylist()
    consumers = {row["consumer"] for row in table}
    assert len(table) == 4 * len(consumers)
    base_point = next(
        row for row in table
        if row["consumer"] == "jp_lng" and row[f"{STOCK}.target_days"] == "12"
        and row[f"{STOCK}.initial_days"] == "12"
    )  # fmt: skip
    run = resilience("run", "demo", "-n", "200", "--json", cwd=tmp_path)
    summary = json.loads(run.stdout)
    jp = next(entry for entry in summary["consumers"] if entry["consumer"] == "jp_lng")
    assert base_point["expected_shortfall"] == jp["metrics"]["shortfall"]["mean"]
    assert base_point["cvar95"] == pytest.approx(jp["tail"]["cvar95"], rel=1e-12)
    # more stock never leaves Japan worse off on the same random numbers
    rows = {(r[f"{STOCK}.target_days"], r[f"{STOCK}.initial_days"]): r
            for r in table if r["consumer"] == "jp_lng"}  # fmt: skip
    assert rows[("30", "30")]["expected_shortfall"] <= rows[("12", "12")]["expected_shortfall"]

    front = resilience("frontier", str(out), "--consumer", "jp_lng", cwd=tmp_path)
    assert front.returncode == 0, front.stderr
    assert "Pareto frontier: annual cost against cvar95 of jp_lng" in front.stdout
    assert {"frontier.json", "frontier.png", "frontier.svg"} <= {p.name for p in out.iterdir()}
    assert (out / "frontier.png").stat().st_size > 10_000
    document = json.loads((out / "frontier.json").read_text())
    flags = [p["on_frontier"] for p in document["points"]]
    assert len(flags) == 4
    assert any(flags)


def test_sobol_design_from_the_command_line(tmp_path: Path) -> None:
    """Four Sobol points over a float lever (days of stock) and an integer one (a lead time,
    rounded, since the scenario holds a whole number there)."""
    lead = "lanes.qa_jp_lng.lead_time_days"
    result = resilience("sweep", "demo", "--design", "sobol", "--samples", "4",
                        "--range", f"{STOCK}.target_days=5:60", "--range", f"{lead}=10:20",
                        "-n", "64", "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    days = {row[f"{STOCK}.target_days"] for row in rows}
    assert len(days) == 4
    assert all(5 <= float(value) <= 60 for value in days)
    assert all(10 <= int(row[lead]) <= 20 for row in rows)


def test_an_unknown_lever_path_is_refused_before_running(tmp_path: Path) -> None:
    result = resilience("sweep", "demo", "--set", "nodes.jp_lgn.inventory.target_days=1,2",
                        cwd=tmp_path)  # fmt: skip
    refused(result, "no entry 'jp_lgn' in nodes", "did you mean 'jp_lng'")
    assert result.stdout == ""


def test_an_empty_range_is_refused(tmp_path: Path) -> None:
    result = resilience("sweep", "demo", "--design", "lhs", "--samples", "8", "--range",
                        f"{STOCK}.target_days=30:30", cwd=tmp_path)  # fmt: skip
    refused(result, "the range is empty")


def test_frontier_refuses_what_is_not_a_sweep(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    refused(resilience("frontier", str(missing), cwd=tmp_path), "no such directory")
    run = tmp_path / "run"
    assert resilience("run", "demo", "-n", "32", "--out", str(run), cwd=tmp_path).returncode == 0
    refused(resilience("frontier", str(run), cwd=tmp_path), "is not a sweep directory")
    (tmp_path / "empty").mkdir()
    refused(resilience("frontier", str(tmp_path / "empty"), cwd=tmp_path), "is not a run directory")
