"""Ladder rung 1: one tiny instance per model family, optimum computed by hand and asserted
exactly. Economics are flat (every CRF = 1), so each annual cost is a plain sum of prices.
Latency is 5 µs/km on smf with no hop latency, so 100 km = 0.5 ms."""

from __future__ import annotations

from pathlib import Path

import pyomo.environ as pyo
from builders import ONE_LINK, approx, racks_at, route, solve_dir, units_on, write_dataset
from pyomo.repn.standard_repn import generate_standard_repn

from model.build import build_model
from model.extract import routed_flows
from model.families.resilience import protection_rows
from model.highs_direct import integrality_tolerance
from model.index import build_index
from model.load import load_dataset
from model.network import plan_network
from model.solver import solve


def gpu_site(name: str, **kw) -> dict:
    return {"site": name, "lat": 35.0, "lon": 139.0, "gpu": 1, **kw}


def test_compute_places_racks_where_cheapest_within_caps(tmp_path: Path) -> None:
    # 5 racks × 10 kW, PUE 1. A: open 100, build 1 $/kW, max 3 racks; B: open 300, build 2.
    # All at B: 300 + 50 kW × 2 = 400. Split A3/B2: 100 + 300 + 30 + 40 = 470. A alone: full.
    # Optimum 400 with 5 racks at B.
    ds = write_dataset(
        tmp_path,
        [
            gpu_site("A", max_racks=3, open_capex_usd=100, build_usd_per_kw=1),
            gpu_site("B", open_capex_usd=300, build_usd_per_kw=2),
        ],
        settings={"demand": {"gpu_racks": 5}},
    )
    res = solve_dir(ds)
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(400)
    assert racks_at(res) == {"B": 5}
    assert res.tables.sites.set_index("site").at["A", "open"] == 0


def test_compute_min_racks_and_max_sites(tmp_path: Path) -> None:
    # 6 racks, each of A, B, C holds at most 3; build 1, 2, 3 $/kW; racks 10 kW.
    # Cheapest: A3 + B3 = 30 + 60 = 90. With max_gpu_sites 1 nothing fits one site, so the
    # instance is infeasible (checked elsewhere); with min 4 racks per site no site can
    # host (max 3) → infeasible. Here: min_racks_per_gpu_site 3 keeps A3 + B3 = 90.
    ds = write_dataset(
        tmp_path,
        [
            gpu_site("A", max_racks=3, build_usd_per_kw=1),
            gpu_site("B", max_racks=3, build_usd_per_kw=2),
            gpu_site("C", max_racks=3, build_usd_per_kw=3),
        ],
        settings={"demand": {"gpu_racks": 6, "min_racks_per_gpu_site": 3, "max_gpu_sites": 2}},
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(90)
    assert racks_at(res) == {"A": 3, "B": 3}


def test_zone_survival_moves_racks_to_a_second_zone(tmp_path: Path) -> None:
    # 10 racks of 1 kW. A (zone z1) build 1 $/kW, B (zone z2) build 2 $/kW.
    # zone_survival_share 0.3 → at least 3 racks outside each zone: B ≥ 3, A ≥ 3.
    # Optimum A7 + B3 = 7 + 6 = 13 (without survival: A10 = 10).
    ds = write_dataset(
        tmp_path,
        [
            gpu_site("A", zone="z1", build_usd_per_kw=1),
            gpu_site("B", zone="z2", build_usd_per_kw=2),
        ],
        settings={
            "demand": {"gpu_racks": 10, "rack_kw": 1.0},
            "resilience": {"zone_survival_share": 0.3},
        },
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(13)
    assert racks_at(res) == {"A": 7, "B": 3}


def test_storage_copies_go_to_distinct_zones(tmp_path: Path) -> None:
    # 10 PB × 2 copies at 1 kW/PB, PUE 1. S1 (z1, 100 $/MWh), S2 (z1, 50), S3 (z2, 200).
    # Each zone holds at most 10 PB: z1 → S2 (cheaper), z2 → S3.
    # Energy: 10 kW × 8.76 × 50 = 4,380 plus 10 kW × 8.76 × 200 = 17,520 → 21,900.
    sites = [
        {
            "site": "S1",
            "lat": 35,
            "lon": 139,
            "zone": "z1",
            "storage": 1,
            "energy_usd_per_mwh": 100,
        },
        {"site": "S2", "lat": 35, "lon": 139, "zone": "z1", "storage": 1, "energy_usd_per_mwh": 50},
        {
            "site": "S3",
            "lat": 35,
            "lon": 139,
            "zone": "z2",
            "storage": 1,
            "energy_usd_per_mwh": 200,
        },
    ]
    ds = write_dataset(
        tmp_path,
        sites,
        settings={"demand": {"storage_pb": 10, "storage_copies": 2, "storage_kw_per_pb": 1}},
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(21900)
    stor = res.tables.sites.set_index("site")["storage_pb"].to_dict()
    assert stor == {"S1": 0.0, "S2": 10.0, "S3": 10.0}


def test_cooling_choice_respects_rack_density_and_pue(tmp_path: Path) -> None:
    # 2 racks × 50 kW = 100 kW IT at 100 $/MWh, pue_offset +0.05.
    # air (max 40 kW/rack) cannot take the racks.
    # dlc: PUE 1.15 → 115 kW × 8.76 × 100 = 100,740 + capex 100 × 100 kW = 10,000 → 110,740
    # immersion: PUE 1.10 → 110 × 876 = 96,360 + 300 × 100 = 30,000 → 126,360.
    # power weight 1,000 $/MW/yr adds 0.115 MW × 1,000 = 115 to the objective only.
    cooling = [
        {"method": "air", "max_rack_kw": 40, "pue": 1.5, "capex_usd_per_kw": 0},
        {"method": "dlc", "max_rack_kw": 100, "pue": 1.1, "capex_usd_per_kw": 100},
        {"method": "immersion", "max_rack_kw": 200, "pue": 1.05, "capex_usd_per_kw": 300},
    ]
    ds = write_dataset(
        tmp_path,
        [gpu_site("A", energy_usd_per_mwh=100, pue_offset=0.05)],
        settings={
            "demand": {"gpu_racks": 2, "rack_kw": 50},
            "economics": {"power_weight_usd_per_mw_year": 1000},
        },
        cooling=cooling,
    )
    res = solve_dir(ds)
    site = res.tables.sites.set_index("site").loc["A"]
    assert site["cooling"] == "dlc"
    assert site["facility_kw"] == approx(115)
    summary = res.tables.summary.iloc[0]
    assert summary["annual_cost_usd"] == approx(110740)
    assert res.outcome.objective == approx(110740 + 115)
    assert summary["objective"] == approx(110855)


X_TO_Y = [{"src": "X", "dst": "Y", "gbps": 250, "max_latency_ms": "", "protected": 0}]
TRANSIT_XY = [{"site": "X", "lat": 35, "lon": 139}, {"site": "Y", "lat": 35, "lon": 140}]
LINKS = [
    {"type": "zr", "medium": "smf", "capacity_gbps": 100, "reach_km": 120, "capex_usd": 10},
    {
        "type": "zrp",
        "medium": "smf",
        "capacity_gbps": 100,
        "reach_km": 500,
        "capex_usd": 30,
        "opex_usd_per_year": 1,
        "ports": 1,
    },
    {"type": "lh", "medium": "smf", "capacity_gbps": 400, "reach_km": 2000, "capex_usd": 100},
    {"type": "hollow", "medium": "hcf", "capacity_gbps": 400, "reach_km": 2000, "capex_usd": 1},
]


def test_links_integer_units_by_reach_and_medium_with_route_cost(tmp_path: Path) -> None:
    # 250 Gbps X → Y over one 200 km smf route costing 1,000 to light.
    # zr does not reach 200 km; hollow runs on hcf only. 3 × zrp = 90 capex + 3 opex = 93;
    # 1 × lh = 100. Optimum 1,000 + 93 = 1,093 with 3 zrp units.
    ds = write_dataset(
        tmp_path,
        TRANSIT_XY,
        routes=[route("X", "Y", 200, build_capex_usd=1000)],
        link_types=LINKS,
        demands=X_TO_Y,
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(1093)
    assert units_on(res) == {("X-Y", "zrp"): 3}
    flows = res.tables.flows
    assert flows["gbps"].sum() == approx(250)
    assert flows.iloc[0]["latency_ms"] == approx(1.0)


def test_offers_restrict_types_and_override_prices(tmp_path: Path) -> None:
    # Same as above, but the route only offers lh, at 60 instead of 100: 1,000 + 60.
    offers = [
        {
            "a": "Y",
            "b": "X",
            "medium": "smf",
            "type": "lh",
            "capex_usd": 60,
            "opex_usd_per_year": "",
            "max_units": "",
        }
    ]
    ds = write_dataset(
        tmp_path,
        TRANSIT_XY,
        routes=[route("X", "Y", 200, build_capex_usd=1000)],
        link_types=LINKS,
        demands=X_TO_Y,
        offers=offers,
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(1060)
    assert units_on(res) == {("X-Y", "lh"): 1}


ROUTERS = [
    {
        "model": "small",
        "capacity_gbps": 1000,
        "ports": 2,
        "capex_usd": 50,
        "power_kw": 0,
        "deep_buffer": 0,
    },
    {
        "model": "big",
        "capacity_gbps": 10000,
        "ports": 8,
        "capex_usd": 120,
        "power_kw": 0,
        "deep_buffer": 1,
    },
]


def router_instance(tmp_path: Path, min_routers: int, deep_buffer_over_km: float | str = ""):
    """250 Gbps X → Y on one 200 km route: 3 zrp units (capex 90, no opex) and routers."""
    links = [dict(LINKS[1], opex_usd_per_year=0, deep_buffer_over_km=deep_buffer_over_km)]
    ds = write_dataset(
        tmp_path,
        TRANSIT_XY,
        routes=[route("X", "Y", 200)],
        link_types=links,
        routers=ROUTERS,
        demands=X_TO_Y,
        settings={"resilience": {"min_routers_per_site": min_routers}},
    )
    return solve_dir(ds)


def router_models(res) -> dict[str, str]:
    return res.tables.sites.set_index("site")["router_models"].to_dict()


def test_routers_cover_ports_at_both_ends(tmp_path: Path) -> None:
    # 3 zrp units (90) use 3 ports at X and at Y: 2 small (4 ports, 100) beat 1 big (120).
    # Optimum 90 + 2 × 100 = 290 (route free, no opex).
    res = router_instance(tmp_path, min_routers=1)
    assert res.outcome.objective == approx(290)
    assert router_models(res) == {"X": "small:2", "Y": "small:2"}


def test_deep_buffer_rule_on_long_routes(tmp_path: Path) -> None:
    # As above, but zrp needs deep-buffer routers beyond 100 km (route is 200 km):
    # only 'big' is deep → 1 big per end: 90 + 2 × 120 = 330.
    res = router_instance(tmp_path, min_routers=1, deep_buffer_over_km=100)
    assert res.outcome.objective == approx(330)
    assert router_models(res) == {"X": "big:1", "Y": "big:1"}


def test_min_routers_per_site(tmp_path: Path) -> None:
    # min 3 routers where a route is lit: 3 small (150) beat big + 2 small (220): 90 + 300.
    res = router_instance(tmp_path, min_routers=3)
    assert res.outcome.objective == approx(390)


def storage_instance(tmp_path: Path, storage_latency_ms: float) -> Path:
    # G1 (build 2 $/kW) and G2 (build 1 $/kW) may host GPUs; S holds storage.
    # Routes: G1–S 100 km (0.5 ms), G2–S 400 km (2 ms), G1–G2 300 km (1.5 ms).
    sites = [
        gpu_site("G1", build_usd_per_kw=2),
        gpu_site("G2", build_usd_per_kw=1),
        {"site": "S", "lat": 35, "lon": 139, "storage": 1},
    ]
    return write_dataset(
        tmp_path,
        sites,
        routes=[route("G1", "S", 100), route("G2", "S", 400), route("G1", "G2", 300)],
        settings={
            "demand": {
                "gpu_racks": 4,
                "rack_kw": 1,
                "storage_pb": 1,
                "storage_gbps_per_rack": 10,
                "storage_gbps_per_pb": 1000,
                "storage_latency_ms": storage_latency_ms,
            }
        },
    )


def test_storage_latency_bound_keeps_gpus_near_storage(tmp_path: Path) -> None:
    # Bound 1 ms: only G1 reaches S (G2 needs 2 ms direct or via G1). 4 racks at G1:
    # 4 kW × 2 = 8, plus 40 Gbps each way on G1–S: 1 unit × 7 → 15.
    res = solve_dir(storage_instance(tmp_path, 1.0))
    assert res.outcome.objective == approx(15)
    assert racks_at(res) == {"G1": 4}
    assert units_on(res) == {("G1-S", "zr"): 1}
    flows = res.tables.flows
    assert set(flows["kind"]) == {"storage"}
    assert sorted(flows["path"]) == ["G1>S", "S>G1"]


def test_storage_traffic_bounds_route_units_as_a_whole(tmp_path: Path) -> None:
    # G (GPU, 10 racks at most) and storage sites S1, S2, S3, each joined to G through the
    # hub X. Each storage pair (a read and a write) may carry up to 100 Gbps × 10 racks =
    # 1,000 Gbps per commodity: 6,000 Gbps over X–G, 60 units of zr. But the 2 racks asked
    # for draw 100 × 2 = 200 Gbps of reads and as much of writes in all, so no route
    # carries more than 400 Gbps of storage traffic: 4 units. Optimum: 1 PB at one of the
    # three (a tie), 200 Gbps each way over S–X and X–G, 2 units each: 4 × 7 = 28.
    sites = [gpu_site("G", max_racks=10), {"site": "X", "lat": 35, "lon": 139}] + [
        {"site": s, "lat": 35, "lon": 139, "storage": 1} for s in ("S1", "S2", "S3")
    ]
    folder = write_dataset(
        tmp_path,
        sites,
        routes=[route(s, "X", 100) for s in ("S1", "S2", "S3")] + [route("X", "G", 100)],
        settings={
            "demand": {
                "gpu_racks": 2,
                "rack_kw": 1,
                "storage_pb": 1,
                "storage_gbps_per_rack": 100,
                "storage_gbps_per_pb": 100000,
                "storage_latency_ms": 10,
            }
        },
    )
    ds = load_dataset(folder)
    plan = plan_network(ds)
    assert sorted(c.kind for c in plan.commodities) == ["storage"] * 6
    assert build_index(ds, plan).route_units_ub == {"S1-X": 4, "S2-X": 4, "S3-X": 4, "X-G": 4}
    res = solve_dir(folder)
    assert res.outcome.status == "optimal" and res.outcome.objective == approx(28)


def test_huge_route_bound_tightens_the_integrality_tolerance(tmp_path: Path, caplog) -> None:
    # G (4 racks) reads from and writes to S over one route of 1 Gbps links (7 each),
    # 10⁵ Gbps per rack each way: 4·10⁵ units carry both directions, 2.8·10⁶ in all. The
    # route's bound in links_lit counts both commodities, M = 8·10⁵: lit = 10⁻⁶ (integral
    # for HiGHS by default) would allow 0.8 of a unit, so the tolerance goes to
    # ½/M = 6.25·10⁻⁷. The small set below keeps HiGHS's default.
    folder = write_dataset(
        tmp_path / "huge",
        [gpu_site("G", max_racks=4), {"site": "S", "lat": 35, "lon": 139, "storage": 1}],
        routes=[route("S", "G", 100)],
        link_types=[{**ONE_LINK[0], "capacity_gbps": 1}],
        settings={
            "demand": {
                "gpu_racks": 4,
                "rack_kw": 1,
                "storage_pb": 8,
                "storage_gbps_per_rack": 1e5,
                "storage_gbps_per_pb": 1e5,
                "storage_latency_ms": 10,
            }
        },
    )
    ds = load_dataset(folder)
    m, _ = build_model(ds, plan_network(ds))
    assert m.largest_big_m == 800_000
    assert integrality_tolerance(m) == approx(6.25e-7)
    with caplog.at_level("INFO", logger="model.highs_direct"):
        res = solve_dir(folder)
    assert res.outcome.status == "optimal" and res.outcome.objective == approx(2.8e6)
    assert units_on(res) == {("S-G", "zr"): 400_000}
    assert "mip_feasibility_tolerance 6.25e-07" in caplog.text


def test_small_route_bounds_keep_the_default_tolerance(tmp_path: Path) -> None:
    ds = load_dataset(storage_instance(tmp_path, 10.0))
    m, _ = build_model(ds, plan_network(ds))
    assert 0 < m.largest_big_m < 500_000
    assert integrality_tolerance(m) is None


def test_storage_without_tight_bound_prefers_cheap_site(tmp_path: Path) -> None:
    # Bound 10 ms: 4 racks at G2 (4 × 1 = 4) plus one unit on G2–S (7) → 11.
    res = solve_dir(storage_instance(tmp_path / "loose", 10.0))
    assert res.outcome.objective == approx(11)
    assert racks_at(res) == {"G2": 4}


def sync_instance(tmp_path: Path, sync_latency_ms: float | None) -> Path:
    # G1, G2, G3, at most 2 racks each, 4 racks of 1 kW → two GPU sites.
    # build 1, 5, 1 $/kW. Routes G1–G2 120 km (0.6 ms), G2–G3 120 km, G1–G3 300 km (1.5 ms).
    sites = [
        gpu_site("G1", max_racks=2, build_usd_per_kw=1),
        gpu_site("G2", max_racks=2, build_usd_per_kw=5),
        gpu_site("G3", max_racks=2, build_usd_per_kw=1),
    ]
    demand = {"gpu_racks": 4, "rack_kw": 1, "sync_gbps": 50}
    if sync_latency_ms is not None:
        demand["sync_latency_ms"] = sync_latency_ms
    return write_dataset(
        tmp_path,
        sites,
        routes=[route("G1", "G2", 120), route("G2", "G3", 120), route("G1", "G3", 300)],
        settings={"demand": demand},
    )


def test_sync_without_bound_pairs_the_cheap_sites(tmp_path: Path) -> None:
    # G1 + G3: 2 + 2 = 4, plus 50 Gbps each way on the direct G1–G3 route: 1 unit (7) → 11.
    res = solve_dir(sync_instance(tmp_path, None))
    assert res.outcome.objective == approx(11)
    assert racks_at(res) == {"G1": 2, "G3": 2}
    assert units_on(res) == {("G1-G3", "zr"): 1}


def test_sync_latency_bound_blocks_distant_pairs(tmp_path: Path) -> None:
    # 1 ms: G1–G3 needs 1.5 ms direct, 1.2 ms via G2 → blocked. Any pair with G2:
    # 2 × 1 + 2 × 5 = 12, plus one unit (7) → 19.
    res = solve_dir(sync_instance(tmp_path, 1.0))
    assert res.outcome.objective == approx(19)
    racks = racks_at(res)
    assert racks["G2"] == 2 and len(racks) == 2
    assert res.run["network"]["sync_pairs_blocked_by_latency"] == [["G1", "G3"]]


def protection_instance(tmp_path: Path, protection: str, protected: int = 1) -> Path:
    # 100 Gbps X → Y, protected unless ``protected`` is 0 (the demand's own column rules,
    # whatever link_protection says). Routes (100 km unless noted): X–Y (srlg duct1),
    # X–Z (duct1), Z–Y, X–W 150 km, W–Y 150 km. zr carries 100 Gbps for 10 per unit.
    sites = [{"site": s, "lat": 35, "lon": 139} for s in ("W", "X", "Y", "Z")]
    routes = [
        route("X", "Y", 100, srlg="duct1"),
        route("X", "Z", 100, srlg="duct1"),
        route("Z", "Y", 100),
        route("X", "W", 150),
        route("W", "Y", 150),
    ]
    links = [
        {"type": "zr", "medium": "smf", "capacity_gbps": 100, "reach_km": 1000, "capex_usd": 10}
    ]
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        link_types=links,
        demands=[
            {"src": "X", "dst": "Y", "gbps": 100, "max_latency_ms": "", "protected": protected}
        ],
        settings={"resilience": {"link_protection": protection}},
    )


def test_unprotected_demand_takes_the_direct_route(tmp_path: Path) -> None:
    res = solve_dir(protection_instance(tmp_path, "none", protected=0))
    assert res.outcome.objective == approx(10)


def test_diverse_protection_avoids_shared_conduit(tmp_path: Path) -> None:
    # Surviving duct1 needs 100 Gbps on X–W–Y (2 units); surviving X–W or W–Y needs 100 on
    # a duct1 path: direct (1 unit) beats X–Z–Y (2). Optimum 3 units = 30.
    res = solve_dir(protection_instance(tmp_path, "diverse"))
    assert res.outcome.objective == approx(30)
    assert units_on(res) == {("X-Y", "zr"): 1, ("X-W", "zr"): 1, ("W-Y", "zr"): 1}
    assert set(res.tables.flows["path"]) == {"X>Y", "X>W>Y"}


def test_protection_keeps_one_row_per_maximal_cut(tmp_path: Path) -> None:
    # Candidate paths X>Y, X>Z>Y, X>W>Y. duct1 cuts the first two; route Z–Y cuts only
    # X>Z>Y, so duct1's survival row implies Z–Y's. X–W and W–Y cut the same path and share
    # one row, named by the first id. Two rows remain (the optimum, 30, is checked above).
    ds = load_dataset(protection_instance(tmp_path, "diverse"))
    plan = plan_network(ds)
    assert [">".join(p.nodes) for p in plan.commodities[0].paths] == ["X>Y", "X>Z>Y", "X>W>Y"]
    assert protection_rows(plan, build_index(ds, plan)) == [(0, "route:W-Y"), (0, "srlg:duct1")]
    # Each row sums the paths its failure leaves: duct1 leaves X>W>Y; W–Y leaves the two others.
    m, _ = build_model(ds, plan)
    alive = {
        f: sorted(
            v.index()
            for v in generate_standard_repn(m.resilience_protection[0, f].body).linear_vars
            if v.parent_component() is m.flow
        )
        for f in ("route:W-Y", "srlg:duct1")
    }
    assert alive == {"route:W-Y": [(0, 0), (0, 1)], "srlg:duct1": [(0, 2)]}


def test_unbilled_protected_flow_is_clipped_to_its_demand(tmp_path: Path) -> None:
    # Where flow is not billed the model does not cap a protected path's flow at the demand
    # (the rows would be 60 % of a large model); extraction clips it. Solve, then add 50 Gbps
    # of excess on every path: the reported flows are unchanged and none exceeds 100.
    ds = load_dataset(protection_instance(tmp_path, "diverse"))
    plan = plan_network(ds)
    m, ix = build_model(ds, plan, build_index(ds, plan))
    assert solve(m, ds.settings.solver).status == "optimal"
    assert not hasattr(m, "traffic_path_cap") or len(m.traffic_path_cap) == 0
    before = {(c, p.nodes): g for c, p, g in routed_flows(m, ds, ix, plan)}
    for key in ix.paths:
        m.flow[key].set_value(pyo.value(m.flow[key]) + 50, skip_validation=True)
    after = {(c, p.nodes): g for c, p, g in routed_flows(m, ds, ix, plan)}
    assert max(after.values()) == approx(100)
    assert {k: v for k, v in after.items() if k in before} == approx(before)


def test_existing_capacity_and_flow_cost(tmp_path: Path) -> None:
    # 150 Gbps X → Y; the route has 100 Gbps in place and bills 2 $/Gbps/yr carried.
    # One new zr unit (7) + 150 × 2 = 307.
    ds = write_dataset(
        tmp_path,
        TRANSIT_XY,
        routes=[route("X", "Y", 100, existing_gbps=100, flow_usd_per_gbps_year=2)],
        demands=[{"src": "X", "dst": "Y", "gbps": 150, "max_latency_ms": "", "protected": 0}],
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(307)
    assert units_on(res) == {("X-Y", "zr"): 1}


def both_ways(tmp_path: Path, sharing: str) -> Path:
    # 60 Gbps X → Y and 60 Gbps Y → X on one route, zr 100 Gbps for 7.
    return write_dataset(
        tmp_path,
        TRANSIT_XY,
        routes=[route("X", "Y", 100)],
        settings={"network": {"capacity_sharing": sharing}},
        demands=[
            {"src": "X", "dst": "Y", "gbps": 60, "max_latency_ms": "", "protected": 0},
            {"src": "Y", "dst": "X", "gbps": 60, "max_latency_ms": "", "protected": 0},
        ],
    )


def test_duplex_capacity_counts_each_direction(tmp_path: Path) -> None:
    # Duplex: each direction has 100 Gbps per unit → 1 unit = 7.
    assert solve_dir(both_ways(tmp_path, "duplex")).outcome.objective == approx(7)


def test_shared_capacity_counts_both_directions_together(tmp_path: Path) -> None:
    # Shared: 120 Gbps together → 2 units = 14.
    assert solve_dir(both_ways(tmp_path, "shared")).outcome.objective == approx(14)


ONE_LINK_POWER = {
    "type": "zr",
    "medium": "smf",
    "capacity_gbps": 100,
    "reach_km": 1000,
    "capex_usd": 7,
    "power_w": 1000,
}


def test_transit_power_and_optics_power_cost(tmp_path: Path) -> None:
    # 100 Gbps X → Y; zr draws 1,000 W for both ends: 0.5 kW IT at each transit end.
    # transit_pue 2 → 1 kW facility per end; energy 1,000 $/MWh → 1 × 8.76 × 1,000 = 8,760
    # per end. Plus the unit (7): 2 × 8,760 + 7 = 17,527.
    sites = [
        {"site": "X", "lat": 35, "lon": 139, "energy_usd_per_mwh": 1000},
        {"site": "Y", "lat": 35, "lon": 140, "energy_usd_per_mwh": 1000},
    ]
    links = [dict(ONE_LINK_POWER)]
    ds = write_dataset(
        tmp_path,
        sites,
        routes=[route("X", "Y", 100)],
        link_types=links,
        settings={"network": {"transit_pue": 2.0}},
        demands=[{"src": "X", "dst": "Y", "gbps": 100, "max_latency_ms": "", "protected": 0}],
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(17527)
    summary = res.tables.summary.iloc[0]
    assert summary["network_power_kw"] == approx(1.0)
    assert summary["power_mw"] == approx(0.002)


def test_annualisation_uses_capital_recovery_factors(tmp_path: Path) -> None:
    # One GPU site, 1 rack of 10 kW, open capex 1,000,000, discount 8 %, site life 20 years:
    # CRF = 0.08 × 1.08^20 / (1.08^20 − 1) = 0.1018522088 → 101,852.21 per year.
    ds = write_dataset(
        tmp_path,
        [gpu_site("A", open_capex_usd=1_000_000)],
        settings={
            "demand": {"gpu_racks": 1},
            "economics": {"discount_rate": 0.08, "lifetime_years": {"site": 20}},
        },
    )
    res = solve_dir(ds)
    crf = 0.08 * 1.08**20 / (1.08**20 - 1)
    assert res.outcome.objective == approx(1_000_000 * crf)
    assert res.tables.summary.iloc[0]["capex_usd"] == approx(1_000_000)


def test_existing_site_pays_no_open_cost(tmp_path: Path) -> None:
    # A is existing (open capex ignored, always open); B is new with open capex 50.
    # Racks: 1 × 10 kW at build 10 $/kW at A (100) vs B (50 + 0). B wins: 50.
    # A stays open (existing) with no load: cost 0.
    ds = write_dataset(
        tmp_path,
        [
            gpu_site("A", existing=1, open_capex_usd=1e9, build_usd_per_kw=10),
            gpu_site("B", open_capex_usd=50),
        ],
        settings={"demand": {"gpu_racks": 1}},
    )
    res = solve_dir(ds)
    assert res.outcome.objective == approx(50)
    opened = res.tables.sites.set_index("site")["open"].to_dict()
    assert opened == {"A": 1, "B": 1}


def test_demands_between_unconnected_parts_need_a_tree_of_units(tmp_path: Path) -> None:
    # X, Y, Z, W; routes X–Y, Y–Z, X–Z, Z–W; 100 Gbps X → Y and Y → Z, 1 Gbps W → W's
    # neighbour Z. With no capacity in place the demand graph {X, Y, Z, W} is one piece:
    # any design has units on at least 3 routes (links_connect: Σ units ≥ 3 over all). With
    # 1,000 Gbps in place on X–Y, X and Y are one part: 2 routes joining parts (Y–Z or X–Z,
    # and Z–W), X–Y left out of the row. Optimum: one zr unit (7) per route needed: 21, 14.
    sites = [{"site": s, "lat": 35.0, "lon": 139.0} for s in "WXYZ"]
    demands = [
        {"src": a, "dst": b, "gbps": g, "max_latency_ms": "", "protected": 0}
        for a, b, g in (("X", "Y", 100), ("Y", "Z", 100), ("W", "Z", 1))
    ]
    for existing, need, rows, cost in ((0, 3, 4, 21), (1000, 2, 3, 14)):
        folder = tmp_path / f"e{existing}"
        routes = [
            route("X", "Y", 100, existing_gbps=existing),
            route("Y", "Z", 100),
            route("X", "Z", 100),
            route("Z", "W", 100),
        ]
        ds = load_dataset(write_dataset(folder, sites, routes=routes, demands=demands))
        plan = plan_network(ds)
        m, _ = build_model(ds, plan, build_index(ds, plan))
        row = m.links_connect
        assert row.lower == need and row.upper is None
        terms = {v.index() for v in pyo.expr.identify_variables(row.body)}
        assert len(terms) == rows and (("X-Y", "zr") in terms) == (existing == 0)
        res = solve_dir(folder)
        assert res.outcome.status == "optimal" and res.outcome.objective == approx(cost)
