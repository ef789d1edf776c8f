"""Generated references match the code, and the model document covers what it must."""

from __future__ import annotations

from resilience.outputs.format_reference import network_markdown, scenario_format_markdown
from resilience.scenario.schema import Scenario

from .conftest import ROOT

DOCS = ROOT / "docs"


def test_scenario_format_reference_matches_the_schema() -> None:
    committed = (DOCS / "scenario-format.md").read_text(encoding="utf-8")
    assert committed == scenario_format_markdown(), (
        "docs/scenario-format.md is stale: run python -m resilience.outputs.format_reference docs/"
    )


def test_scenario_format_reference_documents_every_key() -> None:
    text = scenario_format_markdown()
    for name, info in Scenario.model_fields.items():
        assert f"[{info.alias or name}" in text or f"`{name}`" in text


def test_network_reference_matches_the_code() -> None:
    committed = (DOCS / "network.md").read_text(encoding="utf-8")
    assert committed == network_markdown(), (
        "docs/network.md is stale: run python -m resilience.outputs.format_reference docs/"
    )


def test_model_document_defines_phases_and_metrics() -> None:
    text = (DOCS / "model.md").read_text(encoding="utf-8").lower()
    for phase in (
        "disruption",
        "arrivals",
        "production",
        "demand",
        "order",
        "allocation",
        "shipping",
    ):
        assert phase in text
    for metric in ("fill rate", "shortfall", "days short", "time to recover", "time to survive",
                   "resilience-loss area", "cost", "var", "cvar"):  # fmt: skip
        assert metric in text, metric
