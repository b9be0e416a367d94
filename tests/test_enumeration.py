"""Complete path sets by enumeration (model/enumerate_paths.py): a design whose better path
pays only in the integer design (LP pricing cannot find it), which the enumeration finds and
proves optimal over all paths; a cap that stops the enumeration, so the claim stays
"candidate paths"; and the search itself (parallel routes, latency bound, caps)."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import approx, route, solve_dir, transit, units_on, write_dataset

from model import enumerate_paths
from model.enumerate_paths import simple_paths
from model.load import load_dataset
from model.network import plan_network


def shared_detour(tmp_path: Path, up_to: int) -> Path:
    # zr: 100 Gbps per unit, 7 a unit; X–Y offers it at 8. Demands: X → B 50 Gbps and
    # B → Y 50 Gbps (no bound: arc-routed, exact) and X → Y 10 Gbps within 10 ms
    # (path-routed). Routes X–Y, X–B and B–Y, 100 km each. paths_per_pair = 1 gives X → Y
    # only X–Y (0.5 ms against 1 ms): the best design on it is 15 (X–Y 8 + one more unit:
    # e.g. X–B carrying X → B and, the other way, B → X → Y). Over all paths: one unit on
    # X–B and one on B–Y (7 + 7 = 14, the only design at 14: X–Y costs 8), X → Y riding
    # their spare capacity on X–B–Y. The LP relaxation prefers X–Y (0.1 unit: 0.8, against
    # 0.1 unit on each of two routes: 1.4), so pricing at the root finds nothing; with the
    # design fixed there is no unit on B–Y, so design pricing finds nothing either.
    sites = [transit(s) for s in "BXY"]
    routes = [route("X", "Y", 100), route("X", "B", 100), route("B", "Y", 100)]
    offer = {"a": "X", "b": "Y", "type": "zr", "capex_usd": 8}
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        offers=[offer],
        settings={"network": {"paths_per_pair": 1, "enumerate_paths_up_to": up_to}},
        demands=[
            {"src": "X", "dst": "B", "gbps": 50, "max_latency_ms": "", "protected": 0},
            {"src": "B", "dst": "Y", "gbps": 50, "max_latency_ms": "", "protected": 0},
            {"src": "X", "dst": "Y", "gbps": 10, "max_latency_ms": 10, "protected": 0},
        ],
    )


def test_enumeration_finds_the_path_lp_pricing_cannot(tmp_path: Path) -> None:
    res = solve_dir(shared_detour(tmp_path / "on", 64))
    routing = res.run["routing"]
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(14)
    assert units_on(res) == {("X-B", "zr"): 1, ("B-Y", "zr"): 1}
    assert routing["paths_complete"] is True
    assert routing["enumerated_paths_added"] == 1  # X–B–Y
    assert routing["optimal_over"] == "all paths"
    assert res.tables.summary.iloc[0]["optimal_over"] == "all paths"
    assert any("enumerated completely" in r for r in res.run["restrictions"])


def test_without_enumeration_the_same_set_stays_at_the_candidate_optimum(tmp_path: Path) -> None:
    res = solve_dir(shared_detour(tmp_path / "off", 0))
    routing = res.run["routing"]
    assert res.outcome.objective == approx(15)
    assert routing["paths_complete"] is None
    assert routing["lp_complete"] is True  # the LP has nothing to gain from X–B–Y
    assert routing["paths_added"] == 0
    assert routing["optimal_over"] == "candidate paths"


def ladder(tmp_path: Path, up_to: int) -> Path:
    # X → Y 10 Gbps within 10 ms over a ladder of three two-hop detours X–Mi–Y plus X–Y:
    # four simple paths inside the bound. zr 7 per unit; X–Y costs 1,000 to light, so the
    # optimum is one detour, 14 (which one is a tie: only the objective is asserted).
    mids = ["M1", "M2", "M3"]
    sites = [transit(s) for s in ["X", "Y", *mids]]
    routes = [route("X", "Y", 100, build_capex_usd=1000)]
    for m in mids:
        routes += [route("X", m, 100), route(m, "Y", 100)]
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        settings={"network": {"paths_per_pair": 1, "enumerate_paths_up_to": up_to}},
        demands=[{"src": "X", "dst": "Y", "gbps": 10, "max_latency_ms": 10, "protected": 0}],
    )


def test_a_cap_below_the_path_count_keeps_the_claim_to_candidate_paths(tmp_path: Path) -> None:
    # Cap 3 < 4 paths: nothing is enumerated. Column generation still finds a detour (the LP
    # sees X–Y's 1,000), so the objective is 14, but the LP bound over all paths is weak
    # (10 Gbps on one route: a tenth of a unit), so the claim stays "candidate paths".
    res = solve_dir(ladder(tmp_path / "cap", 3))
    routing = res.run["routing"]
    assert res.outcome.objective == approx(14)
    assert routing["paths_complete"] is False
    assert "more than 3 simple paths" in routing["note"]
    assert routing["enumerated_paths_added"] == 0
    assert routing["optimal_over"] == "candidate paths"
    assert not any("enumerated completely" in r for r in res.run["restrictions"])
    # Cap 4: all four enumerated, the same objective is now proven over all paths.
    res = solve_dir(ladder(tmp_path / "all", 4))
    assert res.outcome.objective == approx(14)
    assert res.run["routing"]["paths_complete"] is True
    assert res.run["routing"]["optimal_over"] == "all paths"


def test_the_total_cap_stops_enumeration_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(enumerate_paths, "MAX_TOTAL_PATHS", 3)  # the ladder has 4 paths
    ds = load_dataset(ladder(tmp_path, 64), "base")
    plan = plan_network(ds)
    enum = enumerate_paths.complete_paths(ds, plan)
    assert enum.complete is False and enum.paths_added == 0
    assert "more than 3 paths over all commodities" in enum.note
    assert enum.plan is plan


def test_simple_paths_cover_every_parallel_route_and_respect_the_bound(tmp_path: Path) -> None:
    # Six parallel X–A routes (PathFinder keeps 4 variants of a site sequence) and A–Y:
    # six paths X–A–Y, one per parallel route, plus X–Y 2,000 km (10 ms) outside a 5 ms bound.
    routes = [route("X", "A", 100 + 10 * i, route=f"xa{i}") for i in range(6)]
    routes += [route("A", "Y", 100, route="ay"), route("X", "Y", 2000, route="xy")]
    link = {
        "type": "zr",
        "medium": "smf",
        "capacity_gbps": 100,
        "reach_km": 5000,
        "capex_usd": 7,
        "opex_usd_per_year": 0,
        "power_w": 0,
        "dsp_latency_us": 0,
        "ports": 1,
        "deep_buffer_over_km": "",
    }
    folder = write_dataset(tmp_path, [transit(s) for s in "AXY"], routes=routes, link_types=[link])
    plan = plan_network(load_dataset(folder, "base"))
    finder = plan.finder
    assert finder is not None
    found = simple_paths(finder, "X", "Y", 5.0, 64)
    assert found is not None
    assert sorted(p.routes[0] for p in found) == [f"xa{i}" for i in range(6)]
    assert [p.latency_us for p in found] == sorted(p.latency_us for p in found)
    assert len(simple_paths(finder, "X", "Y", None, 64) or []) == 7
    assert simple_paths(finder, "X", "Y", None, 6) is None  # 7 > 6: over the cap
