"""The cost–power front (epsilon constraint): hand-checked end points and steps, a monotone
front, one design folder per point, and the reuse options giving the same front."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import approx, write_dataset

from model.cli import main
from model.pareto import PARETO_COLUMNS, ParetoOptions, caps, monotone_notes, pareto_front
from model.pipeline import SolveOptions

# Three GPU sites, plain cooling (PUE 1.0, no capex), CRF 1, no energy price, 2 racks of
# 10 kW; the site's PUE is 1.0 + pue_offset. Per rack:
#   A: PUE 1.5, 15 kW facility × 100 USD/kW = 1,500 USD   (cheap, power-hungry)
#   B: PUE 1.1, 11 kW facility × 200 USD/kW = 2,200 USD   (dear, frugal)
#   C: PUE 1.1, 11 kW facility × 300 USD/kW = 3,300 USD   (as frugal as B, dearer)
# Cost-optimal: both racks at A: 3,000 USD, 30 kW = 0.030 MW.
# Power-optimal: 22 kW = 0.022 MW with racks at B or C; the cheapest of those (the
# lexicographic end point) is both at B: 4,400 USD (C would cost up to 6,600).
# Five caps 0.022, 0.024, 0.026, 0.028, 0.030 MW: A+B (26 kW, 3,700 USD) fits from 0.026,
# A+A (30 kW) only at 0.030, so the costs are 4,400, 4,400, 3,700, 3,700, 3,000.
SITES = [
    {"site": "A", "lat": 35.0, "lon": 139.0, "gpu": 1, "build_usd_per_kw": 100, "pue_offset": 0.5},
    {"site": "B", "lat": 35.1, "lon": 139.0, "gpu": 1, "build_usd_per_kw": 200, "pue_offset": 0.1},
    {"site": "C", "lat": 35.2, "lon": 139.0, "gpu": 1, "build_usd_per_kw": 300, "pue_offset": 0.1},
]
CAPS = [0.022, 0.024, 0.026, 0.028, 0.030]
COSTS = [4400.0, 4400.0, 3700.0, 3700.0, 3000.0]
POWER = [0.022, 0.022, 0.026, 0.026, 0.030]


@pytest.fixture
def front_data(tmp_path: Path) -> Path:
    return write_dataset(tmp_path / "front", SITES, settings={"demand": {"gpu_racks": 2}})


def racks(folder: Path) -> dict[str, int]:
    sites = pd.read_csv(folder / "sites.csv")
    return {r.site: int(r.gpu_racks) for r in sites.itertuples() if r.gpu_racks}


def test_front_by_hand_with_a_folder_per_point(front_data: Path, tmp_path: Path) -> None:
    out = tmp_path / "res"
    assert main([str(front_data), "--pareto", "5", "--out", str(out), "-q"]) == 0
    folder = out / "front" / "base" / "pareto"
    table = pd.read_csv(folder / "pareto.csv", keep_default_na=False)
    assert list(table.columns) == PARETO_COLUMNS
    assert list(table["point"]) == [1, 2, 3, 4, 5]
    assert list(table["cap_mw"]) == [approx(c) for c in CAPS]
    assert list(table["power_mw"]) == [approx(p) for p in POWER]
    assert list(table["annual_cost_usd"]) == [approx(c) for c in COSTS]
    assert list(table["objective"]) == [approx(c) for c in COSTS]
    assert set(table["status"]) == {"optimal"}
    assert table.at[0, "notes"] == "power-optimal end point"
    assert table.at[4, "notes"] == "cost-optimal end point (the min-cost solve)"
    assert "warning" not in " ".join(table["notes"])
    points = sorted(p.name for p in folder.iterdir() if p.is_dir())
    assert points == [f"point_0{i}" for i in range(1, 6)]
    for i, cost in enumerate(COSTS, start=1):
        summary = pd.read_csv(folder / f"point_0{i}" / "summary.csv").iloc[0]
        assert summary["annual_cost_usd"] == approx(cost)
        assert (folder / f"point_0{i}" / "run.json").exists()
    assert racks(folder / "point_01") == {"B": 2}  # cheapest of the power-optimal designs
    assert racks(folder / "point_03") == {"A": 1, "B": 1}
    assert racks(folder / "point_05") == {"A": 2}
    assert (folder / "pareto.png").stat().st_size > 0
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]


def test_front_is_monotone_and_reuse_changes_nothing(front_data: Path) -> None:
    fronts = [
        pareto_front(front_data, "base", None, SolveOptions(mip_gap=0.0), ParetoOptions(4, r, w))
        for r, w in ((False, False), (True, False), (True, True))
    ]
    for res in fronts:
        t = res.table.sort_values("cap_mw", ascending=False)
        assert t["annual_cost_usd"].is_monotonic_increasing  # tighter cap, never cheaper
        assert res.p_min_mw == approx(0.022) and res.p_max_mw == approx(0.030)
        assert list(res.table["annual_cost_usd"]) == list(fronts[0].table["annual_cost_usd"])
        assert res.out_dir is None
    assert monotone_notes(fronts[-1].table, 0.0) == {}


def test_warm_start_reaches_highs(front_data: Path, capfd: pytest.CaptureFixture[str]) -> None:
    pareto_front(front_data, "base", None, SolveOptions(mip_gap=0.0), ParetoOptions(2), tee=True)
    assert "MIP start solution is feasible" in capfd.readouterr().out


def test_a_cheaper_tighter_point_is_flagged_beyond_the_gap() -> None:
    table = pd.DataFrame(
        {
            "point": [1, 2, 3],
            "cap_mw": [1.0, 2.0, 3.0],
            "annual_cost_usd": [99.995, 100.0, 90.0],  # point 1 is cheaper than looser point 2
            "status": ["optimal"] * 3,
            "gap": [0.0, 0.0, 0.0],
        }
    )
    assert list(monotone_notes(table, 0.0)) == [1]
    assert "not monotone" in monotone_notes(table, 0.0)[1]
    assert monotone_notes(table, 1e-4) == {}  # 0.005 USD is within a 1e-4 gap of 100


def test_caps_are_evenly_spaced_with_both_ends() -> None:
    assert caps(1.0, 2.0, 3) == [1.0, 1.5, 2.0]
    assert caps(1.0, 2.0, 2) == [1.0, 2.0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pareto", "1"], "--pareto needs at least 2 points"),
        (["--pareto", "3", "--all"], "--pareto solves one scenario"),
    ],
)
def test_pareto_arguments_are_checked(
    front_data: Path, args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(front_data), *args]) == 2
    assert message in capsys.readouterr().err
