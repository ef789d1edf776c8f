"""``resilience report RUN_DIR``: one HTML file that answers the run's question.

It states the question (the scenario's description), the answer first (which consumers ran
short, how badly and how likely), the table, the plots (`resilience.runs.views`, drawn if not
there yet), the provenance from the manifest, and what the model leaves out. It is written to
``RUN_DIR/report.html`` under a temporary name and renamed into place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from resilience.analysis.summary import affected_consumers, share_short
from resilience.outputs.provenance import utc_timestamp
from resilience.outputs.report import Figure, render_report
from resilience.outputs.rundir import RunDirectoryError, open_output, write_text
from resilience.runs.views import plot_output

__all__ = ["CAVEATS", "write_report"]

CAVEATS = (
    "The model is fluid and daily: quantities are continuous and every phase happens once a "
    "day (docs/model.md); whole cargoes, vessels and berths need the SimPy engine's detailed "
    "mode.",
    "There are no prices or demand response: a shortage is met by stock, other sources and the "
    "policies only, never by buyers paying more or using less. Several historical events that "
    "hit through prices show no physical shortfall here (docs/scenarios.md).",
    "Unmet demand is lost, not backlogged, and each node has one stock cover.",
    "A partial restriction on a lane without a capacity limit scales what is ordered over it; "
    "the fix that caps it at a share of the normal flow is open work (issue 8).",
    "Results depend on the scenario's figures; docs/scenarios.md lists their sources and the "
    "assumptions marked C.",
)

_COLUMNS = (
    "consumer", "commodity", "% of demand short", "P(short) [95% CI]", "days short",
    "mean shortfall", "CVaR95 [95% CI]", "median TTS", "median TTR",
)  # fmt: skip

_CAPTIONS = {
    "service_bands.png": "Daily service (served / demand): the median day and the 5-95% band "
    "over replications, for the consumers ever short.",
    "exceedance.png": "Exceedance: the chance that a consumer's shortfall over the horizon "
    "exceeds each share of its demand.",
    "tts_ttr.png": "Time to survive and time to recover, over the replications with a shortfall.",
}


def write_report(directory: Path) -> Path:
    """Write ``directory/report.html`` for the finished run in ``directory``; return its path.

    Raises:
        RunDirectoryError: not a finished run (missing, incomplete, or another kind of output).
        PlotsUnavailableError: matplotlib is missing.
    """
    output = open_output(directory)
    if output.kind != "run":
        raise RunDirectoryError(f"{directory}: holds a {output.kind}; reports are made for runs")
    manifest = output.manifest
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    plotted = {path.name: path for path in plot_output(output) if path.suffix == ".png"}
    figures = [Figure(plotted[name], caption) for name, caption in _CAPTIONS.items()
               if name in plotted]  # fmt: skip
    affected = affected_consumers(summary)
    meta = manifest.get("resolved_scenario", {}).get("scenario", {})
    html = render_report(
        title=str(meta.get("name") or summary["scenario"]),
        question=meta.get("description") or "(the scenario has no description)",
        answer=_answer(summary, affected),
        columns=_COLUMNS,
        rows=[_row(entry) for entry in affected],
        unaffected=len(summary["consumers"]) - len(affected),
        figures=figures,
        provenance=_provenance(manifest),
        caveats=CAVEATS,
        replications=int(summary["replications"]),
        seed=int(summary["seed"]),
        made=utc_timestamp(),
        version=str(manifest.get("code", {}).get("version", "unknown")),
    )
    target = directory / "report.html"
    write_text(target, html)
    return target


def _answer(summary: dict[str, Any], affected: list[dict[str, Any]]) -> list[str]:
    n = int(summary["replications"])
    total = len(summary["consumers"])
    if not affected:
        return [f"No consumer ran short in any of the {n:,} replications."]
    lines = [f"{len(affected)} of {total} consumers ran short in some of the {n:,} replications."]
    for entry in affected[:3]:
        short = entry["p_short"]
        lines.append(
            f"{entry['consumer']} ({entry['commodity']}) loses {share_short(entry):.1%} of its "
            f"demand on average; it is short in {short['estimate']:.0%} of replications "
            f"(95% CI {short['ci_low']:.0%} to {short['ci_high']:.0%}), for "
            f"{entry['metrics']['days_short']['mean']:.0f} days on average."
        )
    return lines


def _row(entry: dict[str, Any]) -> list[str]:
    metrics, short = entry["metrics"], entry["p_short"]
    cvar_low, cvar_high = entry.get("tail_ci", {}).get("cvar95", (None, None))

    def median(name: str) -> str:
        return "-" if not metrics[name]["n"] else f"{metrics[name]['p50']:.0f}"

    cvar = f"{entry['tail']['cvar95']:,.4g}"
    if cvar_low is not None and cvar_high is not None:
        cvar += f" [{cvar_low:,.4g}, {cvar_high:,.4g}]"
    return [
        entry["consumer"],
        f"{entry['commodity']} ({entry['unit']})",
        f"{share_short(entry):.2%}",
        f"{short['estimate']:.1%} [{short['ci_low']:.1%}, {short['ci_high']:.1%}]",
        f"{metrics['days_short']['mean']:.1f}",
        f"{metrics['shortfall']['mean']:,.4g}",
        cvar,
        median("tts"),
        median("ttr"),
    ]


def _provenance(manifest: dict[str, Any]) -> list[tuple[str, str]]:
    code = manifest.get("code", {})
    revision = code.get("git_commit") or "not a git checkout"
    if code.get("git_dirty"):
        revision += " (with uncommitted changes)"
    versions = manifest.get("versions", {})
    return [
        ("command", " ".join(manifest.get("command_line", [])) or "-"),
        ("scenario files", ", ".join(manifest.get("scenario_files", [])) or "-"),
        ("overlays", ", ".join(manifest.get("overlays", [])) or "none"),
        ("overrides", ", ".join(manifest.get("overrides", [])) or "none"),
        ("scenario SHA-256", str(manifest.get("scenario_sha256", "-"))),
        ("seed", str(manifest.get("seed", "-"))),
        ("replications", f"{manifest.get('replications', 0):,}"),
        ("engine", str(manifest.get("engine", "kernel"))),
        ("started", str(manifest.get("started", "-"))),
        ("finished", str(manifest.get("finished", "-"))),
        ("code revision", f"{code.get('version', 'unknown')}, {revision}"),
        ("versions", ", ".join(f"{name} {version}" for name, version in versions.items())),
    ]
