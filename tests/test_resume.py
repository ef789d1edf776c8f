"""Resumable runs, as a user meets them: killed (kill -9), interrupted (Ctrl-C), resumed.

The reference for every comparison is an uninterrupted run of the same command, made by the
same code: a resumed run must give the same summary.json and replications table byte for byte
(docs/decisions.md, "Memory and resumable runs"). The batch at which a run is killed is drawn
from a seeded generator, and the test waits until the checkpoint lists that many finished
batches, so the kill lands mid-run (the test checks the run had not finished).
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from resilience.analysis.summary import RunAccumulator
from resilience.engines.execution import LocalExecutor, plan_batches
from resilience.model.outcomes import CONSUMER_METRICS
from resilience.network.compiler import compile_network
from resilience.outputs import replications
from resilience.outputs.columns import ColumnFiles
from resilience.outputs.directory import CHECKPOINT_DIR
from resilience.outputs.replications import ReplicationsWriter, replications_table
from resilience.scenario.loader import load_scenario

from .test_run_directories import refused, resilience, start, visible

RUN = ("demo", "-n", "20000", "--batch-size", "64", "--seed", "5")
"""Many small batches (313 of 64 replications; two row groups in the table), a few seconds."""
BATCHES = 313
RESULTS = ("summary.json", "replications.parquet")


def checkpoint(out: Path) -> dict[str, object]:
    """The checkpoint as last written (empty while there is none yet)."""
    try:
        return dict(json.loads((out / CHECKPOINT_DIR / "checkpoint.json").read_text()))
    except (OSError, ValueError):
        return {}


def wait_for_batches(out: Path, batches: int, process: subprocess.Popen[str]) -> int:
    """Wait until the checkpoint lists at least ``batches`` finished batches; return them."""
    deadline = time.monotonic() + 120
    while True:
        done = int(str(checkpoint(out).get("batches", 0)))
        if done >= batches:
            return done
        assert process.poll() is None, "the run ended before the checkpoint got that far"
        assert time.monotonic() < deadline, "the checkpoint never got that far"
        time.sleep(0.005)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference: the same run, never stopped."""
    return _reference(tmp_path_factory, ())


BANDS_CSV = ("--bands", "--format", "csv")
"""The other kind of run: daily bands (a histogram in the checkpoint) and a CSV table."""


@pytest.fixture(scope="module")
def uninterrupted_bands_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _reference(tmp_path_factory, BANDS_CSV)


def _reference(factory: pytest.TempPathFactory, extra: tuple[str, ...]) -> Path:
    out = factory.mktemp("reference") / "run"
    result = resilience("run", *RUN, *extra, "--out", str(out), cwd=out.parent)
    assert result.returncode == 0, result.stderr
    return out


def assert_same_results(out: Path, reference: Path, results: tuple[str, ...] = RESULTS) -> None:
    for name in results:
        assert (out / name).read_bytes() == (reference / name).read_bytes(), name
    assert not (out / CHECKPOINT_DIR).exists()  # a finished run keeps no checkpoint
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 20000
    assert manifest["resumed"], "the manifest says the run was resumed"


def test_a_run_killed_at_a_random_batch_resumes_bit_for_bit(
    tmp_path: Path, uninterrupted: Path
) -> None:
    """kill -9 after k finished batches (k drawn with seed 12), then `resilience resume`."""
    k = int(np.random.default_rng(12).integers(10, BATCHES // 2))
    out = tmp_path / "run"
    process = start("run", *RUN, "--out", str(out), cwd=tmp_path)
    reached = wait_for_batches(out, k, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert visible(out) == set()  # nothing that looks like a result
    assert reached < BATCHES
    resumed = resilience("resume", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "demo: 20,000 replications" in resumed.stdout
    assert_same_results(out, uninterrupted)
    done = json.loads((out / "manifest.json").read_text())["resumed"][0]["done"]
    assert done >= k * 64
    assert done % 64 == 0


def test_a_run_with_bands_and_csv_killed_at_a_random_batch_resumes_bit_for_bit(
    tmp_path: Path, uninterrupted_bands_csv: Path
) -> None:
    """As above with --bands (the histogram is checkpointed at most every 2 s, so the resumed
    run redoes some batches) and --format csv; k drawn with seed 13."""
    k = int(np.random.default_rng(13).integers(10, BATCHES // 2))
    out = tmp_path / "run"
    process = start("run", *RUN, *BANDS_CSV, "--out", str(out), cwd=tmp_path)
    wait_for_batches(out, k, process)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=60)
    assert not (out / "manifest.json").exists()
    resumed = resilience("resume", str(out), cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_results(out, uninterrupted_bands_csv, ("summary.json", "replications.csv"))
    summary = json.loads((out / "summary.json").read_text())
    assert len(summary["consumers"][0]["daily_service_bands"]["p50"]) == 365


def test_ctrl_c_then_the_same_command_with_resume(tmp_path: Path, uninterrupted: Path) -> None:
    """SIGINT after 40 batches: exit 130 with how to resume; `run ... --resume` finishes it."""
    out = tmp_path / "run"
    process = start("run", *RUN, "--out", str(out), cwd=tmp_path)
    wait_for_batches(out, 40, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert f"`resilience resume {out}`" in stderr
    assert "Traceback" not in stderr
    assert {path.name for path in out.iterdir()} == {".resilience", CHECKPOINT_DIR}
    resumed = resilience("run", *RUN, "--out", str(out), "--resume", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_results(out, uninterrupted)


@pytest.fixture
def interrupted(tmp_path: Path) -> Path:
    """A run stopped by Ctrl-C after 20 batches."""
    out = tmp_path / "run"
    process = start("run", *RUN, "--out", str(out), cwd=tmp_path)
    wait_for_batches(out, 20, process)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    return out


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("--seed", "6"), "seed: 5 there, 6 now"),
        (("-n", "30000"), "replications: 20000 there, 30000 now"),
        (("--batch-size", "128"), "batch size: 64 there, 128 now"),
        (("--set", "scenario.horizon_days=300"), "scenario (resolved, SHA-256)"),
    ],
)
def test_resuming_with_other_settings_is_refused(
    interrupted: Path, change: tuple[str, ...], message: str
) -> None:
    """The later option wins in click, so appending the change gives the changed command."""
    before = checkpoint(interrupted)
    result = resilience("run", *RUN, *change, "--out", str(interrupted), "--resume",
                        cwd=interrupted.parent)  # fmt: skip
    refused(result, f"{interrupted}: holds a run made with other settings", message)
    assert checkpoint(interrupted) == before  # nothing was touched
    assert not (interrupted / "manifest.json").exists()


def test_resuming_on_other_code_is_refused(interrupted: Path) -> None:
    """A checkpoint made by another code revision (its record edited to say so) is refused by
    both `run --resume` and `resume`."""
    path = interrupted / CHECKPOINT_DIR / "checkpoint.json"
    record = json.loads(path.read_text())
    record["identity"]["code"] = {"version": "0.0.1", "git_commit": "0" * 40, "git_dirty": False}
    path.write_text(json.dumps(record))
    for command in (("run", *RUN, "--out", str(interrupted), "--resume"),
                    ("resume", str(interrupted))):  # fmt: skip
        refused(resilience(*command, cwd=interrupted.parent), "code revision: 0.0.1",
                "resume it with the code that started it")  # fmt: skip


def test_a_finished_run_is_already_complete(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = resilience("run", "demo", "-n", "64", "--out", str(out), cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    files = {name: (out / name).read_bytes() for name in ("manifest.json", *RESULTS)}
    for command in (("run", "demo", "-n", "64", "--out", str(out), "--resume"),
                    ("resume", str(out))):  # fmt: skip
        result = resilience(*command, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "the run is already complete (manifest.json); nothing to resume" in result.stderr
    assert {name: (out / name).read_bytes() for name in files} == files
    # A finished run with other settings is not "complete" for this command: refused.
    other = resilience("run", "demo", "-n", "65", "--out", str(out), "--resume", cwd=tmp_path)
    refused(other, "replications: 64 there, 65 now")


def test_resume_options_that_cannot_work(tmp_path: Path) -> None:
    refused(resilience("run", "demo", "--resume", cwd=tmp_path), "--resume needs --out")
    both = resilience("run", "demo", "--resume", "--overwrite", "--out", str(tmp_path / "x"),
                      cwd=tmp_path)  # fmt: skip
    refused(both, "--overwrite and --resume contradict each other")
    refused(resilience("resume", str(tmp_path / "missing"), cwd=tmp_path), "no such directory")
    (tmp_path / "empty").mkdir()
    refused(resilience("resume", str(tmp_path / "empty"), cwd=tmp_path),
            "holds no checkpoint to resume from")  # fmt: skip


def test_an_interrupted_run_is_not_replaced_by_accident(interrupted: Path) -> None:
    """Without --resume or --overwrite, the interrupted run is kept and the message says how
    to finish it."""
    result = resilience("run", *RUN, "--out", str(interrupted), cwd=interrupted.parent)
    refused(result, "holds an interrupted run; add --resume to finish it, or --overwrite")
    assert int(str(checkpoint(interrupted)["batches"])) >= 20


def test_resume_with_nothing_to_resume_runs_from_the_start(tmp_path: Path) -> None:
    """`run --resume` into a new directory is a plain run (a retry loop can always add it)."""
    out = tmp_path / "run"
    result = resilience("run", "demo", "-n", "64", "--out", str(out), "--resume", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads((out / "manifest.json").read_text())["replications"] == 64


# ---- in-process: the streamed summary and table against the in-memory ones ------------------


def test_streamed_summary_equals_the_in_memory_one_bit_for_bit(tmp_path: Path) -> None:
    """The summary read column by column from the column files equals the one computed on the
    rows held in memory (the code before rows were streamed), exactly, with bands."""
    network = compile_network(load_scenario("demo").scenario)
    columns = ColumnFiles(tmp_path / "columns", len(network.consumers))
    columns.create()
    memory = RunAccumulator(network, 700, bands=True, seed=3)
    streamed = RunAccumulator(network, 700, bands=True, seed=3, keep_rows=False, sink=columns)
    for batch in LocalExecutor().run(network, plan_batches(700, 96), seed=3, daily=True):
        memory.add(batch)
        streamed.add(batch)
    assert json.dumps(streamed.summary()) == json.dumps(memory.summary())
    np.testing.assert_array_equal(columns.consumer_rows(0, 700), memory.consumer)


def test_row_groups_do_not_depend_on_batches(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With 100-row groups, batches of 7 and of 64 replications give the same file, whose rows
    are those of the whole table written at once, in ceil(rows / 100) row groups."""
    monkeypatch.setattr(replications, "ROW_GROUP_ROWS", 100)
    network = compile_network(load_scenario("demo").scenario)
    whole = None
    files = []
    for size in (7, 64):
        writer = ReplicationsWriter(network, tmp_path / f"b{size}.parquet", "parquet")
        rows = []
        for batch in LocalExecutor().run(network, plan_batches(300, size), seed=1, daily=False):
            writer.append(batch.consumer)
            rows.append(batch.consumer)
        writer.close()
        whole = np.concatenate(rows)
        files.append((tmp_path / f"b{size}.parquet").read_bytes())
    assert files[0] == files[1]
    assert whole is not None
    table = pq.read_table(tmp_path / "b7.parquet")
    expected = replications_table(network, whole)
    assert table.column_names == expected.column_names
    for name in ("replication", "consumer", "commodity", "country"):
        assert table[name].to_pylist() == expected[name].to_pylist()
    for name in CONSUMER_METRICS:  # NaN (TTS, TTR never short) compares equal here
        np.testing.assert_array_equal(table[name].to_numpy(), expected[name].to_numpy())
    n_rows = 300 * len(network.consumers)
    assert pq.ParquetFile(tmp_path / "b7.parquet").metadata.num_row_groups == -(-n_rows // 100)


def test_an_interrupted_run_is_not_read_as_a_result(interrupted: Path) -> None:
    """`report` (like `plot` and `rerun`) refuses it and says how to finish it."""
    result = resilience("report", str(interrupted), cwd=interrupted.parent)
    refused(result, "holds an incomplete run", f"`resilience resume {interrupted}` finishes it")
