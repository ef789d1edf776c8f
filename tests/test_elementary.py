"""The demand draws' log, exp and cosine (`kernels.elementary`) against the C library and an
extended-precision cosine, and a vector loop of them against scalar calls, bit for bit."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from kernels.elementary import cos_turns, exp, log

SAMPLES = 200_000


def _ulps(mine: np.ndarray, libm: np.ndarray) -> np.ndarray:
    """Units in the last place between two float64 arrays of the same sign."""
    return np.abs(mine.view(np.int64) - libm.view(np.int64))


@njit
def _vector(kind: int, x: np.ndarray, out: np.ndarray) -> None:
    # One loop per function, as the kernel's demand loop calls them: LLVM vectorises it.
    if kind == 0:
        for i in range(x.shape[0]):
            out[i] = log(x[i])
    elif kind == 1:
        for i in range(x.shape[0]):
            out[i] = exp(x[i])
    else:
        for i in range(x.shape[0]):
            out[i] = cos_turns(x[i])


def _uniforms() -> np.ndarray:
    rng = np.random.default_rng(20261201)
    u = rng.random(SAMPLES)
    u[u == 0.0] = 0.5
    # the edges a counter-based uniform reaches: 2^-54 and 1 (docs/model.md 4.2)
    return np.concatenate([u, [2.0**-54, 1e-300, 0.5, 1.0 - 2.0**-53, 1.0]])


def test_log_is_within_one_ulp_of_the_c_library() -> None:
    """log over (0, 1] and over [1, 1e300]: at most 1 ulp from ``math.log`` (fdlibm's bound)."""
    rng = np.random.default_rng(1)
    x = np.concatenate([_uniforms(), 10.0 ** rng.uniform(0.0, 300.0, SAMPLES)])
    mine = np.array([log(v) for v in x])
    libm = np.array([math.log(v) for v in x])
    assert _ulps(mine, libm).max() <= 1
    assert log(1.0) == 0.0


def test_exp_is_within_one_ulp_of_the_c_library_and_saturates_outside() -> None:
    """exp over [-708, 709.78]: at most 1 ulp from ``math.exp``; 0 below -708.39 (a subnormal
    result), inf above 709.78, exp(0) = 1 exactly."""
    rng = np.random.default_rng(2)
    x = np.concatenate(
        [rng.uniform(-40.0, 40.0, SAMPLES), rng.uniform(-708.0, 709.78, SAMPLES), [0.0, -1e-300]]
    )
    mine = np.array([exp(v) for v in x])
    libm = np.array([math.exp(v) for v in x])
    assert _ulps(mine, libm).max() <= 1
    assert exp(0.0) == 1.0
    assert exp(-745.0) == 0.0
    assert exp(710.0) == math.inf


def test_cos_turns_is_closer_to_the_true_cosine_than_the_c_library() -> None:
    """cos(2 pi u) against the long-double cosine of the long-double product: within 1.5e-16
    absolute, where ``math.cos(2 * math.pi * u)`` (its argument rounded first) is up to 6.4e-16
    off on the same draws; exact at the quarter turns."""
    u = _uniforms()
    mine = np.array([cos_turns(v) for v in u])
    libm = np.array([math.cos(2.0 * math.pi * v) for v in u])
    pi = np.arccos(np.longdouble(-1.0))
    exact = np.cos(2.0 * pi * u.astype(np.longdouble))
    assert float(np.max(np.abs(mine - exact))) <= 1.5e-16
    assert float(np.max(np.abs(mine - libm))) <= 1e-15
    assert [cos_turns(q) for q in (0.0, 0.25, 0.5, 0.75, 1.0)] == [1.0, 0.0, -1.0, 0.0, 1.0]


@pytest.mark.parametrize(("kind", "function"), [(0, log), (1, exp), (2, cos_turns)])
def test_a_vector_loop_gives_the_scalar_calls_bits(kind: int, function: object) -> None:
    """The kernel's demand loop is vectorised; the plain-Python engines call the functions one
    value at a time. Both must give the same bits (no FMA, no vector maths library)."""
    rng = np.random.default_rng(3)
    x = _uniforms() if kind != 1 else rng.uniform(-50.0, 50.0, SAMPLES)
    out = np.empty_like(x)
    _vector(kind, x, out)
    scalar = np.array([function(v) for v in x])  # type: ignore[operator]
    np.testing.assert_array_equal(out, scalar)
