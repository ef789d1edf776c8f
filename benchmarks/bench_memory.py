"""Peak memory of `resilience run baseline` does not grow with replications (issue 12 item 3).

Target: peak resident memory at 10^4, 10^5 and 10^6 replications within 20% of each other. Each
size runs `resilience run baseline -n N --out DIR` in a fresh process, as a user would; its peak
RSS is read with ``getrusage(RUSAGE_CHILDREN)`` in a small wrapper process that runs nothing
else, so each figure is that one run's. Before rows were streamed, the baseline held about
12 KB a replication (12 GB at 10^6).

The horizon is shortened to `HORIZON_DAYS`: what a run holds per replication is its rows (43
consumers x 14 metrics), whatever the horizon, and a full year at 10^6 replications takes more
than an hour of kernel time on this 2-core machine. The benchmark asserts the work done: every
run's manifest, summary and table hold N replications (N x 43 rows).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from .bench_kernel import THREADS

SIZES = (10_000, 100_000, 1_000_000)
HORIZON_DAYS = 90
FLAT_WITHIN = 0.20
CONSUMERS = 43  # the baseline's consumer nodes

_WRAPPER = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""
"""Runs the command given and prints its exit code and peak RSS in KiB (Linux units)."""


def peak_rss(replications: int, out: Path) -> tuple[int, float]:
    """Run baseline with ``replications`` into ``out``; return (exit code, peak RSS in MiB)."""
    command = [
        sys.executable, "-m", "resilience", "run", "baseline", "-n", str(replications),
        "--set", f"scenario.horizon_days={HORIZON_DAYS}", "--threads", str(THREADS),
        "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True, check=True
    )
    code, kib = done.stdout.split()
    return int(code), int(kib) / 1024


def test_peak_memory_is_flat_in_replications(benchmark: Any, tmp_path: Path) -> None:
    def measure() -> dict[int, float]:
        figures = {}
        for n in SIZES:
            code, mib = peak_rss(n, tmp_path / f"run-{n}")
            assert code == 0, f"resilience run baseline -n {n} failed ({code})"
            figures[n] = mib
        return figures

    figures = benchmark.pedantic(measure, rounds=1, iterations=1)
    for n in SIZES:
        out = tmp_path / f"run-{n}"
        assert json.loads((out / "manifest.json").read_text())["replications"] == n
        assert json.loads((out / "summary.json").read_text())["replications"] == n
        assert pq.ParquetFile(out / "replications.parquet").metadata.num_rows == n * CONSUMERS
    low, high = min(figures.values()), max(figures.values())
    benchmark.extra_info.update(
        {f"peak_rss_mib_{n}": mib for n, mib in figures.items()},
        horizon_days=HORIZON_DAYS,
        threads=THREADS,
        spread=high / low - 1.0,
        target_spread=FLAT_WITHIN,
    )
    assert high <= (1.0 + FLAT_WITHIN) * low, f"peak RSS (MiB) by replications: {figures}"
