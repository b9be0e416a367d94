"""Routers: ports, switching capacity, minimum count, deep-buffer rule (docs/contract.md §4.7)."""

from __future__ import annotations

import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset


def add_routers(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Per site s with lit-able routes:
    Σ_m ports_m·routers_{s,m} ≥ Σ units·ports_t over its routes [ports];
    Σ_m capacity_m·routers_{s,m} ≥ Σ units·capacity_t [Gbps];
    Σ_m routers_{s,m} ≥ min_routers_per_site·lit_r for each route r at s;
    Σ_{m deep} ports_m·routers_{s,m} ≥ ports of units on routes past deep_buffer_over_km;
    routers_{s,m} ≤ ub·open_s."""
    routers = ds.routers
    m.ROUTER_MODELS = pyo.Set(initialize=ix.models, ordered=True)
    m.ROUTER_SITES = pyo.Set(initialize=ix.router_sites, ordered=True)
    m.routers = pyo.Var(
        m.ROUTER_SITES,
        m.ROUTER_MODELS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, s, r: (0, ix.routers_ub[(s, r)]),
    )
    if not ix.router_sites:
        return

    def at(s: str) -> list[tuple[str, str]]:
        return ix.site_options.get(s, [])

    m.routers_ports = pyo.Constraint(
        m.ROUTER_SITES,
        rule=lambda _, s: (
            sum(routers.at[r, "ports"] * m.routers[s, r] for r in m.ROUTER_MODELS)
            >= sum(ix.option[o]["ports"] * m.units[o] for o in at(s))
        ),
    )
    m.routers_capacity = pyo.Constraint(
        m.ROUTER_SITES,
        rule=lambda _, s: (
            sum(routers.at[r, "capacity_gbps"] * m.routers[s, r] for r in m.ROUTER_MODELS)
            >= sum(ix.option[o]["capacity_gbps"] * m.units[o] for o in at(s))
        ),
    )
    m.routers_open = pyo.Constraint(
        m.ROUTER_SITES,
        m.ROUTER_MODELS,
        rule=lambda _, s, r: m.routers[s, r] <= ix.routers_ub[(s, r)] * m.open[s],
    )
    n_min = ds.settings.resilience.min_routers_per_site
    if n_min > 0:
        ends = sorted((s, r) for s in ix.router_sites for r in ix.site_routes[s])
        m.ROUTER_ROUTE_ENDS = pyo.Set(initialize=ends, dimen=2, ordered=True)
        m.routers_min = pyo.Constraint(
            m.ROUTER_ROUTE_ENDS,
            rule=lambda _, s, r: sum(m.routers[s, k] for k in m.ROUTER_MODELS) >= n_min * m.lit[r],
        )
    deep_models = [r for r in ix.models if routers.at[r, "deep_buffer"]]
    deep_sites = [s for s in ix.router_sites if any(ix.option[o]["deep_buffer"] for o in at(s))]
    if not deep_sites:
        return
    m.DEEP_SITES = pyo.Set(initialize=deep_sites, ordered=True)
    m.routers_deep_buffer = pyo.Constraint(
        m.DEEP_SITES,
        rule=lambda _, s: (
            sum(routers.at[r, "ports"] * m.routers[s, r] for r in deep_models)
            >= sum(ix.option[o]["ports"] * m.units[o] for o in at(s) if ix.option[o]["deep_buffer"])
        ),
    )
