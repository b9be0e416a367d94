"""Resilience: SRLG-diverse protection of commodities (MODEL.md §4.5). Zone survival is in
``compute`` beside the rack counts it constrains."""

from __future__ import annotations

import pyomo.environ as pyo

from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan


def protection_rows(plan: NetworkPlan, ix: ModelIndex) -> list[tuple[int, str]]:
    """(commodity, failure) pairs where the failure cuts at least one candidate path of a
    protected commodity (elsewhere the flow row already implies survival)."""
    route_fail: dict[str, list[str]] = {}
    for f, routes in plan.failures.items():
        for r in routes:
            route_fail.setdefault(r, []).append(f)
    rows = set()
    for c, com in enumerate(plan.commodities):
        if not com.protected:
            continue
        for p in com.paths:
            for r in p.routes:
                rows.update((c, f) for f in route_fail.get(r, []))
    return sorted(rows)


def add_protection(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """For every protected commodity c and failure f (an SRLG, or a route without one) [Gbps]:
    Σ_{p ∈ P_c, p avoids f} flow_p ≥ protected_share·demand_c."""
    share = ds.settings.resilience.protected_share
    rows = protection_rows(plan, ix)
    if not rows or share <= 0:
        return
    m.PROTECTION = pyo.Set(initialize=rows, dimen=2, ordered=True)

    def survive(_: pyo.ConcreteModel, c: int, f: str) -> pyo.Expression:
        cut = set(plan.failures[f])
        alive = [
            (c, p)
            for p, path in enumerate(plan.commodities[c].paths)
            if not cut.intersection(path.routes)
        ]
        return sum(m.flow[q] for q in alive) >= share * m.commodity_demand[c]

    m.resilience_protection = pyo.Constraint(m.PROTECTION, rule=survive)
