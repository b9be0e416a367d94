"""Links and capacity: integer units of each link type per route, route lighting, capacity
per route and direction (contract §4.6)."""

from __future__ import annotations

import networkx as nx
import pyomo.core as pyo

from model.families import var_sum
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan


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
    # the largest big-M of links_lit: the solver keeps its integrality tolerance below 1/M
    # (model/highs_direct.py, integrality_tolerance)
    m.largest_big_m = max((ix.route_units_ub[r] for r in lit_routes), default=0)
    on_route: dict[str, list[tuple[str, str]]] = {}
    for o in ix.options:
        on_route.setdefault(o[0], []).append(o)
    m.links_lit = pyo.Constraint(
        m.LIT_ROUTES,
        rule=lambda _, r: (
            sum(m.units[o] for o in on_route.get(r, [])) <= ix.route_units_ub[r] * m.lit[r]
        ),
    )
    # Capacity of a route, each direction (both together with shared capacity) [Gbps].
    m.route_capacity = pyo.Expression(
        m.ROUTES,
        rule=lambda _, r: (
            ds.routes.at[r, "existing_gbps"]
            + sum(ix.option[o]["capacity_gbps"] * m.units[o] for o in on_route.get(r, []))
        ),
    )


def add_capacity(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """Per route and direction (both together with capacity_sharing = shared) [Gbps]:
    Σ flow_p over paths crossing it that way ≤ Σ_t capacity_t·units_{r,t} + existing_gbps_r."""
    rows = sorted(set(ix.loads) | set(ix.arc_loads))
    if not rows:
        return
    m.ROUTE_WAYS = pyo.Set(initialize=rows, dimen=2, ordered=True)

    flow, arc_flow = dict(m.flow.items()), dict(m.arc_flow.items())

    def capacity(_: pyo.ConcreteModel, r: str, way: str) -> pyo.Expression:
        load = [flow[p] for p in ix.loads.get((r, way), [])]
        load += [arc_flow[a] for a in ix.arc_loads.get((r, way), [])]
        return var_sum(load) <= m.route_capacity[r]

    m.links_capacity = pyo.Constraint(m.ROUTE_WAYS, rule=capacity)


def add_cut_strengthening(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> None:
    """Valid single-site cuts (they remove no integer solution, only fractional ones):
    the capacity on the routes at a site covers the traffic it sends, and the traffic it
    receives [Gbps] (both together with shared capacity). Written as rows over the integer
    units, they let HiGHS derive rounding (MIR) cuts a path or arc formulation hides."""
    coms = plan.commodities
    if not coms or not ix.options:
        return
    shared = ds.settings.network.capacity_sharing == "shared"
    directed = ds.routes["directed"].to_dict() if "directed" in ds.routes else {}
    at: dict[str, list[str]] = {}
    for r in ix.routes:
        for end in (ds.routes.at[r, "a"], ds.routes.at[r, "b"]):
            at.setdefault(end, []).append(r)
    rows = []
    for v in sorted({c.src for c in coms} | {c.dst for c in coms}):
        for way in ("both",) if shared else ("out", "in"):
            rows.append((v, way))
    m.CUT_ROWS = pyo.Set(initialize=rows, dimen=2, ordered=True)
    sent: dict[str, list[int]] = {}
    got: dict[str, list[int]] = {}
    for c, com in enumerate(coms):
        sent.setdefault(com.src, []).append(c)
        got.setdefault(com.dst, []).append(c)

    def cut(_: pyo.ConcreteModel, v: str, way: str) -> pyo.Expression:
        if way == "both":
            routes = at.get(v, [])
        else:  # a directed route serves a → b only
            end = "a" if way == "out" else "b"
            routes = [r for r in at.get(v, []) if not directed.get(r) or ds.routes.at[r, end] == v]
        sends, gets = sent.get(v, []), got.get(v, [])
        need = {"both": sends + gets, "out": sends, "in": gets}[way]
        if not need:
            return pyo.Constraint.Skip
        return sum(m.route_capacity[r] for r in routes) >= sum(m.commodity_demand[c] for c in need)

    m.links_site_cut = pyo.Constraint(m.CUT_ROWS, rule=cut)


def add_connectivity(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """A valid count of units (``links_connect``, one row). Sites joined by routes with
    existing capacity form one part (those routes connect for free). Every explicit demand
    with gbps > 0 between two parts needs a chain of routes with units between them, and a
    route without existing capacity carries nothing without a unit. So the routes with
    units that join different parts connect every component C of the demand graph over the
    parts, possibly through other parts; whatever joins the c_1, c_2, ... parts of the
    components that share one connected piece has at least Σ c_i − 1 ≥ Σ (c_i − 1) routes.
    Hence Σ units over such routes ≥ Σ_C (|C| − 1). It removes no integer solution; the LP
    relaxation, which spreads fractions of units over many routes, loses most of its gap on
    fixed-charge-like sets (SNDlib dfn-bwin D-B-E: LP 17,891 → 73,152 against an optimum of
    73,623.79). In ``model.families.STRENGTHENING``."""
    part = {s: s for s in ix.sites}

    def find(s: str) -> str:
        while part[s] != s:
            part[s] = part[part[s]]
            s = part[s]
        return s

    ends = {r: (ds.routes.at[r, "a"], ds.routes.at[r, "b"]) for r in ix.routes}
    for r, (a, b) in ends.items():
        if ds.routes.at[r, "existing_gbps"] > 0:
            part[find(a)] = find(b)
    demand_graph = nx.Graph()
    for com in plan.commodities:
        if com.kind == "demand" and (com.gbps or 0) > 0 and find(com.src) != find(com.dst):
            demand_graph.add_edge(find(com.src), find(com.dst))
    need = sum(len(c) - 1 for c in nx.connected_components(demand_graph))
    joining = [o for o in ix.options if find(ends[o[0]][0]) != find(ends[o[0]][1])]
    if need > 0 and joining:
        m.links_connect = pyo.Constraint(expr=sum(m.units[o] for o in joining) >= need)
