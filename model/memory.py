"""Keep the process's resident memory near what it uses (glibc only; elsewhere a no-op).

A large run's memory is mostly HiGHS's, which allocates and frees big blocks all through
branch and bound (sub-MIPs copy the model, LP factors and cut pools grow and shrink).
glibc serves a freed block's size from its heap from then on (its mmap threshold rises
with every large block freed, up to 32 MiB), and a heap returns memory only from its top,
so the resident size ratchets up to the largest mix of blocks ever live. Two settings
stop that: a fixed mmap threshold of 256 KiB (blocks that large are mapped and unmapped
on their own, which also switches the rising threshold off) and a trim threshold of
32 MiB. ``trim`` hands back what the heap has free (Pyomo's compile leaves some 160 MB of
temporaries at 200 generated sites) before HiGHS starts.

Measured side by side (``bench/wall.py``, 200 generated sites at 600 s, the same HiGHS
log line for line): see docs/model.md, *Memory*.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import platform
from typing import Any

log = logging.getLogger(__name__)

_M_TRIM_THRESHOLD = -1  # glibc's mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024
TRIM_THRESHOLD = 32 * 1024 * 1024

_state: dict[str, Any] = {}


def _libc() -> Any:
    if "libc" not in _state:
        libc = None
        if platform.system() == "Linux" and platform.libc_ver()[0] == "glibc":
            try:
                libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
                libc.mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
                libc.malloc_trim.argtypes = [ctypes.c_size_t]
            except (OSError, AttributeError):
                libc = None
        _state["libc"] = libc
    return _state["libc"]


def tune() -> bool:
    """Fix glibc's mmap and trim thresholds for this process (once; True when set)."""
    if "tuned" not in _state:
        libc = _libc()
        ok = bool(
            libc is not None
            and libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1
            and libc.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
        )
        _state["tuned"] = ok
        log.debug("malloc thresholds %s", "set" if ok else "left as they are (not glibc)")
    return _state["tuned"]


def trim() -> None:
    """Return the heap's free memory to the system (glibc's ``malloc_trim``)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
