"""A 100-point sweep of the reference network, 1,000 replications a point (issue 10 item 8).

Target: under 30 s on this 2-core machine, with the kernel compiled once for the whole sweep (no
per-point compilation, no process per point). The sweep runs in this process through
`resilience.runs.sweep.run_sweep`, as `resilience sweep` does; the same run also times the
kernel alone on the 100 points' replications, so the overhead of the sweep (loading and
validating each point, compiling its network, summarising) is reported as a ratio. The
benchmark asserts the work done: 100 points, every consumer's row, demand simulated.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from resilience.engines.kernel import run_batch
from resilience.network.compiler import compile_network
from resilience.network.tables import build_tables
from resilience.runs.sweep import SweepSettings, run_sweep
from resilience.scenario.loader import load_scenario
from resilience.scenario.synthetic import synthetic_scenario

from .bench_kernel import THREADS

POINTS = 100
REPLICATIONS = 1_000
TARGET_SECONDS = 30.0
LEVER = "nodes.con0.inventory.target_days"


@pytest.fixture(scope="module")
def reference_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = synthetic_scenario(50, 100, seed=0, hazards=True, chokepoint_closure=True)
    path = tmp_path_factory.mktemp("sweep") / "reference.toml"
    path.write_text(tomli_w.dumps(raw), encoding="utf-8")
    return path


def test_sweep_of_100_points(benchmark: Any, reference_file: Path) -> None:
    points = [(f"{LEVER}={days}",) for days in range(1, POINTS + 1)]
    settings = SweepSettings(replications=REPLICATIONS, threads=THREADS)
    network = compile_network(load_scenario(reference_file).scenario)
    tables = build_tables(network)
    run_batch(network, tables, 0, 64, threads=THREADS)  # compiled (or cache loaded) once

    result = benchmark.pedantic(
        run_sweep, args=(str(reference_file), points, settings), rounds=1, iterations=1
    )
    consumers = len(network.consumers)
    assert len(result.rows) == POINTS * consumers
    assert {row["point"] for row in result.rows} == set(range(POINTS))
    assert all(row["fill_rate"] > 0.0 for row in result.rows)

    started = time.perf_counter()
    for _ in range(POINTS):
        run_batch(network, tables, 0, REPLICATIONS, threads=THREADS)
    kernel_alone = time.perf_counter() - started
    seconds = benchmark.stats.stats.min
    benchmark.extra_info.update(
        points=POINTS,
        replications_per_point=REPLICATIONS,
        threads=THREADS,
        seconds=seconds,
        target_seconds=TARGET_SECONDS,
        share_of_target=TARGET_SECONDS / seconds,
        kernel_alone_seconds=kernel_alone,
        sweep_over_kernel=seconds / kernel_alone,
    )
