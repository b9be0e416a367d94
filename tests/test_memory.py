"""model/memory.py: glibc's thresholds, so that memory freed by HiGHS leaves the process."""

from __future__ import annotations

import platform
import subprocess
import sys
import textwrap

import pytest

from model import memory

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc", reason="glibc only"
)

# In a fresh process: free one 8 MiB block (glibc's rising mmap threshold follows it), then
# allocate and touch 96 blocks of 1 MiB, free every other one (as a solver frees some of
# its vectors and keeps others) and print the resident memory the freed half leaves
# behind [MiB] ("trimmed": after ``memory.trim``).
_PROBE = textwrap.dedent(
    """
    import ctypes, sys
    from model import memory
    if sys.argv[1] == "tuned":
        assert memory.tune()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]

    def rss():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

    libc.free(libc.malloc(8 << 20))
    before = rss()
    blocks = []
    for _ in range(96):
        blocks.append(libc.malloc(1 << 20))
        libc.memset(blocks[-1], 1, 1 << 20)
    for p in blocks[1::2]:
        libc.free(p)
    if sys.argv[1] == "trimmed":
        memory.trim()
    print(rss() - before - 48)
    """
)


def _left_mib(mode: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, mode], capture_output=True, text=True, check=True
    )
    return float(out.stdout)


@glibc
def test_freed_large_blocks_leave_the_process_once_tuned():
    # untuned, the freed 48 MiB stay resident (heap blocks between live ones); tuned, each
    # 1 MiB block was mapped on its own and unmapped when freed
    assert _left_mib("default") > 40
    assert _left_mib("tuned") < 8


@glibc
def test_a_trim_returns_the_free_memory_inside_the_heap():
    assert _left_mib("trimmed") < 8


def test_tune_and_trim_are_safe_to_repeat():
    first = memory.tune()
    assert memory.tune() is first
    memory.trim()
