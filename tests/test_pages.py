"""A block's large arrays: the values `lane_rows` promises and the 2 MiB pages it asks for."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from kernels.pages import HUGE_PAGE_BYTES, lane_rows

THP_SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")


def test_lane_rows_are_zero_and_their_row_ranges_are_separate_arrays() -> None:
    floats = lane_rows(15, 4, np.float64)
    assert floats.shape == (15, 4)
    assert floats.dtype == np.float64
    assert floats.flags.c_contiguous
    assert np.all(floats == 0.0)
    days = lane_rows(7, 3, np.int32)
    assert days.dtype == np.int32
    assert np.all(days == 0)
    first, second = floats[0:5], floats[5:10]
    assert first.flags.c_contiguous
    assert second.flags.c_contiguous
    first[:, :] = 2.0  # one range's writes stay in its own rows
    assert np.all(second == 0.0)


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
def test_large_lane_rows_are_on_huge_pages() -> None:
    # 40 MiB: above glibc's largest threshold for serving an allocation from memory the process
    # has used before (32 MiB), so it is fresh, untouched memory whatever ran earlier in this
    # process; at least 19 whole 2 MiB pages lie inside, wherever the allocator put it. With the
    # advice each is backed by one huge page when first written (the "madvise" and "always"
    # settings both honour it); Numba's allocation alone gets 4 KiB pages under "madvise",
    # Debian's default.
    arrays = lane_rows(5 * 16_384, 64, np.float64)
    whole_pages = arrays.nbytes // HUGE_PAGE_BYTES - 1
    address = arrays.ctypes.data
    huge_kib = _huge_kib_within(address, address + arrays.nbytes)
    assert huge_kib >= whole_pages * HUGE_PAGE_BYTES // 1024
