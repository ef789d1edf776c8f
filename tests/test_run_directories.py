"""Run directories as a hostile user finds them: taken, foreign, locked, unwritable, killed.

Each test runs `resilience` as a subprocess (as a user would) and checks the exit code, the
message and what the directory holds afterwards. A full disk cannot be made in a test, so that
one case replaces the writer in-process with one that fails as a full disk does.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from resilience.cli.main import main
from resilience.outputs import rundir
from resilience.outputs.directory import CHECKPOINT_DIR

ENV = {**os.environ, "COLUMNS": "160"}
LONG_RUN = ("-n", "100000", "--set", "scenario.horizon_days=36500")
"""A run of a century per replication: long enough to act on while it runs, small in memory."""


def resilience(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "resilience", *args],
        capture_output=True, text=True, cwd=cwd, env=ENV, check=False,
    )  # fmt: skip


def start(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "resilience", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd, env=ENV,
    )  # fmt: skip


def visible(directory: Path) -> set[str]:
    return {path.name for path in directory.iterdir() if not path.name.startswith(".")}


def refused(result: subprocess.CompletedProcess[str], *fragments: str) -> None:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr


def wait_for(path: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def interrupted_run(out: Path, cwd: Path) -> None:
    """Leave in ``out`` what a long run leaves when Ctrl-C stops it: a directory with the
    marker and no manifest."""
    process = start("run", "demo", *LONG_RUN, "--out", str(out), cwd=cwd)
    wait_for(out / ".lock")
    time.sleep(0.5)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=120)
    assert process.returncode == 130


def test_an_earlier_run_is_kept_without_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert resilience("run", "demo", "-n", "32", "--out", str(out), cwd=tmp_path).returncode == 0
    manifest = (out / "manifest.json").read_text()
    result = resilience("run", "demo", "-n", "64", "--out", str(out), cwd=tmp_path)
    refused(result, f"--out {out}: already holds a run", "--overwrite")
    assert (out / "manifest.json").read_text() == manifest
    assert visible(out) == {"manifest.json", "summary.json", "replications.parquet"}


def test_overwrite_leaves_no_old_file_beside_the_new_ones(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = resilience("run", "demo", "-n", "32", "--format", "csv", "--out", str(out),
                       cwd=tmp_path)  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "replications.csv" in visible(out)
    again = resilience("run", "demo", "-n", "64", "--overwrite", "--out", str(out), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert visible(out) == {"manifest.json", "summary.json", "replications.parquet"}
    assert json.loads((out / "manifest.json").read_text())["replications"] == 64


def test_an_unrelated_directory_is_never_written_into(tmp_path: Path) -> None:
    out = tmp_path / "papers"
    out.mkdir()
    (out / "notes.txt").write_text("mine\n")
    for extra in ((), ("--overwrite",)):
        result = resilience("run", "demo", "-n", "32", *extra, "--out", str(out), cwd=tmp_path)
        refused(result, "holds no resilience output")
    assert {path.name for path in out.iterdir()} == {"notes.txt"}


def test_overwrite_keeps_files_the_run_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert resilience("run", "demo", "-n", "32", "--out", str(out), cwd=tmp_path).returncode == 0
    (out / "notes.txt").write_text("mine\n")
    result = resilience("run", "demo", "-n", "32", "--overwrite", "--out", str(out), cwd=tmp_path)
    refused(result, "holds files a run did not write (notes.txt)")
    assert visible(out) == {"manifest.json", "summary.json", "replications.parquet", "notes.txt"}


def test_trace_never_replaces_a_runs_manifest(tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert resilience("run", "demo", "-n", "32", "--out", str(out), cwd=tmp_path).returncode == 0
    manifest = (out / "manifest.json").read_text()
    for extra in ((), ("--overwrite",)):
        result = resilience("trace", "demo", *extra, "--out", str(out), cwd=tmp_path)
        refused(result, "holds a run", "a trace would replace them")
    assert (out / "manifest.json").read_text() == manifest
    assert visible(out) == {"manifest.json", "summary.json", "replications.parquet"}


def test_two_runs_on_one_directory_cannot_interleave(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = start("run", "demo", *LONG_RUN, "--out", str(out), cwd=tmp_path)
    try:
        wait_for(out / ".lock")
        second = resilience("run", "demo", "-n", "32", "--overwrite", "--out", str(out),
                            cwd=tmp_path)  # fmt: skip
        refused(second, "another run is writing there now")
    finally:
        first.send_signal(signal.SIGINT)
        first.communicate(timeout=120)
    assert not (out / "manifest.json").exists()


@pytest.mark.parametrize(
    ("target", "message"),
    [
        pytest.param("/dev/null", "is not a directory", id="dev-null"),
        pytest.param("{tmp}/file.txt/run", "cannot be created: Not a directory",
                     id="under-a-regular-file"),
    ],
)  # fmt: skip
def test_an_unusable_directory_is_refused_before_running(
    tmp_path: Path, target: str, message: str
) -> None:
    (tmp_path / "file.txt").write_text("a file\n")
    out = target.format(tmp=tmp_path)
    result = resilience("run", "demo", "-n", "32", "--out", out, cwd=tmp_path)
    refused(result, f"--out {out}: {message}")
    assert result.stdout == ""  # nothing was run
    assert (tmp_path / "file.txt").read_text() == "a file\n"


def test_a_full_disk_still_prints_the_summary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The write fails as on a full disk (ENOSPC): exit 2, the table is printed, no manifest,
    no temporary file, no lock."""

    real_write = rundir.atomic_write

    def full_disk(path: Path, write: Callable[[Path], None]) -> None:
        if path.parent.name == CHECKPOINT_DIR:  # the disk fills up once the rows are in
            real_write(path, write)
            return
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(rundir, "atomic_write", full_disk)
    out = tmp_path / "run"
    assert main(["run", "demo", "-n", "64", "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert "demo: 64 replications" in captured.out
    assert "tw_lng" in captured.out
    assert f"--out {out}: the results could not be written (No space left on device)" in (
        captured.err
    )
    # The checkpoint stays, so that `resilience resume` can write the results without running.
    assert {path.name for path in out.iterdir()} == {".resilience", CHECKPOINT_DIR}


def test_sigterm_is_handled_like_ctrl_c(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = start("run", "demo", *LONG_RUN, "--out", str(out), cwd=tmp_path)
    wait_for(out / ".lock")
    time.sleep(1.0)  # well into the replications
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + signal.SIGTERM
    assert "terminated: no results written" in stderr
    assert "Traceback" not in stderr
    # Nothing that looks like a result: the marker, and the checkpoint `resume` finishes from.
    assert {path.name for path in out.iterdir()} == {".resilience", CHECKPOINT_DIR}
