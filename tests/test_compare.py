"""`resilience compare`: paired differences on common random numbers.

References: scipy's paired t interval (ttest_rel) for the paired mean difference, the identity
that comparing a scenario with itself gives exactly zero, and the variance argument that a paired
interval is narrower than an unpaired one when the runs share their random numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from scipy import stats

from resilience.analysis.compare import COMPARED, compare_consumer
from resilience.model.outcomes import CONSUMER_METRICS

from .test_run_directories import refused, resilience

DEAL = ("disruptions/taiwan-blockade", "--overlay", "policies/us-japan-technology-prosperity-deal",
        "-n", "400")  # fmt: skip


def _outcomes(rng: np.random.Generator, n: int, shift: float) -> np.ndarray:
    """Synthetic per-replication outcomes: demand 100, shortfall ~ 10 + noise + shift."""
    values = np.zeros((n, len(CONSUMER_METRICS)))
    column = {name: i for i, name in enumerate(CONSUMER_METRICS)}
    values[:, column["demand"]] = 100.0
    values[:, column["shortfall"]] = np.clip(10.0 + rng.normal(0, 3, n) + shift, 0, 100)
    values[:, column["fill_rate"]] = 1 - values[:, column["shortfall"]] / 100.0
    values[:, column["days_short"]] = values[:, column["shortfall"]] > 0
    values[:, column["tts"]] = np.nan
    values[:, column["ttr"]] = np.nan
    return values


def test_paired_interval_equals_scipy_paired_t() -> None:
    """The paired mean difference of shortfall and its interval agree with
    scipy.stats.ttest_rel(...).confidence_interval() to 0.2% of the width (z 1.960 against
    t 1.962 for n = 1,000) and exactly in the point estimate."""
    rng = np.random.default_rng(3)
    base = _outcomes(rng, 1000, 0.0)
    alternative = base.copy()
    shortfall = CONSUMER_METRICS.index("shortfall")
    alternative[:, shortfall] = np.clip(base[:, shortfall] - 2.0 + rng.normal(0, 0.5, 1000), 0, 100)
    result = compare_consumer(base, alternative, seed=(1, 0), names=("c", "x", "t")).get(
        "shortfall"
    )
    reference = stats.ttest_rel(alternative[:, shortfall], base[:, shortfall])
    interval = reference.confidence_interval()
    width = interval.high - interval.low
    assert result.difference == pytest.approx(
        alternative[:, shortfall].mean() - base[:, shortfall].mean(), abs=1e-12
    )
    assert result.ci_low == pytest.approx(interval.low, abs=2e-3 * width)
    assert result.ci_high == pytest.approx(interval.high, abs=2e-3 * width)
    # the runs share their noise, so pairing removes most of it
    assert result.ci_high - result.ci_low < 0.3 * (result.unpaired_high - result.unpaired_low)


def test_a_scenario_against_itself_is_exactly_zero(tmp_path: Path) -> None:
    """demo against demo: every difference and both ends of every paired interval are 0."""
    result = resilience("compare", "demo", "demo", "-n", "200", "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    comparison = json.loads(result.stdout)
    (alternative,) = comparison["alternatives"]
    assert alternative["label"] == "demo"
    for consumer in alternative["consumers"]:
        for statistic in COMPARED:
            d = consumer["differences"][statistic]
            if d["n"] == 0:  # TTS/TTR with no shortfall in either run
                continue
            assert d["difference"] == 0.0, (consumer["consumer"], statistic)
            assert d["ci_low"] == d["ci_high"] == 0.0, (consumer["consumer"], statistic)


def test_pairing_narrows_the_interval_on_a_shipped_pair(tmp_path: Path) -> None:
    """Taiwan blockade with and without the US-Japan deal: for every consumer whose shortfall
    changed, the paired interval of the difference is narrower than the unpaired one."""
    result = resilience("compare", *DEAL, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (alternative,) = json.loads(result.stdout)["alternatives"]
    changed = [
        c["differences"]["shortfall"]
        for c in alternative["consumers"]
        if c["differences"]["shortfall"]["difference"] != 0.0
    ]
    assert len(changed) >= 4
    for d in changed:
        assert d["ci_high"] - d["ci_low"] < d["unpaired_high"] - d["unpaired_low"]
    us = next(c for c in alternative["consumers"] if c["consumer"] == "us_adv")
    assert us["differences"]["shortfall"]["ci_high"] < 0  # US capacity cuts US shortfall


def test_compare_writes_a_directory(tmp_path: Path) -> None:
    out = tmp_path / "cmp"
    result = resilience("compare", *DEAL, "--out", str(out), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "most changed first" in result.stdout
    assert {p.name for p in out.iterdir()} == {
        ".resilience", "manifest.json", "comparison.json", "differences.parquet",
    }  # fmt: skip
    table = pq.read_table(out / "differences.parquet")
    assert set(table.column("statistic").to_pylist()) == set(COMPARED)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 400
    assert list(manifest["alternatives"]) == ["+policies/us-japan-technology-prosperity-deal"]


def test_compare_needs_an_alternative(tmp_path: Path) -> None:
    result = resilience("compare", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert "Error: give at least one ALTERNATIVE file or one --overlay" in result.stderr
    assert "Traceback" not in result.stderr


def test_compare_refuses_an_unknown_overlay(tmp_path: Path) -> None:
    result = resilience("compare", "demo", "--overlay", "policies/nope", cwd=tmp_path)
    refused(result, "no shipped scenario named 'policies/nope'")


# docs/analysis.md's worked example: consumer -> (base, with the deal, difference, paired CI),
# shortfall as a share of demand in percentage points, 1,000 replications, seed 7.
WORKED_EXAMPLE = {
    "us_adv": (20.43, 4.70, -15.74, (-15.74, -15.73)),
    "jp_adv": (20.43, 4.75, -15.68, (-15.69, -15.67)),
    "tw_adv": (5.81, 4.29, -1.52, (-1.53, -1.52)),
}


def test_the_worked_example_of_docs_analysis(tmp_path: Path) -> None:
    """The figures docs/analysis.md quotes come out of the engine (to the 0.01 points they are
    printed to) and stand in the doc as printed."""
    result = resilience("compare", "disruptions/taiwan-blockade", "--overlay",
                        "policies/us-japan-technology-prosperity-deal", "-n", "1000",
                        "--seed", "7", "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (alternative,) = json.loads(result.stdout)["alternatives"]
    shares = {c["consumer"]: c["differences"]["share_short"] for c in alternative["consumers"]}
    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysis.md").read_text()
    for consumer, (base, with_deal, difference, (low, high)) in WORKED_EXAMPLE.items():
        d = shares[consumer]
        got = [round(100 * d[key], 2) for key in ("base", "alternative", "difference",
                                                  "ci_low", "ci_high")]  # fmt: skip
        assert got == pytest.approx([base, with_deal, difference, low, high], abs=0.006)
        sign = "+" if difference > 0 else ""
        row = (f"| {consumer} | {base:.2f} | {with_deal:.2f} | {sign}{difference:.2f} "
               f"[{sign}{low:.2f}, {sign}{high:.2f}]")  # fmt: skip
        assert row in doc, row
