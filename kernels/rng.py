"""Counter-based random numbers: draw k of stream (seed, replication, key) (docs/model.md 4.2).

No state is carried between draws: the k-th uniform of a stream is a pure function of
(seed, replication, key, k), so results cannot depend on thread count, batch size or worker
count, and adding a stream (a disruption) leaves every other stream's draws unchanged.

The functions are compiled once and called both from kernels and from Python (the plain-Python
engines reach them through `resilience.model.timeline`); there is no second copy.
"""

from __future__ import annotations

import math

import numpy as np

from kernels._jit import jit

__all__ = ["mix", "uniform"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)
_TWO_M53 = 1.0 / 9007199254740992.0  # 2**-53


@jit
def mix(z: np.uint64) -> np.uint64:
    """One SplitMix64 step: a bijective 64-bit mixer (wraps modulo 2**64)."""
    z = z + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@jit
def uniform(seed: np.uint64, replication: np.uint64, key: np.uint64, k: np.uint64) -> float:
    """Draw ``k`` of stream (seed, replication, key): a float strictly inside (0, 1)."""
    h = mix(mix(mix(mix(seed) ^ replication) ^ key) ^ k)
    return (float(h >> _S11) + 0.5) * _TWO_M53


assert math.isclose(_TWO_M53, 2.0**-53)
