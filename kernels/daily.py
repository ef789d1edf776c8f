"""The daily model of docs/model.md as a compiled kernel over blocks of replications.

Layout: every state array has the replications of a block as its LAST (contiguous) axis,
``state[element, w]`` for ``w < W`` (the block width, `kernels.records.block_width`), so that the
per-replication arithmetic of a phase is an inner loop the compiler vectorises. A block is a pure
function of the network arrays, the seed and its replication indices, and writes only its own
rows of the outputs, so results are bit-identical whatever the thread count, the batch size or
the block width.

The day loop is `_block_of`'s compiled function; each phase lives in its own module, reads and
writes the typed records of `kernels.records`, and takes ``W`` as its last argument (one compiled
day loop per width in `BLOCK_WIDTHS`; the usual width is a compile-time constant):

====================  ===============================  =========================================
phase                 function                         writes
====================  ===============================  =========================================
day 0                 flows.warm_start,                Stocks (stock, pipelines), Occurrences
                      states.sample_occurrences
1 disruption states   states.disruption_states         Factors, hazard renewals in Occurrences
2 arrivals            flows.arrivals                   Stocks, Metrics (procurement, lost)
3 production          flows.production                 Stocks, Metrics (produced, inputs)
4 demand              metrics.demand                   Stocks, Metrics, Outputs.daily
5 ordering            ordering.ordering                Stocks (position, target, order)
6a allocation         ordering.allocation              Stocks (request, filled, toward)
6b/6c policies        policies.release_and_sharing     Stocks (request, filled)
7 shipping            flows.shipping                   Stocks (pipelines), Metrics (shipping)
end of day            metrics.holding                  Metrics (holding costs)
outputs               metrics.write_outputs            Outputs rows of the block
====================  ===============================  =========================================

Everything here is arrays and scalars. The wrapper in ``resilience.engines.kernel`` validates,
derives the static index tables and allocates the outputs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from kernels._jit import jit
from kernels.codes import N_CONSERVATION, N_CONSUMER_METRICS, N_NETWORK_METRICS
from kernels.flows import arrivals, production, shipping, warm_start
from kernels.metrics import demand, holding, write_outputs
from kernels.ordering import allocation, ordering
from kernels.policies import release_and_sharing
from kernels.records import (
    BLOCK,
    LARGE_NETWORK_BLOCK,
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

__all__ = [
    "BLOCK",
    "BLOCK_WIDTHS",
    "N_CONSERVATION",
    "N_CONSUMER_METRICS",
    "N_NETWORK_METRICS",
    "block_function",
    "block_width",
    "simulate",
    "width_is_constant",
]


def _block_of(width: int, constant: bool) -> Any:
    """The compiled day loop for blocks of ``width`` replications (`BLOCK_WIDTHS`).

    With ``constant``, ``W`` is a constant of the compiled function (a closure variable, which
    Numba types as a literal and keys its cache on) and reaches every phase as one, so each phase
    is compiled for that width and each ``for w in range(W)`` has a known trip count: no
    remainder loops (the demo's compile in-process 23.1-23.3 -> 21.0-21.8 s at the same speed;
    in a fresh process the gain is within the noise). Without it, ``W`` is read from the block
    at run time, as for the 32-wide blocks of large networks, where the constant made the day
    20-35% slower (docs/decisions.md). Only the widths a run uses are compiled.
    """

    def simulate_block(blk: Block, net: NetworkArrays, tab: Tables, out: Outputs) -> None:
        """Run one block of ``W`` replications over the horizon, phase by phase (module
        docstring), and write its ``blk.n_active`` rows of ``out``."""
        W = width if constant else blk.width
        occ = new_occurrences(net, W)
        lane_floats = new_lane_floats(net, tab, W)
        fac = new_factors(net, W, lane_floats)
        sto = new_stocks(net, tab, W, lane_floats)
        met = new_metrics(net, W)
        scr = new_scratch(W)
        warm_start(net, tab, sto, W)
        sample_occurrences(blk, net, occ)
        for t in range(blk.horizon):
            disruption_states(blk, net, tab, occ, fac, t, W)
            arrivals(net, tab, fac, sto, met, W)
            production(net, fac, sto, met, scr, W)
            demand(blk, net, tab, occ, fac, sto, met, scr, out, t, W)
            ordering(net, tab, fac, sto, scr, W)
            allocation(net, tab, fac, sto, scr, W)
            release_and_sharing(net, tab, fac, sto, scr, W)
            shipping(net, tab, fac, sto, met, t, W)
            holding(net, sto, met, W)
        write_outputs(blk, net, tab, sto, met, out)

    # Numba names its cache files after the qualified name: one name per width keeps each
    # width's compiled code in its own file, so whether a width is compiled can be told.
    simulate_block.__qualname__ = simulate_block.__name__ = f"simulate_block_of_{width}"
    return jit(simulate_block)


BLOCK_WIDTHS = (LARGE_NETWORK_BLOCK, BLOCK)
"""The block widths the kernel is compiled for (`kernels.records.block_width`)."""


def width_is_constant(width: int) -> bool:
    """Whether the day loop for blocks of ``width`` has the width compiled in (`_block_of`)."""
    return width == BLOCK


_simulate_block_of_large = _block_of(LARGE_NETWORK_BLOCK, width_is_constant(LARGE_NETWORK_BLOCK))
_simulate_block = _block_of(BLOCK, width_is_constant(BLOCK))


def block_function(width: int) -> Any:
    """The compiled block of ``width`` replications."""
    if width == BLOCK:
        return _simulate_block
    if width == LARGE_NETWORK_BLOCK:
        return _simulate_block_of_large
    raise ValueError(f"width must be one of {BLOCK_WIDTHS}, not {width}")


def simulate(
    rep_start: int,
    n_reps: int,
    seed: np.uint64,
    horizon: int,
    threshold: float,
    window: int,
    net: NetworkArrays,
    tab: Tables,
    out: Outputs,
    block_first: int,
    block_last: int,
    width: int = BLOCK,
) -> None:
    """Simulate blocks ``block_first .. block_last - 1`` of replications ``rep_start ..``.

    Block ``b`` holds replications ``rep_start + b * width ..`` (at most ``n_reps`` in all) and
    writes output rows ``b * width ..``; callers split the blocks among threads (the compiled
    block releases the GIL), and no two blocks share an output row.

    Args:
        rep_start: index of the batch's first replication (streams depend on it).
        n_reps: replications in the batch; ``out`` has ``n_reps`` rows.
        seed: the run's seed.
        horizon: days to simulate.
        threshold: recovery threshold of section 7.1 (a service fraction).
        window: days service must stay at or above the threshold to count as recovered.
        net: the Network arrays (`kernels.records.NetworkArrays`).
        tab: the derived index tables (`kernels.records.Tables`).
        out: the output arrays (`kernels.records.Outputs`), written in place.
        width: replications per block, one of `BLOCK_WIDTHS` (`kernels.records.block_width`);
            no number depends on it.
    """
    simulate_block = block_function(width)
    for block in range(block_first, block_last):
        first = block * width
        blk = Block(
            rep_start + first,
            min(width, n_reps - first),
            first,
            width,
            np.uint64(seed),
            horizon,
            float(threshold),
            int(window),
        )
        simulate_block(blk, net, tab, out)
