"""The terminal summary, --json, the manifest's provenance and `resilience rerun`, run as a
user runs them: a subprocess on shipped scenarios."""

from __future__ import annotations

import json
from pathlib import Path

from .test_run_directories import interrupted_run, refused, resilience

POLICY = ("disruptions/taiwan-blockade", "--overlay", "policies/jogmec-stockpiles",
          "--set", "scenario.seed=7", "-n", "300")  # fmt: skip


def test_the_summary_leads_with_the_affected_consumers(tmp_path: Path) -> None:
    result = resilience("run", *POLICY, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "taiwan-blockade: 300 replications, seed 7" in out
    assert "with overlays policies/jogmec-stockpiles; overrides scenario.seed=7" in out
    assert "Consumers short in some replication, worst first" in out
    assert "% of demand short" in out
    assert "P(short) [95% CI]" in out
    assert "other consumers were never short (--all lists every consumer)" in out
    # worst first: the shares in the table's third column never increase down the rows
    shares = [float(line.split("│")[3].strip().rstrip("%")) for line in out.splitlines()
              if line.startswith("│") and line.split("│")[3].strip().endswith("%")]  # fmt: skip
    assert len(shares) >= 5
    assert shares == sorted(shares, reverse=True)


def test_all_lists_every_consumer(tmp_path: Path) -> None:
    result = resilience("run", *POLICY, "--all", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Every consumer, worst first" in result.stdout
    assert "never short (--all" not in result.stdout
    assert "kr_lng" in result.stdout  # never short in this scenario, listed anyway


def test_json_prints_only_the_summary(tmp_path: Path) -> None:
    result = resilience("run", *POLICY, "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["replications"] == 300
    assert summary["seed"] == 7
    assert {"p_short", "tail", "tail_ci", "metrics"} <= set(summary["consumers"][0])


def test_the_manifest_says_where_the_result_came_from(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert resilience("run", *POLICY, "--out", str(out), cwd=tmp_path).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["command_line"] == ["resilience", "run", *POLICY, "--out", str(out)]
    assert manifest["overlays"] == ["policies/jogmec-stockpiles"]
    assert manifest["overrides"] == ["scenario.seed=7"]
    assert manifest["started"] <= manifest["finished"]
    assert manifest["started"].endswith("Z")
    assert manifest["code"]["version"]
    assert "git_commit" in manifest["code"]


def test_rerun_reproduces_a_run_bit_for_bit(tmp_path: Path) -> None:
    first, again = tmp_path / "first", tmp_path / "again"
    assert resilience("run", *POLICY, "--bands", "--out", str(first), cwd=tmp_path).returncode == 0
    result = resilience("rerun", str(first), "--out", str(again), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"reproduced {first} bit for bit" in result.stderr
    for name in ("summary.json", "replications.parquet"):
        assert (first / name).read_bytes() == (again / name).read_bytes()
    manifest = json.loads((again / "manifest.json").read_text())
    assert manifest["command_line"][:2] == ["resilience", "rerun"]
    assert manifest["bands"] is True


def test_rerun_refuses_a_missing_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = resilience("rerun", str(missing), "--out", str(tmp_path / "o"), cwd=tmp_path)
    refused(result, f"{missing}: no such directory")


def test_rerun_refuses_a_directory_that_is_not_a_run(tmp_path: Path) -> None:
    papers = tmp_path / "papers"
    papers.mkdir()
    (papers / "notes.txt").write_text("mine\n")
    result = resilience("rerun", str(papers), "--out", str(tmp_path / "o"), cwd=tmp_path)
    refused(result, f"{papers}: is not a run directory (no manifest.json)")
    assert not (tmp_path / "o").exists()


def test_rerun_refuses_an_incomplete_run(tmp_path: Path) -> None:
    out = tmp_path / "cut"
    interrupted_run(out, tmp_path)
    result = resilience("rerun", str(out), "--out", str(tmp_path / "o"), cwd=tmp_path)
    refused(result, f"{out}: holds an incomplete run (no manifest.json")


def test_rerun_refuses_an_edited_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert resilience("run", "demo", "-n", "32", "--out", str(out), cwd=tmp_path).returncode == 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["resolved_scenario"]["scenario"]["horizon_days"] = 200
    (out / "manifest.json").write_text(json.dumps(manifest))
    result = resilience("rerun", str(out), "--out", str(tmp_path / "o"), cwd=tmp_path)
    refused(result, "resolved_scenario does not match scenario_sha256")
