"""Keep the process's resident memory near what it uses (glibc only; elsewhere a no-op).

A large run's memory is mostly HiGHS's, and HiGHS allocates and frees big blocks all
through branch and bound (sub-MIPs and restarts copy the model, LP factors and cut pools
grow and shrink). glibc serves a freed block's size from a heap from then on (its mmap
threshold rises with every large block freed, up to 32 MiB), and a heap returns memory
only from its top, so the resident size ratchets up to the largest mix of blocks ever
live. While HiGHS runs (:func:`for_highs`), blocks of 256 KiB and more are therefore
mapped and unmapped on their own (a fixed mmap threshold, which also switches the rising
one off) and the trim threshold is 32 MiB; ``trim`` hands back what the heap has free
before HiGHS starts (Pyomo's compile leaves some 160 MB of temporaries at 200 generated
sites) and, from HiGHS's interrupt callback, during branch and bound. Python's own phases
run with the threshold where glibc's rise would end (32 MiB): the fixed 256 KiB made the
network plan, the index, the build and the compile of 200 generated sites 4-6 % slower.

Measured side by side: docs/model.md, *Memory*.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024
LOOSE_MMAP_THRESHOLD = 32 * 1024 * 1024  # glibc's DEFAULT_MMAP_THRESHOLD_MAX on 64 bits


@functools.cache
def _libc() -> Any:
    """glibc through ctypes, or None (another C library, or none found)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
    except (OSError, AttributeError):
        return None
    return libc


def tune() -> bool:
    """Fix glibc's mmap threshold at 256 KiB and its trim threshold at 32 MiB (True when
    set: glibc)."""
    libc = _libc()
    return bool(
        libc is not None
        and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
        and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
    )


def loosen() -> None:
    """Put the mmap threshold where glibc's rising one ends (32 MiB), for Python's phases."""
    libc = _libc()
    if libc is not None:
        libc.mallopt(_M_MMAP_THRESHOLD, LOOSE_MMAP_THRESHOLD)


@contextmanager
def for_highs() -> Iterator[None]:
    """While HiGHS runs: the fixed thresholds (:func:`tune`) and a trimmed heap."""
    tune()
    trim()
    try:
        yield
    finally:
        loosen()


def trim() -> None:
    """Return the heap's free memory to the system (glibc's ``malloc_trim``)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
