"""Links and capacity: integer units of each link type per route, route lighting, capacity
per route and direction (MODEL.md §4.6)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.index import ModelIndex
from model.load import Dataset


def add_links(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """units_{r,t} ∈ ℤ≥0 for types of r's medium that reach it (offers where given);
    Σ_t units_{r,t} ≤ max_units_r·lit_r."""
    m.ROUTES = pyo.Set(initialize=ix.routes, ordered=True)
    m.LINK_OPTIONS = pyo.Set(initialize=ix.options, dimen=2, ordered=True)
    lit_routes = [r for r in ix.routes if ix.route_units_ub.get(r, 0) > 0]
    m.LIT_ROUTES = pyo.Set(initialize=lit_routes, ordered=True)
    m.units = pyo.Var(
        m.LINK_OPTIONS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, r, t: (0, ix.units_ub[(r, t)]),
    )
    m.lit = pyo.Var(m.LIT_ROUTES, domain=pyo.Binary)
    m.links_lit = pyo.Constraint(
        m.LIT_ROUTES,
        rule=lambda _, r: (
            sum(m.units[o] for o in ix.options if o[0] == r) <= ix.route_units_ub[r] * m.lit[r]
        ),
    )


def add_capacity(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Per route and direction (both together with capacity_sharing = shared) [Gbps]:
    Σ flow_p over paths crossing it that way ≤ Σ_t capacity_t·units_{r,t} + existing_gbps_r."""
    rows = sorted(set(ix.loads) | set(ix.arc_loads))
    if not rows:
        return
    m.ROUTE_WAYS = pyo.Set(initialize=rows, dimen=2, ordered=True)

    def capacity(_: pyo.ConcreteModel, r: str, way: str) -> pyo.Expression:
        cap = ds.routes.at[r, "existing_gbps"] + sum(
            ix.option[o]["capacity_gbps"] * m.units[o] for o in ix.options if o[0] == r
        )
        load = sum(m.flow[p] for p in ix.loads.get((r, way), []))
        load += sum(m.arc_flow[a] for a in ix.arc_loads.get((r, way), []))
        return load <= cap

    m.links_capacity = pyo.Constraint(m.ROUTE_WAYS, rule=capacity)
