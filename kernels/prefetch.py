"""Software prefetch of a row of a 2-D array, for phases that visit rows in an order the
hardware cannot predict (docs/decisions.md, "What limits the kernel's speed").

On large networks the pipeline rings (P, W) span tens of MB per block, and the day's slot of
each lane lies a ring's length past the previous lane's: every visit was a cache miss. Asking
for a lane's slot a few lanes ahead overlaps those misses with the work on the lanes between.
A prefetch is a hint: it never changes a value, so results are bit-identical with or without.
"""

from __future__ import annotations

from typing import Any

from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from kernels._jit import jit

__all__ = ["LANES_AHEAD", "prefetch_row"]

LANES_AHEAD = 8
"""How many lanes ahead the flow phases ask for a lane's pipeline slot."""

_CACHE_LINE = 64  # bytes


@intrinsic
def _prefetch(typingctx: Any, address: Any, write: Any) -> Any:
    """``llvm.prefetch`` of the byte at ``address`` (an integer), for writing if ``write``
    (a compile-time literal is not needed: 0 or 1 at run time selects the variant)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        pointer = ir.PointerType(ir.IntType(8))
        i32 = ir.IntType(32)
        function = cgutils.get_or_insert_function(
            builder.module,
            ir.FunctionType(ir.VoidType(), [pointer, i32, i32, i32]),
            "llvm.prefetch.p0",
        )
        target = builder.inttoptr(args[0], pointer)
        # rw must be a constant: read (0) and write (1) are two calls behind a branch.
        is_write = builder.icmp_unsigned("!=", args[1], ir.Constant(args[1].type, 0))
        with builder.if_else(is_write) as (then, otherwise):
            with then:
                builder.call(function, [target, i32(1), i32(3), i32(1)])
            with otherwise:
                builder.call(function, [target, i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return types.void(types.uintp, types.intp), codegen


@jit
def prefetch_row(array: Any, row: int, write: int) -> None:
    """Ask the cache for row ``row`` of the C-contiguous 2-D float64 ``array`` (every cache
    line of it), to be read (``write`` 0) or written (1) soon."""
    width = array.shape[1] * 8
    start = array.ctypes.data + row * width
    for offset in range(0, width, _CACHE_LINE):
        _prefetch(start + offset, write)
