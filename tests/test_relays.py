"""Relay rows (model/families/relays.py): a scale-across pair pays at least for the cheapest
set of relay sites its protected traffic could use. Tiny instances, floors and optima
computed by hand; flat economics (every CRF = 1)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyomo.environ as pyo
import pytest
from builders import approx, route, solve_dir, write_dataset
from pyomo.repn import generate_standard_repn

from model.build import build_model
from model.families.relays import relay_floor
from model.highs_direct import DirectHighs, compile_model
from model.load import load_dataset
from model.network import Commodity, plan_network
from model.network import Path as Route

ROUTER = [{"model": "r", "capacity_gbps": 1e5, "ports": 1000, "capex_usd": 1, "power_kw": 0}]


def relay_instance(tmp_path: Path, pairwise_srlgs: bool) -> Path:
    # GPU sites A (zone z1) and B (z2), one rack each at most; 2 racks and zone survival
    # 0.5 put one rack at each, so A–B is a scale-across pair (50 Gbps each way, protected,
    # share 0.5). A and B are joined only through R1, R2, R3 (open 10, 20, 40 $), 100 km
    # routes, 1 router (1 $) at every site with a lit route, zr units 7 $ (100 Gbps).
    # Independent routes: any two paths survive every failure; the cheapest relays R1 + R2
    # and their routers: floor 32. Pairwise SRLGs (s12 cuts the paths via R1 and R2, s13
    # via R1 and R3, s23 via R2 and R3): any two paths share a failure, all three are
    # needed: floor 10 + 20 + 40 + 3 = 73.
    sites = [
        {"site": "A", "lat": 35.0, "lon": 139.0, "gpu": 1, "zone": "z1", "max_racks": 1},
        {"site": "B", "lat": 35.0, "lon": 141.0, "gpu": 1, "zone": "z2", "max_racks": 1},
    ] + [
        {"site": r, "lat": 36.0, "lon": 140.0, "open_capex_usd": c}
        for r, c in (("R1", 10), ("R2", 20), ("R3", 40))
    ]
    srlg = {
        ("A", "R1"): "s12",
        ("R1", "B"): "s13",
        ("A", "R2"): "s12",
        ("R2", "B"): "s23",
        ("A", "R3"): "s13",
        ("R3", "B"): "s23",
    }
    routes = [route(a, b, 100, srlg=srlg[a, b] if pairwise_srlgs else "") for a, b in srlg]
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        routers=ROUTER,
        settings={
            "demand": {"gpu_racks": 2, "rack_kw": 1, "sync_gbps": 50},
            "resilience": {
                "link_protection": "diverse",
                "protected_share": 0.5,
                "zone_survival_share": 0.5,
                "min_routers_per_site": 1,
            },
        },
    )


def built(folder: Path) -> pyo.ConcreteModel:
    ds = load_dataset(folder)
    m, _ = build_model(ds, plan_network(ds))
    return m


def row_terms(row) -> dict[str, float]:
    """The row ``paid − floor × x ≥ 0`` as {variable name: coefficient}."""
    repn = generate_standard_repn(row.body)
    assert row.lower == 0 and row.upper is None
    return {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs, strict=True)}


@pytest.mark.parametrize(
    ("pairwise", "floor", "relays", "optimum"),
    [
        # 30 open + 4 routers (A, B, R1, R2) + 4 routes × 1 unit × 7 = 62
        (False, 32, {"R1", "R2"}, 62),
        # 70 open + 5 routers + 6 routes × 7 = 117
        (True, 73, {"R1", "R2", "R3"}, 117),
    ],
)
def test_a_scale_across_pair_pays_for_its_cheapest_cover_of_relays(
    tmp_path: Path, pairwise: bool, floor: float, relays: set[str], optimum: float
) -> None:
    folder = relay_instance(tmp_path, pairwise)
    m = built(folder)
    pair = m.traffic_relay_pair["A", "B"]
    terms = row_terms(pair)
    assert terms.pop("pair[A,B]") == approx(-floor)
    assert terms == {
        "open[R1]": 10,
        "open[R2]": 20,
        "open[R3]": 40,
        "routers[R1,r]": 1,
        "routers[R2,r]": 1,
        "routers[R3,r]": 1,
    }
    # Zone survival: each GPU site has a partner, so its own row carries the same floor.
    for s in ("A", "B"):
        gpu = row_terms(m.traffic_relay_gpu[s])
        assert gpu.pop(f"gpu[{s}]") == approx(-floor)
        assert gpu == terms

    res = solve_dir(folder)
    assert res.outcome.status == "optimal" and res.outcome.objective == approx(optimum)
    sites = res.tables.sites.set_index("site")
    assert set(sites.index[(sites["open"] == 1) & (sites["role"] == "transit")]) == relays

    # The LP relaxation pays the floor: the GPU sites are whole (one rack each at most), so
    # pair = 1 and Σ open + routers at the relays ≥ floor. Without the rows the LP's value
    # (unique, unlike its solution) is lower by more than 1: the rows cut its optimum off
    # (measured: 22.0 against 39.67, and 32.5 against 84.5).
    compiled = compile_model(m)
    relay_cost = sum(c * m.open[r] for r, c in (("R1", 10), ("R2", 20), ("R3", 40)))
    relay_cost += sum(m.routers[r, "r"] for r in ("R1", "R2", "R3"))
    value = {}
    for drop in ((), ("traffic_relay_pair", "traffic_relay_gpu")):
        DirectHighs().solve(
            m,
            time_limit=60,
            rel_gap=None,
            threads=1,
            seed=0,
            compiled=compiled.variant(relax=True, drop=drop),
        )
        value[bool(drop)] = pyo.value(m.objective)
        if not drop:
            assert pyo.value(relay_cost) >= floor - 1e-6
    assert value[True] < value[False] - 1


def test_relay_floor_counts_only_routes_that_must_be_lit() -> None:
    # Paths A>R1>B (routes a1, b1), A>R2>B (a2 has capacity in place, so only b2 must be
    # lit: R2 and B are its ends) and A>R3>B over d3, which has neither capacity nor a link
    # type and carries nothing. Every route is its own failure. Protected: the cheapest
    # cover is the first two paths, R1 + R2 = 30 (R3 at 1 cannot help). Unprotected: one
    # path, R1 = 10. With a2 unlit the path via R2 would force R2 twice, still 20.
    paths = (
        Route(("a1", "b1"), ("A", "R1", "B"), 1.0),
        Route(("a2", "b2"), ("A", "R2", "B"), 2.0),
        Route(("d3", "b3"), ("A", "R3", "B"), 3.0),
    )
    com = Commodity("sync:A>B", "sync", "A", "B", ("A", "B"), None, True, paths)
    fails = {r: (f"route:{r}",) for r in ("a1", "b1", "a2", "b2", "d3", "b3")}
    forced = {"a1": True, "b1": True, "a2": False, "b2": True, "d3": None, "b3": True}
    cost = {"A": 5.0, "B": 5.0, "R1": 10.0, "R2": 20.0, "R3": 1.0}
    routes = dict.fromkeys(fails, 0.0)
    low, sites, lit = relay_floor(com, True, fails, forced, cost, routes)
    assert low == 30 and sites == {"R1", "R2"} and lit == {"a1", "b1", "b2"}
    assert relay_floor(com, False, fails, forced, cost, routes)[0] == 10
    # A route's own build cost counts too: b1 at 25 makes the path via R1 cost 35.
    routes["b1"] = 25.0
    assert relay_floor(com, True, fails, forced, cost, routes)[0] == 55
    assert relay_floor(com, False, fails, forced, cost, routes)[0] == 20


def test_a_gpu_site_row_takes_only_partners_of_other_zones(tmp_path: Path) -> None:
    # The instance above (independent routes) with a third GPU site C in A's zone z1,
    # joined to A by two parallel routes (each its own failure): the pair A–C needs no
    # relay (floor 0, no row). Zone survival puts racks outside z1, so A's partner is B
    # whatever C does: A's row keeps the floor 32, not 0. C reaches B only through A:
    # A (1 router) + R1 (10 + 1) + R2 (20 + 1) = 33. B's partners of other zones: A (32)
    # and C (33). The optimum is unchanged: A and B, 62.
    folder = relay_instance(tmp_path, False)
    sites = pd.read_csv(folder / "sites.csv")
    c = sites[sites["site"] == "A"].assign(site="C")
    pd.concat([sites, c]).to_csv(folder / "sites.csv", index=False)
    routes = pd.read_csv(folder / "routes.csv")
    twins = pd.DataFrame([route("A", "C", 10), route("A", "C", 10)])
    pd.concat([routes, twins]).to_csv(folder / "routes.csv", index=False)
    m = built(folder)
    assert ("A", "C") in m.SYNC_PAIRS and ("A", "C") not in m.RELAY_PAIRS
    floors = {}
    for s in ("A", "B", "C"):
        terms = row_terms(m.traffic_relay_gpu[s])
        floors[s] = -terms[f"gpu[{s}]"]
    assert floors == {"A": approx(32), "B": approx(32), "C": approx(33)}
    res = solve_dir(folder)
    assert res.outcome.status == "optimal" and res.outcome.objective == approx(62)
    assert set(res.tables.sites.query("gpu_racks > 0")["site"]) == {"A", "B"}


def test_relay_rows_stop_above_the_strengthening_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Like the other scale-across rows, only up to STRENGTHEN_MAX_GPU_SITES GPU-capable
    # sites (measured at 200 generated sites: no gain, more memory). The instance has two.
    import model.families.relays as relays

    folder = relay_instance(tmp_path, False)
    monkeypatch.setattr(relays, "STRENGTHEN_MAX_GPU_SITES", 1)
    m = built(folder)
    assert not hasattr(m, "traffic_relay_pair") and not hasattr(m, "traffic_relay_gpu")
    monkeypatch.setattr(relays, "STRENGTHEN_MAX_GPU_SITES", 2)
    assert len(built(folder).traffic_relay_pair) == 1
