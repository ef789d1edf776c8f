"""Summaries across replications against hand-derived values (docs/model.md section 8).

Tail risk uses the inverted-CDF VaR and the Rockafellar-Uryasev CVaR. The discrete cases below
have atoms on or across the alpha point, where the old "mean of {X >= VaR}" rule went wrong;
each expected value is worked out in the test's docstring.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from resilience.analysis.summary import tail_risk


def _atoms(*pairs: tuple[int, float]) -> np.ndarray:
    """A sample made of `count` copies of each `value`, shuffled (order must not matter)."""
    values = np.concatenate([np.full(count, value) for count, value in pairs])
    return np.random.default_rng(7).permutation(values)


def test_rare_shortfall_fills_part_of_the_tail() -> None:
    """3% at 100, 97% at 0. F(0) = 0.97 >= 0.95 so VaR95 = 0; the worst 5% hold the 3% at 100
    and 2% at 0, so CVaR95 = 0.03 * 100 / 0.05 = 60. F(0) < 0.99 so VaR99 = CVaR99 = 100.
    Exact (tolerance 1e-12)."""
    tail = tail_risk(_atoms((97, 0.0), (3, 100.0)))
    assert tail["var95"] == 0.0
    assert tail["cvar95"] == pytest.approx(60.0, abs=1e-12)
    assert tail["var99"] == 100.0
    assert tail["cvar99"] == pytest.approx(100.0, abs=1e-12)


def test_two_atoms_in_the_tail() -> None:
    """950 at 0, 40 at 50, 10 at 100 (n = 1000). VaR95 = 0 since F(0) = 0.95 exactly;
    CVaR95 = (0.04 * 50 + 0.01 * 100) / 0.05 = 60. VaR99 = 50 since F(50) = 0.99;
    CVaR99 = 50 + 0.01 * 50 / 0.01 = 100 (the worst 1% is the atom at 100). Tolerance 1e-12."""
    tail = tail_risk(_atoms((950, 0.0), (40, 50.0), (10, 100.0)))
    assert tail["var95"] == 0.0
    assert tail["cvar95"] == pytest.approx(60.0, abs=1e-12)
    assert tail["var99"] == 50.0
    assert tail["cvar99"] == pytest.approx(100.0, abs=1e-12)


def test_atom_wider_than_the_tail() -> None:
    """Nine zeros and one 50: F(0) = 0.9 < 0.95, so VaR95 = 50 and the whole 5% tail sits in
    the atom at 50: CVaR95 = 50 (same at 99%). Exact."""
    tail = tail_risk(_atoms((9, 0.0), (1, 50.0)))
    assert tail == {"var95": 50.0, "cvar95": 50.0, "var99": 50.0, "cvar99": 50.0}


def test_no_shortfall_anywhere() -> None:
    """All zeros: every VaR and CVaR is 0."""
    tail = tail_risk(np.zeros(400))
    assert tail == {"var95": 0.0, "cvar95": 0.0, "var99": 0.0, "cvar99": 0.0}


def test_evenly_spread_values() -> None:
    """The values 1..100: VaR95 = 95 (F(95) = 0.95); the worst 5% are 96..100 with mean 98, and
    the formula gives 95 + (1+2+3+4+5)/100 / 0.05 = 98. VaR99 = 99, CVaR99 = 100. Exact."""
    tail = tail_risk(np.arange(1.0, 101.0))
    assert tail["var95"] == 95.0
    assert tail["cvar95"] == pytest.approx(98.0, abs=1e-12)
    assert tail["var99"] == 99.0
    assert tail["cvar99"] == pytest.approx(100.0, abs=1e-12)


def test_exponential_against_its_closed_form() -> None:
    """Exponential(mean 1): VaR_a = -ln(1 - a) and CVaR_a = VaR_a + 1 (memorylessness).
    200,000 draws, seed 11; tolerance 0.03 on VaR95/CVaR95 (several standard errors: the
    sample CVaR95's sd is about sqrt(2/(0.05 n)) ~ 0.014)."""
    sample = np.random.default_rng(11).exponential(1.0, 200_000)
    tail = tail_risk(sample)
    assert tail["var95"] == pytest.approx(math.log(20.0), abs=0.03)
    assert tail["cvar95"] == pytest.approx(math.log(20.0) + 1.0, abs=0.03)
