"""A built wheel, installed in a fresh venv, finds the shipped scenarios by name."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from .conftest import ROOT, SCENARIOS


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, check=False)


@pytest.mark.slow
def test_wheel_ships_scenarios_and_the_command(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
        cwd=tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("resilience-*.whl")

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    installed = _run([str(python), "-m", "pip", "install", "--quiet", str(wheel)], cwd=tmp_path)
    assert installed.returncode == 0, installed.stderr

    where = _run(
        [str(python), "-c", "import resilience, kernels; print(resilience.__file__)"], tmp_path
    )
    assert where.returncode == 0, where.stderr
    assert str(env_dir) in where.stdout, "imported the checkout instead of the installed wheel"

    command = env_dir / "bin" / "resilience"
    listed = _run([str(command), "list"], cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for path in SCENARIOS.rglob("*.toml"):
        assert path.stem in listed.stdout
    shown = _run([str(command), "show", "demo"], cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "Consumer exposure" in shown.stdout
