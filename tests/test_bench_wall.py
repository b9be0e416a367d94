"""bench/wall.py refuses what it cannot do before it solves anything (usage errors, exit 2),
and sums up seeded runs. Not a timing test: no run here is timed."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest
from builders import REPO

WALL = REPO / "bench" / "wall.py"


def _wall(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(WALL), *args], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--solver-seeds", "0", "1", "--against", "HEAD"], "one comparison at a time"),
        (["--solver-seeds", "0", "--jobs", "0"], "--jobs must be at least 1"),
    ],
)
def test_wall_refuses_what_it_cannot_do(args: list[str], message: str) -> None:
    done = _wall(str(REPO / "data" / "japan"), *args)
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""  # refused before the table's header, nothing solved


def test_the_spread_of_seeded_runs_counts_and_orders_them() -> None:
    spec = importlib.util.spec_from_file_location("wall", WALL)
    assert spec is not None and spec.loader is not None
    wall = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(wall)
    rows = [
        {"status": "feasible", "gap": 0.0228, "wall_s": 615.9, "rss_gib": 2.75},
        {"status": "optimal", "gap": 0.0001, "wall_s": 324.7, "rss_gib": 2.87},
        {"status": "optimal", "gap": 0.0001, "wall_s": 400.9, "rss_gib": 3.26},
        {"status": "exit 4", "wall_s": 12.0, "rss_gib": 0.5},  # no run.json: no gap
    ]
    assert wall.spread(rows) == (
        "optimal 2 of 4; least / median / largest: gap 0.01% / 0.01% / 2.28%, "
        "wall 12.0 s / 362.8 s / 615.9 s, peak 0.50 GiB / 2.81 GiB / 3.26 GiB"
    )
