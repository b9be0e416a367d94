"""Objective: annualised cost as a sum of named cost expressions (docs/contract.md §5).

Each part is an indexed Expression (per site, per route option or per route), so the result
tables break the cost down by the very terms the solver minimised and always add up.
"""

from __future__ import annotations

import pyomo.core as pyo

from model.families import var_sum
from model.index import ModelIndex
from model.load import Dataset

HOURS_PER_YEAR_K = 8.76  # kW·year → MWh
COST_PARTS = (
    "sites",
    "cooling",
    "routers",
    "optics",
    "link_opex",
    "routes",
    "flow",
    "energy",
    "carbon",
)


def add_objective(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """annual_cost [USD/yr] = CRF(site)·(open_capex·open + build_usd_per_kw·facility)
    + CRF(cooling)·capex_usd_per_kw·it + CRF(router)·capex·routers + CRF(optics)·capex·units
    + opex·units + CRF(site)·build_capex·lit + flow_usd_per_gbps_year·flow
    + 8.76·energy_usd_per_mwh·facility + carbon_usd_per_t·8.76·carbon_kg_per_mwh·facility/1000;
    minimise annual_cost + power_weight_usd_per_mw_year·Σ facility/1000."""
    econ = ds.settings.economics
    sites, cooling, routers, routes = ds.sites, ds.cooling, ds.routers, ds.routes
    crf = {c: econ.crf(c) for c in ("site", "cooling", "router", "optics")}

    def site_capex(_: pyo.ConcreteModel, s: str) -> pyo.Expression:
        opening = 0.0 if sites.at[s, "existing"] else sites.at[s, "open_capex_usd"] * m.open[s]
        return crf["site"] * (opening + sites.at[s, "build_usd_per_kw"] * m.facility[s])

    m.cost_sites = pyo.Expression(m.SITES, rule=site_capex)
    m.cost_cooling = pyo.Expression(
        m.SITES,
        rule=lambda _, s: (
            crf["cooling"] * sum(cooling.at[k, "capex_usd_per_kw"] * m.it[s, k] for k in m.COOLING)
            if s in ix.cooled
            else 0.0
        ),
    )
    m.cost_routers = pyo.Expression(
        m.SITES,
        rule=lambda _, s: (
            crf["router"]
            * sum(routers.at[r, "capex_usd"] * m.routers[s, r] for r in m.ROUTER_MODELS)
            if s in ix.site_routes
            else 0.0
        ),
    )
    m.cost_energy = pyo.Expression(
        m.SITES,
        rule=lambda _, s: HOURS_PER_YEAR_K * sites.at[s, "energy_usd_per_mwh"] * m.facility[s],
    )
    m.cost_carbon = pyo.Expression(
        m.SITES,
        rule=lambda _, s: (
            econ.carbon_usd_per_t
            * HOURS_PER_YEAR_K
            * sites.at[s, "carbon_kg_per_mwh"]
            / 1000.0
            * m.facility[s]
        ),
    )
    m.cost_optics = pyo.Expression(
        m.LINK_OPTIONS,
        rule=lambda _, r, t: crf["optics"] * ix.option[(r, t)]["capex_usd"] * m.units[r, t],
    )
    m.cost_link_opex = pyo.Expression(
        m.LINK_OPTIONS, rule=lambda _, r, t: ix.option[(r, t)]["opex_usd_per_year"] * m.units[r, t]
    )
    m.cost_routes = pyo.Expression(
        m.ROUTES,
        rule=lambda _, r: (
            crf["site"] * routes.at[r, "build_capex_usd"] * m.lit[r] if r in m.LIT_ROUTES else 0.0
        ),
    )
    arcs_on: dict[str, list] = {}
    for a in ix.arcs:
        arcs_on.setdefault(a[1], []).append(a)
    # Only routes whose flow has a price carry a flow term: a zero price would only make
    # the build walk every path of every route (at 1,000 sites, 15 % of the build).
    price = routes["flow_usd_per_gbps_year"].to_dict() if len(ix.routes) else {}
    m.FLOW_PRICED = pyo.Set(initialize=[r for r in ix.routes if price[r]], ordered=True)
    flow, arc_flow = dict(m.flow.items()), dict(m.arc_flow.items())
    m.route_flow = pyo.Expression(
        m.FLOW_PRICED,
        rule=lambda _, r: var_sum(
            [flow[p] for way in ("ab", "ba", "both") for p in ix.loads.get((r, way), [])]
            + [arc_flow[a] for a in arcs_on.get(r, [])]
        ),
    )
    m.cost_flow = pyo.Expression(
        m.ROUTES,
        rule=lambda _, r: price[r] * m.route_flow[r] if r in m.FLOW_PRICED else 0.0,
    )

    parts = {name: getattr(m, f"cost_{name}") for name in COST_PARTS}
    m.annual_cost = pyo.Expression(expr=sum(e[i] for e in parts.values() for i in e))
    m.power_mw = pyo.Expression(expr=sum(m.facility[s] for s in m.SITES) / 1000.0)
    weight = econ.power_weight_usd_per_mw_year
    m.objective = pyo.Objective(expr=m.annual_cost + weight * m.power_mw, sense=pyo.minimize)
