"""bench/plan.py refuses what it cannot do (exit 2) and tells two plans apart by their
fingerprint. Not a timing test: the seconds it measures are not asserted."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from builders import REPO

PLAN = REPO / "bench" / "plan.py"


def _load() -> object:
    spec = importlib.util.spec_from_file_location("bench_plan", PLAN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/nonexistent/data", "--against", "HEAD"], "not a folder: /nonexistent/data"),
        ([str(REPO / "data" / "japan"), "--against", "HEAD", "--runs", "0"], "at least 1"),
        ([str(REPO / "data" / "japan")], "--against"),
    ],
)
def test_plan_bench_refuses_what_it_cannot_do(args: list[str], message: str) -> None:
    done = subprocess.run(
        [sys.executable, str(PLAN), *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert message in done.stderr and done.stdout == ""


def test_the_same_code_gives_the_same_plan_fingerprint() -> None:
    bench = _load()
    out = bench.compare(REPO / "data" / "japan", (REPO, REPO), 1)
    assert out["same_plan"] is True
    assert out["this_s"] > 0 and out["other_s"] > 0
