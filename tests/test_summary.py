"""Summaries across replications against hand-derived values (docs/model.md section 8).

Tail risk uses the inverted-CDF VaR and the Rockafellar-Uryasev CVaR. The discrete cases below
have atoms on or across the alpha point, where the old "mean of {X >= VaR}" rule went wrong;
each expected value is worked out in the test's docstring.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from resilience.analysis.summary import (
    ConservationError,
    RunAccumulator,
    RunInvariantError,
    probability_short,
    tail_risk,
)
from resilience.engines.execution import BatchPlan, LocalExecutor
from resilience.model.outcomes import (
    CONSERVATION_TERMS,
    CONSUMER_METRICS,
    NETWORK_METRICS,
    BatchResult,
)
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.runs.runner import RunSettings, run_scenario
from resilience.scenario.loader import load_scenario


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


# ---- P(short), daily service bands, the conservation check on real runs -----------------------


def _batch(network: Network, count: int, *, service: float | None = None) -> BatchResult:
    """A batch of ``count`` replications with a balanced material account (every term 0 except
    initial stock 10 = final stock 10) and, if asked, constant daily service."""
    n_consumers, horizon = len(network.consumers), network.horizon_days
    conservation = np.zeros((count, len(network.commodity_ids), len(CONSERVATION_TERMS)))
    conservation[..., CONSERVATION_TERMS.index("initial_stock")] = 10.0
    conservation[..., CONSERVATION_TERMS.index("final_stock")] = 10.0
    daily = (
        None
        if service is None
        else np.full((count, n_consumers, horizon), service, dtype=np.float32)
    )
    return BatchResult(
        0,
        np.zeros((count, n_consumers, len(CONSUMER_METRICS))),
        np.zeros((count, len(NETWORK_METRICS))),
        conservation,
        daily,
    )


@pytest.fixture(scope="module")
def demo_network() -> Network:
    return compile_network(load_scenario("demo").scenario)


def test_probability_short_counts_replications_with_a_short_day() -> None:
    """3 of 200 replications have short days: P(short) = 0.015 with scipy's Wilson interval."""
    days_short = np.zeros(200)
    days_short[[4, 50, 199]] = [1.0, 12.0, 3.0]
    result = probability_short(days_short)
    expected = stats.binomtest(3, 200).proportion_ci(method="wilson")
    assert result["short_replications"] == 3
    assert result["estimate"] == pytest.approx(0.015)
    assert result["ci_low"] == pytest.approx(expected.low, abs=1e-12)
    assert result["ci_high"] == pytest.approx(expected.high, abs=1e-12)


@pytest.mark.parametrize(("service", "reported"), [(1.0, 1.0), (0.0, 0.0), (0.5, 0.5025)])
def test_bands_report_full_and_no_service_exactly(
    demo_network: Network, service: float, reported: float
) -> None:
    """A day served in full reads 1.0 and a day not served at all 0.0 in every band (not the
    bin centres 0.9975 and 0.0025); a day in between reads its bin's centre (0.5 -> 0.5025)."""
    accumulator = RunAccumulator(demo_network, 64, bands=True)
    accumulator.add(_batch(demo_network, 64, service=service))
    bands = accumulator.summary()["consumers"][0]["daily_service_bands"]
    for name in ("p5", "p50", "p95"):
        assert set(bands[name]) == {reported}


def test_a_broken_balance_stops_the_run(demo_network: Network) -> None:
    """A replication that creates 1e-6 of material (relative 1e-7 > 1e-9) is refused."""
    batch = _batch(demo_network, 8)
    batch.conservation[5, 0, CONSERVATION_TERMS.index("final_stock")] += 1e-6
    accumulator = RunAccumulator(demo_network, 8)
    with pytest.raises(ConservationError, match="replication 5"):
        accumulator.add(batch)


def test_rounding_noise_passes_the_balance(demo_network: Network) -> None:
    """A gap of 1e-10 on a balance of 10 (relative 1e-11) is within the 1e-9 tolerance."""
    batch = _batch(demo_network, 8)
    batch.conservation[5, 0, CONSERVATION_TERMS.index("final_stock")] += 1e-10
    RunAccumulator(demo_network, 8).add(batch)


class _LeakyExecutor:
    """Runs the real kernel, then loses a unit of the first commodity in replication 3."""

    def run(
        self, network: Network, batches: list[BatchPlan], *, seed: int, daily: bool
    ) -> Iterator[BatchResult]:
        for batch in LocalExecutor().run(network, batches, seed=seed, daily=daily):
            if batch.first <= 3 < batch.first + batch.count:
                batch.conservation[3 - batch.first, 0, CONSERVATION_TERMS.index("lost")] += 1.0
            yield batch


def test_a_run_that_breaks_the_balance_writes_no_result(tmp_path: Path) -> None:
    """The error names the replication, and the run directory holds no manifest or summary."""
    out = tmp_path / "run"
    with pytest.raises(ConservationError, match="replication 3"):
        run_scenario(
            load_scenario("demo"),
            RunSettings(replications=64, out=out),
            executor=_LeakyExecutor(),
        )
    assert not (out / "manifest.json").exists()
    assert not (out / "summary.json").exists()


def test_a_nan_metric_stops_the_run(demo_network: Network) -> None:
    """A NaN shortfall (as 1e308 demands once gave) is refused, naming replication and consumer;
    NaN TTS and TTR are allowed, since they are undefined without a shortfall."""
    batch = _batch(demo_network, 8)
    batch.consumer[:, :, CONSUMER_METRICS.index("tts")] = np.nan
    batch.consumer[:, :, CONSUMER_METRICS.index("ttr")] = np.nan
    RunAccumulator(demo_network, 8).add(batch)
    batch.consumer[2, 1, CONSUMER_METRICS.index("shortfall")] = np.nan
    consumer = demo_network.node_ids[demo_network.consumers[1]]
    with pytest.raises(
        RunInvariantError, match=f"replication 2: shortfall of consumer '{consumer}'"
    ):
        RunAccumulator(demo_network, 8).add(batch)
