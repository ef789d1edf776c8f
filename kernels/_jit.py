"""The one place that sets Numba's options for every kernel (STYLE.md: one jit policy).

- ``nopython`` always (``numba.njit``): never object mode.
- ``cache=True``: compiled machine code is kept beside the source (``__pycache__``), so a fresh
  process starts warm.
- ``error_model="numpy"``: division by zero gives inf/NaN as in NumPy instead of raising, which
  lets the compiler vectorise divisions; kernels never rely on the exception.
- ``fastmath`` off: results must match the plain-Python reference to 1e-12, and reassociating
  floating-point sums would break bit-identity across batch sizes.
- ``nogil=True``: kernels release the GIL, so the engine runs blocks of replications on plain
  Python threads (resilience.engines.execution). Numba's ``parallel=True``/``prange`` was
  measured to add about 30 s of compile time to the simulation kernel for no gain over threads.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

__all__ = ["jit", "jit_inline", "jit_phase"]

F = TypeVar("F", bound=Callable[..., Any])

_OPTIONS: dict[str, Any] = {
    "cache": True,
    "error_model": "numpy",
    "fastmath": False,
    "nogil": True,
}


def jit(function: F) -> F:
    """Compile a kernel or helper with the project's options (see the module docstring)."""
    return numba.njit(**_OPTIONS)(function)  # type: ignore[no-any-return]


def jit_phase(function: F) -> F:
    """`jit` for the kernel's internal phases, which only compiled code calls.

    They take the typed records of `kernels.records` (named tuples of up to ~60 arrays); with no
    CPython wrapper Numba does not generate the code that would unbox those records from Python,
    which otherwise costs about a second of compile time per phase.
    """
    return numba.njit(**_OPTIONS, no_cpython_wrapper=True, no_cfunc_wrapper=True)(function)  # type: ignore[no-any-return]


def jit_inline(function: F) -> F:
    """`jit` for the few scalar helpers a vector loop calls (`kernels.elementary`, the standard
    normal): Numba inlines them where they are called (``inline="always"``), so that LLVM sees
    the loop's whole body and vectorises it. Left to LLVM, the standard normal stayed a call in
    the demand loop and the loop stayed scalar. Python can still call them."""
    return numba.njit(**_OPTIONS, inline="always")(function)  # type: ignore[no-any-return]
