"""The Dask executor: the same numbers as the local executor, whatever the cluster does.

Reference: the local executor (`LocalExecutor`, one thread), whose numbers the other tests check
against hand values and the reference model. Every comparison here is exact (bit for bit, no
tolerance): a batch is a pure function of the network, the seed and its replication range, so
where it ran, in how many batches, or whether it ran twice (a worker killed under it) must not
change a bit. The scenario is the shipped demo with a few hundred replications, so that the file
stays within a few tens of seconds (most of it starting local clusters of two processes).
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest

from resilience.engines.execution import LocalExecutor, plan_batches
from resilience.model.outcomes import BatchResult
from resilience.network.arrays import Network
from resilience.network.compiler import compile_network
from resilience.runs.compare import CompareSettings, compare_scenarios
from resilience.runs.criticality import CriticalitySettings, run_criticality
from resilience.runs.executors import CONNECT_TIMEOUT
from resilience.runs.runner import RunSettings, run_scenario
from resilience.scenario.loader import load_scenario

from .test_run_directories import refused, resilience

SEED = 17


@pytest.fixture(scope="module")
def demo() -> Network:
    network = compile_network(load_scenario("demo").scenario)
    # Compiled (or loaded from Numba's cache) here first, so that the workers load the cache.
    list(LocalExecutor().run(network, plan_batches(64, 64), seed=SEED, daily=False))
    return network


@pytest.fixture(scope="module")
def client(demo: Network) -> Iterator[Any]:
    """A client of a local cluster of two worker processes, one thread each."""
    distributed = pytest.importorskip("distributed", reason="needs the dask extra")
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",
            silence_logs=logging.ERROR,
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as connected,
    ):
        yield connected


def _same(local: list[BatchResult], spread: list[BatchResult]) -> None:
    assert [b.first for b in spread] == [b.first for b in local]
    for a, b in zip(local, spread, strict=True):
        np.testing.assert_array_equal(b.consumer, a.consumer)
        np.testing.assert_array_equal(b.network, a.network)
        np.testing.assert_array_equal(b.conservation, a.conservation)
        if a.daily_service is not None:
            np.testing.assert_array_equal(b.daily_service, a.daily_service)


@pytest.mark.parametrize(("replications", "batch_size", "daily"), [(300, 64, False),
                                                                   (257, 7, True)])  # fmt: skip
def test_batches_on_dask_workers_equal_local_batches(
    demo: Network, client: Any, replications: int, batch_size: int, daily: bool
) -> None:
    """Each batch's arrays, from two worker processes, equal the local ones bit for bit."""
    from resilience.engines.dask_executor import DaskExecutor

    batches = plan_batches(replications, batch_size)
    local = list(LocalExecutor().run(demo, batches, seed=SEED, daily=daily))
    spread = list(DaskExecutor(client).run(demo, batches, seed=SEED, daily=daily))
    _same(local, spread)
    assert sum(b.count for b in spread) == replications


def test_a_run_on_dask_has_the_local_summary_for_any_batch_size(client: Any) -> None:
    """The whole run (summary and per-replication table) against a local run with another
    batch size: equal exactly, whatever the split."""
    from resilience.engines.dask_executor import DaskExecutor

    loaded = load_scenario("demo")
    local = run_scenario(loaded, RunSettings(replications=300, seed=SEED, threads=1))
    for batch_size in (None, 45, 300):  # None: sized for the cluster's two workers
        settings = RunSettings(replications=300, seed=SEED, threads=1, batch_size=batch_size)
        spread = run_scenario(loaded, settings, executor=DaskExecutor(client))
        assert spread.summary == local.summary
        np.testing.assert_array_equal(spread.accumulator.consumer, local.accumulator.consumer)


def test_a_worker_killed_mid_run_changes_no_number(demo: Network, client: Any) -> None:
    """SIGKILL one of the two worker processes while it holds a batch: Dask runs that batch
    again elsewhere (its nanny starts a new worker), and every batch still equals the
    uninterrupted local run."""
    from resilience.engines.dask_executor import DaskExecutor

    batches = plan_batches(30 * 128, 128)
    local = list(LocalExecutor().run(demo, batches, seed=SEED, daily=False))
    pids = client.run(os.getpid)  # {worker address: pid}
    spread: list[BatchResult] = []
    killed: str | None = None
    for result in DaskExecutor(client).run(demo, batches, seed=SEED, daily=False):
        spread.append(result)
        if killed is None and 3 <= len(spread) < len(batches) - 5:
            # A worker with a batch in hand (running or queued), so that the kill costs work.
            busy = [worker for worker, keys in client.processing().items() if keys]
            if busy:
                killed = busy[0]
                os.kill(pids[killed], signal.SIGKILL)
    assert killed is not None, "the run ended before a worker could be killed"
    assert len(spread) == len(batches)
    _same(local, spread)
    # The nanny has started a new process in place of the killed one (later tests use both).
    client.wait_for_workers(2, timeout=60)
    assert pids[killed] not in set(client.run(os.getpid).values())


def test_a_batch_that_fails_on_a_worker_is_reported(demo: Network, client: Any) -> None:
    """An exception raised inside a worker's batch (here: an empty batch, which `run_batch`
    refuses) comes back as one DaskRunError naming it, not as a remote traceback."""
    from resilience.engines.dask_executor import DaskExecutor, DaskRunError
    from resilience.engines.execution import BatchPlan

    with pytest.raises(DaskRunError, match=r"ValueError: count must be >= 1"):
        list(DaskExecutor(client).run(demo, [BatchPlan(0, 0)], seed=SEED, daily=False))


def test_criticality_on_dask_ranks_as_locally(client: Any) -> None:
    """A criticality ranking (the base and every knockout) sent to the cluster equals the local
    one exactly: the knockouts' batches go where the runs' do."""
    from resilience.engines.dask_executor import DaskExecutor

    loaded = load_scenario("demo")
    settings = CriticalitySettings(
        consumers=("jp_lng",), kinds=("chokepoint",), replications=64, seed=SEED, threads=1
    )
    local = run_criticality(loaded, settings)
    spread = run_criticality(loaded, settings, executor=DaskExecutor(client))
    assert spread.impacts == local.impacts
    assert [e.id for e, _ in spread.ranking] == [e.id for e, _ in local.ranking]
    assert len(local.ranking) >= 2


def test_a_comparison_on_dask_equals_the_local_one(client: Any) -> None:
    """Base and two alternatives, the alternatives overlapped on the cluster: every paired
    difference and interval equals the local comparison's (NaN where no run was short)."""
    from resilience.engines.dask_executor import DaskExecutor

    base = load_scenario("demo")
    stock = "nodes.jp_lng.inventory.target_days"
    alternatives = [(f"{days} days", load_scenario("demo", (f"{stock}={days}",)))
                    for days in (5, 40)]  # fmt: skip
    settings = CompareSettings(replications=64, seed=SEED, threads=1)
    local = compare_scenarios(base, alternatives, settings)
    spread = compare_scenarios(base, alternatives, settings, executor=DaskExecutor(client))
    assert json.dumps(spread.to_dict()) == json.dumps(local.to_dict())
    assert [a.label for a in spread.alternatives] == ["5 days", "40 days"]


def test_sensitivity_and_stress_on_dask_equal_the_local_ones(client: Any) -> None:
    """A Sobol design (8 base samples, 2 inputs: 32 points) and a stress test's simulated
    knockouts, overlapped on the cluster: every output equals the local one exactly."""
    from resilience.analysis.design import Range
    from resilience.engines.dask_executor import DaskExecutor
    from resilience.runs.sensitivity import SensitivitySettings, run_sensitivity
    from resilience.runs.stress import StressSettings, run_stress

    ranges = [Range("nodes.tw_lng.inventory.target_days", 5.0, 60.0),
              Range("nodes.us_chips.inventory.target_days", 10.0, 60.0)]  # fmt: skip
    settings = SensitivitySettings(samples=8, replications=32, seed=SEED, threads=1,
                                   consumers=("tw_lng",))  # fmt: skip
    local = run_sensitivity("demo", ranges, settings)
    spread = run_sensitivity("demo", ranges, settings, executor=DaskExecutor(client))
    assert spread.outputs.shape == (1, 32)
    np.testing.assert_array_equal(spread.outputs, local.outputs)

    loaded = load_scenario("demo")
    stress = StressSettings(consumers=("tw_lng",), kinds=("chokepoint",), replications=16,
                            seed=SEED, threads=1)  # fmt: skip
    local_rows = run_stress(loaded, stress).rows
    spread_rows = run_stress(loaded, stress, executor=DaskExecutor(client)).rows
    assert len(local_rows) >= 2
    assert json.dumps([vars(r) for r in spread_rows]) == json.dumps([vars(r) for r in local_rows])


def test_cli_run_on_a_local_cluster_writes_the_local_results(tmp_path: Path) -> None:
    """`resilience run --executor dask --workers 2`, as a user runs it: summary.json and
    replications.parquet equal byte for byte those of the local run."""
    pytest.importorskip("distributed", reason="needs the dask extra")
    common = ("run", "demo", "-n", "300", "--seed", str(SEED))
    local = resilience(*common, "--out", str(tmp_path / "local"), cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    spread = resilience(*common, "--executor", "dask", "--workers", "2",
                        "--out", str(tmp_path / "dask"), cwd=tmp_path)  # fmt: skip
    assert spread.returncode == 0, spread.stderr
    assert "Traceback" not in spread.stderr
    for name in ("summary.json", "replications.parquet"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "local" / name).read_bytes()
    manifest = json.loads((tmp_path / "dask" / "manifest.json").read_text())
    assert manifest["command_line"][-6:-2] == ["--executor", "dask", "--workers", "2"]
    # Nothing but the two run directories was written here (no Dask scratch space).
    assert {p.name for p in tmp_path.iterdir()} == {"local", "dask"}


def test_cli_sweep_on_a_running_scheduler_matches_the_local_sweep(
    client: Any, tmp_path: Path
) -> None:
    """`resilience sweep --executor dask --scheduler ADDRESS` against the same sweep run
    locally: the same table, point for point."""
    common = ("sweep", "demo", "--set", "nodes.jp_lng.inventory.target_days=12,30",
              "-n", "96", "--seed", str(SEED))  # fmt: skip
    local = resilience(*common, "--out", str(tmp_path / "local"), cwd=tmp_path)
    assert local.returncode == 0, local.stderr
    spread = resilience(*common, "--executor", "dask", "--scheduler", client.scheduler.address,
                        "--out", str(tmp_path / "dask"), cwd=tmp_path)  # fmt: skip
    assert spread.returncode == 0, spread.stderr
    a = pq.read_table(tmp_path / "local" / "sweep.parquet")
    b = pq.read_table(tmp_path / "dask" / "sweep.parquet")
    assert a.num_rows == 2 * len(compile_network(load_scenario("demo").scenario).consumers)
    assert b.column_names == a.column_names
    for name in a.column_names:  # NaN (no TTR when never short) equals NaN here
        np.testing.assert_array_equal(b.column(name).to_numpy(), a.column(name).to_numpy())
    # The scheduler and its workers are left running for whoever started them.
    assert len(client.nthreads()) == 2


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_scheduler_is_refused_after_the_timeout(tmp_path: Path) -> None:
    pytest.importorskip("distributed", reason="needs the dask extra")
    address = f"tcp://127.0.0.1:{_closed_port()}"
    started = time.monotonic()
    result = resilience("run", "demo", "-n", "64", "--executor", "dask", "--scheduler", address,
                        "--connect-timeout", "1", "--out", str(tmp_path / "out"),
                        cwd=tmp_path)  # fmt: skip
    refused(result, f"--scheduler {address}: no Dask scheduler answered within 1 s")
    assert time.monotonic() - started < 30
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("scheduler", "message"),
    [
        ("nonsense://host:1", "--scheduler nonsense://host:1: not a scheduler address"),
        ("host-without-port", "--scheduler host-without-port: not a scheduler address"),
        ("scheduler.json", "--scheduler scheduler.json: a file, but not a Dask scheduler file"),
    ],
)
def test_a_malformed_scheduler_is_refused(tmp_path: Path, scheduler: str, message: str) -> None:
    pytest.importorskip("distributed", reason="needs the dask extra")
    (tmp_path / "scheduler.json").write_text('{"no address": 1}')
    result = resilience("run", "demo", "-n", "64", "--executor", "dask", "--scheduler",
                        scheduler, "--out", str(tmp_path / "out"), cwd=tmp_path)  # fmt: skip
    refused(result, message)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--scheduler", "tcp://127.0.0.1:8786"), "--scheduler goes with --executor dask"),
        (("--workers", "2"), "--workers goes with --executor dask"),
        (("--executor", "dask", "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"),
         "--scheduler and --workers: give one"),
        (("--executor", "dask", "--engine", "des"), "--engine des runs in this process"),
        (("--executor", "ray"), "'ray' is not one of 'local', 'dask'"),
    ],
)  # fmt: skip
def test_executor_options_that_do_not_go_together_are_refused(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    result = resilience("run", "demo", "-n", "8", *args, "--out", str(tmp_path / "out"),
                        cwd=tmp_path)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "command", ["run", "sweep", "compare", "criticality", "sensitivity", "stress"]
)
def test_without_dask_installed_the_message_says_what_to_install(
    tmp_path: Path, command: str
) -> None:
    """As on a machine without the extra: ``distributed`` cannot be imported."""
    extra = {
        "run": (), "sweep": ("--set", "nodes.jp_lng.inventory.target_days=12,30"),
        "compare": ("demo",), "criticality": (), "stress": (),
        "sensitivity": ("--range", "nodes.tw_lng.inventory.target_days=5:60", "--samples", "8"),
    }[command]  # fmt: skip
    argv = [command, "demo", *extra, "-n", "8", "--executor", "dask", "--workers", "2",
            "--out", str(tmp_path / "out")]  # fmt: skip
    code = (
        "import sys; sys.modules['distributed'] = None\n"
        "from resilience.cli.main import main\n"
        f"raise SystemExit(main({argv!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    refused(result, "pip install 'resilience[dask]'")
    assert not (tmp_path / "out").exists()


def test_the_command_line_and_the_engine_wait_as_long_by_default() -> None:
    from resilience.engines.dask_executor import DEFAULT_CONNECT_TIMEOUT

    assert CONNECT_TIMEOUT == DEFAULT_CONNECT_TIMEOUT


def test_a_lost_scheduler_stops_the_run_with_a_message(demo: Network) -> None:
    """The scheduler closes mid-run: the run stops with a DaskRunError (exit 2 on the command
    line) rather than waiting for it forever or returning a partial result."""
    distributed = pytest.importorskip("distributed", reason="needs the dask extra")
    from resilience.engines.dask_executor import DaskExecutor, DaskRunError

    cluster = distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=":0",
        silence_logs=logging.CRITICAL,
    )  # fmt: skip
    done = 0

    def consume(executor: DaskExecutor) -> None:
        nonlocal done
        for _ in executor.run(demo, plan_batches(200 * 128, 128), seed=SEED, daily=False):
            done += 1
            if done == 3:
                cluster.close()

    import dask

    with (
        # The client gives up reconnecting after 2 s rather than 10, to keep the test short.
        dask.config.set({"distributed.comm.timeouts.connect": "2s"}),
        distributed.Client(cluster.scheduler_address, set_as_default=False) as client,
        pytest.raises(DaskRunError, match="the scheduler was lost or restarted"),
    ):
        consume(DaskExecutor(client))
    assert 3 <= done < 200
