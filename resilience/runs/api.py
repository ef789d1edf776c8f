"""The Python API for notebooks: run, compare and sweep scenarios, and read the results as tables.

    import resilience as rs
    result = rs.run("demo", replications=2000, overlays=["policies/jogmec-stockpiles"],
                    set={"scenario.seed": 7}, bands=True)
    result.summary          # pandas DataFrame: one row per consumer x metric
    result.replications     # one row per replication x consumer
    result.daily            # daily service bands (with bands=True)
    result.to_xarray()      # the replications as an xarray Dataset
    again = rs.load_run("runs/demo")

pandas and xarray come with the ``notebook`` extra (``pip install 'resilience[notebook]'``);
they are imported when a table is asked for. The numbers are the command line's: these functions
call the same run machinery (`resilience.runs.runner`, `compare`, `sweep`).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from resilience.errors import ResilienceError
from resilience.model.outcomes import CONSUMER_METRICS
from resilience.outputs.rundir import open_run
from resilience.scenario.loader import load_scenario

if TYPE_CHECKING:
    from resilience.engines.execution import Executor

__all__ = ["Result", "compare", "load_run", "run", "sweep"]

SUMMARY_COLUMNS = (
    "consumer", "commodity", "country", "unit", "metric", "n", "mean", "ci_low", "ci_high",
    "p5", "p50", "p95", "p99",
)  # fmt: skip


class NotebookExtraMissingError(ResilienceError):
    """pandas or xarray is not installed."""


def _pandas() -> Any:
    try:
        import pandas
    except ImportError:
        raise NotebookExtraMissingError(
            "tables need pandas: pip install 'resilience[notebook]'"
        ) from None
    return pandas


def _overrides(values: Mapping[str, object] | None) -> tuple[str, ...]:
    """``{"scenario.seed": 7}`` as ``("scenario.seed=7",)``, values written as TOML."""
    if not values:
        return ()
    import tomli_w

    return tuple(
        f"{path}={tomli_w.dumps({'v': value}).partition('=')[2].strip()}"
        for path, value in values.items()
    )


@dataclass(frozen=True)
class Result:
    """A run's summary (summary.json's content) and its per-replication outcomes.

    Attributes:
        raw: the summary as a dict, as summary.json holds it.
        outcomes: (replications, R, len(CONSUMER_METRICS)) float64.
        consumers: the consumer ids, in the order of the outcomes' second axis.
        manifest: the run's manifest (empty for a run that wrote no directory).
    """

    raw: dict[str, Any]
    outcomes: npt.NDArray[np.float64]
    consumers: tuple[str, ...]
    manifest: dict[str, Any]

    @property
    def summary(self) -> Any:
        """One row per consumer x metric: mean with its 95% interval and quantiles. P(short) and
        the shortfall's VaR and CVaR are rows too, with their intervals."""
        rows = []
        for entry in self.raw["consumers"]:
            ids = {key: entry[key] for key in ("consumer", "commodity", "country", "unit")}
            for metric, values in entry["metrics"].items():
                rows.append({**ids, "metric": metric, **values})
            short = entry["p_short"]
            rows.append({**ids, "metric": "p_short", "n": short["n"], "mean": short["estimate"],
                         "ci_low": short["ci_low"], "ci_high": short["ci_high"]})  # fmt: skip
            for name, value in entry["tail"].items():
                low, high = entry.get("tail_ci", {}).get(name, (np.nan, np.nan))
                rows.append({**ids, "metric": name, "n": short["n"], "mean": value,
                             "ci_low": low, "ci_high": high})  # fmt: skip
        frame = _pandas().DataFrame(rows, columns=list(SUMMARY_COLUMNS))
        return frame.astype({"n": "int64"})

    @property
    def replications(self) -> Any:
        """One row per replication x consumer, every metric a column (replications.parquet)."""
        n, r, _ = self.outcomes.shape
        columns: dict[str, Any] = {
            "replication": np.repeat(np.arange(n), r),
            "consumer": np.tile(np.array(self.consumers, dtype=object), n),
        }
        flat = self.outcomes.reshape(n * r, len(CONSUMER_METRICS))
        for i, name in enumerate(CONSUMER_METRICS):
            columns[name] = flat[:, i]
        return _pandas().DataFrame(columns)

    @property
    def daily(self) -> Any:
        """Daily service bands: one row per consumer x day with p5, p50 and p95 of served/demand.

        Raises:
            ResilienceError: the run was made without bands.
        """
        entries = [e for e in self.raw["consumers"] if "daily_service_bands" in e]
        if not entries:
            raise ResilienceError("this run has no daily bands: run it with bands=True (--bands)")
        rows = [
            {"consumer": e["consumer"], "day": day, **{q: e["daily_service_bands"][q][day]
                                                      for q in ("p5", "p50", "p95")}}
            for e in entries
            for day in range(len(e["daily_service_bands"]["p50"]))
        ]  # fmt: skip
        return _pandas().DataFrame(rows)

    def to_xarray(self) -> Any:
        """The per-replication outcomes as an xarray Dataset: one variable per metric, with
        dimensions (replication, consumer), and the run's seed and scenario as attributes."""
        try:
            import xarray
        except ImportError:
            raise NotebookExtraMissingError(
                "to_xarray needs xarray: pip install 'resilience[notebook]'"
            ) from None
        n = self.outcomes.shape[0]
        coords = {"replication": np.arange(n), "consumer": list(self.consumers)}
        variables = {
            name: (("replication", "consumer"), self.outcomes[:, :, i])
            for i, name in enumerate(CONSUMER_METRICS)
        }
        attrs = {"scenario": self.raw.get("scenario", ""), "seed": self.raw.get("seed", 0)}
        return xarray.Dataset(variables, coords=coords, attrs=attrs)


def run(
    scenario: str | Path,
    *,
    replications: int | None = None,
    seed: int | None = None,
    overlays: Sequence[str | Path] = (),
    set: Mapping[str, object] | None = None,
    bands: bool = False,
    out: str | Path | None = None,
    overwrite: bool = False,
    threads: int | None = None,
    executor: Executor | None = None,
) -> Result:
    """Run a scenario (a path or a shipped name) as `resilience run` does, and return a `Result`.

    ``set`` maps key paths to values (``{"nodes.jp_lng.inventory.target_days": 30}``); with
    ``out``, the run directory is written too. ``executor`` runs the batches elsewhere, e.g. a
    `resilience.engines.dask_executor.DaskExecutor` on a Dask client (docs/scale-out.md).
    """
    from resilience.runs.runner import RunSettings, run_scenario

    loaded = load_scenario(scenario, _overrides(set), tuple(str(item) for item in overlays))
    settings = RunSettings(
        replications=replications,
        seed=seed,
        bands=bands,
        out=None if out is None else Path(out),
        overwrite=overwrite,
        keep_rows=True,  # the Result holds every replication's outcomes
    )
    if threads:
        settings = dataclasses.replace(settings, threads=threads)
    result = run_scenario(loaded, settings, executor=executor)
    network = result.network
    manifest = open_run(Path(out)) if out is not None else {}
    return Result(
        result.summary,
        result.accumulator.consumer.copy(),
        tuple(network.node_ids[node] for node in network.consumers),
        manifest,
    )


def load_run(directory: str | Path) -> Result:
    """Reopen a run directory written by `resilience run` (or `run(out=...)`).

    Raises:
        RunDirectoryError: missing, not a run, or incomplete.
    """
    import pyarrow.csv as pa_csv
    import pyarrow.parquet as pq

    path = Path(directory)
    manifest = open_run(path)
    raw = json.loads((path / "summary.json").read_text(encoding="utf-8"))
    parquet, csv = path / "replications.parquet", path / "replications.csv"
    table = pq.read_table(parquet) if parquet.exists() else pa_csv.read_csv(csv)
    consumers = tuple(entry["consumer"] for entry in raw["consumers"])
    n = int(raw["replications"])
    outcomes = np.empty((n, len(consumers), len(CONSUMER_METRICS)))
    for i, name in enumerate(CONSUMER_METRICS):
        outcomes[:, :, i] = table.column(name).to_numpy().reshape(n, len(consumers))
    return Result(raw, outcomes, consumers, manifest)


def compare(
    base: str | Path,
    *alternatives: str | Path,
    overlays: Sequence[str | Path] = (),
    set: Mapping[str, object] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
) -> Any:
    """`resilience compare` as a DataFrame: one row per alternative x consumer x statistic with
    base, alternative, difference and its paired and unpaired 95% intervals."""
    from resilience.runs.compare import CompareSettings, compare_scenarios

    overrides = _overrides(set)
    variants = [(str(name), load_scenario(name, overrides)) for name in alternatives]
    variants += [(f"+{name}", load_scenario(base, overrides, (str(name),))) for name in overlays]
    if not variants:
        raise ResilienceError("compare needs at least one alternative or overlay")
    comparison = compare_scenarios(
        load_scenario(base, overrides),
        variants,
        CompareSettings(replications=replications, seed=seed),
        executor=executor,
    )
    rows = [
        {"alternative": alt.label, "consumer": consumer.consumer,
         "commodity": consumer.commodity, **vars(difference)}
        for alt in comparison.alternatives
        for consumer in alt.consumers
        for difference in consumer.differences
    ]  # fmt: skip
    return _pandas().DataFrame(rows)


def sweep(
    scenario: str | Path,
    levers: Mapping[str, Sequence[object]],
    *,
    overlays: Sequence[str | Path] = (),
    set: Mapping[str, object] | None = None,
    replications: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
) -> Any:
    """`resilience sweep` over the grid of ``levers`` ({path: [values]}) as a DataFrame: one row
    per design point x consumer with the annual cost and the risk measures."""
    from resilience.analysis.design import Lever, grid
    from resilience.runs.sweep import SweepSettings, run_sweep

    grid_levers = [
        Lever(path, tuple(_overrides({path: value})[0].partition("=")[2] for value in values))
        for path, values in levers.items()
    ]
    result = run_sweep(
        str(scenario),
        grid(grid_levers),
        SweepSettings(replications=replications, seed=seed),
        overlays=tuple(str(item) for item in overlays),
        overrides=_overrides(set),
        executor=executor,
    )
    return _pandas().DataFrame(result.rows)
