"""Shared fixtures: paths of the repository and its shipped scenarios."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture
def demo_path() -> Path:
    """The shipped demo scenario."""
    return SCENARIOS / "demo.toml"
