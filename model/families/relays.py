"""Relay rows: what the sites on a scale-across pair's paths must cost at least (LP
strengthening, in ``model.families.STRENGTHENING``).

A scale-across pair's protected traffic crosses its candidate paths, and every route of a
path that carries flow and has no existing capacity is lit, so both its ends are open and
hold ``min_routers_per_site`` routers. In the LP relaxation a route is lit at
units/max_units, and max_units comes from every commodity that may cross the route, so
the sites that only relay a pair's traffic are paid for at almost nothing (100 generated
sites: the design opens 16 relay sites at 63.3 M$/yr, the LP relaxation Σ open ≈ 2).

For each pair the cheapest set of relays its traffic could use is known before the solve:
the paths that carry flow must leave, for every failure that cuts one of them, a path
that avoids it (the survival rows ask a positive share of a positive demand), so they
form a *cover* of the failures, and every site and route they force open or lit is paid
for. ``relay_floor`` finds the cheapest cover of a commodity's candidate paths (a search
over path sets, cheapest first, pruned by cost). Then

    Σ_{v ∈ V} (c_v·open_v + Σ_m c_m·routers_{v,m}) + Σ_{r ∈ R} c_r·lit_r ≥ L_{a,b}·pair_{a,b}

(``traffic_relay_pair``), with V, R the relay sites and routes of the pair's candidate
paths (the ends a, b left out), c the annualised costs the objective gives them and
L_{a,b} the cheapest cover. It holds in every integer solution: pair > 0 means traffic,
traffic means a cover in use. With zone survival a GPU site always has a partner in
another zone, so the same holds for the site itself with the cheapest of those pairs and
the union of their relays (``traffic_relay_gpu``: ... ≥ min_{b ∉ zone(a)} L_{a,b}·gpu_a),
which binds while the GPU sites are still fractional. The rows are valid for the candidate
path set they are built from; the model is rebuilt when column generation adds paths, and
the pricing LP leaves them out.
"""

from __future__ import annotations

import pyomo.core as pyo

from model.families.compute import STRENGTHEN_MAX_GPU_SITES, survival_racks
from model.index import ModelIndex
from model.load import Dataset
from model.network import Commodity, NetworkPlan

#: Path sets the cheapest-cover search may visit per commodity; past it the floor is the
#: cheapest single path (every cover has one), which is still valid.
COVER_SEARCH_NODES = 20_000


def relay_floor(
    com: Commodity,
    protected: bool,
    route_fails: dict[str, list[str]],
    forced: dict[str, bool | None],
    site_cost: dict[str, float],
    route_cost: dict[str, float],
) -> tuple[float, set[str], set[str]]:
    """The least cost of the relays of path sets that can carry ``com`` (a cover of every
    failure that cuts one of its paths when ``protected``, else any one path), and the
    relay sites and routes of all its paths. ``forced[r]``: True for a route without existing
    capacity (carrying flow lights it), None for one that can carry nothing (no existing
    capacity, no link type), so a path over it carries no flow; ``route_fails[r]``: the
    failures that cut r."""
    ends = {com.src, com.dst}
    bits: dict[str, int] = {}
    items = []
    all_sites: set[str] = set()
    all_routes: set[str] = set()
    for p in com.paths:
        if any(forced.get(r, False) is None for r in p.routes):
            continue
        sites: set[str] = set()
        routes: set[str] = set()
        mask = 0
        for hop, r in enumerate(p.routes):
            if protected:
                for f in route_fails.get(r, ()):
                    mask |= 1 << bits.setdefault(f, len(bits))
            if forced.get(r, False):
                routes.add(r)
                sites.update(x for x in (p.nodes[hop], p.nodes[hop + 1]) if x not in ends)
        all_sites |= sites
        all_routes |= routes
        cost = sum(site_cost[v] for v in sites) + sum(route_cost[r] for r in routes)
        items.append((cost, mask, frozenset(sites), frozenset(routes)))
    if not items:
        return 0.0, all_sites, all_routes
    items.sort(key=lambda t: t[0])
    cheapest = items[0][0]
    everything = (1 << len(bits)) - 1
    best = [float("inf")]
    visited = [0]

    def search(start: int, mask: int, sites: frozenset, routes: frozenset) -> None:
        for j in range(start, len(items)):
            visited[0] += 1
            if visited[0] > COVER_SEARCH_NODES:
                return
            _, pmask, psites, proutes = items[j]
            left = mask & pmask
            if left == mask and mask:  # this path avoids no failure the set still has
                continue
            s, r = sites | psites, routes | proutes
            cost = sum(site_cost[v] for v in s) + sum(route_cost[x] for x in r)
            if cost >= best[0]:
                continue
            if not left:
                best[0] = cost
                continue
            search(j + 1, left, s, r)

    search(0, everything, frozenset(), frozenset())
    if visited[0] > COVER_SEARCH_NODES or best[0] == float("inf"):
        return cheapest, all_sites, all_routes
    return best[0], all_sites, all_routes


def add_relay_rows(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """``traffic_relay_pair`` per scale-across pair and ``traffic_relay_gpu`` per GPU site
    (module docstring). Nothing without scale-across traffic, and, like the other
    scale-across rows, nothing above ``STRENGTHEN_MAX_GPU_SITES`` GPU-capable sites: at 200
    generated sites (120) one HiGHS seed went from optimal in 520.8 s to 2.82 % at 600 s
    and another from 1.77 to 1.58 %, with 0.1-0.3 GiB more at the peak; at 100 (60) they
    were even (3 proofs of 5 over 5 seeds at 300 s, with and without)."""
    dem = ds.settings.demand
    if dem.sync_gbps <= 0 or not 1 < len(ix.gpu_sites) <= STRENGTHEN_MAX_GPU_SITES:
        return
    if not m.SYNC_PAIRS:
        return
    econ = ds.settings.economics
    crf_site, crf_router = econ.crf("site"), econ.crf("router")
    routes, sites = ds.routes, ds.sites
    n_min = ds.settings.resilience.min_routers_per_site
    router_capex = {x: crf_router * ds.routers.at[x, "capex_usd"] for x in ix.models}
    cheapest_router = min(router_capex.values(), default=0.0)
    lit = set(m.LIT_ROUTES)
    forced: dict[str, bool | None] = {
        r: (r in lit or None) if routes.at[r, "existing_gbps"] <= 0 else False for r in ix.routes
    }
    site_cost = {
        v: (0.0 if sites.at[v, "existing"] else crf_site * sites.at[v, "open_capex_usd"])
        + (n_min * cheapest_router if v in ix.site_routes else 0.0)
        for v in ix.sites
    }
    route_cost = {
        r: crf_site * routes.at[r, "build_capex_usd"] if r in lit else 0.0 for r in ix.routes
    }
    fails = plan.failures_by_route()
    protected_share = ds.settings.resilience.protected_share > 0

    floor: dict[tuple[str, str], tuple[float, set[str], set[str]]] = {}
    for com in plan.commodities:
        # One direction per pair: either one's floor holds (both must be carried), and the
        # other is mostly its reverse (at 1,000 generated nodes the search took 17 s for both).
        if com.kind != "sync" or com.arc or com.pair not in m.pair or com.pair in floor:
            continue
        floor[com.pair] = relay_floor(
            com, com.protected and protected_share, fails, forced, site_cost, route_cost
        )

    # The annualised cost terms of each site, looked up once.
    site_terms: dict[str, list] = {}
    for v in ix.sites:
        terms = []
        if not sites.at[v, "existing"] and sites.at[v, "open_capex_usd"] > 0:
            terms.append(float(crf_site * sites.at[v, "open_capex_usd"]) * m.open[v])
        if v in ix.site_routes and n_min > 0:
            terms.extend(float(c) * m.routers[v, x] for x, c in router_capex.items())
        site_terms[v] = terms

    def paid(relay_sites: set[str], relay_routes: set[str]) -> pyo.Expression:
        terms = [t for v in sorted(relay_sites) for t in site_terms[v]]
        terms += [
            float(route_cost[r]) * m.lit[r] for r in sorted(relay_routes) if route_cost[r] > 0
        ]
        return sum(terms)

    rows = sorted(p for p, (low, _, _) in floor.items() if low > 0)
    if not rows:
        return
    m.RELAY_PAIRS = pyo.Set(initialize=rows, dimen=2, ordered=True)
    m.traffic_relay_pair = pyo.Constraint(
        m.RELAY_PAIRS,
        rule=lambda _, a, b: (
            paid(floor[a, b][1], floor[a, b][2]) - floor[a, b][0] * m.pair[a, b] >= 0
        ),
    )
    if survival_racks(ds) < 1:
        return
    # With zone survival a GPU site a has a partner outside its zone: the racks outside
    # zone(a) are at least survival_racks ≥ 1, and a site with racks hosts GPUs, so
    # pair_{a,b} ≥ gpu_a + gpu_b − 1 = 1 for some GPU site b of another zone.
    # SYNC_PAIRS holds no pair that cannot both host GPUs (blocked by latency or
    # unprotectable: plan_network keeps those out).
    zone = ds.sites["zone"].to_dict()
    mine: dict[str, list[tuple[str, str]]] = {s: [] for s in ix.gpu_sites}
    for a, b in m.SYNC_PAIRS:
        if zone[a] == zone[b]:
            continue
        mine[a].append((a, b))
        mine[b].append((a, b))
    gpu_rows = []
    for s, pairs in mine.items():
        low = min((floor[p][0] if p in floor else 0.0) for p in pairs) if pairs else 0.0
        if low > 0:
            gpu_rows.append((s, low))
    if not gpu_rows:
        return
    low_of = dict(gpu_rows)

    def gpu_row(_: pyo.ConcreteModel, s: str) -> pyo.Expression:
        relay_sites: set[str] = set()
        relay_routes: set[str] = set()
        for p in mine[s]:
            relay_sites |= floor[p][1]
            relay_routes |= floor[p][2]
        return paid(relay_sites - {s}, relay_routes) - low_of[s] * m.gpu[s] >= 0

    m.RELAY_GPU_SITES = pyo.Set(initialize=sorted(low_of), ordered=True)
    m.traffic_relay_gpu = pyo.Constraint(m.RELAY_GPU_SITES, rule=gpu_row)
