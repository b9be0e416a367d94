"""MACsec (docs/contract.md §10): the ports of units on routes where traffic leaves our
control land on routers that encrypt at line rate; ports that need both a deep buffer
and MACsec land on models that have both.

At each site the ports needing deep buffer only (D), MACsec only (M) and both (B) are
assigned to router ports by kind; such an assignment exists exactly when (Hall's
condition over the three demands) M + B ≤ MACsec ports, B ≤ ports of models with both,
and D + M + B ≤ ports of models with either (D + B ≤ deep-buffer ports is
``routers_deep_buffer``; all ports ≤ all router ports is ``routers_ports``).
"""

from __future__ import annotations

import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset


def add_macsec(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Per site s with units on MACsec routes [ports]:
    Σ_{m macsec} ports_m·routers_{s,m} ≥ Σ ports of units on MACsec routes (``macsec_ports``);
    Σ_{m macsec, deep} ports_m·routers_{s,m} ≥ those also past deep_buffer_over_km
    (``macsec_deep_ports``); Σ_{m macsec or deep} ports_m·routers_{s,m} ≥ ports of units
    on MACsec routes or past deep_buffer_over_km (``macsec_special_ports``)."""
    routers, routes = ds.routers, ds.routes
    if "macsec" not in routes.columns or not ix.router_sites:
        return
    secure = {r for r in ix.routes if routes.at[r, "macsec"]}
    if not secure:
        return

    def at(s: str) -> list[tuple[str, str]]:
        return ix.site_options.get(s, [])

    sites = [s for s in ix.router_sites if any(o[0] in secure for o in at(s))]
    if not sites:
        return
    mac = [k for k in ix.models if routers.at[k, "macsec"]]
    both = [k for k in mac if routers.at[k, "deep_buffer"]]
    either = [k for k in ix.models if routers.at[k, "macsec"] or routers.at[k, "deep_buffer"]]

    def ports(s: str, models: list[str]) -> pyo.Expression:
        return sum(routers.at[k, "ports"] * m.routers[s, k] for k in models)

    def need(s: str, keep) -> pyo.Expression:
        return sum(ix.option[o]["ports"] * m.units[o] for o in at(s) if keep(o))

    def deep(o: tuple[str, str]) -> bool:
        return bool(ix.option[o]["deep_buffer"])

    m.MACSEC_SITES = pyo.Set(initialize=sites, ordered=True)
    m.macsec_ports = pyo.Constraint(
        m.MACSEC_SITES, rule=lambda _, s: ports(s, mac) >= need(s, lambda o: o[0] in secure)
    )
    deep_sites = [s for s in sites if any(o[0] in secure and deep(o) for o in at(s))]
    m.MACSEC_DEEP_SITES = pyo.Set(initialize=deep_sites, ordered=True)
    m.macsec_deep_ports = pyo.Constraint(
        m.MACSEC_DEEP_SITES,
        rule=lambda _, s: ports(s, both) >= need(s, lambda o: o[0] in secure and deep(o)),
    )
    mixed = [s for s in sites if any(deep(o) for o in at(s))]
    m.MACSEC_MIXED_SITES = pyo.Set(initialize=mixed, ordered=True)
    m.macsec_special_ports = pyo.Constraint(
        m.MACSEC_MIXED_SITES,
        rule=lambda _, s: ports(s, either) >= need(s, lambda o: o[0] in secure or deep(o)),
    )
