"""The logarithm, exponential and cosine of the demand draws, in arithmetic a vector loop keeps.

Lognormal demand needs a log, a cosine and an exponential per consumer-day (Box-Muller, then
``exp(m + sigma z)``). The C library's scalar functions cannot be vectorised, and were about half
a shipped scenario's time (docs/decisions.md, "What limits the kernel's speed"); a vector maths
library would give other last bits than the scalar calls, and the kernel's numbers must equal
the plain-Python engines' bit for bit. These functions use only IEEE additions, multiplications,
divisions, `math.floor` and moves between a float's bits and an integer, so a vector loop and a
scalar call compute the same bits, and every engine calls these same compiled functions
(`resilience.model.timeline`).

They follow the classic fdlibm algorithms (Sun Microsystems, 1993: ``e_log.c``, ``e_exp.c``,
``k_sin.c``, ``k_cos.c``), whose published polynomial coefficients they use:

- `log`: within 1 ulp of the C library's ``log`` for normal positive ``x``
  (tests/test_elementary.py).
- `exp`: within 1 ulp of ``exp`` for ``-708.39 <= x <= 709.78``; 0 below (a result under
  ``2.2e-308``), ``inf`` above.
- `cos_turns`: ``cos(2 pi u)`` for ``0 <= u <= 1``, reduced exactly in quarter turns, so it is
  closer to the true value (within 1.4e-16) than ``math.cos(2 * math.pi * u)`` (6.4e-16), whose
  argument is rounded first.
"""

from __future__ import annotations

import math
from typing import Any

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from kernels._jit import jit_inline

__all__ = ["cos_turns", "exp", "log"]

_LN2_HI = 6.93147180369123816490e-01  # ln 2, upper bits: k * _LN2_HI is exact for |k| < 2^11
_LN2_LO = 1.90821492927058770002e-10  # ln 2 - _LN2_HI
_INV_LN2 = 1.44269504088896338700e00
_SQRT2 = 1.4142135623730951
_HALF_PI = 1.5707963267948966
_EXP_MAX = 709.782712893383973096  # above: exp overflows
_EXP_MIN = -708.396418532264106224  # below: exp is subnormal; returned as 0

# fdlibm e_log.c: log(1 + f) = f - f^2/2 + s R(s^2), s = f / (2 + f)
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
# fdlibm e_exp.c: exp(r) = 1 + r + r c / (2 - c), c = r - r^2 P(r^2)
_P1 = 1.66666666666666019037e-01
_P2 = -2.77777777770155933842e-03
_P3 = 6.61375632143793436117e-05
_P4 = -1.65339022054652515390e-06
_P5 = 4.13813679705723846039e-08
# fdlibm k_cos.c and k_sin.c on [-pi/4, pi/4]
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10


@intrinsic
def _bits(typingctx: Any, x: Any) -> Any:
    """The IEEE bits of a float64 as an int64 (a move, no conversion)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _float(typingctx: Any, bits: Any) -> Any:
    """The float64 whose IEEE bits are the int64 ``bits``."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@jit_inline
def log(x: float) -> float:
    """Natural logarithm of a normal positive ``x`` (a uniform draw in (0, 1], say)."""
    bits = _bits(x)
    k = (bits >> 52) - 1023
    m = _float((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)  # x = m 2^k, 1 <= m < 2
    high = m > _SQRT2  # bring m into [sqrt(2)/2, sqrt(2)): exactly, by halving
    m = m * 0.5 if high else m
    k = k + 1 if high else k
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    r = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7))) + w * (_LG2 + w * (_LG4 + w * _LG6))
    half_f2 = 0.5 * f * f
    dk = float(k)
    return dk * _LN2_HI - ((half_f2 - (s * (half_f2 + r) + dk * _LN2_LO)) - f)


@jit_inline
def exp(x: float) -> float:
    """``e**x``; 0 for ``x`` below -708.39 and ``inf`` above 709.78 (module docstring)."""
    x_in = min(max(x, _EXP_MIN), _EXP_MAX)  # keeps k a normal exponent; the ends come after
    k = math.floor(x_in * _INV_LN2 + 0.5)
    hi = x_in - k * _LN2_HI
    lo = k * _LN2_LO
    r = hi - lo
    t = r * r
    c = r - t * (_P1 + t * (_P2 + t * (_P3 + t * (_P4 + t * _P5))))
    y = 1.0 - ((lo - (r * c) / (2.0 - c)) - hi)
    # times 2^k, exactly: k runs up to 1024 below the overflow, one past the largest exponent,
    # so a positive k is applied as 2 * 2^(k - 1)
    positive = k > 0.0
    scaled = (2.0 * y if positive else y) * _float((int(k) - (1 if positive else 0) + 1023) << 52)
    return math.inf if x > _EXP_MAX else (0.0 if x < _EXP_MIN else scaled)


@jit_inline
def cos_turns(u: float) -> float:
    """``cos(2 pi u)`` for ``0 <= u <= 1``: quarter turns ``q`` and the rest ``r`` of ``4u``
    exactly, then the sine or cosine polynomial of ``pi/2 * min(r, 1 - r)``."""
    quarters = 4.0 * u
    q = math.floor(quarters)
    r = quarters - q
    q = q - 4.0 if q >= 4.0 else q  # u = 1 (a uniform can round up to it): a whole turn
    flip = r > 0.5  # cos(pi/2 r) = sin(pi/2 (1 - r)); 1 - r is exact here
    a = _HALF_PI * (1.0 - r if flip else r)
    z = a * a
    half_z = 0.5 * z
    w = 1.0 - half_z
    cos_poly = z * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6)))))
    cos_a = w + (((1.0 - w) - half_z) + z * cos_poly)
    sin_a = a + z * a * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    c = sin_a if flip else cos_a  # cos(pi/2 r)
    s = cos_a if flip else sin_a  # sin(pi/2 r)
    # cos(pi/2 (q + r)) for the quarter q = 0, 1, 2, 3
    return c if q == 0.0 else (-s if q == 1.0 else (-c if q == 2.0 else s))
