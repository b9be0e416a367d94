"""Column generation over paths (model/colgen.py) and pricing with survival duals
(model/pricing.py): a protected demand whose cheapest protection is a path the candidate
set leaves out, a design whose claim must stay "candidate paths", and the label-setting
search with set-valued failure penalties on hand-made duals."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import approx, route, solve_dir, transit, write_dataset

from model.pricing import cheapest_path


def protected_detour(tmp_path: Path) -> Path:
    # 100 Gbps X → Y, protected, share 1 (all of it must survive any single failure).
    # Routes: X–Y 100 km; X–A–Y 2 × 100 km, X–A costs 1,000 to light; X–B–Y 2 × 150 km,
    # free. zr: 100 Gbps for 7 per unit. paths_per_pair = 1 gives X–Y, and the failure of
    # X–Y (shared by every path) adds the shortest path avoiding it, X–A–Y: 7 + 14 + 1,000
    # = 1,021. Over all paths: X–Y and X–B–Y, 100 Gbps each, 7 + 14 = 21 — and the LP
    # relaxation over all paths is 21 as well (units are integral at that point), so the
    # design is proven optimal over all paths.
    sites = [transit(s) for s in "ABXY"]
    routes = [
        route("X", "Y", 100),
        route("X", "A", 100, build_capex_usd=1000),
        route("A", "Y", 100),
        route("X", "B", 150),
        route("B", "Y", 150),
    ]
    return write_dataset(
        tmp_path,
        sites,
        routes=routes,
        settings={
            "network": {"paths_per_pair": 1},
            "resilience": {"protected_share": 1.0},
        },
        demands=[{"src": "X", "dst": "Y", "gbps": 100, "max_latency_ms": "", "protected": 1}],
    )


def test_colgen_adds_the_protection_path_the_candidate_set_missed(tmp_path: Path) -> None:
    res = solve_dir(protected_detour(tmp_path))
    routing = res.run["routing"]
    assert routing["candidate_lp_bound"] == approx(1021)
    assert routing["root_paths_added"] >= 1
    assert routing["lp_complete"] is True
    assert routing["all_path_lp_bound"] == approx(21)
    assert res.outcome.objective == approx(21)
    assert sorted(res.tables.flows["path"]) == ["X>B>Y", "X>Y"]
    assert routing["optimal_over"] == "all paths"
    summary = res.tables.summary.iloc[0]
    assert summary["optimal_over"] == "all paths"
    assert summary["all_path_bound_usd"] == approx(21)
    assert summary["all_path_gap"] == approx(0)


def test_claim_stays_candidate_paths_when_the_lp_bound_is_weak(tmp_path: Path) -> None:
    # 50 Gbps X → Y within 10 ms on the one route X–Y, 1,000 to light. The LP lights half of
    # it with half a unit: 500 + 3.5 = 503.5; the design lights it with one unit: 1,007.
    # The set is complete (there is no other path) but the all-path bound is 503.5: the
    # gap against it is 50 %, so the claim rests on the LP alone only over the candidate
    # paths (enumeration off). With enumeration (the default) the one path is all paths
    # and the MIP's own bound proves the design: "all paths".
    ds = write_dataset(
        tmp_path,
        [transit("X"), transit("Y")],
        routes=[route("X", "Y", 100, build_capex_usd=1000)],
        settings={"network": {"paths_per_pair": 1, "enumerate_paths_up_to": 0}},
        demands=[{"src": "X", "dst": "Y", "gbps": 50, "max_latency_ms": 10, "protected": 0}],
    )
    res = solve_dir(ds)
    routing = res.run["routing"]
    assert res.outcome.status == "optimal"
    assert res.outcome.objective == approx(1007)
    assert routing["lp_complete"] is True
    assert routing["all_path_lp_bound"] == approx(503.5)
    assert routing["optimal_over"] == "candidate paths"
    assert routing["all_path_gap"] == pytest.approx(0.5, rel=1e-6)
    assert res.tables.summary.iloc[0]["optimal_over"] == "candidate paths"
    text = (ds / "settings.toml").read_text()
    (ds / "settings.toml").write_text(text.replace("enumerate_paths_up_to = 0", ""))
    res = solve_dir(ds)
    routing = res.run["routing"]
    assert res.outcome.objective == approx(1007)
    assert routing["paths_complete"] is True and routing["enumerated_paths_added"] == 0
    assert routing["optimal_over"] == "all paths"
    assert routing["all_path_gap"] == approx(0)  # the MIP gap, proven at 0


# Hand-made graph for the pricing search: S → A → T over routes a1, a2 (weight 1 each, both
# in failure F1), S → B → T over b1, b2 (weight 2 each, failure-free).
ARCS = {
    "S": [("A", "a1", 1.0, 100.0), ("B", "b1", 2.0, 100.0)],
    "A": [("T", "a2", 1.0, 100.0)],
    "B": [("T", "b2", 2.0, 300.0)],
}
FAILS = {"a1": ["F1"], "a2": ["F1"], "b1": ["route:b1"], "b2": ["route:b2"]}


def test_pricing_counts_a_failure_penalty_once_per_path() -> None:
    # Via A: 2 + μ_F1 once = 3.5 (twice would be 5); via B: 4.
    best = cheapest_path(ARCS, "S", "T", None, 0.0, {"F1": 1.5}, FAILS)
    assert best is not None
    assert best.routes == ("a1", "a2") and best.cost == pytest.approx(3.5)
    assert best.crossed == frozenset({"F1"})
    # A dearer penalty sends it via B.
    best = cheapest_path(ARCS, "S", "T", None, 0.0, {"F1": 5.0}, FAILS)
    assert best is not None and best.routes == ("b1", "b2") and best.cost == pytest.approx(4)
    # A latency bound of 0.3 ms rules out B (0.4 ms): via A, penalty and all.
    best = cheapest_path(ARCS, "S", "T", 0.3, 0.0, {"F1": 5.0}, FAILS)
    assert best is not None and best.routes == ("a1", "a2") and best.cost == pytest.approx(7)
    # Nothing inside 0.1 ms.
    best = cheapest_path(ARCS, "S", "T", 0.1, 0.0, {"F1": 5.0}, FAILS)
    assert best is not None and best.cost == float("inf") and best.routes == ()


def test_pricing_dominance_keeps_a_label_that_already_paid_a_penalty() -> None:
    # S → M over p (weight 1, no failure) or q (weight 0.5, crosses F, μ 1: 1.5 at M);
    # M → T over r (weight 0, crosses F). p + r = 1 + 1 = 2; q + r = 1.5 + 0 = 1.5, since F
    # is paid once. At M the label via p (1, {}) must not dominate the one via q
    # (1.5, {F}): "smaller set and lower cost" is not a valid dominance with set penalties.
    arcs = {"S": [("M", "p", 1.0, 1.0), ("M", "q", 0.5, 1.0)], "M": [("T", "r", 0.0, 1.0)]}
    fails = {"p": ["route:p"], "q": ["F"], "r": ["F"]}
    best = cheapest_path(arcs, "S", "T", None, 0.0, {"F": 1.0}, fails)
    assert best is not None
    assert best.routes == ("q", "r") and best.cost == pytest.approx(1.5)
