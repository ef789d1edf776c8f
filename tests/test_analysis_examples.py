"""The worked examples of docs/analysis.md for sweep, frontier and criticality, rerun.

Each test runs the documented command as a user would (a subprocess), reads the files it
writes, and checks the figures against the doc's table to the precision they are printed to,
and that the doc holds each row as printed.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .test_run_directories import resilience

DOC = Path(__file__).resolve().parents[1] / "docs" / "analysis.md"

# (Taiwan's days of stock, US capacity) -> (annual cost bn, % short, CVaR95 kt, P(short), frontier)
SWEEP = {
    (11, 84): (41.731, 3.95, 1009.0, 1.0, True),
    (11, 100): (42.025, 0.00, 0.0, 0.0, True),
    (20, 84): (42.092, 1.57, 655.3, 0.835, False),
    (20, 100): (42.209, 0.00, 0.0, 0.0, False),
    (30, 84): (42.400, 0.18, 262.3, 0.195, False),
    (30, 100): (42.413, 0.00, 0.0, 0.0, False),
}

# element -> (rank, delta % short, delta CVaR95 kt, TTS, TTR)
CRITICALITY = {
    ("node", "au_lng"): (1, 7.64, 1221.8, 29, 60),
    ("chokepoint", "hormuz"): (3, 1.78, 381.6, 56, 60),
    ("node", "us_lng"): (6, 1.46, 269.6, 45, 60),
    ("lane", "au_tw_lng"): (8, 1.45, 218.9, 23, 60),
}


def test_the_sweep_and_frontier_worked_example(tmp_path: Path) -> None:
    """Six design points of the demo on common random numbers, then the frontier of cost
    against Taiwan's CVaR95 (to the printed 0.001 bn, 0.01 point, 0.1 kt and 0.001)."""
    sweep = resilience("sweep", "demo", "--set", "nodes.tw_lng.inventory.target_days=11,20,30",
                       "--set", "nodes.us_lng.capacity_per_day=84,100", "-n", "400",
                       "--seed", "7", "--out", "tw-lng", cwd=tmp_path)  # fmt: skip
    assert sweep.returncode == 0, sweep.stderr
    front = resilience("frontier", "tw-lng", "--consumer", "tw_lng", cwd=tmp_path)
    assert front.returncode == 0, front.stderr
    assert "4 of 6 design points are dominated" in front.stdout
    points = json.loads((tmp_path / "tw-lng" / "frontier.json").read_text())["points"]
    doc = DOC.read_text(encoding="utf-8")
    assert len(points) == len(SWEEP)
    for point in points:
        stock = int(point["nodes.tw_lng.inventory.target_days"])
        capacity = int(point["nodes.us_lng.capacity_per_day"])
        cost, short, cvar, p_short, frontier = SWEEP[(stock, capacity)]
        assert point["annual_cost"] / 1e9 == pytest.approx(cost, abs=0.0006)
        assert 100 * point["share_short"] == pytest.approx(short, abs=0.006)
        assert point["cvar95"] == pytest.approx(cvar, abs=0.06)
        assert point["p_short"] == pytest.approx(p_short, abs=0.0006)
        assert point["on_frontier"] is frontier
        row = (f"| {stock} | {capacity} | {cost:.3f} | {short:.2f} | {cvar:.1f} | {p_short:.3f} "
               f"| {'yes' if frontier else 'no'} |")  # fmt: skip
        assert row in doc, row


def test_the_criticality_worked_example(tmp_path: Path) -> None:
    """Twelve knockouts of 60 days upstream of Taiwan's LNG; the documented rows of the ranking
    (to the printed 0.01 point and 0.1 kt; days exactly)."""
    result = resilience("criticality", "demo", "--consumer", "tw_lng", "--duration", "60",
                        "-n", "200", "--seed", "7", "--out", "crit", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    ranking = json.loads((tmp_path / "crit" / "criticality.json").read_text())["ranking"]
    rows = {(r["kind"], r["element"]): r for r in ranking if r["consumer"] == "tw_lng"}
    doc = DOC.read_text(encoding="utf-8")
    for (kind, element), (rank, share, cvar, tts, ttr) in CRITICALITY.items():
        row = rows[(kind, element)]
        assert row["rank"] == rank
        assert 100 * row["delta_share_short"] == pytest.approx(share, abs=0.006)
        assert row["delta_cvar95"] == pytest.approx(cvar, abs=0.06)
        assert (row["tts"], row["ttr"]) == (tts, ttr)
        line = f"| {rank} | {kind} {element} | {share:.2f} | {cvar:.1f} | {tts} | {ttr} |"
        assert line in doc, line
