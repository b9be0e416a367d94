"""Candidate routes, link options per route, commodities and their candidate paths (NetworkX).

Path latency (contract §3), in µs: Σ km × latency_us_per_km(medium) + Σ dsp_latency_us of
the slowest link type allowed on each route (0 on a route usable only through existing
capacity) + hop_latency_us per intermediate site. Candidate paths of a commodity are the
``paths_per_pair`` shortest site sequences by that latency, each over its fastest
parallel-route variants, that stay inside its bound; a
protected commodity also gets, for every failure that all of those paths share, the
shortest path avoiding it (when one exists inside the bound), so that the path set can
protect whatever the route graph can protect.

Who is protected (docs/contract.md §7): storage, scale-across and replication (§12) traffic
when ``[resilience] link_protection`` is ``diverse``; an explicit demand, and a customer
region's inference traffic (users.csv, §9), when its own ``protected`` column is 1,
whatever ``link_protection`` says. ``protected_share`` applies to every protected commodity;
at 0 nothing has to survive, so no commodity is protected.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field

import networkx as nx
import pandas as pd

from model.config import Network
from model.deadline import check
from model.load import Dataset
from model.paths import Path, PathFinder, _protect, _within

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def generate_routes(sites: pd.DataFrame, net: Network) -> pd.DataFrame:
    """Candidate routes from coordinates: each site's ``candidate_k`` nearest neighbours
    within ``max_route_km``, then the shortest extra routes that connect the graph and
    remove its bridges (2-edge-connected) where the sites allow it."""
    ids = sorted(sites.index)
    lat = [float(sites.at[s, "lat"]) for s in ids]
    lon = [float(sites.at[s, "lon"]) for s in ids]
    # every pair once (a < b), O(N²) in plain floats: pandas look-ups per pair took most
    # of the load at 1,000 sites; the distances are the same expression as before
    allowed: list[tuple[float, tuple[str, str]]] = []
    near: dict[str, list[tuple[float, tuple[str, str]]]] = {s: [] for s in ids}
    for i, j in itertools.combinations(range(len(ids)), 2):
        d = round(haversine_km(lat[i], lon[i], lat[j], lon[j]) * net.route_factor, 1)
        if d <= net.max_route_km:
            pair = (ids[i], ids[j])
            allowed.append((d, pair))
            near[ids[i]].append((d, pair))
            near[ids[j]].append((d, pair))
    allowed.sort()
    g = nx.Graph()
    g.add_nodes_from(ids)
    for s in ids:
        for d, p in sorted(near[s])[: net.candidate_k]:
            g.add_edge(*p, km=d)
    # connect components, shortest first (Kruskal); a union-find over the graph's parts
    # answers "already joined?" as nx.has_path did, without a search per pair
    parts = nx.utils.UnionFind(ids)
    for a, b in g.edges():
        parts.union(a, b)
    for d, (a, b) in allowed:
        if parts[a] != parts[b]:
            g.add_edge(a, b, km=d)
            parts.union(a, b)
    changed = True
    while changed:  # bypass each bridge with the shortest route across its cut
        changed = False
        for u, v in sorted(nx.bridges(g)):
            h = g.copy()
            h.remove_edge(u, v)
            side = nx.node_connected_component(h, u)
            for d, (a, b) in allowed:
                if (a in side) != (b in side) and not g.has_edge(a, b) and {a, b} != {u, v}:
                    g.add_edge(a, b, km=d)
                    changed = True
                    break
            if changed:
                break
    rows = [
        {
            "a": a,
            "b": b,
            "km": data["km"],
            "medium": "smf",
            "srlg": (),
            "build_capex_usd": 0.0,
            "max_units": None,
            "existing_gbps": 0.0,
            "flow_usd_per_gbps_year": 0.0,
            "route": "",
            "directed": False,
            "src_row": 0,
        }
        for a, b, data in sorted(
            g.edges(data=True), key=lambda e: (min(e[0], e[1]), max(e[0], e[1]))
        )
    ]
    for row in rows:
        row["a"], row["b"] = sorted((row["a"], row["b"]))
    return pd.DataFrame(rows, columns=list(rows[0]) if rows else ["a", "b", "km", "route"])


@dataclass(frozen=True)
class Commodity:
    """Traffic between two sites in one direction.

    A commodity with no latency bound and no protection is routed exactly (``arc``): its
    flow may use any path, so no candidate set can cut off the optimum.

    ``kind`` is ``storage`` (pair = (storage site, GPU site)), ``sync`` (pair = the two GPU
    sites, sorted), ``replication`` (pair = (sending, receiving) storage site),
    ``inference`` (pair = (region, serving site); ``gbps`` is per rack served: the region's
    gbps / racks) or ``demand`` (``gbps`` fixed from demands.csv).
    """

    id: str
    kind: str
    src: str
    dst: str
    pair: tuple[str, str]
    bound_ms: float | None
    protected: bool
    paths: tuple[Path, ...]
    gbps: float | None = None
    arc: bool = False  # exact routing: arc flows over every usable route, no path set


@dataclass(frozen=True)
class Routing:
    """How a commodity is routed: over all paths (arc flow) or a candidate path set.

    ``uncovered``: for protected traffic, each failure that cuts every path inside the bound,
    with the fastest path avoiding it (outside the bound, or None when there is none)."""

    reachable: bool
    arc: bool
    paths: tuple[Path, ...]
    uncovered: tuple[tuple[str, Path | None], ...] = ()


@dataclass(frozen=True)
class Unprotectable:
    """Protected traffic that cannot survive a failure inside its latency bound: every path
    within ``bound_ms`` crosses ``failure``, and the fastest path avoiding it is ``alt``
    (slower than the bound; None when no path avoids it). Its demand can only be 0: a
    storage pair then serves nothing, a scale-across pair cannot both host GPUs, an
    explicit demand cannot be met.

    ``kind`` and ``pair`` as in :class:`Commodity`; ``commodity`` is the commodity id."""

    commodity: str
    kind: str
    src: str
    dst: str
    pair: tuple[str, str]
    bound_ms: float | None
    paths: tuple[Path, ...]  # the candidate paths inside the bound, fastest first
    failure: str
    cut: tuple[str, ...]  # routes of the failure
    alt: Path | None


@dataclass
class NetworkPlan:
    """Everything the model needs from the route graph."""

    options: pd.DataFrame  # one row per (route, type) that may be placed
    usable: list[str]  # routes that can carry traffic
    route_latency_us: dict[str, float]
    failures: dict[str, tuple[str, ...]]  # failure id → routes it cuts
    commodities: list[Commodity]
    storage_pairs: list[tuple[str, str]]  # (storage site, GPU site) with a path in bound
    sync_pairs: list[tuple[str, str]]  # GPU site pairs with paths in bound both ways
    sync_blocked: list[tuple[str, str, float | None]]  # pairs that cannot both host GPUs
    storage_blocked: list[tuple[str, str, float | None]]
    # pairs whose protected traffic no path inside the bound can carry through some failure
    # (plan_network's drop_unprotectable): no commodities; two such GPU sites cannot both
    # host GPUs, such a storage site serves nothing to such a GPU site
    storage_unprotected: list[tuple[str, str]] = field(default_factory=list)
    sync_unprotected: list[tuple[str, str]] = field(default_factory=list)
    unusable_routes: list[str] = field(default_factory=list)
    restrictions: list[str] = field(default_factory=list)
    finder: PathFinder | None = None
    # protected commodities (and failures) that no path inside the bound can survive
    unprotectable: list[Unprotectable] = field(default_factory=list)
    # replication (contract §12): ordered (from, to) storage sites of different zones with a
    # path within replication_latency_ms, and those without one (best latency, or None)
    replication_pairs: list[tuple[str, str]] = field(default_factory=list)
    replication_blocked: list[tuple[str, str, float | None]] = field(default_factory=list)
    # users (contract §9): (region, serving site) pairs within the region's bound (the
    # entry site itself, when GPU-capable, at 0 ms), and per region the GPU-capable sites
    # out of reach with their best latency from the entry site (None: no path)
    user_pairs: list[tuple[str, str]] = field(default_factory=list)
    user_blocked: dict[str, list[tuple[str, float | None]]] = field(default_factory=dict)

    def failures_by_route(self) -> dict[str, list[str]]:
        """Route → the failures that cut it, in the order of ``failures``."""
        out: dict[str, list[str]] = {}
        for f, routes in self.failures.items():
            for r in routes:
                out.setdefault(r, []).append(f)
        return out

    def forget_dropped(self) -> None:
        """Let go of the :class:`Unprotectable` records of the storage and scale-across
        pairs the plan dropped (``storage_unprotected``, ``sync_unprotected``) once the
        precheck has read them. Nothing after it does: an infeasible run's explanation
        plans again with those pairs (model/explain.py). Kept, at 200 generated sites they
        are 35,122 records holding 82 MiB of paths through the solve."""
        dropped = {("storage", p) for p in self.storage_unprotected}
        dropped |= {("sync", p) for p in self.sync_unprotected}
        if dropped:
            self.unprotectable = [u for u in self.unprotectable if (u.kind, u.pair) not in dropped]


def in_stacks(stack: str | None, stacks: tuple[str, ...]) -> bool:
    """Contract §11: a router model or link type may be placed when its stack is empty, or
    no stacks are chosen, or its stack is one of them."""
    return not stack or not stacks or stack in stacks


def link_options(ds: Dataset) -> pd.DataFrame:
    """Link types that may be placed on each route: same medium, reach ≥ km, offered types
    only (at offered prices) where the route has offers; excluded media get none."""
    excluded = set(ds.settings.network.exclude_media)
    stacks = ds.settings.network.stacks
    # Plain rows, the link types sorted once and the offers as a dict: this runs for the
    # plan and twice in the verifier (pandas's per-row .loc was most of its 25-50 ms).
    offers = {(o["route"], o["type"]): o for o in ds.offers.to_dict("records")}
    offered_routes = {route for route, _ in offers}
    types = [
        t
        for t in ds.link_types.sort_index().to_dict("records")
        if in_stacks(t.get("stack", ""), stacks)
    ]
    rows = []
    for r in ds.routes.sort_index().itertuples():
        if r.medium in excluded:
            continue
        for t in types:
            if t["medium"] != r.medium or t["reach_km"] < r.km:
                continue
            capex, opex, max_units = t["capex_usd"], t["opex_usd_per_year"], None
            if r.route in offered_routes:
                o = offers.get((r.route, t["type"]))
                if o is None:
                    continue
                capex = capex if pd.isna(o["capex_usd"]) else float(o["capex_usd"])
                opex = opex if pd.isna(o["opex_usd_per_year"]) else float(o["opex_usd_per_year"])
                max_units = None if pd.isna(o["max_units"]) else int(o["max_units"])
            deep = t["deep_buffer_over_km"]
            rows.append(
                {
                    "route": r.route,
                    "type": t["type"],
                    "capacity_gbps": t["capacity_gbps"],
                    "capex_usd": capex,
                    "opex_usd_per_year": opex,
                    "max_units": max_units,
                    "power_w": t["power_w"],
                    "ports": t["ports"],
                    "dsp_latency_us": t["dsp_latency_us"],
                    "deep_buffer": deep is not None and not pd.isna(deep) and r.km > deep,
                }
            )
    cols = [
        "route",
        "type",
        "capacity_gbps",
        "capex_usd",
        "opex_usd_per_year",
        "max_units",
        "power_w",
        "ports",
        "dsp_latency_us",
        "deep_buffer",
    ]
    return pd.DataFrame(rows, columns=cols)


def route_failures(routes: pd.DataFrame, usable: list[str]) -> dict[str, tuple[str, ...]]:
    """Failure id → routes cut: ``srlg:<name>`` per shared-risk group, ``route:<id>`` for a
    route with none."""
    out: dict[str, list[str]] = {}
    for rid in usable:
        groups = routes.at[rid, "srlg"] or ()
        if not groups:
            out.setdefault(f"route:{rid}", []).append(rid)
        for g in groups:
            out.setdefault(f"srlg:{g}", []).append(rid)
    return {f: tuple(sorted(rs)) for f, rs in sorted(out.items())}


def replication_on(ds: Dataset) -> bool:
    """Replication between storage copies is asked for (contract §12): more than one copy,
    a rate > 0 and storage to place."""
    dem = ds.settings.demand
    return dem.replication_gbps_per_pb > 0 and dem.storage_copies > 1 and dem.storage_pb > 0


def unusable_reason(ds: Dataset, rid: str) -> str:
    """Why a route can carry nothing, in planner terms."""
    r = ds.routes.loc[rid]
    if r["medium"] in ds.settings.network.exclude_media:
        return f"{rid} (medium {r['medium']!r} is in [network] exclude_media)"
    stacks = ds.settings.network.stacks
    if stacks and "stack" in ds.link_types.columns:
        fits = [
            t.type
            for t in ds.link_types.itertuples()
            if t.medium == r["medium"] and t.reach_km >= r["km"]
        ]
        if fits and not any(in_stacks(ds.link_types.at[t, "stack"], stacks) for t in fits):
            return (
                f"{rid} (the link types that reach it, {', '.join(fits)}, are not of "
                f"[network] stacks {', '.join(stacks)})"
            )
    return f"{rid} ({r['km']:g} km: no link type of medium {r['medium']!r} reaches it)"


def plan_network(ds: Dataset, drop_unprotectable: bool = True) -> NetworkPlan:
    """Link options, usable routes, failures, commodities and candidate paths.

    ``drop_unprotectable``: a storage or scale-across pair whose protected traffic cannot
    survive some failure inside its latency bound (its demand can only be 0) gets no
    commodities and no paths; it is listed in ``storage_unprotected`` or
    ``sync_unprotected`` (the model keeps such GPU sites apart) and its
    :class:`Unprotectable` records stay. The model is the same: those paths could carry
    nothing (at 200 generated sites they were 125,772 of 288,374 candidate paths, which
    HiGHS's presolve removed again on every solve). False keeps them, for the elastic model
    of an infeasible run (model/explain.py lifts exactly that protection)."""
    s = ds.settings
    net, dem = s.network, s.demand
    options = link_options(ds)
    excluded = set(net.exclude_media)
    routes = ds.routes
    dsp = options.groupby("route")["dsp_latency_us"].max().to_dict() if len(options) else {}
    usable, unusable = [], []
    latency: dict[str, float] = {}
    for r in routes.sort_index().itertuples():
        if r.medium not in excluded and (r.route in dsp or r.existing_gbps > 0):
            usable.append(r.route)
            latency[r.route] = r.km * net.latency_us_per_km[r.medium] + dsp.get(r.route, 0.0)
        else:
            unusable.append(r.route)
    for rid in unusable:
        log.warning("route cannot be used: %s", unusable_reason(ds, rid))
    failures = route_failures(routes, usable)
    route_fail: dict[str, set[str]] = {r: set() for r in usable}
    for f, rs in failures.items():
        for r in rs:
            route_fail[r].add(f)
    finder = PathFinder(ds, usable, latency)
    # Who is protected (docs/contract.md §7): link_protection governs storage and
    # scale-across traffic; an explicit demand follows its own protected column. A share of
    # 0 asks nothing to survive, so it protects nothing.
    share = s.resilience.protected_share
    protect = s.resilience.link_protection == "diverse" and share > 0
    k = net.paths_per_pair
    unprotectable: list[Unprotectable] = []

    def routing(src: str, dst: str, bound: float | None, protected: bool) -> Routing:
        """Exact arc-flow routing for unbounded unprotected traffic, else candidate paths."""
        check("network")  # the run's time limit (model/deadline.py)
        if bound is None and not protected:
            return Routing(finder.best_latency_ms(src, dst) is not None, True, ())
        paths = _within(finder.shortest(src, dst, k), bound)
        uncovered: list[tuple[str, Path | None]] = []
        if protected:
            paths, uncovered = _protect(finder, paths, bound, failures, route_fail)
        return Routing(bool(paths), False, tuple(paths), tuple(uncovered))

    def note(
        cid: str,
        kind: str,
        ends: tuple[str, str],
        pair: tuple[str, str],
        bound: float | None,
        rt: Routing,
    ) -> None:
        """Record each failure that every path of the commodity inside its bound crosses."""
        for f, alt in rt.uncovered:
            unprotectable.append(
                Unprotectable(cid, kind, *ends, pair, bound, rt.paths, f, failures[f], alt)
            )

    def both_ways(a: str, b: str, bound: float | None) -> tuple[Routing, Routing] | None:
        fwd = routing(a, b, bound, protect)
        if not fwd.reachable:
            return None
        if finder.symmetric:
            back = Routing(
                True,
                fwd.arc,
                tuple(p.reversed() for p in fwd.paths),
                tuple((f, alt and alt.reversed()) for f, alt in fwd.uncovered),
            )
        else:
            back = routing(b, a, bound, protect)
        return (fwd, back) if back.reachable else None

    sites = ds.sites
    gpu = sorted(sites.index[sites["gpu"]]) if dem.gpu_racks > 0 else []
    stor = sorted(sites.index[sites["storage"]]) if dem.storage_pb > 0 else []
    commodities: list[Commodity] = []

    def add_pair(kind: str, a: str, b: str, bound: float | None, ways: tuple) -> bool:
        """The commodities of pair (a, b) both ways; False, and none, when it is dropped
        as unprotectable (its records noted all the same)."""
        # Storage ids name the storage site: a site that holds both GPUs and storage may
        # appear in two pairs, (a, b) and (b, a), whose commodities would otherwise clash.
        tag = f"@{a}" if kind == "storage" else ""
        each = [
            (f"{kind}:{src}>{dst}{tag}", src, dst, rt)
            for (src, dst), rt in zip(((a, b), (b, a)), ways, strict=True)
        ]
        for cid, src, dst, rt in each:
            note(cid, kind, (src, dst), (a, b), bound, rt)
        if drop_unprotectable and any(rt.uncovered for rt in ways):
            return False
        for cid, src, dst, rt in each:
            commodities.append(
                Commodity(cid, kind, src, dst, (a, b), bound, protect, rt.paths, arc=rt.arc)
            )
        return True

    storage_pairs, storage_blocked, storage_unprotected = [], [], []
    if dem.storage_gbps_per_rack > 0 and gpu:
        for a, b in itertools.product(stor, gpu):
            if a == b:
                continue
            ways = both_ways(a, b, dem.storage_latency_ms)
            if ways is None:
                storage_blocked.append((a, b, finder.best_latency_ms(a, b)))
                continue
            if add_pair("storage", a, b, dem.storage_latency_ms, ways):
                storage_pairs.append((a, b))
            else:
                storage_unprotected.append((a, b))
    sync_pairs, sync_blocked, sync_unprotected = [], [], []
    if dem.sync_gbps > 0 or dem.sync_latency_ms is not None:
        for a, b in itertools.combinations(gpu, 2):
            ways = both_ways(a, b, dem.sync_latency_ms)
            if ways is None:
                sync_blocked.append((a, b, finder.best_latency_ms(a, b)))
                continue
            if dem.sync_gbps <= 0 or add_pair("sync", a, b, dem.sync_latency_ms, ways):
                sync_pairs.append((a, b))
            else:
                sync_unprotected.append((a, b))
    replication_pairs, replication_blocked = [], []
    if replication_on(ds):  # contract §12: directed, storage sites of different zones
        bound = dem.replication_latency_ms
        zone = sites["zone"]
        for a, b in itertools.permutations(stor, 2):
            if zone[a] == zone[b]:
                continue
            rt = routing(a, b, bound, protect)
            if not rt.reachable:
                replication_blocked.append((a, b, finder.best_latency_ms(a, b)))
                continue
            replication_pairs.append((a, b))
            cid = f"replication:{a}>{b}"
            note(cid, "replication", (a, b), (a, b), bound, rt)
            commodities.append(
                Commodity(cid, "replication", a, b, (a, b), bound, protect, rt.paths, arc=rt.arc)
            )
    user_pairs: list[tuple[str, str]] = []
    user_blocked: dict[str, list[tuple[str, float | None]]] = {}
    gpu_capable = sorted(sites.index[sites["gpu"]])
    for u in ds.users.sort_index().itertuples():
        if u.racks <= 0:
            continue
        bound = None if pd.isna(u.max_latency_ms) else float(u.max_latency_ms)
        prot = bool(u.protected) and share > 0  # its own column, like an explicit demand
        per_rack = float(u.gbps) / u.racks
        for x in gpu_capable:
            if x == u.site:  # the entry site itself serves at 0 ms, with no network traffic
                user_pairs.append((u.region, x))
                continue
            fwd = routing(u.site, x, bound, prot)
            back = routing(x, u.site, bound, prot) if fwd.reachable else fwd
            if not (fwd.reachable and back.reachable):
                user_blocked.setdefault(u.region, []).append((x, finder.best_latency_ms(u.site, x)))
                continue
            user_pairs.append((u.region, x))
            if per_rack <= 0:
                continue
            for (src, dst), rt in (((u.site, x), fwd), ((x, u.site), back)):
                cid = f"inference:{src}>{dst}@{u.region}"
                note(cid, "inference", (src, dst), (u.region, x), bound, rt)
                commodities.append(
                    Commodity(
                        cid,
                        "inference",
                        src,
                        dst,
                        (u.region, x),
                        bound,
                        prot,
                        rt.paths,
                        gbps=per_rack,
                        arc=rt.arc,
                    )
                )
    for d in ds.demands.sort_index().itertuples():
        bound = None if pd.isna(d.max_latency_ms) else float(d.max_latency_ms)
        prot = bool(d.protected) and share > 0  # whatever link_protection says
        if d.gbps <= 0:
            continue
        rt = routing(d.src, d.dst, bound, prot)
        note(f"demand:{d.demand}", "demand", (d.src, d.dst), (d.src, d.dst), bound, rt)
        commodities.append(
            Commodity(
                f"demand:{d.demand}",
                "demand",
                d.src,
                d.dst,
                (d.src, d.dst),
                bound,
                prot,
                rt.paths,
                gbps=float(d.gbps),
                arc=rt.arc and rt.reachable,
            )
        )
    n_arc = sum(c.arc for c in commodities)
    restrictions = []
    if n_arc < len(commodities):
        which = (
            "short site sequences (one label-setting search per source: the first is the "
            "shortest, the others loop-free but not proven the next shortest)"
            if finder.label_search
            else "shortest site sequences"
        )
        restrictions.append(
            f"candidate paths: up to {k} {which} per commodity (each with up to "
            f"{PathFinder.VARIANTS} parallel-route variants) inside its latency bound"
            + (
                ", plus failure-avoiding alternatives for protected traffic"
                if any(c.protected for c in commodities)
                else ""
            )
            + f" ({len(commodities) - n_arc} commodities)"
        )
    if ds.routes_generated:
        restrictions.append(
            f"routes generated from coordinates: {len(routes)} candidates "
            f"(candidate_k={net.candidate_k}, max_route_km={net.max_route_km:g})"
        )
    log.info(
        "network: %d usable routes, %d failures, %d commodities, %d paths",
        len(usable),
        len(failures),
        len(commodities),
        sum(len(c.paths) for c in commodities),
    )
    return NetworkPlan(
        options=options,
        usable=usable,
        route_latency_us=latency,
        failures=failures,
        commodities=commodities,
        storage_pairs=storage_pairs,
        sync_pairs=sync_pairs,
        sync_blocked=sync_blocked,
        storage_blocked=storage_blocked,
        storage_unprotected=storage_unprotected,
        sync_unprotected=sync_unprotected,
        unusable_routes=unusable,
        restrictions=restrictions,
        finder=finder,
        unprotectable=unprotectable,
        replication_pairs=replication_pairs,
        replication_blocked=replication_blocked,
        user_pairs=user_pairs,
        user_blocked=user_blocked,
    )
