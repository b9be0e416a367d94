"""Who is protected (docs/contract.md §7), and protection that no path inside its latency
bound can give, named by its cause (issue 10, defect 14).

The rule: ``[resilience] link_protection`` governs storage and scale-across traffic; an
explicit demand (demands.csv) is protected when its own ``protected`` column is 1,
whatever ``link_protection`` says, and unprotected when it is 0, whatever
``link_protection`` says. ``protected_share`` applies to every protected commodity; a share
of 0 asks nothing to survive, so then nothing is protected.

Every instance uses the builders' defaults: discount 0 and 1-year lifetimes (each capital
recovery factor is 1), free routers and cooling, no energy cost, one link type ``zr``
(smf, 100 Gbps, reach 1,000 km, US$7 a unit, no DSP latency), 5 µs/km on smf and no hop
latency, so a path's latency is 0.005 ms per km.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from builders import (
    approx,
    gpu_site,
    racks_at,
    route,
    solve_dir,
    transit,
    units_on,
    write_dataset,
)

from model import pipeline
from model.cli import main
from model.errors import InfeasibleError
from model.load import load_dataset
from model.network import plan_network
from model.verify import verify_design

# --- Task A: an explicit demand follows its own protected column ---------------------


def triangle(folder: Path, protection: str, protected: int, share: float = 1.0) -> Path:
    """Transit nodes A, B, C; routes A-B, A-C, C-B of 100 km each (no shared-risk groups);
    100 Gbps A → B with no latency bound."""
    return write_dataset(
        folder,
        [transit("A"), transit("B"), transit("C")],
        routes=[route("A", "B", 100), route("A", "C", 100), route("C", "B", 100)],
        demands=[
            {"src": "A", "dst": "B", "gbps": 100, "max_latency_ms": "", "protected": protected}
        ],
        settings={
            "resilience": {"link_protection": protection, "protected_share": share},
        },
    )


def paths(result) -> dict[str, float]:
    flows = result.tables.flows
    return {r.path: float(r.gbps) for r in flows.itertuples()}


def test_protected_demand_is_protected_without_link_protection(tmp_path: Path) -> None:
    # protected = 1, link_protection none: the demand must survive each single failure
    # (route A-B, route A-C, route C-B) with protected_share 1 of its 100 Gbps. Losing A-B
    # leaves only A>C>B, losing A-C or C-B only A>B: each path carries 100 Gbps, one unit
    # of zr on each of the three routes: 3 × US$7 = US$21/yr. (Unprotected: one unit on
    # A-B, US$7.) The decisions are unique: any cheaper design drops a path.
    res = solve_dir(triangle(tmp_path, "none", 1))
    assert res.outcome.objective == approx(21)
    assert units_on(res) == {("A-B", "zr"): 1, ("A-C", "zr"): 1, ("C-B", "zr"): 1}
    assert paths(res) == {"A>B": approx(100), "A>C>B": approx(100)}
    assert set(res.tables.flows["protected"]) == {1}


def test_protected_demand_under_diverse_is_protected_the_same(tmp_path: Path) -> None:
    # Same instance with link_protection diverse: nothing changes for the demand (US$21).
    res = solve_dir(triangle(tmp_path, "diverse", 1))
    assert res.outcome.objective == approx(21)


def test_unprotected_demand_stays_unprotected_under_diverse(tmp_path: Path) -> None:
    # protected = 0, link_protection diverse: link_protection governs storage and
    # scale-across traffic only, so the demand takes the direct route: one unit, US$7.
    res = solve_dir(triangle(tmp_path, "diverse", 0))
    assert res.outcome.objective == approx(7)
    assert units_on(res) == {("A-B", "zr"): 1}
    assert paths(res) == {"A>B": approx(100)}
    assert set(res.tables.flows["protected"]) == {0}


def test_protected_share_zero_asks_nothing_to_survive(tmp_path: Path) -> None:
    # protected = 1 but protected_share 0: 0 % must survive, which the direct route alone
    # gives: one unit, US$7, and the flow is reported unprotected.
    res = solve_dir(triangle(tmp_path, "none", 1, share=0.0))
    assert res.outcome.objective == approx(7)
    assert set(res.tables.flows["protected"]) == {0}


def test_half_share_of_a_protected_demand(tmp_path: Path) -> None:
    # protected_share 0.5 of 200 Gbps: x on A>B, y on A>C>B with x + y ≥ 200 (the demand),
    # x ≥ 100 (survives A-C or C-B), y ≥ 100 (survives A-B). Cost 7·⌈x/100⌉ +
    # 14·⌈y/100⌉: x = y = 100 gives 7 + 14 = US$21 (x = 200, y = 100 gives 28). Unprotected it
    # would be 2 units on A-B, US$14.
    folder = triangle(tmp_path, "none", 1, share=0.5)
    demands = pd.read_csv(folder / "demands.csv")
    demands["gbps"] = 200
    demands.to_csv(folder / "demands.csv", index=False)
    res = solve_dir(folder)
    assert res.outcome.objective == approx(21)
    assert paths(res) == {"A>B": approx(100), "A>C>B": approx(100)}


def test_verifier_applies_the_same_rule(tmp_path: Path) -> None:
    # The independent verifier must hold a protected demand under link_protection none to
    # its share: put all 200 Gbps on A>B by hand and losing route A-B leaves 0 < 100.
    res = solve_dir(triangle(tmp_path / "d", "none", 1), out=tmp_path / "res")
    out = res.out_dir
    assert verify_design(out) == []
    bad = tmp_path / "bad"
    shutil.copytree(out, bad)
    flows = pd.read_csv(bad / "flows.csv", keep_default_na=False, dtype=str)
    direct = flows.index[flows["path"] == "A>B"][0]
    flows.loc[direct, "gbps"] = "200"
    flows = flows[flows["path"] != "A>C>B"]
    flows.to_csv(bad / "flows.csv", index=False)
    found = [v for v in verify_design(bad) if "under failure route:A-B" in v.objects]
    assert found and found[0].check == "traffic"
    # And the protected column must say 1: the data set protects this demand.
    flows["protected"] = "0"
    flows.to_csv(bad / "flows.csv", index=False)
    assert any("the settings say 1" in v.message for v in verify_design(bad))


# --- Task B: protection impossible inside the bound names its cause ---------------------


def run_cli(folder: Path, out: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main([str(folder), "--out", str(out), "-q"])
    return code, capsys.readouterr().err


def test_protected_scale_across_with_no_disjoint_path_in_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 8 racks, 4 per GPU site: G1 and G2 must both host GPUs. G1-G2 is 200 km = 1.000 ms,
    # inside sync_latency_ms 2 ms; its only alternative G1>Z>G2 is 300 + 380 = 680 km =
    # 3.400 ms. Diverse protection needs the pair's traffic to survive losing route G1-G2,
    # which no path inside 2 ms avoids: the pair cannot both host GPUs, for any placement.
    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("G1", max_racks=4), gpu_site("G2", max_racks=4), transit("Z")],
        routes=[route("G1", "G2", 200), route("G1", "Z", 300), route("Z", "G2", 380)],
        settings={
            "demand": {"gpu_racks": 8, "sync_gbps": 100, "sync_latency_ms": 2},
            "resilience": {"link_protection": "diverse"},
        },
    )
    code, err = run_cli(folder, tmp_path / "res", capsys)
    assert code == 3
    assert (
        "at least 2 GPU sites are needed but no pair of GPU sites can exchange protected "
        "scale-across traffic within [demand] sync_latency_ms 2 ms" in err
    )
    assert (
        "scale-across traffic between GPU sites G1 and G2 is protected ([resilience] "
        "link_protection diverse) but cannot survive failure route G1-G2: 1 path within "
        "[demand] sync_latency_ms 2 ms (G1>G2 1.000 ms) crosses it, and the fastest path "
        "avoiding it (G1>Z>G2) takes 3.400 ms" in err
    )
    report = pd.read_csv(tmp_path / "res" / "d" / "base" / "infeasibility.csv")
    assert report["message"].str.contains("G1>Z>G2\\) takes 3.400 ms").any()


def storage_beyond_duct(folder: Path) -> Path:
    """One GPU site G, one storage site S. G-S is 240 km = 1.200 ms (srlg duct1), inside
    storage_latency_ms 2 ms; G>Z>S is 300 + 380 = 680 km = 3.400 ms. The storage traffic
    cannot survive duct1 inside 2 ms."""
    return write_dataset(
        folder,
        [gpu_site("G", max_racks=8), transit("S", storage=1), transit("Z")],
        routes=[route("G", "S", 240, srlg="duct1"), route("G", "Z", 300), route("Z", "S", 380)],
        settings={
            "demand": {
                "gpu_racks": 8,
                "storage_pb": 1,
                "storage_gbps_per_rack": 10,
                "storage_gbps_per_pb": 1000,
                "storage_latency_ms": 2,
            },
            "resilience": {"link_protection": "diverse"},
        },
    )


def test_protected_storage_with_no_disjoint_path_in_bound(tmp_path: Path) -> None:
    # The storage traffic cannot survive duct1, so G gets no storage and no rack can be
    # placed.
    folder = storage_beyond_duct(tmp_path)
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    msg = str(err.value)
    assert "no GPU site reaches a storage site within [demand] storage_latency_ms 2 ms" in msg
    assert (
        "storage traffic between GPU site G and storage site S is protected ([resilience] "
        "link_protection diverse) but cannot survive failure srlg duct1 (route G-S): 1 path "
        "within [demand] storage_latency_ms 2 ms (S>G 1.200 ms) crosses it, and the fastest "
        "path avoiding it (S>Z>G) takes 3.400 ms" in msg
    )


def test_protected_demand_under_no_link_protection_names_its_bound(tmp_path: Path) -> None:
    # X-Y 100 km = 0.500 ms inside max_latency_ms 1; X>Z>Y 150 + 150 = 300 km = 1.500 ms.
    # protected = 1 with link_protection none: still protected (Task A), so infeasible.
    folder = write_dataset(
        tmp_path,
        [transit("X"), transit("Y"), transit("Z")],
        routes=[route("X", "Y", 100), route("X", "Z", 150), route("Z", "Y", 150)],
        demands=[{"src": "X", "dst": "Y", "gbps": 10, "max_latency_ms": 1, "protected": 1}],
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    assert (
        "demand X>Y (X → Y) is protected (demands.csv protected = 1) but cannot survive "
        "failure route X-Y: 1 path within max_latency_ms 1 ms (X>Y 0.500 ms) crosses it, "
        "and the fastest path avoiding it (X>Z>Y) takes 1.500 ms" in str(err.value)
    )


def test_sites_joined_by_protected_scale_across_hold_too_few_racks(tmp_path: Path) -> None:
    # 7 racks, 3 per site: A, B and C must all host GPUs. A-B 100 km; A-C and B-C 200 km
    # share srlg duct, C's only routes. Paths A>C (1.000 ms) and A>B>C (1.500 ms) are both
    # inside 2 ms and both cross duct, and no path avoids it: A-C and B-C cannot both host
    # GPUs. A-B survives either failure inside the bound (A>B 0.5 ms, A>C>B 2.0 ms), so
    # the largest group of sites joined to one site is A, B: 6 racks < 7.
    folder = write_dataset(
        tmp_path,
        [gpu_site(s, max_racks=3) for s in "ABC"],
        routes=[
            route("A", "B", 100),
            route("A", "C", 200, srlg="duct"),
            route("B", "C", 200, srlg="duct"),
        ],
        settings={
            "demand": {"gpu_racks": 7, "sync_gbps": 10, "sync_latency_ms": 2},
            "resilience": {"link_protection": "diverse"},
        },
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    msg = str(err.value)
    assert (
        "GPU sites that can all exchange scale-across traffic within [demand] sync_latency_ms "
        "2 ms hold at most 6 racks (the largest group joined to one site: A, B); [demand] "
        "gpu_racks is 7" in msg
    )
    assert (
        "scale-across traffic between GPU sites A and C is protected ([resilience] "
        "link_protection diverse) but cannot survive failure srlg duct (routes A-C, B-C): 2 "
        "paths within [demand] sync_latency_ms 2 ms (A>C 1.000 ms, A>B>C 1.500 ms) all cross "
        "it, and no path avoids it" in msg
    )


def test_combination_with_zone_survival_names_the_protection_conflict(tmp_path: Path) -> None:
    # Zone survival puts racks in z1 (A or B) and z2 (C), so C pairs with A or B. A-C and
    # B-C are 200 km = 1.000 ms inside sync_latency_ms 2; avoiding route A-C takes A>B>C,
    # 300 + 200 = 500 km = 2.500 ms (B-C alike: B>A>C 2.500 ms). Each check alone passes
    # (A and B can pair: A>B 1.500 ms, A>C>B 2.000 ms), so HiGHS proves it; the explanation
    # names the protection conflict before the moves.
    folder = write_dataset(
        tmp_path,
        [gpu_site("A", zone="z1"), gpu_site("B", zone="z1"), gpu_site("C", zone="z2")],
        routes=[route("A", "B", 300), route("A", "C", 200), route("B", "C", 200)],
        settings={
            "demand": {"gpu_racks": 4, "sync_gbps": 10, "sync_latency_ms": 2},
            "resilience": {"link_protection": "diverse", "zone_survival_share": 0.25},
        },
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    msg = str(err.value)
    assert "HiGHS proved the requirements infeasible" in msg
    one_of = [
        f"scale-across traffic between GPU sites {x} and C is protected ([resilience] "
        f"link_protection diverse) but cannot survive failure route {x}-C: 1 path within "
        f"[demand] sync_latency_ms 2 ms ({x}>C 1.000 ms) crosses it, and the fastest path "
        f"avoiding it ({x}>{y}>C) takes 2.500 ms; without this protection the requirements "
        "can all be met"
        for x, y in (("A", "B"), ("B", "A"))
    ]
    assert any(line in msg for line in one_of), msg


# --- Pairs that cannot be protected get no commodities or paths (issue 11) -------------


def pairs_around_c(folder: Path) -> Path:
    # A-B 300 km (1.500 ms), A-C and B-C 200 km (1.000 ms); sync_latency_ms 2. Avoiding
    # route A-C takes A>B>C, 2.500 ms (B-C alike): pairs A-C and B-C cannot be protected.
    # Avoiding A-B takes A>C>B, 2.000 ms: A-B can. 4 racks, at most 2 a site: two GPU
    # sites, and C (the cheapest, 1 $/kW against 5) cannot be one of them, so racks go
    # 2 to A and 2 to B whatever the links cost.
    return write_dataset(
        folder,
        [
            gpu_site("A", max_racks=2, build_usd_per_kw=5),
            gpu_site("B", max_racks=2, build_usd_per_kw=5),
            gpu_site("C", max_racks=2, build_usd_per_kw=1),
        ],
        routes=[route("A", "B", 300), route("A", "C", 200), route("B", "C", 200)],
        settings={
            "demand": {"gpu_racks": 4, "sync_gbps": 10, "sync_latency_ms": 2},
            "resilience": {"link_protection": "diverse"},
        },
    )


def test_unprotectable_pairs_get_no_paths_and_keep_the_same_optimum(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = pairs_around_c(tmp_path / "d")
    plan = plan_network(load_dataset(folder))
    assert plan.sync_pairs == [("A", "B")]
    assert plan.sync_unprotected == [("A", "C"), ("B", "C")]
    assert {c.pair for c in plan.commodities} == {("A", "B")}
    assert {(u.pair, u.failure) for u in plan.unprotectable} == {
        (("A", "C"), "route:A-C"),
        (("B", "C"), "route:B-C"),
    }
    pruned = solve_dir(folder)
    assert pruned.outcome.status == "optimal"
    assert racks_at(pruned) == {"A": 2, "B": 2}
    assert pruned.run["network"]["sync_pairs_unprotectable"] == [["A", "C"], ["B", "C"]]

    # The model with those pairs' commodities and paths (their survival rows force their
    # traffic to 0) has the same optimum.
    whole = pipeline.plan_network

    def keep_all(ds: Any) -> Any:
        return whole(ds, drop_unprotectable=False)

    monkeypatch.setattr(pipeline, "plan_network", keep_all)
    kept = solve_dir(folder)
    assert kept.run["network"]["sync_pairs_unprotectable"] == []
    assert kept.run["network"]["commodities"] == 6
    assert pruned.run["network"]["commodities"] == 2
    assert kept.outcome.objective == approx(pruned.outcome.objective)
    assert racks_at(kept) == {"A": 2, "B": 2}


def test_the_records_of_dropped_pairs_go_after_the_precheck_and_a_demands_stay(
    tmp_path: Path,
) -> None:
    # The pipeline lets go of the dropped pairs' records once the precheck has read them
    # (memory at 200 generated sites); a protected demand is never dropped, so its record,
    # which an infeasible run's explanation reads, stays.
    plan = plan_network(load_dataset(pairs_around_c(tmp_path / "d")))
    assert len(plan.unprotectable) == 4  # A-C and B-C, both ways
    plan.forget_dropped()
    assert plan.unprotectable == []
    assert plan.sync_unprotected == [("A", "C"), ("B", "C")]  # the model still needs these
    folder = write_dataset(
        tmp_path / "x",
        [transit("X"), transit("Y"), transit("Z")],
        routes=[route("X", "Y", 100), route("X", "Z", 150), route("Z", "Y", 150)],
        demands=[{"src": "X", "dst": "Y", "gbps": 10, "max_latency_ms": 1, "protected": 1}],
    )
    plan = plan_network(load_dataset(folder))
    before = list(plan.unprotectable)
    assert [(u.kind, u.failure) for u in before] == [("demand", "route:X-Y")]
    plan.forget_dropped()
    assert plan.unprotectable == before


def test_unprotectable_storage_pair_gets_no_commodities(tmp_path: Path) -> None:
    folder = storage_beyond_duct(tmp_path)  # S-G cannot survive duct1 inside 2 ms
    plan = plan_network(load_dataset(folder))
    assert plan.storage_pairs == [] and plan.storage_unprotected == [("S", "G")]
    assert plan.commodities == []
    assert {u.commodity for u in plan.unprotectable} == {"storage:S>G@S", "storage:G>S@S"}
