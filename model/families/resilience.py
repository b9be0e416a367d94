"""Resilience: SRLG-diverse protection of commodities (docs/contract.md §4.5). Zone survival is in
``compute`` beside the rack counts it constrains.

Which commodities are protected is decided in :func:`model.network.plan_network`
(docs/contract.md §7): storage and scale-across traffic under ``link_protection`` diverse,
an explicit demand by its own ``protected`` column; ``protected_share`` applies to all."""

from __future__ import annotations

import pyomo.core as pyo

from model.families import var_sum
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan


def protection_rows(plan: NetworkPlan, ix: ModelIndex) -> list[tuple[int, str]]:
    """(commodity, failure) pairs that need a survival row.

    A failure that cuts none of a commodity's candidate paths needs none: the flow row
    already implies survival. Of the rest, a failure f whose cut paths are a subset of
    another failure g's needs none either: the paths surviving g are among those surviving
    f, so g's row implies f's. Failures that cut the same paths share one row (the first
    by id names it). What is left is one row per maximal set of cut paths."""
    return sorted(protection_cuts(plan))


def protection_cuts(plan: NetworkPlan) -> dict[tuple[int, str], frozenset[int]]:
    """The rows of :func:`protection_rows`, each with the paths its failure cuts."""
    route_fail = plan.failures_by_route()
    rows: dict[tuple[int, str], frozenset[int]] = {}
    for c, com in enumerate(plan.commodities):
        if not com.protected:
            continue
        cuts: dict[str, set[int]] = {}
        for p, path in enumerate(com.paths):
            for r in path.routes:
                for f in route_fail.get(r, []):
                    cuts.setdefault(f, set()).add(p)
        by_set: dict[frozenset[int], str] = {}
        for f in sorted(cuts):
            by_set.setdefault(frozenset(cuts[f]), f)
        sets = list(by_set)
        for hit, f in by_set.items():
            if not any(hit < other for other in sets):
                rows[c, f] = hit
    return rows


def add_protection(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """For every protected commodity c and failure f (an SRLG, or a route without one) [Gbps]:
    Σ_{p ∈ P_c, p avoids f} flow_p ≥ protected_share·demand_c."""
    share = ds.settings.resilience.protected_share
    cuts = protection_cuts(plan)
    if not cuts or share <= 0:
        return
    m.PROTECTION = pyo.Set(initialize=sorted(cuts), dimen=2, ordered=True)
    flow = dict(m.flow.items())

    def survive(_: pyo.ConcreteModel, c: int, f: str) -> pyo.Expression:
        cut = cuts[c, f]  # the paths f cuts: the rest survive it
        alive = [flow[c, p] for p in range(len(plan.commodities[c].paths)) if p not in cut]
        return var_sum(alive) >= share * m.commodity_demand[c]

    m.resilience_protection = pyo.Constraint(m.PROTECTION, rule=survive)
