"""Where the kernel's time goes: CPU cycles per phase of the day loop, per lane-day.

Run ``.venv/bin/python -m benchmarks.phase_profile [NODES LANES [REPLICATIONS]]`` (default: the
50-node, 100-lane reference network of bench_kernel.py, 2,048 replications, one thread), or
``... phase_profile SCENARIO [REPLICATIONS]`` for a scenario name or file (``demo``). It runs
the phases of the kernel's day loop (`kernels.daily.block_function`) in the same order, reading
the processor's cycle counter (LLVM's ``readcyclecounter``, the TSC on x86) around each, and
prints each phase's share and its cycles per lane-day. Before it reports, it checks that its
outputs equal the kernel's bit for bit, so a profile of a loop that has drifted from the
kernel's is refused.

Not a pytest benchmark: it explains the figures of bench_kernel.py, as docs/decisions.md
("What limits the kernel's speed") quotes it, rather than tracking one.
"""

from __future__ import annotations

import sys
import time
from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels.daily import simulate, width_is_constant
from kernels.flows import arrivals, production, shipping, warm_start
from kernels.metrics import demand, holding, write_outputs
from kernels.ordering import allocation, ordering
from kernels.policies import release_and_sharing
from kernels.records import (
    Block,
    NetworkArrays,
    Outputs,
    Tables,
    block_width,
    new_factors,
    new_lane_floats,
    new_metrics,
    new_occurrences,
    new_scratch,
    new_stocks,
)
from kernels.states import disruption_states, sample_occurrences
from resilience.engines.kernel import kernel_records
from resilience.model.outcomes import CONSERVATION_TERMS, CONSUMER_METRICS, NETWORK_METRICS
from resilience.network.arrays import Network
from resilience.network.tables import build_tables

from .bench_kernel import reference_network

PHASES = (
    "setup and day-0 sampling",
    "1 disruption states",
    "2 arrivals",
    "3 production",
    "4 demand",
    "5 ordering",
    "6a allocation",
    "6b/6c release and sharing",
    "7 shipping",
    "end of day holding",
    "outputs",
)


@intrinsic
def _cycles(typingctx: Any) -> Any:
    """The processor's cycle counter (``llvm.readcyclecounter``) as a uint64."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        function = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.IntType(64), []), "llvm.readcyclecounter"
        )
        return builder.call(function, [])

    return types.uint64(), codegen


def _timed_block(width: int) -> Any:
    """The kernel's day loop (`kernels.daily.block_function`) for blocks of ``width``
    replications, compiled with the cycles of each phase added to ``cycles[i]`` (i in the order
    of `PHASES`). The width is compiled in or read at run time as the kernel does it
    (`kernels.daily.width_is_constant`), so the phases are the kernel's own specialisations."""
    constant = width_is_constant(width)

    @njit(nogil=True)
    def timed_block(
        blk: Block, net: NetworkArrays, tab: Tables, out: Outputs, cycles: np.ndarray
    ) -> None:
        W = width if constant else blk.width
        a = _cycles()
        occ = new_occurrences(net, W)
        lane_floats = new_lane_floats(net, tab, W)
        fac = new_factors(net, W, lane_floats)
        sto = new_stocks(net, tab, W, lane_floats)
        met = new_metrics(net, W)
        scr = new_scratch(W)
        warm_start(net, tab, sto, W)
        sample_occurrences(blk, net, occ)
        b = _cycles()
        cycles[0] += b - a
        for t in range(blk.horizon):
            a = _cycles()
            disruption_states(blk, net, tab, occ, fac, t, W)
            b = _cycles()
            cycles[1] += b - a
            arrivals(net, tab, fac, sto, met, W)
            a = _cycles()
            cycles[2] += a - b
            production(net, fac, sto, met, scr, W)
            b = _cycles()
            cycles[3] += b - a
            demand(blk, net, tab, occ, fac, sto, met, scr, out, t, W)
            a = _cycles()
            cycles[4] += a - b
            ordering(net, tab, fac, sto, scr, W)
            b = _cycles()
            cycles[5] += b - a
            allocation(net, tab, fac, sto, scr, W)
            a = _cycles()
            cycles[6] += a - b
            release_and_sharing(net, tab, fac, sto, scr, W)
            b = _cycles()
            cycles[7] += b - a
            shipping(net, tab, fac, sto, met, t, W)
            a = _cycles()
            cycles[8] += a - b
            holding(net, sto, met, W)
            b = _cycles()
            cycles[9] += b - a
        a = _cycles()
        write_outputs(blk, net, tab, sto, met, out)
        cycles[10] += _cycles() - a

    return timed_block


def _outputs(network: Network, count: int) -> Outputs:
    consumers = len(network.consumers)
    return Outputs(
        np.zeros((count, consumers, len(CONSUMER_METRICS))),
        np.zeros((count, len(NETWORK_METRICS))),
        np.zeros((count, len(network.commodity_ids), len(CONSERVATION_TERMS))),
        np.zeros((0, 0, 0), dtype=np.float32),
    )


def profile(network: Network, replications: int) -> tuple[np.ndarray, float]:
    """Cycles per phase (11,) over ``replications`` and the wall seconds they took, one thread,
    after checking on the first block that the timed loop gives the kernel's outputs exactly."""
    net, tab = kernel_records(network, build_tables(network))
    width = block_width(network.n_lanes)
    seed = np.uint64(network.seed)
    horizon = network.horizon_days
    threshold = float(network.recovery_threshold)
    window = int(network.recovery_window_days)

    def block(first: int, count: int) -> Block:
        return Block(
            first, min(width, count - first), first, width, seed, horizon, threshold, window
        )

    kernel, timed = _outputs(network, width), _outputs(network, width)
    simulate(0, width, seed, horizon, threshold, window, net, tab, kernel, 0, 1, width)
    timed_block = _timed_block(width)
    timed_block(block(0, width), net, tab, timed, np.zeros(len(PHASES), dtype=np.uint64))
    for ours, theirs in zip(timed, kernel, strict=True):
        if not np.array_equal(ours, theirs, equal_nan=True):
            raise SystemExit("phase_profile: the timed loop no longer matches kernels.daily")
    cycles = np.zeros(len(PHASES), dtype=np.uint64)
    out = _outputs(network, replications)
    started = time.perf_counter()
    for first in range(0, replications, width):
        timed_block(block(first, replications), net, tab, out, cycles)
    return cycles, time.perf_counter() - started


def _network_and_replications(argv: list[str]) -> tuple[Network, int]:
    """``[NODES LANES [REPLICATIONS]]`` (a synthetic network) or ``SCENARIO [REPLICATIONS]`` (a
    scenario name or file, as the CLI takes it)."""
    if argv and not argv[0].isdigit():
        from resilience.network.compiler import compile_network
        from resilience.scenario.loader import load_scenario

        network = compile_network(load_scenario(argv[0]).scenario)
        return network, int(argv[1]) if len(argv) >= 2 else 2048
    nodes, lanes = (int(argv[0]), int(argv[1])) if len(argv) >= 2 else (50, 100)
    return reference_network(nodes, lanes), int(argv[2]) if len(argv) >= 3 else 2048


def main(argv: list[str]) -> None:
    network, replications = _network_and_replications(argv)
    cycles, seconds = profile(network, replications)
    lane_days = replications * network.horizon_days * network.n_lanes
    total = float(cycles.sum())
    print(
        f"{network.name}: {network.n_nodes} nodes, {network.n_lanes} lanes, {replications} "
        "replications, one thread: "
        f"{lane_days / seconds / 1e6:.0f} M lane-days/s, {total / lane_days:.1f} cycles a lane-day"
    )
    for i in np.argsort(-cycles.astype(np.float64)):
        print(f"  {PHASES[i]:28s} {cycles[i] / total:6.1%}  {cycles[i] / lane_days:6.2f}")


if __name__ == "__main__":
    main(sys.argv[1:])
