"""Process-wide settings that entry points (train.py, benchmarks) apply for both implementations alike."""

from __future__ import annotations

import ctypes
import sys

# glibc mallopt() parameters (malloc.h)
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3


def retain_freed_memory() -> bool:
    """Have glibc's malloc keep freed memory for reuse instead of returning it to the OS; True if applied.

    Every training step allocates the same weight-sized arrays (gradients, temporaries),
    and by default glibc maps each large one afresh and unmaps it when freed, so every
    step pays a page fault per 4 KiB touched. Measured at H=4096 (float32, batch 200):
    2.3 million page faults over 33 steps of each implementation drop to 98 thousand,
    and a step takes 145 -> 88 ms with torch, 97 -> 81 ms with NumPy. Peak memory is
    unchanged: memory still in use is the same, it is just not handed back and refetched.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) == 1 and libc.mallopt(M_TRIM_THRESHOLD, 2**31 - 1) == 1)
