"""`resilience run` as a user runs it: a subprocess on shipped scenario files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from resilience.cli.main import main
from resilience.model.outcomes import CONSUMER_METRICS

ENV = {**os.environ, "COLUMNS": "160"}


def _resilience(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resilience", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=ENV,
        check=False,
    )


def test_run_writes_a_complete_run_directory(tmp_path: Path) -> None:
    out = tmp_path / "demo-run"
    result = _resilience(
        "run", "demo", "-n", "300", "--seed", "11", "--out", str(out), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    for heading in ("% of demand short", "P(short) [95% CI]", "days short", "mean shortfall",
                    "CVaR95", "median TTS", "median TTR"):  # fmt: skip
        assert heading in result.stdout
    assert {p.name for p in out.iterdir()} == {
        ".resilience",  # marks the directory as a run's (resilience.outputs.directory)
        "manifest.json",
        "summary.json",
        "replications.parquet",
    }

    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 11
    assert manifest["replications"] == 300
    assert len(manifest["scenario_sha256"]) == 64
    assert manifest["resolved_scenario"]["scenario"]["name"] == "demo"
    assert {"numpy", "numba", "python"} <= set(manifest["versions"])
    assert manifest["wall_seconds"] > 0

    summary = json.loads((out / "summary.json").read_text())
    assert summary["replications"] == 300
    consumers = {entry["consumer"] for entry in summary["consumers"]}
    assert "tw_lng" in consumers
    entry = summary["consumers"][0]
    assert {"var95", "cvar95", "var99", "cvar99"} <= set(entry["tail"])
    assert set(entry["tail_ci"]) == {
        "p5",
        "p50",
        "p95",
        "p99",
        "var95",
        "var99",
        "cvar95",
        "cvar99",
    }
    for name, (low, high) in entry["tail_ci"].items():
        point = entry["tail"].get(name, entry["metrics"]["shortfall"].get(name))
        assert low <= point <= high, name
    short = entry["p_short"]
    assert 0.0 <= short["ci_low"] <= short["estimate"] <= short["ci_high"] <= 1.0
    fill = entry["metrics"]["fill_rate"]
    assert fill["ci_low"] <= fill["mean"] <= fill["ci_high"]

    table = pq.read_table(out / "replications.parquet")
    assert table.num_rows == 300 * len(consumers)
    assert set(CONSUMER_METRICS) <= set(table.schema.names)
    assert sorted(set(table.column("replication").to_pylist())) == list(range(300))


def test_same_seed_same_numbers_and_csv_format(tmp_path: Path) -> None:
    first = _resilience("run", "demo", "-n", "200", "--out", str(tmp_path / "a"), cwd=tmp_path)
    second = _resilience(
        "run", "demo", "-n", "200", "--threads", "1", "--format", "csv",
        "--out", str(tmp_path / "b"), cwd=tmp_path,
    )  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    parquet = pq.read_table(tmp_path / "a" / "replications.parquet")
    csv = pa_csv.read_csv(tmp_path / "b" / "replications.csv")
    assert parquet.column("shortfall").to_pylist() == csv.column("shortfall").to_pylist()
    a = json.loads((tmp_path / "a" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert a == b


def test_overrides_reach_the_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code = main(
        ["run", "demo", "-n", "64", "--set", "disruptions.hormuz_closure.probability=0",
         "--out", str(tmp_path / "calm")]
    )  # fmt: skip
    assert code == 0
    summary = json.loads((tmp_path / "calm" / "summary.json").read_text())
    for entry in summary["consumers"]:
        assert entry["metrics"]["shortfall"]["mean"] == 0.0
    assert "demo: 64 replications" in capsys.readouterr().out


def test_bands_are_summarised_on_request(tmp_path: Path) -> None:
    assert main(["run", "demo", "-n", "64", "--bands", "--out", str(tmp_path / "b")]) == 0
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    bands = summary["consumers"][0]["daily_service_bands"]
    assert len(bands["p50"]) == 365
    for low, mid, high in zip(bands["p5"], bands["p50"], bands["p95"], strict=True):
        assert 0.0 <= low <= mid <= high <= 1.0


def test_bad_input_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "never"
    result = _resilience("run", "demo", "--set", "lanes.qa_jp_lng.lead_time_days=-2",
                         "--out", str(out), cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2
    assert "lead_time_days: expected a number >= 1; found -2" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def test_ctrl_c_leaves_nothing_that_looks_complete(tmp_path: Path) -> None:
    out = tmp_path / "interrupted"
    # An old complete run in the same directory must stop looking complete too.
    assert main(["run", "demo", "-n", "32", "--out", str(out)]) == 0
    assert (out / "manifest.json").exists()
    # Long (a century per replication) rather than many, so memory stays small.
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "resilience",
            "run",
            "demo",
            "-n",
            "100000",
            "--out",
            str(out),
            "--overwrite",
            "--set",
            "scenario.horizon_days=36500",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=ENV,
    )
    deadline = time.monotonic() + 60
    while (out / "manifest.json").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # well into the replications
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrupted: no results written" in stderr
    assert "Traceback" not in stderr
    assert not (out / "manifest.json").exists()
    assert not any(path.name.endswith(".tmp") for path in out.iterdir())


def test_the_first_run_says_it_is_compiling(tmp_path: Path) -> None:
    """With an empty Numba cache the first run says it compiles the kernel (it would otherwise
    sit silent for some 20 s); the next run, with the cache filled, says nothing of it."""
    env = {**ENV, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    command = [sys.executable, "-m", "resilience", "run", "demo", "-n", "64"]
    first = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                           check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "compiling the Monte Carlo kernel: once per install" in first.stderr
    second = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path, env=env,
                            check=False)  # fmt: skip
    assert second.returncode == 0, second.stderr
    assert "compiling" not in second.stderr
