"""Start-up of the commands about files, and `show` on a large network (issue 11 item 6).

Targets: `validate`, `list`, `resolve`, `schema` and `show` start in under 0.5 s (they import no
engine; tests/test_cli.py checks that), and `show` on a generated 5,000-node, 20,000-lane file
finishes in under 2 s. Each round is a fresh process, as a user runs it; the benchmark asserts
that the command succeeded and printed what it should, so a fast failure cannot pass, and
reports its time against the target (``share_of_target`` above 1 meets it), as the kernel
benchmarks do, since a shared machine's timings are too noisy to fail on.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from resilience.scenario.synthetic import synthetic_scenario

START_TARGET_SECONDS = 0.5
SHOW_LARGE_TARGET_SECONDS = 2.0


def _command(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resilience", *args], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (("validate", "demo"), "ok "),
        (("list",), "demo"),
        (("resolve", "demo"), "[scenario]"),
        (("schema",), '"$schema"'),
        (("show", "demo"), "Consumer exposure"),
    ],
)
def test_file_command_start_up(benchmark: Any, args: tuple[str, ...], expect: str) -> None:
    result = benchmark.pedantic(_command, args=args, rounds=5, iterations=1, warmup_rounds=1)
    assert result.returncode == 0, result.stderr
    assert expect in result.stdout
    benchmark.extra_info["target_seconds"] = START_TARGET_SECONDS
    benchmark.extra_info["share_of_target"] = round(
        START_TARGET_SECONDS / benchmark.stats.stats.mean, 3
    )


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "large.toml"
    path.write_text(tomli_w.dumps(synthetic_scenario(5000, 20000, seed=0)), encoding="utf-8")
    return path


def test_show_on_5000_nodes(benchmark: Any, large_file: Path) -> None:
    result = benchmark.pedantic(_command, args=("show", str(large_file)), rounds=3, iterations=1)
    assert result.returncode == 0, result.stderr
    assert "5000 nodes, 20000 lanes" in result.stdout
    assert "30 of 20,000" in result.stdout
    benchmark.extra_info["target_seconds"] = SHOW_LARGE_TARGET_SECONDS
    benchmark.extra_info["share_of_target"] = round(
        SHOW_LARGE_TARGET_SECONDS / benchmark.stats.stats.mean, 3
    )
