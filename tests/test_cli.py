"""The command line, called in-process (`main`) and as a user runs it (a subprocess)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from resilience.cli.main import main
from resilience.scenario.loader import load_scenario


def test_list_names_the_demo(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["list"]) == 0
    assert "demo" in capsys.readouterr().out


def test_show_prints_network_and_exposure(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", "demo"]) == 0
    out = capsys.readouterr().out
    for heading in ("Capacity by country", "Lanes", "Consumer exposure", "Disruptions"):
        assert heading in out
    assert "hormuz" in out


def test_validate_reports_counts(capsys: pytest.CaptureFixture[str], demo_path: Path) -> None:
    assert main(["validate", str(demo_path)]) == 0
    assert capsys.readouterr().out.startswith(f"ok {demo_path}")


def test_resolve_round_trips(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resolve", "demo", "--set", "scenario.seed=7"]) == 0
    text = capsys.readouterr().out
    resolved = tmp_path / "resolved.toml"
    resolved.write_text(text)
    again = load_scenario(resolved)
    original = load_scenario("demo", ["scenario.seed=7"])
    assert again.scenario.scenario.seed == 7
    assert again.digest == original.digest


def test_extends_overlay_and_override(tmp_path: Path, demo_path: Path) -> None:
    overlay = tmp_path / "overlay.toml"
    overlay.write_text(
        f'extends = "{demo_path}"\n'
        '[scenario]\nname = "overlay"\n'
        '[disruptions.fab_fire]\nkind = "node"\ntarget = "tw_fab"\nduration = 30\n'
        "severity = 0.5\n"
    )
    loaded = load_scenario(overlay, ["disruptions.fab_fire.severity=0.25"])
    assert loaded.files == (overlay, demo_path)
    assert loaded.scenario.scenario.name == "overlay"
    assert loaded.scenario.disruptions["fab_fire"].severity == 0.25
    base = load_scenario(demo_path).scenario
    assert set(loaded.scenario.disruptions) == set(base.disruptions) | {"fab_fire"}
    assert loaded.scenario.nodes == base.nodes


def test_schema_is_json_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["type"] == "object"
    assert {"scenario", "nodes", "lanes"} <= set(document["properties"])
    assert "disruptions" in document["properties"]


def test_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show"]) == 2
    assert "Missing argument" in capsys.readouterr().err


def _console_script() -> str:
    found = shutil.which("resilience", path=str(Path(sys.executable).parent))
    assert found is not None, "the resilience console script is not installed in this venv"
    return found


@pytest.mark.parametrize(
    "command",
    [["list"], ["show", "demo"], ["validate", "demo"], ["resolve", "demo"], ["schema"]],
)
def test_installed_command_runs(command: list[str], tmp_path: Path) -> None:
    result = subprocess.run(
        [_console_script(), *command],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": "120"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert result.stderr == ""


def test_python_dash_m_matches_console_script(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "resilience", "show", "nope.toml"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 2
    assert "no such file 'nope.toml'" in result.stderr
    assert "Traceback" not in result.stderr


def test_extends_a_list_merges_a_shared_base_once(tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    base.write_text(Path(load_scenario("demo").files[0]).read_text())
    (tmp_path / "chips.toml").write_text(
        'extends = "base.toml"\n[nodes.tw_fab]\ncapacity_per_day = 150.0\n'
    )
    (tmp_path / "lng.toml").write_text(
        'extends = "base.toml"\n[nodes.qa_lng]\ncapacity_per_day = 50.0\n'
    )
    both = tmp_path / "both.toml"
    both.write_text('extends = ["chips.toml", "lng.toml"]\n[scenario]\nname = "both"\n')
    loaded = load_scenario(both)
    # Had base.toml been merged again after chips.toml, the fab's capacity would be reverted.
    assert loaded.scenario.nodes["tw_fab"].capacity_per_day == 150.0
    assert loaded.scenario.nodes["qa_lng"].capacity_per_day == 50.0
    assert loaded.files[0] == both
    assert len(loaded.files) == 4


def test_overlays_merge_in_order(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text("[policies]\nswitching_delay_days = 3\n")
    later = tmp_path / "later.toml"
    later.write_text("[policies]\nswitching_delay_days = 9\n")
    loaded = load_scenario("demo", overlays=[policy, later])
    assert loaded.scenario.policies.switching_delay_days == 9
    assert main(["resolve", "demo", "--overlay", str(policy)]) == 0
    assert "switching_delay_days = 3" in capsys.readouterr().out


ENGINE_MODULES = ("numba", "simpy", "pyarrow", "scipy")


@pytest.mark.parametrize(
    "command",
    [["list"], ["show", "demo"], ["validate", "demo"], ["resolve", "demo"], ["schema"]],
)
def test_file_commands_do_not_load_the_engines(command: list[str], tmp_path: Path) -> None:
    """Commands about files start fast because they never import numba, SimPy, pyarrow or scipy
    (their start-up time is measured in benchmarks/bench_startup.py, not here)."""
    probe = (
        "import sys\n"
        "from resilience.cli.main import main\n"
        f"code = main({command!r})\n"
        f"loaded = sorted(m for m in {ENGINE_MODULES!r} if m in sys.modules)\n"
        "print('LOADED', loaded, file=sys.stderr)\n"
        "raise SystemExit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "LOADED []" in result.stderr
