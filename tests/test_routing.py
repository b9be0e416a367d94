"""Exact routing: traffic without a latency bound or protection is routed over all paths
(arc flows), so the optimum does not depend on paths_per_pair; bounded traffic keeps its
candidate set and says so. SNDlib france U-U-M reaches its published optimum."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from builders import REPO, approx, route, solve_dir, units_on, write_dataset

from model.errors import InfeasibleError

SNDLIB = REPO.parent / "shared" / "data" / "sndlib" / "native"


def detour_instance(tmp_path: Path, bound_ms: float | str) -> Path:
    # 100 Gbps X → Y. Routes: X–Y 100 km lit for 1,000; X–A–Y 2 × 100 km lit for 500 each;
    # X–B–Y 2 × 150 km, free to light. zr: 100 Gbps for 7 per unit.
    # With paths_per_pair = 1 the only candidate is X–Y (1,000 + 7 = 1,007); over all paths
    # the optimum is X–B–Y: 2 units, 14.
    sites = [{"site": s, "lat": 35, "lon": 139} for s in "ABXY"]
    routes = [
        route("X", "Y", 100, build_capex_usd=1000),
        route("X", "A", 100, build_capex_usd=500),
        route("A", "Y", 100, build_capex_usd=500),
        route("X", "B", 150),
        route("B", "Y", 150),
    ]
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        settings={"network": {"paths_per_pair": 1}},
        demands=[{"src": "X", "dst": "Y", "gbps": 100, "max_latency_ms": bound_ms, "protected": 0}],
    )


def test_unbounded_traffic_finds_a_path_outside_the_k_shortest(tmp_path: Path) -> None:
    res = solve_dir(detour_instance(tmp_path, ""))
    assert res.outcome.objective == approx(14)
    assert units_on(res) == {("X-B", "zr"): 1, ("B-Y", "zr"): 1}
    flows = res.tables.flows
    assert flows[["path", "gbps", "latency_ms"]].values.tolist() == [["X>B>Y", 100.0, 1.5]]
    assert not any("candidate paths" in r for r in res.run["restrictions"])
    assert res.run["routing"]["lp_complete"] is True
    assert res.run["routing"]["exact_commodities"] == 1
    assert res.run["routing"]["optimal_over"] == "all paths"


def test_bounded_traffic_gets_the_path_its_candidate_set_left_out(tmp_path: Path) -> None:
    # Bound 10 ms admits every path, but paths_per_pair = 1 keeps only X–Y: 1,007. Pricing
    # at the LP relaxation finds the cheaper path the candidate set left out. It must: the
    # LP over all paths costs at most 14, over X–Y alone 1,007 (lighting X–Y is forced).
    # Whatever optimal duals HiGHS returns (the LP is degenerate; 1.16 and 1.15 give
    # different ones), the demand row's is worth at least 1,007 / 100 Gbps, and X–B–Y has no
    # capacity row, so its reduced cost is negative. Column generation adds it: 14.
    res = solve_dir(detour_instance(tmp_path, 10))
    assert any("up to 1 shortest" in r for r in res.run["restrictions"])
    routing = res.run["routing"]
    assert routing["candidate_lp_bound"] == approx(1007)
    assert routing["root_paths_added"] >= 1 and routing["root_rounds"] >= 2
    assert routing["lp_complete"] is True and routing["improving"] == 0
    assert res.outcome.objective == approx(14)
    assert routing["all_path_lp_bound"] <= 14 + 1e-6
    assert res.tables.flows["path"].tolist() == ["X>B>Y"]


def test_pricing_proves_a_large_enough_path_set_complete(tmp_path: Path) -> None:
    ds = detour_instance(tmp_path, 10)
    text = (ds / "settings.toml").read_text().replace("paths_per_pair = 1", "paths_per_pair = 3")
    (ds / "settings.toml").write_text(text)
    res = solve_dir(ds)
    assert res.outcome.objective == approx(14)
    assert res.run["routing"]["lp_complete"] is True
    assert res.run["routing"]["root_paths_added"] == 0
    assert res.run["routing"]["path_commodities"] == 1


def test_directed_route_carries_one_direction_only(tmp_path: Path) -> None:
    # X → Y is a directed route; Y → X traffic must take the undirected Y–Z–X detour.
    sites = [{"site": s, "lat": 35, "lon": 139} for s in "XYZ"]
    routes = [
        route("X", "Y", 100, directed=1),
        route("Y", "Z", 100, directed=0),
        route("Z", "X", 100, directed=0),
    ]
    ds = write_dataset(
        tmp_path,
        sites,
        routes=routes,
        demands=[{"src": "Y", "dst": "X", "gbps": 100, "max_latency_ms": "", "protected": 0}],
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(14)
    assert res.tables.flows["path"].tolist() == ["Y>Z>X"]


def test_directed_route_cannot_serve_reverse_demand_alone(tmp_path: Path) -> None:
    sites = [{"site": s, "lat": 35, "lon": 139} for s in "XY"]
    ds = write_dataset(
        tmp_path,
        sites,
        routes=[route("X", "Y", 100, directed=1)],
        demands=[{"src": "Y", "dst": "X", "gbps": 1, "max_latency_ms": "", "protected": 0}],
    )
    with pytest.raises(InfeasibleError, match=r"demand Y>X \(Y → X\): no bound, no path at all"):
        solve_dir(ds)


@pytest.mark.skipif(not SNDLIB.exists(), reason="../shared/data/sndlib is absent")
def test_sndlib_france_reaches_published_optimum(tmp_path: Path) -> None:
    # Published optimum (MIPLIB solution file): france U-U-M-N-C-A-N-N 20200, no pre-installed
    # capacity.
    net = SNDLIB / "france"
    out = tmp_path / "france"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "model.sndlib",
            str(net / "france.txt"),
            str(net / "models" / "U-U-M-N-C-A-N-N.txt"),
            str(out),
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    res = solve_dir(out)
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(20200)
    demands = res.dataset.demands["gbps"].sum()
    assert res.tables.flows["gbps"].sum() == pytest.approx(demands, rel=1e-6)
