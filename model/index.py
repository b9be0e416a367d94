"""Index sets, coefficients and valid upper bounds for the model, computed once.

Every bound here is implied by the data (no solution is cut off): rack counts by
``max_racks``, ``gpu_racks`` and the power cap; link units by the most traffic that can
reach a route; routers by the most ports and capacity their routes can need.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field

import pandas as pd

from model.deadline import check
from model.load import Dataset
from model.network import NetworkPlan, in_stacks

INF = math.inf


def _floor(x: float) -> int:
    return math.floor(x + 1e-9)


@dataclass
class ModelIndex:
    """Sets (sorted, so the model is built the same way every time) and coefficients."""

    sites: list[str]
    gpu_sites: list[str]
    storage_sites: list[str]
    transit: list[str]
    cooled: list[str]
    methods: list[str]
    rack_methods: list[str]  # methods that take rack_kw
    zones: dict[str, list[str]]  # zone → sites
    routes: list[str]  # usable routes
    options: list[tuple[str, str]]  # (route, type)
    option: dict[tuple[str, str], dict]  # coefficients per option
    models: list[str]  # router models
    router_sites: list[str]  # sites that terminate a usable route with options
    site_routes: dict[str, list[str]]  # site → usable routes ending there
    max_racks: dict[str, int]
    storage_ub: dict[str, float]
    it_ub: dict[str, float]
    # the most IT a site can draw without racks (storage, routers, optics), at most it_ub
    it_ub_without_racks: dict[str, float]
    units_ub: dict[tuple[str, str], int]
    route_units_ub: dict[str, int]
    routers_ub: dict[tuple[str, str], int]
    commodity_ub: list[float]
    paths: list[tuple[int, int]]  # (commodity index, path index)
    loads: dict[tuple[str, str], list[tuple[int, int]]] = field(default_factory=dict)
    # (route, 'ab'|'ba'|'both') → paths crossing it that way ('both' with shared capacity)
    arc_sources: dict[str, list[int]] = field(default_factory=dict)  # source → commodities
    arcs: list[tuple[str, str, str]] = field(default_factory=list)  # (source, route, ab|ba)
    arc_loads: dict[tuple[str, str], list[tuple[str, str, str]]] = field(default_factory=dict)
    # users (contract §9): sites that may serve a region → most inference racks there, and
    # the site's rack cap (max_racks, power) for training + inference (None: no cap)
    inference_ub: dict[str, int] = field(default_factory=dict)
    rack_cap: dict[str, int | None] = field(default_factory=dict)
    # site → the options (route, type) of the usable routes ending there, in options' order
    site_options: dict[str, list[tuple[str, str]]] = field(default_factory=dict)


def build_index(ds: Dataset, plan: NetworkPlan) -> ModelIndex:
    s = ds.settings
    dem = s.demand
    sites_df = ds.sites
    sites = sorted(sites_df.index)
    gpu_sites = sorted(sites_df.index[sites_df["gpu"]]) if dem.gpu_racks > 0 else []
    storage_sites = sorted(sites_df.index[sites_df["storage"]]) if dem.storage_pb > 0 else []
    transit = sorted(sites_df.index[~sites_df["gpu"] & ~sites_df["storage"]])
    cooled = [x for x in sites if x not in set(transit)]
    methods = sorted(ds.cooling.index)
    rack_methods = [k for k in methods if ds.cooling.at[k, "max_rack_kw"] >= dem.rack_kw]
    zones: dict[str, list[str]] = defaultdict(list)
    for x in sites:
        zones[sites_df.at[x, "zone"]].append(x)

    def min_pue(x: str) -> float:
        off = sites_df.at[x, "pue_offset"]
        if x in transit:
            return s.network.transit_pue + off
        return min(ds.cooling.at[k, "pue"] for k in methods) + off

    def power_kw(x: str) -> float:
        mw = sites_df.at[x, "max_power_mw"]
        return INF if mw is None or pd.isna(mw) else 1000.0 * float(mw)

    max_racks = {}
    for x in gpu_sites:
        cap = sites_df.at[x, "max_racks"]
        bound = float(dem.gpu_racks) if cap is None or pd.isna(cap) else min(cap, dem.gpu_racks)
        bound = min(bound, power_kw(x) / (dem.rack_kw * min_pue(x)))
        max_racks[x] = _floor(bound)
    # Users (contract §9): inference racks at GPU-capable sites that may serve a region.
    user_racks = {u.region: int(u.racks) for u in ds.users.itertuples()}
    inference_ub: dict[str, int] = {}
    rack_cap: dict[str, int | None] = {}
    for g, x in plan.user_pairs:
        cap = sites_df.at[x, "max_racks"]
        limit = INF if cap is None or pd.isna(cap) else float(cap)
        limit = min(limit, power_kw(x) / (dem.rack_kw * min_pue(x)))
        rack_cap[x] = None if limit == INF else _floor(limit)
        most = inference_ub.get(x, 0) + user_racks[g]
        inference_ub[x] = most if rack_cap[x] is None else min(most, rack_cap[x])
    storage_total = dem.storage_pb * dem.storage_copies
    storage_ub = {}
    for x in storage_sites:
        ub = dem.storage_pb if dem.storage_copies > 1 else storage_total
        if dem.storage_kw_per_pb > 0:
            ub = min(ub, power_kw(x) / (dem.storage_kw_per_pb * min_pue(x)))
        storage_ub[x] = ub

    # Most traffic each commodity can carry: bounds link units and routers.
    commodity_ub = []
    for c in plan.commodities:
        if c.kind == "demand":
            commodity_ub.append(c.gbps or 0.0)
        elif c.kind == "sync":
            commodity_ub.append(dem.sync_gbps)
        elif c.kind == "inference":  # gbps per rack × racks it may serve at the site
            g, x = c.pair
            commodity_ub.append((c.gbps or 0.0) * min(user_racks[g], inference_ub.get(x, 0)))
        elif c.kind == "replication":  # q_{a,b} ≤ rate × stor_a and ≤ rate × stor_b
            a, b = c.pair
            ub = min(storage_ub.get(a, 0.0), storage_ub.get(b, 0.0))
            commodity_ub.append(dem.replication_gbps_per_pb * ub)
        else:
            st, g = c.pair
            ub = dem.storage_gbps_per_rack * max_racks.get(g, 0)
            if dem.storage_gbps_per_pb:
                ub = min(ub, dem.storage_gbps_per_pb * storage_ub.get(st, 0.0))
            commodity_ub.append(ub)

    routes = list(plan.usable)
    ra = ds.routes["a"].to_dict()
    shared = s.network.capacity_sharing == "shared"
    loads: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    route_traffic: dict[str, float] = defaultdict(float)
    # Storage traffic is also bounded as a whole: its commodities' demands are h_{a,b}, and
    # Σ h = storage_gbps_per_rack × gpu_racks (each GPU rack's storage bandwidth), once per
    # commodity of a pair (a read and a checkpoint write). So a route carries at most
    # (most paths of one storage commodity crossing it) × that total, however many storage
    # commodities may cross it. Without it a route's units were bounded by the sum of every
    # storage pair's own bound (median 1.7 million units at 100 generated sites), so large
    # that lit = units/max_units fell within HiGHS's integrality tolerance of 0 (1e-6):
    # a design could carry a unit on an unlit route with no routers at its ends.
    per_pair: dict[tuple[str, str], int] = defaultdict(int)
    storage_traffic: dict[str, float] = defaultdict(float)
    storage_paths: dict[str, int] = defaultdict(int)
    paths = []
    for ci, c in enumerate(plan.commodities):
        check("index")
        if c.kind == "storage" and not c.arc:
            per_pair[c.pair] += 1
        crossed: dict[str, int] = defaultdict(int)
        for pi, p in enumerate(c.paths):
            key = (ci, pi)  # one tuple per path, shared by every route's list it is in
            paths.append(key)
            for r, way in p.ways(ra, shared):
                loads[(r, way)].append(key)
                crossed[r] += 1
        # Unprotected traffic needs no more than its demand in total; protected traffic no
        # more than its demand on each path (more never helps a survival row).
        for r, n_paths in crossed.items():
            n = n_paths if c.protected else 1
            if c.kind == "storage":
                storage_traffic[r] += commodity_ub[ci] * n
                storage_paths[r] = max(storage_paths[r], n)
            else:
                route_traffic[r] += commodity_ub[ci] * n
    storage_gbps = max(per_pair.values(), default=0) * dem.storage_gbps_per_rack * dem.gpu_racks
    for r, load in storage_traffic.items():
        route_traffic[r] += min(load, storage_paths[r] * storage_gbps)

    # Exact routing: one arc flow per source, route and direction for commodities routed
    # over all paths; such a commodity may cross any usable route.
    directed = ds.routes["directed"].to_dict() if "directed" in ds.routes else {}
    arc_sources: dict[str, list[int]] = defaultdict(list)
    for ci, c in enumerate(plan.commodities):
        if c.arc:
            arc_sources[c.src].append(ci)
    arcs: list[tuple[str, str, str]] = []
    arc_loads: dict[tuple[str, str], list[tuple[str, str, str]]] = defaultdict(list)
    for src in sorted(arc_sources):
        for r in routes:
            for way in ("ab",) if directed.get(r) else ("ab", "ba"):
                arcs.append((src, r, way))
                arc_loads[(r, "both" if shared else way)].append((src, r, way))
        reach = sum(commodity_ub[ci] for ci in arc_sources[src])
        for r in routes:
            route_traffic[r] += reach

    opts = plan.options
    option: dict[tuple[str, str], dict] = {}
    units_ub: dict[tuple[str, str], int] = {}
    route_units_ub: dict[str, int] = {}
    usable = set(routes)
    for o in opts.itertuples():
        if o.route not in usable:
            continue
        key = (o.route, o.type)
        option[key] = o._asdict()
        need = max(0.0, route_traffic.get(o.route, 0.0) - ds.routes.at[o.route, "existing_gbps"])
        ub = math.ceil(need / o.capacity_gbps - 1e-9)
        rmax = ds.routes.at[o.route, "max_units"]
        for cap in (o.max_units, rmax):
            if cap is not None and not pd.isna(cap):
                ub = min(ub, int(cap))
        units_ub[key] = max(ub, 0)
    by_route: dict[str, int] = defaultdict(int)
    for (rr, _), u in units_ub.items():
        by_route[rr] += u
    for r in routes:
        total = by_route[r]
        rmax = ds.routes.at[r, "max_units"]
        if rmax is not None and not pd.isna(rmax):
            total = min(total, int(rmax))
        route_units_ub[r] = total
    options = sorted(k for k in option if units_ub[k] > 0)

    site_routes: dict[str, list[str]] = defaultdict(list)
    for r in routes:
        if route_units_ub[r] > 0:
            site_routes[ds.routes.at[r, "a"]].append(r)
            site_routes[ds.routes.at[r, "b"]].append(r)
    router_sites = sorted(site_routes)
    ends_of: dict[str, list[str]] = defaultdict(list)
    for x, rs in site_routes.items():
        for r in rs:
            if x not in ends_of[r]:
                ends_of[r].append(x)
    site_options: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for k in options:
        for x in ends_of.get(k[0], ()):
            site_options[x].append(k)
    stacks = s.network.stacks
    models = sorted(  # contract §11: only models of the chosen stacks (or of none)
        m for m in ds.routers.index if in_stacks(ds.routers.at[m, "stack"], stacks)
    )
    routers_ub = {}
    min_routers = s.resilience.min_routers_per_site
    for x in router_sites:
        ports = sum(option[k]["ports"] * units_ub[k] for k in site_options[x])
        gbps = sum(option[k]["capacity_gbps"] * units_ub[k] for k in site_options[x])
        for m in models:
            rm = ds.routers.loc[m]
            routers_ub[(x, m)] = max(
                min_routers,
                math.ceil(ports / rm["ports"] - 1e-9),
                math.ceil(gbps / rm["capacity_gbps"] - 1e-9),
            )

    it_ub, it_ub_without_racks = {}, {}
    for x in sites:
        net_kw = sum(option[k]["power_w"] / 2000.0 * units_ub[k] for k in site_options.get(x, []))
        net_kw += sum(ds.routers.at[m, "power_kw"] * routers_ub.get((x, m), 0) for m in models)
        racks_ub = max_racks.get(x, 0) + inference_ub.get(x, 0)
        storage_kw = dem.storage_kw_per_pb * storage_ub.get(x, 0.0)
        ub = dem.rack_kw * racks_ub + storage_kw
        ub += net_kw
        it_ub[x] = min(ub, power_kw(x) / min_pue(x))
        it_ub_without_racks[x] = min(storage_kw + net_kw, it_ub[x])

    return ModelIndex(
        sites=sites,
        gpu_sites=gpu_sites,
        storage_sites=storage_sites,
        transit=transit,
        cooled=cooled,
        methods=methods,
        rack_methods=rack_methods,
        zones=dict(zones),
        routes=routes,
        options=options,
        option=option,
        models=models,
        router_sites=router_sites,
        site_routes=dict(site_routes),
        max_racks=max_racks,
        storage_ub=storage_ub,
        it_ub=it_ub,
        it_ub_without_racks=it_ub_without_racks,
        units_ub=units_ub,
        route_units_ub=route_units_ub,
        routers_ub=routers_ub,
        commodity_ub=commodity_ub,
        paths=paths,
        loads=dict(loads),
        arc_sources=dict(arc_sources),
        arcs=arcs,
        arc_loads=dict(arc_loads),
        inference_ub=inference_ub,
        rack_cap=rack_cap,
        site_options=dict(site_options),
    )
