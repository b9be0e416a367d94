"""Cooling and power: one cooling method per open site, IT load, PUE linearisation, facility
power caps, transit nodes (contract §4.8)."""

from __future__ import annotations

import pandas as pd
import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset


def add_cooling(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Σ_k cool_{s,k} = open_s at every site but transit nodes."""
    m.COOLED = pyo.Set(initialize=ix.cooled, ordered=True)
    m.COOLING = pyo.Set(initialize=ix.methods, ordered=True)
    m.cool = pyo.Var(m.COOLED, m.COOLING, domain=pyo.Binary)
    m.cooling_choice = pyo.Constraint(
        m.COOLED, rule=lambda _, s: sum(m.cool[s, k] for k in m.COOLING) == m.open[s]
    )


def add_power(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """IT_s [kW] = rack_kw·racks_s + storage_kw_per_pb·stor_s + router kW + ½ optics W/1000;
    Σ_k it_{s,k} = IT_s, it_{s,k} ≤ M_s·cool_{s,k};
    facility_s = Σ_k (pue_k + pue_offset_s)·it_{s,k}, or (transit_pue + pue_offset_s)·IT_s at
    transit nodes; facility_s ≤ 1000·max_power_mw_s·open_s; open_s ≥ lit_r at both ends."""
    dem = ds.settings.demand
    sites, cooling = ds.sites, ds.cooling
    transit_pue = ds.settings.network.transit_pue

    def it_load(_: pyo.ConcreteModel, s: str) -> pyo.Expression:
        kw = 0.0
        if s in ix.max_racks:
            kw += dem.rack_kw * sum(m.racks[s, k] for k in m.RACK_COOLING)
        if s in ix.storage_ub and dem.storage_kw_per_pb:
            kw += dem.storage_kw_per_pb * m.stor[s]
        if s in m.INFERENCE_SITES:  # inference racks (contract §9, model/families/users.py)
            kw += dem.rack_kw * m.inference[s]
        if s in ix.site_routes:
            kw += sum(ds.routers.at[r, "power_kw"] * m.routers[s, r] for r in m.ROUTER_MODELS)
            kw += sum(
                ix.option[o]["power_w"] / 2000.0 * m.units[o]
                for o in ix.options
                if o[0] in ix.site_routes[s]
            )
        return kw

    m.it_load = pyo.Expression(m.SITES, rule=it_load)
    m.it = pyo.Var(
        m.COOLED, m.COOLING, domain=pyo.NonNegativeReals, bounds=lambda _, s, k: (0, ix.it_ub[s])
    )
    m.power_it_split = pyo.Constraint(
        m.COOLED, rule=lambda _, s: sum(m.it[s, k] for k in m.COOLING) == m.it_load[s]
    )
    m.power_it_cooling = pyo.Constraint(
        m.COOLED, m.COOLING, rule=lambda _, s, k: m.it[s, k] <= ix.it_ub[s] * m.cool[s, k]
    )

    add_cooling_split(m, ds, ix)

    def facility(_: pyo.ConcreteModel, s: str) -> pyo.Expression:
        off = sites.at[s, "pue_offset"]
        if s in ix.transit:
            return (transit_pue + off) * m.it_load[s]
        return sum((cooling.at[k, "pue"] + off) * m.it[s, k] for k in m.COOLING)

    m.facility = pyo.Expression(m.SITES, rule=facility)

    capped = [s for s in ix.sites if not pd.isna(sites.at[s, "max_power_mw"])]
    m.POWER_CAPPED = pyo.Set(initialize=capped, ordered=True)
    m.power_site_cap = pyo.Constraint(
        m.POWER_CAPPED,
        rule=lambda _, s: m.facility[s] <= 1000.0 * sites.at[s, "max_power_mw"] * m.open[s],
    )
    ends = sorted(
        {
            (r, s)
            for r in ix.routes
            for s in (ds.routes.at[r, "a"], ds.routes.at[r, "b"])
            if ix.route_units_ub.get(r, 0) > 0
        }
    )
    m.ROUTE_ENDS = pyo.Set(initialize=ends, dimen=2, ordered=True)
    m.power_route_open = pyo.Constraint(m.ROUTE_ENDS, rule=lambda _, r, s: m.open[s] >= m.lit[r])

    # A transit node, or a GPU site that cannot hold storage, is only open when it hosts
    # racks or ends a lit route; closing an idle one never costs more, and this keeps
    # zero-cost idle sites from showing up as "open" at random.
    idle = [
        x
        for x in ix.sites
        if not ds.sites.at[x, "existing"]
        and (x in ix.transit or (x in ix.max_racks and x not in ix.storage_ub))
    ]
    m.IDLE_CHECKED = pyo.Set(initialize=idle, ordered=True)

    def used(_: pyo.ConcreteModel, x: str) -> pyo.Expression:
        lit = [r for r in ix.site_routes.get(x, []) if r in m.LIT_ROUTES]
        hosts = sum(m.lit[r] for r in lit) + (m.gpu[x] if x in ix.max_racks else 0)
        if x in m.INFERENCE_SITES:  # inference racks are whole: ≥ 1 where any are
            hosts += m.inference[x]
        return m.open[x] <= hosts

    m.sites_idle_closed = pyo.Constraint(m.IDLE_CHECKED, rule=used)


def add_cooling_split(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """LP strengthening, implied at integer points (one method per site, racks only on a
    method that takes rack_kw), left out of the explanation and the pricing LP:
    it_{s,k} ≥ rack_kw·racks_{s,k} (racks cooled by k put their IT on k's PUE) and, for a
    method k that cannot cool racks, it_{s,k} ≤ N_s·cool_{s,k} with N_s the most IT a site
    without racks can have (storage, routers, optics). Without them the LP relaxation
    keeps a rack site's method at, say, ½ direct liquid and ¼ immersion and books part of
    its rack load at immersion's lower PUE (Japan growth slow_ramp: LP 810.7 → 832.1 M)."""
    if not ix.cooled or not ix.methods:
        return
    dem = ds.settings.demand
    rack_methods = set(ix.rack_methods)
    rows = [(s, k) for s in ix.cooled if s in ix.max_racks for k in ix.methods if k in rack_methods]
    m.power_rack_it = pyo.Constraint(
        rows, rule=lambda _, s, k: m.it[s, k] >= dem.rack_kw * m.racks[s, k]
    )
    racked = set(ix.max_racks) | set(ix.inference_ub)
    bound = {s: ix.it_ub_without_racks[s] for s in ix.cooled if s in racked}
    rows = [
        (s, k)
        for s in sorted(bound)
        for k in ix.methods
        if k not in rack_methods and bound[s] < ix.it_ub[s] - 1e-9
    ]
    m.power_norack_it = pyo.Constraint(
        rows, rule=lambda _, s, k: m.it[s, k] <= bound[s] * m.cool[s, k]
    )
