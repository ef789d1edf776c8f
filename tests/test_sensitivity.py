"""Sensitivity analysis against closed forms, on a scenario whose answer is known, and as a user
runs it.

References: the Ishigami function's analytic Sobol indices (Ishigami and Homma 1990; Saltelli et
al. 2008, section 4.9), its Morris elementary effects on a 4-level grid derived by hand below,
and, on the demo scenario, an input that cannot reach the output (another commodity's chain), so
that common random numbers make its indices exactly zero.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from resilience.analysis.design import DesignError, Range
from resilience.analysis.sensitivity import (
    Method,
    SensitivityError,
    analyse,
    design_points,
    morris_design,
    sensitivity,
    sobol_design,
)
from resilience.runs.sensitivity import SensitivitySettings, run_sensitivity

from .test_run_directories import refused, resilience

A, B = 7.0, 0.1
ISHIGAMI = [Range(f"x{i}", -math.pi, math.pi) for i in (1, 2, 3)]


def ishigami(matrix: np.ndarray) -> np.ndarray:
    """f(x) = sin x1 + a sin^2 x2 + b x3^4 sin x1 on (points, 3) inputs; returns (points,)."""
    x1, x2, x3 = matrix[:, 0], matrix[:, 1], matrix[:, 2]
    return np.sin(x1) + A * np.sin(x2) ** 2 + B * x3**4 * np.sin(x1)


def ishigami_indices() -> tuple[list[float], list[float]]:
    """The analytic S1 and ST for x_i uniform on [-pi, pi] (partial variances V1, V2, V13)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = B**2 * math.pi**8 * (1 / 18 - 1 / 50)
    v = v1 + v2 + v13
    return [v1 / v, v2 / v, 0.0], [(v1 + v13) / v, v2 / v, v13 / v]


def test_the_analytic_ishigami_indices_are_the_published_ones() -> None:
    first, total = ishigami_indices()
    assert first == pytest.approx([0.3139, 0.4424, 0.0], abs=5e-5)
    assert total == pytest.approx([0.5576, 0.4424, 0.2437], abs=5e-5)


def test_sobol_indices_of_ishigami() -> None:
    """4,096 base samples (20,480 evaluations), seed 1: every S1 and ST within 0.02 of the
    analytic value (the estimators' error at this size is about 0.005-0.012), and every analytic
    value inside its 95% bootstrap interval."""
    design = sobol_design(ISHIGAMI, 4096, seed=1)
    assert design.matrix.shape == (4096 * 5, 3)
    indices = sensitivity(design, ishigami)
    first, total = ishigami_indices()
    values = indices.values
    assert values["first"][0] == pytest.approx(first, abs=0.02)
    assert values["total"][0] == pytest.approx(total, abs=0.02)
    for name, truth in (("first", first), ("total", total)):
        assert np.all(values[f"{name}_low"][0] <= truth), name
        assert np.all(truth <= values[f"{name}_high"][0]), name
    ranked = [row["input"] for row in indices.rows(["f"])]
    assert ranked == ["x1", "x2", "x3"]  # by ST: 0.558, 0.442, 0.244


def test_morris_on_ishigami_against_the_hand_derived_effects() -> None:
    """200 trajectories on a 4-level grid, seed 1.

    The grid on [-pi, pi] is {-pi, -pi/3, pi/3, pi} and a step is 2/3 of the range (4 pi / 3), so
    every step of an input goes -pi <-> pi/3 or -pi/3 <-> pi, and an elementary effect is the
    change divided by 2/3:
    - x2: |7 (sin^2(pi/3) - sin^2(pi))| = 5.25 on both kinds of step: every effect is exactly
      5.25 / (2/3) = 7.875, so mu*_2 = 7.875 (to float rounding).
    - x1: |sin| changes by sqrt(3)/2 on either step, times (1 + 0.1 x3^4) with x3^4 = pi^4 or
      (pi/3)^4, half the time each: E mu*_1 = 1.299 (1 + 0.1 (pi^4 + pi^4/81) / 2) = 7.70.
    - x3: x3^4 changes by pi^4 (1 - 1/81) = 96.2, times 0.1 |sin x1|, which is sqrt(3)/2 or 0
      half the time each: E mu*_3 = 0.5 x 12.5 = 6.25.
    The effects of x1 and x3 take two values 12.5 apart with probability 1/2, so their mean over
    200 trajectories has a standard error of 6.25 / sqrt(200) = 0.44; the tolerance is 3 of
    those. So x1 and x2 rank above x3 on mu*, as screening should find.
    """
    design = morris_design(ISHIGAMI, 200, seed=1)
    assert design.matrix.shape == (200 * 4, 3)
    mu_star = sensitivity(design, ishigami).values["mu_star"][0]
    root3 = math.sqrt(3) / 2
    expected_1 = root3 / (2 / 3) * (1 + B * (math.pi**4 + math.pi**4 / 81) / 2)
    expected_3 = 0.5 * B * root3 * math.pi**4 * (1 - 1 / 81) / (2 / 3)
    assert mu_star[1] == pytest.approx(7.875, rel=1e-9)
    assert mu_star[0] == pytest.approx(expected_1, abs=3 * 0.44)
    assert mu_star[2] == pytest.approx(expected_3, abs=3 * 0.44)
    assert min(mu_star[0], mu_star[1]) > mu_star[2]


def test_an_output_that_no_input_moves_has_zero_indices() -> None:
    design = sobol_design(ISHIGAMI[:2], 8, seed=2)
    indices = analyse(design, np.full(design.matrix.shape[0], 3.5))
    assert indices.constant.tolist() == [True]
    assert not indices.values["first"].any()
    assert not indices.values["total"].any()


def test_design_points_are_overrides_at_full_precision() -> None:
    ranges = [Range("nodes.a.inventory.target_days", 5.0, 60.0),
              Range("lanes.b.lead_time_days", 10.0, 20.0, integer=True)]  # fmt: skip
    design = sobol_design(ranges, 8, seed=4)
    points = design_points(design)
    assert len(points) == 8 * 4
    for point, row in zip(points, design.matrix, strict=True):
        days, lead = (item.partition("=")[2] for item in point)
        assert float(days) == row[0]  # repr round-trips: the point run is the point analysed
        assert lead.isdigit()
        assert int(lead) == row[1]


STOCK = "nodes.tw_lng.inventory.target_days"
CHIP_STOCK = "nodes.us_chips.inventory.target_days"


@pytest.mark.parametrize(("method", "samples"), [("sobol", 16), ("morris", 6)])
def test_on_the_demo_the_input_that_drives_shortfall_dominates(
    method: Method, samples: int
) -> None:
    """Taiwan's LNG shortfall in the demo's Hormuz closure against two inputs: Taiwan's own days
    of LNG stock (5 to 60) and the US chip buyers' days of chip stock (10 to 60).

    Why by hand: the chip chain (gallium -> foundries -> chip buyers) shares no node, lane or
    commodity with the LNG chain, so no flow connects us_chips' stock to tw_lng; and every design
    point draws the same random numbers (common random numbers: streams depend only on the seed,
    the replication and the disruption's name, docs/model.md 4.1). So tw_lng's shortfall is
    exactly the same function of its own stock at every value of the chip stock: f(x1, x2) =
    g(x1). Then f(AB_2) = f(A) and f(AB_1) = f(B) point by point, the chip stock's S1 and ST
    (and Morris mu*) are exactly 0, and the stock's ST, 1/2 mean((f(A) - f(B))^2) / Var f,
    estimates 1 (A and B are independent). Days of stock drive the shortfall (a closure of 60
    to 180 days against 5 to 60 days of stock), so the output varies and the indices are
    defined. 64 replications per point, seed 3.
    """
    ranges = [Range(STOCK, 5.0, 60.0), Range(CHIP_STOCK, 10.0, 60.0)]
    settings = SensitivitySettings(method=method, samples=samples, replications=64, seed=3,
                                   consumers=("tw_lng",), threads=1)  # fmt: skip
    result = run_sensitivity("demo", ranges, settings)
    assert result.consumers == ("tw_lng",)
    assert np.ptp(result.outputs) > 0
    rows = {row["input"]: row for row in result.table()}
    if method == "sobol":
        n = samples
        y = result.outputs[0]
        f_a, f_b, f_ab1, f_ab2 = (y[k * n : (k + 1) * n] for k in range(4))
        assert np.array_equal(f_ab2, f_a)  # moving the chip stock alone changes nothing
        assert np.array_equal(f_ab1, f_b)
        for key in ("first", "first_low", "first_high", "total", "total_low", "total_high"):
            assert rows[CHIP_STOCK][key] == 0.0, key
        stock = rows[STOCK]
        assert stock["total"] > 0.5
        assert stock["total_low"] <= 1.0 <= stock["total_high"]
    else:
        assert rows[CHIP_STOCK]["mu_star"] == 0.0
        assert rows[CHIP_STOCK]["sigma"] == 0.0
        assert rows[STOCK]["mu_star"] > 0.0
        assert rows[STOCK]["mu"] < 0.0  # more stock, less shortfall
    assert next(iter(rows)) == STOCK  # ranked first


def test_sensitivity_from_the_command_line(tmp_path: Path) -> None:
    """A Sobol analysis of two inputs of the demo writes its run directory: the manifest, the
    design points, the indices table and a non-blank tornado chart; `resilience plot` redraws
    it, and `resilience report` (made for runs only) refuses it."""
    import matplotlib.image

    out = tmp_path / "sens"
    result = resilience(
        "sensitivity", "demo", "--range", f"{STOCK}=5:60",
        "--range", f"{CHIP_STOCK}=10:60", "--samples", "8", "-n", "32",
        "--consumer", "tw_lng", "--out", str(out), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "sobol design, 8 base samples x 2 inputs = 32 points x 32 replications" in result.stdout
    assert "Sensitivity of expected_shortfall of tw_lng" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "sensitivity"
    assert manifest["points"] == 32
    assert manifest["replications"] == 32
    assert manifest["inputs"] == [STOCK, CHIP_STOCK]
    assert set(manifest["files"]) == {"points.parquet", "indices.parquet", "sensitivity.json",
                                      "plots/tornado.png", "plots/tornado.svg"}  # fmt: skip
    indices = pq.read_table(out / "indices.parquet").to_pylist()
    assert next(row["input"] for row in indices) == STOCK
    assert {row["output"] for row in indices} == {"tw_lng"}
    assert all(row["total_high"] >= 0.0 for row in indices)
    points = pq.read_table(out / "points.parquet").to_pylist()
    assert {row["point"] for row in points} == set(range(32))
    image = matplotlib.image.imread(out / "plots" / "tornado.png")
    assert image.shape[0] > 200
    assert image.std() > 0.05

    (out / "plots" / "tornado.png").unlink()
    replot = resilience("plot", str(out), cwd=tmp_path)
    assert replot.returncode == 0, replot.stderr
    assert (out / "plots" / "tornado.png").stat().st_size > 10_000
    refused(resilience("report", str(out), cwd=tmp_path), "holds a sensitivity; reports are "
            "made for runs")  # fmt: skip


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (("--range", "nodes.jp_lgn.inventory.target_days=5:60"),
         "no entry 'jp_lgn' in nodes"),
        (("--range", f"{STOCK}=30:30"), "the range is empty; LOW must be below HIGH"),
        (("--range", f"{STOCK}=60:5"), "the range is empty"),
        (("--range", f"{STOCK}=5:60", "--samples", "4"),
         "--samples 4: too few for Sobol indices; give at least 8"),
        (("--range", f"{STOCK}=5:60", "--samples", "24"),
         "Sobol indices need a power of two of base samples (e.g. 16 or 32)"),
        (("--range", f"{STOCK}=5:60", "--method", "morris", "--samples", "1"),
         "--samples 1: too few Morris trajectories; give at least 2"),
        (("--range", f"{STOCK}=5:60", "--range", f"{STOCK}=1:2"), "given twice"),
        (("--range", f"{STOCK}=5:60", "--consumer", "jp_lgn"),
         "--consumer jp_lgn: no such consumer in the scenario"),
        (("--range", f"{STOCK}=5:60", "--risk", "cvar99"), "--risk cvar99: unknown risk measure"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_before_anything_runs(
    tmp_path: Path, arguments: tuple[str, ...], message: str
) -> None:
    out = tmp_path / "out"
    result = resilience("sensitivity", "demo", *arguments, "-n", "8", "--out", str(out),
                        cwd=tmp_path)  # fmt: skip
    refused(result, message)
    assert not out.exists()  # nothing written, not even an empty directory


def test_no_range_is_a_usage_error(tmp_path: Path) -> None:
    result = resilience("sensitivity", "demo", cwd=tmp_path)
    assert result.returncode == 2
    assert "Error: give at least one input: --range PATH=LOW:HIGH" in result.stderr
    assert "Traceback" not in result.stderr


def test_too_few_samples_are_refused_in_the_analysis_layer() -> None:
    with pytest.raises(DesignError, match="too few Morris trajectories"):
        morris_design(ISHIGAMI, 1, seed=1)
    with pytest.raises(DesignError, match="a whole-number input needs a range of at least 3"):
        morris_design([Range("lead", 10.0, 11.0, integer=True)], 4, seed=1)
    design = sobol_design(ISHIGAMI, 8, seed=1)
    with pytest.raises(SensitivityError, match="undefined"):
        analyse(design, np.full(design.matrix.shape[0], np.nan))


# docs/analysis.md's worked example: input -> (mu*, its 95% interval, mu, sigma), kt of LNG.
WORKED_EXAMPLE = {
    "nodes.us_lng.capacity_per_day": (646.7, (378.3, 915.2), -646.7, 619.2),
    "nodes.au_lng.capacity_per_day": (479.2, (140.6, 817.8), -479.2, 792.1),
    "nodes.tw_lng.inventory.target_days": (279.8, (103.1, 456.4), -279.8, 416.3),
    "nodes.us_chips.inventory.target_days": (0.0, (0.0, 0.0), 0.0, 0.0),
}
EXAMPLE_RANGES = (
    "--range", "nodes.tw_lng.inventory.target_days=6:30",
    "--range", "nodes.au_lng.capacity_per_day=120:160",
    "--range", "nodes.us_lng.capacity_per_day=60:120",
    "--range", "nodes.us_chips.inventory.target_days=10:60",
)  # fmt: skip


def test_the_worked_example_of_docs_analysis(tmp_path: Path) -> None:
    """The Morris figures docs/analysis.md quotes come out of the engine (to the 4 significant
    figures they are printed to) and stand in the doc as printed."""
    result = resilience("sensitivity", "demo", "--method", "morris", "--samples", "20",
                        "-n", "100", "--seed", "7", "--consumer", "tw_lng", *EXAMPLE_RANGES,
                        "--json", cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)["indices"]
    assert [row["input"] for row in rows] == list(WORKED_EXAMPLE)
    doc = (Path(__file__).resolve().parents[1] / "docs" / "analysis.md").read_text()
    for row in rows:
        mu_star, (low, high), mu, sigma = WORKED_EXAMPLE[row["input"]]
        got = [row["mu_star"], row["mu_star_low"], row["mu_star_high"], row["mu"], row["sigma"]]
        assert got == pytest.approx([mu_star, low, high, mu, sigma], rel=5e-4, abs=1e-9)
        line = f"| `{row['input']}` | {mu_star:g} [{low:g}, {high:g}] | {mu:g} | {sigma:g} |"
        assert line in doc, line


def test_morris_without_salib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """SALib is an optional extra: without it, Morris says what to install (Sobol needs none)."""
    monkeypatch.setitem(sys.modules, "SALib.sample", None)  # import now raises ImportError
    with pytest.raises(SensitivityError, match=r"pip install 'resilience\[sensitivity\]'"):
        morris_design(ISHIGAMI, 4, seed=1)
    assert sobol_design(ISHIGAMI, 8, seed=1).matrix.shape == (40, 3)
