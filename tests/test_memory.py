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

# In a fresh process: glibc's mmap threshold as high as its default rises (32 MiB, after a
# large block is freed) or as memory.tune sets it; then allocate and touch 96 blocks of
# 1 MiB, free every other one (as a solver frees some of its vectors and keeps others) and
# print the resident memory the freed half leaves behind [MiB] ("trimmed": after
# ``memory.trim``).
_PROBE = textwrap.dedent(
    """
    import ctypes, sys
    from model import memory
    libc = ctypes.CDLL("libc.so.6")
    if sys.argv[1] == "tuned":
        assert memory.tune()
    else:
        assert libc.mallopt(-3, 32 << 20) == 1  # M_MMAP_THRESHOLD
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]

    def rss():
        with open("/proc/self/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS")) / 1024

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
    # under a high threshold the freed 48 MiB stay resident (heap blocks between live
    # ones); tuned, each 1 MiB block was mapped on its own and unmapped when freed
    assert _left_mib("default") > 40
    assert _left_mib("tuned") < 8


@glibc
def test_a_trim_returns_the_free_memory_inside_the_heap():
    assert _left_mib("trimmed") < 8


def test_tune_loosen_and_trim_are_safe_to_repeat():
    first = memory.tune()
    assert memory.tune() is first
    memory.trim()
    with memory.for_highs():
        memory.trim()
    memory.loosen()


def test_branch_and_bound_trims_the_heap_as_it_goes(monkeypatch):
    # max Σ x_i s.t. 2 Σ x_i ≤ 13 over 12 binaries: 6 (the LP's 6.5 rounded down). A
    # real HiGHS solve; every interrupt check trims once the interval (here 0 s) is over
    import pyomo.core as pyo

    from model import highs_direct

    trims = []
    trim = memory.trim
    monkeypatch.setattr(memory, "trim", lambda: trims.append(1) or trim())
    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(12), domain=pyo.Binary)
    m.w = pyo.Constraint(expr=sum(2 * m.x[i] for i in m.x) <= 13)
    m.o = pyo.Objective(expr=sum(m.x[i] for i in m.x), sense=pyo.maximize)
    for every in (1e9, 0.0):
        trims.clear()
        monkeypatch.setattr(highs_direct, "TRIM_EVERY_S", every)
        result = highs_direct.DirectHighs().solve(m, time_limit=60, rel_gap=None, threads=1, seed=0)
        assert result.optimal and result.objective == pytest.approx(6.0)
        assert len(trims) == 1 if every else len(trims) >= 2  # before the run; and during


def test_a_released_solver_lets_its_highs_go():
    import pyomo.core as pyo

    from model.highs_direct import DirectHighs

    m = pyo.ConcreteModel()
    m.x = pyo.Var(range(3), domain=pyo.Binary)
    m.w = pyo.Constraint(expr=m.x[0] + m.x[1] + m.x[2] <= 1)
    m.o = pyo.Objective(expr=m.x[0] + 2 * m.x[1] + 3 * m.x[2], sense=pyo.maximize)
    solver = DirectHighs()
    assert solver.solve(m, time_limit=60, rel_gap=None, threads=1, seed=0).objective == 3.0
    assert solver._solver_model is not None
    solver.release()
    assert solver._solver_model is None
    assert solver.compiled is not None  # kept: design pricing's LP is a variant of it
    assert [round(m.x[i].value) for i in range(3)] == [0, 0, 1]
