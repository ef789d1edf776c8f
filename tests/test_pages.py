"""A block's large arrays: the values `lane_arrays` promises and the 2 MiB pages it asks for."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kernels.pages import HUGE_PAGE_BYTES, lane_arrays

THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def test_lane_arrays_are_filled_views_of_one_allocation() -> None:
    floats = lane_arrays(3, 5, 4, np.float64, 1.5)
    assert floats.shape == (3, 5, 4)
    assert floats.dtype == np.float64
    assert np.all(floats == 1.5)
    days = lane_arrays(2, 7, 3, np.int32, 0)
    assert days.dtype == np.int32
    assert np.all(days == 0)
    first, second = floats[0], floats[1]
    assert first.flags.c_contiguous
    assert second.flags.c_contiguous
    first[:, :] = 2.0  # one array's writes stay in its own rows
    assert np.all(second == 1.5)


def _huge_kib_within(start: int, end: int) -> int:
    """AnonHugePages (KiB) of this process's mappings that overlap ``[start, end)``. The advice
    splits the allocation's mapping at the 2 MiB boundaries, so it spans several."""
    total = 0
    overlaps = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        span = re.match(r"^([0-9a-f]+)-([0-9a-f]+) ", line)
        if span:
            overlaps = int(span[1], 16) < end and start < int(span[2], 16)
        elif overlaps and line.startswith("AnonHugePages:"):
            total += int(line.split()[1])
    return total


@pytest.mark.skipif(
    not THP_SETTING.exists() or "[never]" in THP_SETTING.read_text(),
    reason="this machine has no transparent huge pages",
)
def test_large_lane_arrays_are_on_huge_pages() -> None:
    # 40 MiB: above glibc's largest threshold for serving an allocation from memory the process
    # has used before (32 MiB), so it is fresh, untouched memory whatever ran earlier in this
    # process; at least 19 whole 2 MiB pages lie inside, wherever the allocator put it. With the
    # advice each is backed by one huge page when first written (the "madvise" and "always"
    # settings both honour it); Numba's allocation alone gets 4 KiB pages under "madvise",
    # Debian's default.
    arrays = lane_arrays(5, 16_384, 64, np.float64, 0.0)
    whole_pages = arrays.nbytes // HUGE_PAGE_BYTES - 1
    address = arrays.ctypes.data
    huge_kib = _huge_kib_within(address, address + arrays.nbytes)
    assert huge_kib >= whole_pages * HUGE_PAGE_BYTES // 1024
