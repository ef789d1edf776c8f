"""``resilience trace`` and ``resilience run --engine des``, called as a user calls them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
import pytest

from resilience.cli.main import main
from resilience.engines.des import TRACE_COLUMNS, DesModel, Layout
from resilience.engines.des.trace import EVENTS
from resilience.model.outcomes import CONSUMER_METRICS, metric_index
from resilience.network.compiler import compile_network
from resilience.scenario.loader import load_scenario

# Detail on the demo: the Qatar-Japan LNG lane on whole cargoes, slots at Hormuz (on its way).
DETAIL = """
[lanes.qa_jp_lng.vessels]
cargo_size = 70.0
fleet = 8

[chokepoints.hormuz.slots]
per_day = 4.0

[nodes.jp_lng.berths]
count = 2
"""


def _replications(directory: Path) -> np.ndarray:
    table = pq.read_table(directory / "replications.parquet")
    return np.column_stack([table.column(name).to_numpy() for name in CONSUMER_METRICS])


def test_run_on_the_des_writes_the_kernels_files_and_numbers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kernel, des = tmp_path / "kernel", tmp_path / "des"
    assert main(["run", "demo", "-n", "3", "--out", str(kernel)]) == 0
    assert main(["run", "demo", "-n", "3", "--engine", "des", "--out", str(des)]) == 0
    assert "demo: 3 replications" in capsys.readouterr().out
    assert {p.name for p in des.iterdir()} == {p.name for p in kernel.iterdir()}
    manifests = [json.loads((d / "manifest.json").read_text()) for d in (kernel, des)]
    assert manifests[0]["engine"] == "kernel"
    assert manifests[1]["engine"] == "des"
    assert manifests[1]["des_mode"] == "fluid"
    assert manifests[0]["files"] == manifests[1]["files"]
    a, b = _replications(kernel), _replications(des)
    np.testing.assert_array_equal(np.isnan(a), np.isnan(b))
    scale = np.maximum(1.0, np.maximum(np.abs(np.nan_to_num(a)), np.abs(np.nan_to_num(b))))
    assert np.max(np.abs(np.nan_to_num(a) - np.nan_to_num(b)) / scale) <= 1e-9


def test_run_on_the_des_in_detailed_mode_and_csv(tmp_path: Path) -> None:
    overlay = tmp_path / "detail.toml"
    overlay.write_text(DETAIL)
    out = tmp_path / "run"
    code = main(["run", "demo", "-n", "2", "--engine", "des", "--overlay", str(overlay),
                 "--format", "csv", "--bands", "--out", str(out)])  # fmt: skip
    assert code == 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["des_mode"] == "detailed"
    assert manifest["files"] == ["replications.csv", "summary.json"]
    assert pa_csv.read_csv(out / "replications.csv").num_rows == 2 * 5
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["consumers"][0]["daily_service_bands"]["p50"]) == 365


def test_the_kernel_says_it_ignores_the_detail(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    overlay = tmp_path / "detail.toml"
    overlay.write_text(DETAIL)
    assert main(["run", "demo", "-n", "32", "--overlay", str(overlay)]) == 0
    assert "read only by --engine des" in capsys.readouterr().err


def test_trace_writes_the_event_log_as_parquet_and_csv(tmp_path: Path) -> None:
    out = tmp_path / "trace"
    assert main(["trace", "demo", "--replication", "1", "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {
        ".resilience",  # marks the directory as a trace's (resilience.outputs.directory)
        "trace.parquet",
        "trace.csv",
        "manifest.json",
    }
    table = pq.read_table(out / "trace.parquet")
    assert tuple(table.schema.names) == TRACE_COLUMNS
    csv = pa_csv.read_csv(out / "trace.csv")
    assert csv.num_rows == table.num_rows > 0
    assert set(table.column("event").to_pylist()) <= set(EVENTS)
    times = table.column("time").to_numpy()
    assert (np.diff(times) >= 0).all()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replication"] == 1
    assert manifest["events_logged"] == table.num_rows

    # The log adds up to the replication's metrics.
    network = compile_network(load_scenario("demo").scenario)
    outcome = DesModel(Layout.build(network), 1).run()
    events = table.column("event").to_pylist()
    nodes = table.column("node").to_pylist()
    quantity = table.column("quantity").to_numpy()
    for r, node in enumerate(network.consumers):
        name = network.node_ids[node]
        rows = [i for i, (e, n) in enumerate(zip(events, nodes, strict=True)) if n == name]
        demand = sum(quantity[i] for i in rows if events[i] == "demand")
        short = sum(quantity[i] for i in rows if events[i] == "shortfall")
        assert demand == pytest.approx(outcome.consumer[r, metric_index("demand")], rel=1e-12)
        assert short == pytest.approx(
            outcome.consumer[r, metric_index("shortfall")], rel=1e-9, abs=1e-9
        )


def test_trace_in_detailed_mode_follows_cargoes(tmp_path: Path) -> None:
    overlay = tmp_path / "detail.toml"
    overlay.write_text(DETAIL)
    out = tmp_path / "trace"
    assert main(["trace", "demo", "--overlay", str(overlay), "--out", str(out)]) == 0
    table = pq.read_table(out / "trace.parquet")
    events = set(table.column("event").to_pylist())
    assert {"cargo", "sail", "queue", "transit", "berth", "deliver", "ballast"} <= events
    cargo = [
        q
        for e, q in zip(table.column("event").to_pylist(), table.column("quantity").to_pylist(),
                        strict=True)
        if e == "cargo"
    ]  # fmt: skip
    assert cargo
    assert all(q == 70.0 for q in cargo)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["trace", "no-such-scenario", "--out", "x"], "no-such-scenario"),
        (["trace", "demo", "--set", "lanes.qa_jp_lng.vessels.fleet=0", "--out", "x"], "fleet"),
        (["trace", "demo", "--replication", "-1", "--out", "x"], "replication"),
        (["trace", "demo"], "--out"),
        (["run", "demo", "--engine", "simpy"], "engine"),
    ],
)
def test_bad_input_exits_2_with_a_message(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [str(tmp_path / "x") if item == "x" else item for item in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "x" / "manifest.json").exists()
