"""The first design from a model restricted to the cheapest GPU sites (``model.screen``):
it only starts HiGHS; the full model is what is solved and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from builders import approx, racks_at, route, solve_dir, write_dataset

from model import pipeline, screen
from model.cli import main
from model.load import load_dataset
from model.screen import first_design, restricted, shortlist

#: One GPU rack (10 kW), 1 PB (0 kW), 100 Gbps of storage traffic each way per rack.
ONE_RACK_1_PB = {
    "gpu_racks": 1,
    "storage_pb": 1,
    "storage_kw_per_pb": 0,
    "storage_copies": 1,
    "storage_gbps_per_rack": 100,
    "storage_gbps_per_pb": 1000,
}


def storage_far_from_cheap_gpus(tmp_path: Path, screen: int) -> Path:
    # One GPU rack of 10 kW; 1 PB of storage (0 kW) that only B may hold; 100 Gbps of
    # storage traffic each way per rack. A builds at 1 $/kW, B at 2 $/kW; a zr unit on
    # A–B carries 100 Gbps for 50. Per rack A looks cheaper (10 against 20), but racks at A
    # need the link: 10 + 50 = 60; racks at B read locally: 20. Optimum 20, at B.
    sites = [
        {"site": "A", "lat": 35, "lon": 139, "gpu": 1, "build_usd_per_kw": 1},
        {"site": "B", "lat": 35, "lon": 139, "gpu": 1, "storage": 1, "build_usd_per_kw": 2},
    ]
    link = {"type": "zr", "medium": "smf", "capacity_gbps": 100, "reach_km": 1000}
    return write_dataset(
        tmp_path,
        sites,
        routes=[route("A", "B", 100)],
        link_types=[
            {
                **link,
                "capex_usd": 50,
                "opex_usd_per_year": 0,
                "power_w": 0,
                "dsp_latency_us": 0,
                "ports": 1,
                "deep_buffer_over_km": "",
            }
        ],
        settings={
            "demand": ONE_RACK_1_PB,
            "solver": {"screen_gpu_sites": screen},
        },
    )


def test_shortlist_ranks_by_rack_cost_and_keeps_enough_capacity(tmp_path: Path) -> None:
    ds = load_dataset(storage_far_from_cheap_gpus(tmp_path, 1))
    assert shortlist(ds, 1) == ["A"]
    assert list(restricted(ds, 1).sites["gpu"]) == [True, False]
    assert restricted(ds, 2) is None  # keeping every GPU site restricts nothing


def test_shortlist_fills_the_cheapest_sites_zone_without_it_to_the_racks_of_a_zone(
    tmp_path: Path,
) -> None:
    # 4 racks, half of them outside any one zone: a design with GPUs in two zones holds 2
    # racks in each. Cheapest per rack: A (z1, 1 rack), B (z2, 4), C (z3, 4), D (z1, 1),
    # E (z1, 2), F (z2, 1), G (z1, 3). Kept by rank: A, B; outside z2 then only A's 1 rack
    # (under 1.2 × 2), so C too. A's zone z1 without A holds 0 of its 2 racks: D (1), the
    # next cheapest of z1, is added, then E (2); then z1 holds 3 without A, so G is not,
    # and F (z2) never is.
    rows = [("A", "z1", 1), ("B", "z2", 4), ("C", "z3", 4), ("D", "z1", 1), ("E", "z1", 2)]
    rows += [("F", "z2", 1), ("G", "z1", 3)]
    sites = [
        {"site": x, "lat": 35, "lon": 139 + i, "gpu": 1, "zone": z, "max_racks": n}
        | {"build_usd_per_kw": i + 1}
        for i, (x, z, n) in enumerate(rows)
    ]
    folder = write_dataset(
        tmp_path,
        sites,
        routes=[route(a, b, 100) for a, b in ["AB", "BC", "CD", "DE", "EF", "FG"]],
        settings={
            "demand": {"gpu_racks": 4, "min_racks_per_gpu_site": 1},
            "resilience": {"zone_survival_share": 0.5},
        },
    )
    ds = load_dataset(folder)
    assert shortlist(ds, 2) == ["A", "B", "C", "D", "E"]
    assert shortlist(ds, 4) == ["A", "B", "C", "D", "E"]  # D is among the 4 cheapest
    assert shortlist(ds, 5) == ["A", "B", "C", "D", "E"]


def test_full_model_beats_the_first_design(tmp_path: Path) -> None:
    res = solve_dir(storage_far_from_cheap_gpus(tmp_path, 1))
    first = res.run["first_design"]
    assert first["gpu_sites"] == ["A"] and first["objective"] == approx(60)
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(20)
    assert racks_at(res) == {"B": 1}


def test_a_mip_stopped_before_a_design_of_its_own_reports_the_first_design(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # HiGHS takes a MIP start only once its presolve is over (about 124 s at 1,000
    # generated nodes): a MIP stopped before that has no design, though the first design,
    # completed in the full model, is one. Here the MIP gets no time, no presolve and no
    # start, so HiGHS stops with nothing; the run reports the first design (racks at A,
    # 60), as feasible, and the verifier passes it.
    real = pipeline.solve

    def starved(model: Any, settings: Any, solver: Any = None, **kw: Any) -> Any:
        solver.warm_start = False
        update = {"time_limit_s": 0.0, "highs_options": {"presolve": "off"}}
        return real(model, settings.model_copy(update=update), solver=solver, **kw)

    monkeypatch.setattr(pipeline, "solve", starved)
    res = solve_dir(storage_far_from_cheap_gpus(tmp_path, 1))
    assert res.outcome.status == "feasible"
    assert res.outcome.termination == "maxTimeLimit"
    assert res.outcome.objective == approx(60)
    assert "first design" in res.outcome.message
    assert racks_at(res) == {"A": 1}
    assert res.tables.summary.at[0, "annual_cost_usd"] == approx(60)


def test_screening_off_by_default_on_small_sets(tmp_path: Path) -> None:
    ds = storage_far_from_cheap_gpus(tmp_path, 0)
    text = (ds / "settings.toml").read_text().replace("screen_gpu_sites = 0\n", "")
    (ds / "settings.toml").write_text(text)
    res = solve_dir(ds)
    assert res.run["first_design"] is None
    assert res.outcome.objective == approx(20)


def test_negative_screen_is_refused_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = storage_far_from_cheap_gpus(tmp_path / "d", 0)
    assert main([str(ds), "--screen", "-1", "--out", str(tmp_path / "res")]) == 2
    assert "--screen must be 0 (off) or more, got -1" in capsys.readouterr().err
    assert not (tmp_path / "res").exists()


def storage_out_of_reach_of_the_cheapest(tmp_path: Path, latency_ms: float = 1.0) -> Path:
    # One GPU rack of 10 kW and 1 PB (0 kW) that only C may hold; GPUs may go to A (1 $/kW),
    # C (2) or B (3). Storage traffic must arrive within 1 ms one way: C reads locally, B is
    # 10 km from C, A 1,000 km (5 ms). The shortlist of 1 is A: that restricted model is
    # infeasible. Of 2 it is A and C: racks at C, 20. The full model's optimum is that too.
    sites = [
        {"site": "A", "lat": 35, "lon": 139, "gpu": 1, "build_usd_per_kw": 1},
        {"site": "B", "lat": 35, "lon": 139, "gpu": 1, "build_usd_per_kw": 3},
        {"site": "C", "lat": 35, "lon": 139, "gpu": 1, "storage": 1, "build_usd_per_kw": 2},
    ]
    return write_dataset(
        tmp_path,
        sites,
        routes=[route("A", "C", 1000), route("B", "C", 10)],
        settings={
            "demand": {**ONE_RACK_1_PB, "storage_latency_ms": latency_ms},
            "solver": {"screen_gpu_sites": 1},
        },
    )


def test_an_infeasible_shortlist_is_doubled(tmp_path: Path) -> None:
    ds = load_dataset(storage_out_of_reach_of_the_cheapest(tmp_path))
    assert shortlist(ds, 1) == ["A"]
    first = first_design(ds, 1, 60.0)
    assert first is not None and first.tried == [1, 2]
    assert first.gpu_sites == ["A", "C"]
    assert first.outcome.status == "optimal" and first.outcome.objective == approx(20)


def test_a_shortlist_out_of_time_is_not_doubled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Storage in reach of A (10 ms), so the shortlist of 1 is feasible; but the restricted
    # model gets no time and no presolve: HiGHS stops with no design and no proof. A doubled
    # shortlist would only take longer in the same budget: the search ends after that one
    # model (before the fix it went on to 2 sites).
    real = screen.solve
    calls: list[float] = []

    def starved(model: Any, settings: Any, *args: Any, **kw: Any) -> Any:
        calls.append(settings.time_limit_s)
        update = {"time_limit_s": 0.0, "highs_options": {"presolve": "off"}}
        return real(model, settings.model_copy(update=update), *args, **kw)

    monkeypatch.setattr(screen, "solve", starved)
    ds = load_dataset(storage_out_of_reach_of_the_cheapest(tmp_path, latency_ms=10.0))
    assert first_design(ds, 1, 60.0) is None
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("limit", "elapsed", "after", "built", "budget"),
    [
        (600.0, 30.0, 9.0, 25.0, 60.0),  # 200 generated sites: 60 s, as before
        (1800.0, 97.0, 13.0, 92.0, 138.0),  # 1,000 nodes: 1.5 × the full model's 92 s
        (300.0, 97.0, 13.0, 92.0, 47.5),  # a quarter of what is left
        (100.0, 1.0, 0.0, 1.0, 20.0),  # a fifth of the limit
    ],
)
def test_first_design_budget_grows_with_the_full_models_build(
    limit: float, elapsed: float, after: float, built: float, budget: float
) -> None:
    assert pipeline.first_design_budget(limit, elapsed, after, built) == approx(budget)
