"""The shipped scenario library: every file validates and runs, and the documented numbers hold.

docs/scenarios.md quotes headline results of the library (shortfall as a share of the year's
demand, and days short). They are kept in one place, `HEADLINES`, checked here against the engine
(fixed seeds, `REPLICATIONS` replications, tolerances `TOL_PCT` and `TOL_DAYS`) and checked to
appear in docs/scenarios.md exactly as written, so the documentation cannot drift from the engine.
"""

from __future__ import annotations

import itertools
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from resilience.model.outcomes import metric_index
from resilience.runs.runner import RunResult, RunSettings, run_scenario
from resilience.scenario.loader import LoadedScenario, load_scenario

from .conftest import ROOT, SCENARIOS

DOC = ROOT / "docs" / "scenarios.md"
FILES = sorted(SCENARIOS.rglob("*.toml"))
DISRUPTIONS = sorted((SCENARIOS / "disruptions").glob("*.toml"))
POLICIES = sorted((SCENARIOS / "policies").glob("*.toml"))
BASELINES = [SCENARIOS / "baseline.toml", *sorted((SCENARIOS / "baseline").glob("*.toml"))]

SEED = 7
"""Seed for the smoke runs (the headline runs use each scenario's own seed)."""

REPLICATIONS = 400
"""Replications of each headline run. With them the 95% interval of a mean shortfall share is
under 0.1 percentage point and that of mean days short under 2 days, well inside the tolerances."""

TOL_PCT = 0.5
"""Tolerance on a shortfall share, percentage points of the year's demand."""

TOL_DAYS = 5.0
"""Tolerance on mean days short."""

SHORTFALL, DEMAND, FILL, DAYS = (
    metric_index(name) for name in ("shortfall", "demand", "fill_rate", "days_short")
)

RUNS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    # label: (scenario, overlays, --set overrides)
    "baseline": ("baseline", (), ()),
    "taiwan-blockade": ("disruptions/taiwan-blockade", (), ()),
    "taiwan-blockade + us-japan-technology-prosperity-deal": (
        "disruptions/taiwan-blockade",
        ("policies/us-japan-technology-prosperity-deal",),
        (),
    ),
    "taiwan-quarantine": ("disruptions/taiwan-quarantine", (), ()),
    "china-rare-earth-controls-2025": ("disruptions/china-rare-earth-controls-2025", (), ()),
    "gallium-germanium-licensing-2023": ("disruptions/gallium-germanium-licensing-2023", (), ()),
    "gallium-germanium-licensing-2023 + friend-shoring-australia": (
        "disruptions/gallium-germanium-licensing-2023",
        ("policies/friend-shoring-australia",),
        (),
    ),
    "rare-earth-embargo-japan-2010": ("disruptions/rare-earth-embargo-japan-2010", (), ()),
    "drc-cobalt-ban-2025": ("disruptions/drc-cobalt-ban-2025", (), ()),
    "drc-cobalt-ban-2025 + korea-stockpiles": (
        "disruptions/drc-cobalt-ban-2025",
        ("policies/korea-stockpiles",),
        (),
    ),
    "hormuz-closure-2026": ("disruptions/hormuz-closure-2026", (), ()),
    "freeport-lng-2022": ("disruptions/freeport-lng-2022", (), ()),
    "gorgon-wheatstone-strikes-2023": ("disruptions/gorgon-wheatstone-strikes-2023", (), ()),
    "panama-drought-2023": ("disruptions/panama-drought-2023", (), ()),
    "red-sea-closure-2024": ("disruptions/red-sea-closure-2024", (), ()),
    "nankai-trough-earthquake": ("disruptions/nankai-trough-earthquake", (), ()),
    "renesas-naka-fire-2021": ("disruptions/renesas-naka-fire-2021", (), ()),
    "renesas-naka-fire-2021, no fire": (
        "disruptions/renesas-naka-fire-2021",
        (),
        ("disruptions.fire.probability=0.0",),
    ),
    "malaysia-lockdown-2021": ("disruptions/malaysia-lockdown-2021", (), ()),
    "malaysia-lockdown-2021, no lockdown": (
        "disruptions/malaysia-lockdown-2021",
        (),
        (
            "disruptions.atp_workforce.probability=0.0",
            "disruptions.auto_atp_workforce.probability=0.0",
        ),
    ),
}

# label -> consumer -> (shortfall, % of the year's demand; mean days short). docs/scenarios.md
# quotes each as a table row "| label | `consumer` | 12.3% | 45 |".
HEADLINES: dict[str, dict[str, tuple[float, float]]] = {
    "baseline": {"us_chips": (0.0, 0), "us_adv": (0.0, 0), "jp_lng": (0.0, 0)},
    "taiwan-blockade": {
        "us_adv": (20.4, 136),
        "jp_adv": (20.4, 136),
        "tw_adv": (5.8, 35),
        "us_chips": (0.0, 0),
        "tw_chips": (20.0, 87),
        "jp_auto": (1.3, 23),
        "tw_lng": (50.3, 197),
    },
    "taiwan-blockade + us-japan-technology-prosperity-deal": {
        "us_adv": (4.7, 58),
        "tw_adv": (4.3, 23),
    },
    "taiwan-quarantine": {"tw_lng": (10.3, 82), "us_adv": (0.0, 0)},
    "china-rare-earth-controls-2025": {
        "eu_magnets": (16.2, 119),
        "us_magnets": (16.3, 123),
        "jp_magnets": (0.0, 0),
        "kr_magnets": (0.0, 0),
    },
    "gallium-germanium-licensing-2023": {
        "us_ga": (4.2, 45),
        "us_ge": (0.0, 0),
        "jp_ga": (0.0, 0),
        "us_chips": (0.0, 0),
    },
    "gallium-germanium-licensing-2023 + friend-shoring-australia": {"us_ga": (0.0, 0)},
    "rare-earth-embargo-japan-2010": {"jp_magnets": (0.0, 0)},
    "drc-cobalt-ban-2025": {"us_co": (6.9, 150), "kr_co": (1.4, 31), "jp_co": (0.5, 12)},
    "drc-cobalt-ban-2025 + korea-stockpiles": {"kr_co": (0.0, 0)},
    "hormuz-closure-2026": {
        "in_lng": (11.5, 119),
        "kr_lng": (0.0, 0),
        "tw_lng": (0.0, 0),
        "jp_lng": (0.0, 0),
        "cn_lng": (0.1, 3),
    },
    "freeport-lng-2022": {"eu_lng": (0.0, 0), "jp_lng": (0.0, 0)},
    "gorgon-wheatstone-strikes-2023": {"jp_lng": (0.0, 0)},
    "panama-drought-2023": {"jp_lng": (0.0, 0)},
    "red-sea-closure-2024": {"eu_magnets": (0.0, 0), "eu_lng": (0.0, 0)},
    "nankai-trough-earthquake": {"jp_chips": (0.0, 0), "jp_auto": (0.0, 0), "jp_lng": (0.0, 0)},
    "renesas-naka-fire-2021": {"jp_auto": (4.7, 171)},
    "renesas-naka-fire-2021, no fire": {"jp_auto": (4.0, 153)},
    "malaysia-lockdown-2021": {"us_chips": (0.0, 0), "us_auto": (6.5, 202)},
    "malaysia-lockdown-2021, no lockdown": {"us_chips": (0.0, 0), "us_auto": (4.0, 152)},
}


def _name(path: Path) -> str:
    return path.relative_to(SCENARIOS).with_suffix("").as_posix()


def _load(
    target: str, overlays: tuple[str, ...] = (), sets: tuple[str, ...] = ()
) -> LoadedScenario:
    return load_scenario(target, overrides=list(sets), overlays=list(overlays))


def _run(loaded: LoadedScenario, replications: int, seed: int | None = SEED) -> RunResult:
    return run_scenario(loaded, RunSettings(replications=replications, seed=seed, threads=2))


def _check_sane(result: RunResult) -> None:
    """Every replication's outcome is a possible one."""
    table = result.accumulator.consumer  # (replications, consumers, metrics)
    fill = table[:, :, FILL]
    assert np.all((fill >= 0.0) & (fill <= 1.0))
    demand, shortfall = table[:, :, DEMAND], table[:, :, SHORTFALL]
    assert np.all(np.isfinite(demand))
    assert np.all(demand >= 0.0)
    assert np.all(shortfall >= -1e-9 * np.maximum(1.0, demand))
    assert np.all(shortfall <= demand * (1 + 1e-9) + 1e-9)


@cache
def _headline_run(label: str) -> dict[str, tuple[float, float]]:
    """Mean shortfall (% of demand) and mean days short per consumer, for one labelled run."""
    target, overlays, sets = RUNS[label]
    result = _run(_load(target, overlays, sets), REPLICATIONS, seed=None)
    _check_sane(result)
    table = result.accumulator.consumer
    out = {}
    network = result.network
    for row, node in enumerate(network.consumers):
        consumer = network.node_ids[int(node)]
        demand = float(table[:, row, DEMAND].mean())
        pct = 100.0 * float(table[:, row, SHORTFALL].mean()) / demand if demand > 0 else 0.0
        out[consumer] = (pct, float(table[:, row, DAYS].mean()))
    return out


# ---------------------------------------------------------------------------------------------
# Every file validates, alone and (policies) over every disruption.


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_every_shipped_file_validates(path: Path) -> None:
    loaded = load_scenario(path)
    assert loaded.scenario.nodes
    # A name works as well as a path (the catalog finds shipped files by name).
    assert load_scenario(_name(path)).digest == loaded.digest


def test_library_has_what_the_issue_asks_for() -> None:
    assert len(DISRUPTIONS) >= 14
    assert len(POLICIES) >= 7
    assert all(path.is_file() for path in BASELINES)


@cache
def _disruption(path: Path) -> LoadedScenario:
    return load_scenario(path)


@pytest.mark.parametrize("policy", POLICIES, ids=_name)
def test_policy_validates_and_runs_over_every_disruption(policy: Path) -> None:
    for disruption in DISRUPTIONS:
        loaded = load_scenario(disruption, overlays=[policy])
        alone = _disruption(disruption).scenario
        # The overlay keeps the disruption's name and all its disruptions.
        assert loaded.scenario.scenario.name == alone.scenario.name
        assert set(alone.disruptions) <= set(loaded.scenario.disruptions)
        _check_sane(_run(loaded, replications=8))


def test_policies_validate_stacked() -> None:
    for first, second in itertools.combinations(POLICIES, 2):
        load_scenario(DISRUPTIONS[0], overlays=[first, second])


# ---------------------------------------------------------------------------------------------
# Every file runs, with sane results.


@pytest.mark.parametrize("path", FILES, ids=_name)
def test_every_shipped_file_runs(path: Path) -> None:
    result = _run(load_scenario(path), replications=32)
    _check_sane(result)


@pytest.mark.parametrize("path", BASELINES, ids=_name)
def test_undisrupted_baseline_has_no_shortfall(path: Path) -> None:
    result = _run(load_scenario(path), replications=200)
    table = result.accumulator.consumer
    total_short = table[:, :, SHORTFALL].sum(axis=0)
    total_demand = table[:, :, DEMAND].sum(axis=0)
    worst = float(np.max(total_short / total_demand))
    assert worst < 1e-6, f"the baseline is not balanced: worst shortfall share {worst:.2e}"


# ---------------------------------------------------------------------------------------------
# The numbers docs/scenarios.md quotes.

HEADLINE_ROWS = [
    (label, consumer, pct, days)
    for label, rows in HEADLINES.items()
    for consumer, (pct, days) in rows.items()
]


def test_every_headline_run_is_defined() -> None:
    assert set(HEADLINES) <= set(RUNS)


@pytest.mark.parametrize(
    ("label", "consumer", "pct", "days"),
    HEADLINE_ROWS,
    ids=[f"{label}:{consumer}" for label, consumer, _, _ in HEADLINE_ROWS],
)
def test_engine_reproduces_the_documented_numbers(
    label: str, consumer: str, pct: float, days: float
) -> None:
    got_pct, got_days = _headline_run(label)[consumer]
    assert math.isclose(got_pct, pct, abs_tol=TOL_PCT), (
        f"{label}, {consumer}: the engine gives {got_pct:.2f}% short, the docs say {pct:.1f}%"
    )
    assert math.isclose(got_days, days, abs_tol=TOL_DAYS), (
        f"{label}, {consumer}: the engine gives {got_days:.1f} days short, the docs say {days:.0f}"
    )


@pytest.mark.parametrize(
    ("label", "consumer", "pct", "days"),
    HEADLINE_ROWS,
    ids=[f"{label}:{consumer}" for label, consumer, _, _ in HEADLINE_ROWS],
)
def test_docs_quote_the_numbers_as_written(
    label: str, consumer: str, pct: float, days: float
) -> None:
    row = f"| {label} | `{consumer}` | {pct:.1f}% | {days:.0f} |"
    assert row in DOC.read_text("utf-8"), f"docs/scenarios.md lacks the row {row!r}"


def test_docs_list_every_shipped_file() -> None:
    text = DOC.read_text("utf-8")
    missing = [_name(path) for path in FILES if f"`{_name(path)}`" not in text]
    assert not missing, f"docs/scenarios.md does not list {missing}"
