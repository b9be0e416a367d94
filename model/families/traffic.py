"""Traffic and paths: storage traffic split h_{a,b}, scale-across pairs, explicit demands,
path flows that meet every commodity's demand (contract §3, §4.4)."""

from __future__ import annotations

import logging

import pyomo.core as pyo

from model.families import var_sum
from model.families.compute import STRENGTHEN_MAX_GPU_SITES, survival_racks
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan

log = logging.getLogger(__name__)

#: Kinds whose two directions are twins: the same demand (h_{a,b}, sync_gbps·pair_{a,b})
#: both ways, the reverse's candidate paths the reversed paths.
TWIN_KINDS = ("storage", "sync")


def add_traffic(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """Storage: Σ_a h_{a,b} = storage_gbps_per_rack·racks_b [Gbps] (h_{b,b} local, no network),
    Σ_b h_{a,b} ≤ storage_gbps_per_pb·stor_a. Scale-across: pair_{a,b} ≥ gpu_a + gpu_b − 1;
    gpu_a + gpu_b ≤ 1 where no path meets sync_latency_ms, or where the pair's protected
    traffic cannot survive some failure inside it (``plan.sync_unprotected``; such a storage
    pair has no h_{a,b}). Flow: Σ_{p ∈ P_c} flow_p = demand_c
    (≥ when protected, with flow_p ≤ demand_c on each path that bills flow), demand_c = h (storage),
    sync_gbps·pair (scale-across) or gbps (explicit)."""
    dem = ds.settings.demand
    m.COMMODITIES = pyo.Set(initialize=range(len(plan.commodities)), ordered=True)
    m.PATHS = pyo.Set(initialize=ix.paths, dimen=2, ordered=True)
    m.flow = pyo.Var(
        m.PATHS, domain=pyo.NonNegativeReals, bounds=lambda _, c, p: (0, ix.commodity_ub[c])
    )

    storage_traffic = dem.storage_gbps_per_rack > 0 and ix.gpu_sites
    local = [(s, s) for s in ix.gpu_sites if s in ix.storage_ub] if storage_traffic else []
    h_pairs = sorted(set(plan.storage_pairs) | set(local)) if storage_traffic else []
    m.STORAGE_PAIRS = pyo.Set(initialize=h_pairs, dimen=2, ordered=True)
    m.h = pyo.Var(m.STORAGE_PAIRS, domain=pyo.NonNegativeReals)
    if storage_traffic:
        reads: dict[str, list] = {}  # b → h_{a,b} over a, a → h_{a,b} over b
        serves: dict[str, list] = {}
        for (a, b), var in m.h.items():
            reads.setdefault(b, []).append(var)
            serves.setdefault(a, []).append(var)
        m.traffic_storage_demand = pyo.Constraint(
            m.GPU_SITES,
            rule=lambda _, b: (
                var_sum(reads.get(b, []))
                == dem.storage_gbps_per_rack * sum(m.racks[b, k] for k in m.RACK_COOLING)
            ),
        )
        m.traffic_storage_serve = pyo.Constraint(
            sorted(serves),
            rule=lambda _, a: var_sum(serves[a]) <= dem.storage_gbps_per_pb * m.stor[a],
        )

    m.SYNC_PAIRS = pyo.Set(
        initialize=plan.sync_pairs if dem.sync_gbps > 0 else [], dimen=2, ordered=True
    )
    m.pair = pyo.Var(m.SYNC_PAIRS, domain=pyo.NonNegativeReals, bounds=(0, 1))
    if dem.sync_gbps > 0 and len(ix.gpu_sites) > 1:
        m.traffic_sync_pair = pyo.Constraint(
            m.SYNC_PAIRS, rule=lambda _, a, b: m.pair[a, b] >= m.gpu[a] + m.gpu[b] - 1
        )
    if dem.sync_gbps > 0 and 1 < len(ix.gpu_sites) <= STRENGTHEN_MAX_GPU_SITES:
        add_partner_rows(m, ds, ix)
    blocked = sorted((a, b) for a, b, _ in plan.sync_blocked)
    if blocked:
        m.SYNC_BLOCKED = pyo.Set(initialize=blocked, dimen=2, ordered=True)
        m.traffic_sync_blocked = pyo.Constraint(
            m.SYNC_BLOCKED, rule=lambda _, a, b: m.gpu[a] + m.gpu[b] <= 1
        )
    if plan.sync_unprotected:  # their protected traffic cannot survive some failure
        m.SYNC_UNPROTECTED = pyo.Set(initialize=plan.sync_unprotected, dimen=2, ordered=True)
        m.traffic_sync_unprotected = pyo.Constraint(
            m.SYNC_UNPROTECTED, rule=lambda _, a, b: m.gpu[a] + m.gpu[b] <= 1
        )

    def demand(c: int) -> pyo.Expression | float:
        com = plan.commodities[c]
        if com.kind == "storage":
            return m.h[com.pair]
        if com.kind == "sync":
            return dem.sync_gbps * m.pair[com.pair]
        if com.kind == "replication":  # model/families/replication.py
            return m.q[com.pair]
        if com.kind == "inference":  # model/families/users.py: gbps per rack × racks served
            return com.gbps * m.serve[com.pair] if com.pair in m.USER_PAIRS else 0.0
        return com.gbps

    m.commodity_demand = pyo.Expression(m.COMMODITIES, rule=lambda _, c: demand(c))
    paths_of = paths_by_commodity(ix)
    path_routed = [c for c, com in enumerate(plan.commodities) if not com.arc]
    m.PATH_COMMODITIES = pyo.Set(initialize=path_routed, ordered=True)

    # Unprotected traffic carries exactly its demand; protected traffic may carry more in
    # total (to survive failures). More than its demand on one path is never needed (lower
    # such a flow to the demand and every row still holds), so it is capped only where flow
    # is billed (flow_usd_per_gbps_year > 0, where the cap keeps the cost honest); elsewhere
    # extraction clips it, which changes no cost. The cap rows are one per path: at 100
    # generated sites they were 60 % of all rows and dropping them took the 300 s gap from
    # 7.8 % to 2.4 %.
    flow = dict(m.flow.items())

    def carried(_: pyo.ConcreteModel, c: int) -> pyo.Expression:
        total = var_sum([flow[c, p] for p in paths_of.get(c, [])])
        if plan.commodities[c].protected:
            return total >= m.commodity_demand[c]
        return total == m.commodity_demand[c]

    m.traffic_flow = pyo.Constraint(m.PATH_COMMODITIES, rule=carried)
    billed = {r for r in ix.routes if ds.routes.at[r, "flow_usd_per_gbps_year"] > 0}
    capped = {
        c
        for c, com in enumerate(plan.commodities)
        if com.protected and any(billed.intersection(p.routes) for p in com.paths)
    }
    protected_paths = [p for p in ix.paths if p[0] in capped]
    m.PROTECTED_PATHS = pyo.Set(initialize=protected_paths, dimen=2, ordered=True)
    m.traffic_path_cap = pyo.Constraint(
        m.PROTECTED_PATHS, rule=lambda _, c, p: m.flow[c, p] <= m.commodity_demand[c]
    )
    add_arc_flows(m, ds, ix, plan)


def paths_by_commodity(ix: ModelIndex) -> dict[int, list[int]]:
    """c → the indices p of its candidate paths in the model (``ix.paths``), in order."""
    out: dict[int, list[int]] = {}
    for c, p in ix.paths:
        out.setdefault(c, []).append(p)
    return out


def add_arc_flows(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """Exact routing of commodities with no latency bound and no protection, aggregated by
    source s: arc_flow_{s,r,dir} ≥ 0 [Gbps] on every usable route and direction, and at every
    site v: Σ out − Σ in = Σ_{c from s} demand_c if v = s, −Σ_{c from s to v} demand_c else."""
    m.ARCS = pyo.Set(initialize=ix.arcs, dimen=3, ordered=True)
    m.arc_flow = pyo.Var(m.ARCS, domain=pyo.NonNegativeReals)
    if not ix.arcs:
        return
    ends = {r: (ds.routes.at[r, "a"], ds.routes.at[r, "b"]) for r in ix.routes}
    out_of: dict[tuple[str, str], list] = {}
    into: dict[tuple[str, str], list] = {}
    for src, r, way in ix.arcs:
        tail, head = ends[r] if way == "ab" else ends[r][::-1]
        out_of.setdefault((src, tail), []).append((src, r, way))
        into.setdefault((src, head), []).append((src, r, way))
    rows = sorted((src, v) for src in ix.arc_sources for v in ix.sites)
    m.ARC_BALANCE = pyo.Set(initialize=rows, dimen=2, ordered=True)

    def balance(_: pyo.ConcreteModel, src: str, v: str) -> pyo.Expression:
        net = sum(m.arc_flow[a] for a in out_of.get((src, v), [])) - sum(
            m.arc_flow[a] for a in into.get((src, v), [])
        )
        coms = ix.arc_sources[src]
        if v == src:
            supply = sum(m.commodity_demand[c] for c in coms)
        else:
            supply = -sum(m.commodity_demand[c] for c in coms if plan.commodities[c].dst == v)
        if isinstance(net, int | float) and isinstance(supply, int | float):
            return pyo.Constraint.Skip
        return net == supply

    m.traffic_arc_balance = pyo.Constraint(m.ARC_BALANCE, rule=balance)


def add_partner_rows(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> None:
    """LP strengthening of the scale-across pairs. pair_{a,b} ≤ gpu_a and ≤ gpu_b make
    pair = gpu_a·gpu_b at integer points (a design with a larger pair only carries more
    traffic, so some optimum satisfies them). With zone survival (⌈share × gpu_racks⌉ ≥ 1
    racks outside every zone) there are at least two GPU sites, so every GPU site has a
    partner: Σ_b pair_{a,b} ≥ gpu_a (``traffic_sync_partner``, implied by the rows;
    explain.py leaves it out). Every two GPU sites are a pair of SYNC_PAIRS, blocked or
    unprotected."""
    m.traffic_sync_pair_a = pyo.Constraint(
        m.SYNC_PAIRS, rule=lambda _, a, b: m.pair[a, b] <= m.gpu[a]
    )
    m.traffic_sync_pair_b = pyo.Constraint(
        m.SYNC_PAIRS, rule=lambda _, a, b: m.pair[a, b] <= m.gpu[b]
    )
    if survival_racks(ds) < 1:
        return
    partners: dict[str, list[tuple[str, str]]] = {s: [] for s in ix.gpu_sites}
    for a, b in m.SYNC_PAIRS:
        partners[a].append((a, b))
        partners[b].append((a, b))
    m.traffic_sync_partner = pyo.Constraint(
        list(ix.gpu_sites),
        rule=lambda _, s: sum(m.pair[p] for p in partners[s]) >= m.gpu[s],
    )
    # A GPU site's sync traffic leaves it on a route with units; where none of its routes
    # has existing capacity, one of them is lit (``traffic_sync_lit``, implied as well).
    at: dict[str, list[str]] = {}
    for r in ix.routes:
        for end in (ds.routes.at[r, "a"], ds.routes.at[r, "b"]):
            at.setdefault(end, []).append(r)
    bare = [
        s
        for s in ix.gpu_sites
        if partners[s] and not any(ds.routes.at[r, "existing_gbps"] > 0 for r in at.get(s, []))
    ]
    lit = set(m.LIT_ROUTES)
    m.traffic_sync_lit = pyo.Constraint(
        bare, rule=lambda _, s: sum(m.lit[r] for r in at.get(s, []) if r in lit) >= m.gpu[s]
    )


def twin_paths(ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> list[tuple[int, int, int, int]]:
    """(c, p, c′, p′): path p′ of commodity c′ is path p of c reversed, where c′ is c's
    twin (the same storage or scale-across pair the other way, the same demand, flow bound,
    latency bound and protection), c < c′; empty where the model is not symmetric under
    swapping twins.

    Swapping every twin's flows (flow_{c,p} ↔ flow_{c′,p′}) maps the model onto itself: the
    flow, path-cap and protection rows of c and c′ trade places, each route's capacity rows
    of the two directions trade places (a route has the same capacity both ways), the flow
    cost counts both directions alike, and nothing else reads the flows. So the average of
    a design and its mirror image is a design of the same cost and the same integer
    decisions, and flow_{c,p} = flow_{c′,p′} (``traffic_twin``) keeps an optimum. With
    ``capacity_sharing = "duplex"`` the capacity rows trade places only if every flow has
    its twin: then every path-routed commodity must be one of a twin pair whose paths match
    one for one, and none may be routed on arc flows; with ``shared`` both directions are
    one row, and each twin pair whose paths match is enough."""
    shared = ds.settings.network.capacity_sharing == "shared"
    coms = plan.commodities
    if not shared and any(c.arc for c in coms):
        return []
    paths_of = paths_by_commodity(ix)
    key = {(c.kind, c.pair, c.src, c.dst): i for i, c in enumerate(coms)}
    out: list[tuple[int, int, int, int]] = []
    for i, com in enumerate(coms):
        if com.arc:
            continue
        j = key.get((com.kind, com.pair, com.dst, com.src)) if com.kind in TWIN_KINDS else None
        twin = coms[j] if j is not None else None
        mine = paths_of.get(i, [])
        theirs = paths_of.get(j, []) if j is not None else []
        matched: list[tuple[int, int, int, int]] = []
        same = twin is not None and ix.commodity_ub[i] == ix.commodity_ub[j]
        if same and (twin.protected, twin.bound_ms) == (com.protected, com.bound_ms):
            where = {(twin.paths[q].routes, twin.paths[q].nodes): q for q in theirs}
            for p in mine:
                path = com.paths[p]
                q = where.pop((path.routes[::-1], path.nodes[::-1]), None)
                if q is None:
                    break
                matched.append((i, p, j, q))
            else:  # every path of c has its reverse; and c′ has no path left over
                if not where:
                    if i < j:
                        out.extend(matched)
                    continue
        if not shared:  # a flow without its twin: the directions do not mirror
            log.debug("no twin rows: commodity %s has no twin with the reversed paths", com.id)
            return []
    return out


def add_twin_rows(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """flow_{c,p} = flow_{c′,p′} for twin commodities and their reversed paths
    (:func:`twin_paths`): a restriction to symmetric designs that keeps an optimum. HiGHS's
    presolve substitutes one flow of each row away and merges the rows that become the
    same; on 100 generated sites the model HiGHS searches went from 45,859 rows × 63,275
    columns to 24,932 × 35,282 (in ``STRENGTHENING``: the pricing LP and the explanation
    leave them out)."""
    rows = twin_paths(ds, ix, plan)
    if not rows:
        return
    m.TWIN_PATHS = pyo.Set(initialize=rows, dimen=4, ordered=True)
    m.traffic_twin = pyo.Constraint(
        m.TWIN_PATHS, rule=lambda _, c, p, d, q: m.flow[c, p] == m.flow[d, q]
    )
