"""A block's large working arrays, allocated together and backed by 2 MiB pages where they can be.

On a large network a block's lane arrays are 4 MB each and its pipeline rings about 100 MB
(16,000 lanes, 32 replications). The day visits each lane's row and its ring slot of the day,
which on 4 KiB pages span tens of thousands of pages, far more than the processor's
page-translation cache holds. Linux backs memory with 2 MiB pages (transparent huge pages) where
a program asks for them with ``madvise(MADV_HUGEPAGE)``: the "madvise" setting in
``/sys/kernel/mm/transparent_hugepage/enabled``, Debian's default and this project's machines'.
NumPy asks for its own large arrays; memory allocated in compiled code is Numba's and is not
asked for, so `lane_rows` asks. On the 2,000-node, 16,000-lane network the day ran a median
1.10-1.14 times as fast in the profiler (1.05 in whole runs on both cores), with identical
outputs (docs/decisions.md, "What limits the kernel's speed").

A block's arrays of one type with a row per lane (or pipeline slot) are allocated as one
`lane_rows` array (`kernels.records.new_lane_floats`), so that one request covers them all and
few of its 2 MiB pages straddle an array's edge. On a large network the float allocation is
above 32 MiB, the most glibc serves from memory the process has used before (whose pages stay
4 KiB), so it is always fresh memory, which the advice applies to. The advice is a hint: no
value depends on it, and where it does not apply (a small network, whose arrays span no whole
2 MiB page; another operating system; huge pages switched off) nothing changes.
"""

from __future__ import annotations

import sys

import numpy as np
from numba import types

from kernels._jit import jit

__all__ = ["HUGE_PAGE_BYTES", "advise_huge_pages", "lane_rows"]

HUGE_PAGE_BYTES = 2 * 1024 * 1024
"""Size of an x86-64 transparent huge page (``hpage_pmd_size``)."""

_MADV_HUGEPAGE = 14
"""Linux's ``MADV_HUGEPAGE`` (``<asm-generic/mman-common.h>``)."""

_ON_LINUX = sys.platform.startswith("linux")

# libc's madvise(addr, length, advice) -> 0 or -1, resolved by name when the kernel is loaded, so
# that Numba's cache of the compiled code stays valid from one process to the next.
_madvise = types.ExternalFunction("madvise", types.intc(types.uintp, types.uintp, types.intc))


if _ON_LINUX:

    @jit
    def advise_huge_pages(a: np.ndarray) -> None:
        """Ask Linux to back the whole 2 MiB pages inside ``a``'s memory with huge pages.

        Call it before anything is written to ``a``: pages already touched stay 4 KiB until the
        kernel's background thread merges them. Failure (huge pages compiled out) is ignored;
        the advice changes speed only."""
        address = a.ctypes.data
        first = (address + (HUGE_PAGE_BYTES - 1)) & ~np.uintp(HUGE_PAGE_BYTES - 1)
        end = (address + a.nbytes) & ~np.uintp(HUGE_PAGE_BYTES - 1)
        if end > first:
            _madvise(first, end - first, _MADV_HUGEPAGE)

else:

    @jit
    def advise_huge_pages(a: np.ndarray) -> None:
        """Huge pages are asked for on Linux only; elsewhere this does nothing."""


@jit
def lane_rows(rows: int, W: int, dtype: type) -> np.ndarray:
    """A ``(rows, W)`` array of ``dtype``, every element zero, whose memory is asked to be on huge
    pages before it is first written. Callers allocate several of a block's arrays as one and
    take row ranges, ``a[k * L:(k + 1) * L]``: each is a C-contiguous 2-D array, typed as a
    separately allocated one would be."""
    a = np.empty((rows, W), dtype)
    advise_huge_pages(a)
    a[:, :] = 0
    return a
