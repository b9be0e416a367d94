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

import heapq
import itertools
import logging
import math
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from model.config import Network
from model.load import Dataset

log = logging.getLogger(__name__)

EARTH_RADIUS_KM = 6371.0088
EPS_MS = 1e-9


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
    km: dict[tuple[str, str], float] = {}
    for a, b in itertools.combinations(ids, 2):
        gc = haversine_km(
            sites.at[a, "lat"], sites.at[a, "lon"], sites.at[b, "lat"], sites.at[b, "lon"]
        )
        km[(a, b)] = round(gc * net.route_factor, 1)
    allowed = sorted(((d, p) for p, d in km.items() if d <= net.max_route_km))
    g = nx.Graph()
    g.add_nodes_from(ids)
    for s in ids:
        near = sorted((d, p) for p, d in km.items() if s in p and d <= net.max_route_km)
        for d, p in near[: net.candidate_k]:
            g.add_edge(*p, km=d)
    for d, (a, b) in allowed:  # connect components, shortest first (Kruskal)
        if not nx.has_path(g, a, b):
            g.add_edge(a, b, km=d)
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
class Path:
    """One candidate path: routes in order, the sites it visits, its latency."""

    routes: tuple[str, ...]
    nodes: tuple[str, ...]
    latency_us: float

    @property
    def latency_ms(self) -> float:
        return self.latency_us / 1000.0

    def reversed(self) -> Path:
        return Path(self.routes[::-1], self.nodes[::-1], self.latency_us)

    def ways(self, route_a: dict[str, str], shared: bool) -> list[tuple[str, str]]:
        """(route, capacity row) per hop: 'ab' or 'ba' by the direction the hop crosses the
        route (``route_a``: route → its a end), 'both' with shared capacity."""
        return [
            (r, "both" if shared else ("ab" if route_a[r] == self.nodes[hop] else "ba"))
            for hop, r in enumerate(self.routes)
        ]


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


def in_stacks(stack: str | None, stacks: tuple[str, ...]) -> bool:
    """Contract §11: a router model or link type may be placed when its stack is empty, or
    no stacks are chosen, or its stack is one of them."""
    return not stack or not stacks or stack in stacks


def link_options(ds: Dataset) -> pd.DataFrame:
    """Link types that may be placed on each route: same medium, reach ≥ km, offered types
    only (at offered prices) where the route has offers; excluded media get none."""
    excluded = set(ds.settings.network.exclude_media)
    stacks = ds.settings.network.stacks
    offers = ds.offers.set_index(["route", "type"]) if not ds.offers.empty else None
    offered_routes = set(ds.offers["route"]) if not ds.offers.empty else set()
    rows = []
    for r in ds.routes.sort_index().itertuples():
        if r.medium in excluded:
            continue
        for t in ds.link_types.sort_index().itertuples():
            if t.medium != r.medium or t.reach_km < r.km:
                continue
            if not in_stacks(getattr(t, "stack", ""), stacks):
                continue
            capex, opex, max_units = t.capex_usd, t.opex_usd_per_year, None
            if r.route in offered_routes:
                if (r.route, t.type) not in offers.index:
                    continue
                o = offers.loc[(r.route, t.type)]
                capex = capex if pd.isna(o["capex_usd"]) else float(o["capex_usd"])
                opex = opex if pd.isna(o["opex_usd_per_year"]) else float(o["opex_usd_per_year"])
                max_units = None if pd.isna(o["max_units"]) else int(o["max_units"])
            deep = t.deep_buffer_over_km
            rows.append(
                {
                    "route": r.route,
                    "type": t.type,
                    "capacity_gbps": t.capacity_gbps,
                    "capex_usd": capex,
                    "opex_usd_per_year": opex,
                    "max_units": max_units,
                    "power_w": t.power_w,
                    "ports": t.ports,
                    "dsp_latency_us": t.dsp_latency_us,
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


class PathFinder:
    """Candidate paths over the route multigraph.

    ``shortest`` ranks *site sequences*: Yen's algorithm runs on the site graph, where
    parallel routes between two sites are one edge weighted by the fastest of them, so
    near-duplicate paths that differ only in a parallel route (an HCF twin of an SMF route,
    say) do not use up the k. Each sequence then comes with its parallel-route variants,
    fastest first, at most ``VARIANTS`` per sequence. ``avoiding`` searches the route graph
    itself, where each route is a node of its own between its two ends. A directed route
    (``directed`` = 1, e.g. SNDlib link model D) is traversed from a to b only.
    """

    VARIANTS = 4  # parallel-route variants kept per site sequence
    TREES = 2048  # failure-avoiding shortest-path trees kept (each ≤ one path per site)
    #: Above this many sites the site sequences of a pair come from one label-setting
    #: search per source (:meth:`_from_source`, every target at once) instead of Yen's
    #: algorithm per pair (NetworkX's ``shortest_simple_paths``), which grows as N³ over
    #: all pairs: 9.7× slower at 200 generated sites, not finishing in 20 minutes at
    #: 1,000 (bench/network.py). Japan (28 sites) and Europe (58) keep Yen's.
    LABEL_SEARCH_SITES = 80

    def __init__(self, ds: Dataset, usable: list[str], route_latency_us: dict[str, float]):
        self.routes = ds.routes
        self.hop_us = ds.settings.network.hop_latency_us
        self.g = nx.DiGraph()  # route graph: site → (route) → site
        self.g.add_nodes_from(ds.sites.index)
        self.sites_g = nx.DiGraph()  # site graph: one edge per ordered site pair
        self.sites_g.add_nodes_from(ds.sites.index)
        self.parallel: dict[tuple[str, str], list[str]] = {}  # (u, v) → routes, fastest first
        directed = ds.routes["directed"].to_dict() if "directed" in ds.routes else {}
        self.symmetric = not any(directed.get(r) for r in usable)
        for rid in usable:
            w = (route_latency_us[rid] + self.hop_us) / 2.0
            a, b = self.routes.at[rid, "a"], self.routes.at[rid, "b"]
            self.g.add_edge(a, ("route", rid), weight=w)
            self.g.add_edge(("route", rid), b, weight=w)
            self.parallel.setdefault((a, b), []).append(rid)
            if not directed.get(rid):
                self.g.add_edge(b, ("route", rid), weight=w)
                self.g.add_edge(("route", rid), a, weight=w)
                self.parallel.setdefault((b, a), []).append(rid)
        for (u, v), rids in self.parallel.items():
            rids.sort(key=lambda r: (route_latency_us[r], r))
            self.sites_g.add_edge(u, v, weight=route_latency_us[rids[0]] + self.hop_us)
        self.route_latency_us = route_latency_us
        self.label_search = len(ds.sites) > self.LABEL_SEARCH_SITES
        self._adj = {
            u: sorted((v, d["weight"]) for v, d in self.sites_g[u].items()) for u in self.sites_g
        }
        self._sources: dict[str, dict[str, list[tuple[str, ...]]]] = {}
        self._sources_k = 0  # the k of the searches kept in _sources
        self._cs: tuple | None = None  # the route graph as arrays, for _cs_tree
        self._cache: dict[tuple[str, str], tuple[int, list[Path]]] = {}
        self._trees: dict[tuple[str, tuple[str, ...]], dict[str, list]] = {}  # LRU, _tree
        self._ends = {r: (self.routes.at[r, "a"], self.routes.at[r, "b"]) for r in usable}

    def _to_path(self, nodes: list) -> Path:
        sites = tuple(n for n in nodes if not isinstance(n, tuple))
        routes = tuple(n[1] for n in nodes if isinstance(n, tuple))
        return self._path(routes, sites)

    def _path(self, routes: tuple[str, ...], sites: tuple[str, ...]) -> Path:
        lat = sum(self.route_latency_us[r] for r in routes) + self.hop_us * max(0, len(sites) - 2)
        return Path(routes, sites, lat)

    def _variants(self, sites: list[str]) -> list[Path]:
        """The site sequence over every combination of parallel routes, fastest first."""
        hops = [self.parallel[(u, v)] for u, v in itertools.pairwise(sites)]
        if all(len(h) == 1 for h in hops):
            return [self._path(tuple(h[0] for h in hops), tuple(sites))]
        combos = islice(itertools.product(*hops), 64 * self.VARIANTS)
        paths = sorted(
            (self._path(rs, tuple(sites)) for rs in combos), key=lambda p: (p.latency_us, p.routes)
        )
        return paths[: self.VARIANTS]

    def shortest(self, src: str, dst: str, k: int) -> list[Path]:
        """The k shortest site sequences src → dst by latency, each with its parallel-route
        variants; sorted by latency."""
        flip = self.symmetric and dst < src  # undirected graph: one search per pair
        key = (dst, src) if flip else (src, dst)
        cached = self._cache.get(key)
        if cached is None or cached[0] < k:
            if self.label_search:
                seqs = self._from_source(key[0], k).get(key[1], [])
            else:
                try:
                    gen = nx.shortest_simple_paths(self.sites_g, key[0], key[1], weight="weight")
                    seqs = list(islice(gen, k))
                except (nx.NetworkXNoPath, nx.NodeNotFound):
                    seqs = []
            paths = sorted(
                (p for seq in seqs for p in self._variants(seq)),
                key=lambda p: (p.latency_us, p.nodes, p.routes),
            )
            cached = (k, paths)
            self._cache[key] = cached
        paths = cached[1] if cached[0] == k else self._first_sequences(cached[1], k)
        return [p.reversed() for p in paths] if flip else paths

    def _from_source(self, src: str, k: int) -> dict[str, list[tuple[str, ...]]]:
        """Up to k loop-free site sequences from ``src`` to every site, by a label-setting
        search: labels leave the heap in order of latency and each site keeps its first k
        (a label is extended only to sites not on its own sequence). Each site's first
        sequence is its shortest; the others are short and loop-free but, unlike Yen's,
        not guaranteed the 2nd..k-th shortest (a sequence through a site that already has
        k labels is not extended). Ties break on the sequence, so the result is
        deterministic. Kept per source for the source's other pairs."""
        if self._sources_k != k:
            self._sources.clear()
            self._sources_k = k
        found = self._sources.get(src)
        if found is not None:
            return found
        found = {}
        heap: list[tuple[float, tuple[str, ...]]] = [(0.0, (src,))]
        adj = self._adj
        while heap:
            cost, seq = heapq.heappop(heap)
            got = found.setdefault(seq[-1], [])
            if len(got) >= k:
                continue
            got.append(seq)
            for v, w in adj[seq[-1]]:
                if v not in seq and len(found.get(v, ())) < k:
                    heapq.heappush(heap, (cost + w, (*seq, v)))
        del found[src]
        self._sources[src] = found
        return found

    @staticmethod
    def _first_sequences(paths: list[Path], k: int) -> list[Path]:
        """Paths of the k fastest site sequences in ``paths`` (sorted by latency)."""
        seqs: list[tuple[str, ...]] = []
        for p in paths:
            if p.nodes not in seqs:
                seqs.append(p.nodes)
        keep = set(seqs[:k])
        return [p for p in paths if p.nodes in keep]

    def avoiding(self, src: str, dst: str, cut: tuple[str, ...]) -> Path | None:
        """Shortest path src → dst that uses none of the routes in ``cut``.

        Answered from a shortest-path tree per (root, cut), kept for later questions: the
        failures shared by all of a commodity's paths recur for many pairs (a site's access
        routes, a corridor every path crosses), so one tree serves many commodities. On a
        symmetric graph a cut at dst's end is answered from dst's tree, reversed."""
        flip = (
            self.symmetric
            and not any(src in self._ends[r] for r in cut)
            and any(dst in self._ends[r] for r in cut)
        )
        root, target = (dst, src) if flip else (src, dst)
        nodes = self._tree(root, cut).get(target)
        if nodes is None:
            return None
        path = self._to_path(nodes)
        return path.reversed() if flip else path

    def _tree(self, root: str, cut: tuple[str, ...]) -> Any:
        """Shortest paths from ``root`` to every site with the ``cut`` routes taken out:
        a mapping site → route-graph nodes (a :class:`_CsTree` on large graphs)."""
        key = (root, cut)
        tree = self._trees.pop(key, None)  # re-inserted below: most recently used last
        if tree is None and self.label_search:
            tree = self._cs_tree(root, cut)
            if len(self._trees) >= self.TREES:
                del self._trees[next(iter(self._trees))]
        elif tree is None:
            gone = [("route", r) for r in cut if ("route", r) in self.g]
            saved = [
                (u, v, d)
                for n in gone
                for u, v, d in [*self.g.in_edges(n, data=True), *self.g.out_edges(n, data=True)]
            ]
            self.g.remove_nodes_from(gone)
            try:
                _, paths = nx.single_source_dijkstra(self.g, root, weight="weight")
            finally:
                self.g.add_edges_from(saved)  # back exactly as they were
            tree = {n: p for n, p in paths.items() if not isinstance(n, tuple)}
            if len(self._trees) >= self.TREES:
                del self._trees[next(iter(self._trees))]
        self._trees[key] = tree
        return tree

    def _cs_tree(self, root: str, cut: tuple[str, ...]) -> _CsTree:
        """:meth:`_tree` by SciPy's compiled Dijkstra (large graphs, see
        ``LABEL_SEARCH_SITES``): NetworkX's took 98 % of the network plan at 1,000 sites."""
        if self._cs is None:
            nodes = list(self.g.nodes)
            index = {n: i for i, n in enumerate(nodes)}
            edges = [(index[a], index[b], d["weight"]) for a, b, d in self.g.edges(data=True)]
            u, v, w = (np.array(x) for x in zip(*edges, strict=True))
            w = np.maximum(w, 1e-12)  # an explicit 0 is a missing edge to SciPy
            base = csr_matrix((w, (u, v)), shape=(len(nodes), len(nodes)))
            base.sort_indices()
            order = np.argsort(base.indices, kind="stable")  # data positions by head node
            heads = base.indices[order]
            self._cs = (nodes, index, base, order, heads)
        nodes, index, base, order, heads = self._cs
        data = base.data.copy()
        for r in cut:  # an infinite weight into a cut route's node: SciPy never enters it
            i = index.get(("route", r))
            if i is not None:
                lo, hi = np.searchsorted(heads, [i, i + 1])
                data[order[lo:hi]] = np.inf
        graph = csr_matrix((data, base.indices, base.indptr), shape=base.shape)
        _, pred = dijkstra(graph, directed=True, indices=index[root], return_predecessors=True)
        return _CsTree(nodes, index, pred, index[root])

    def best_latency_ms(self, src: str, dst: str) -> float | None:
        """Lowest achievable latency src → dst, or None when no path exists."""
        paths = self.shortest(src, dst, 1)
        return paths[0].latency_ms if paths else None


@dataclass(frozen=True)
class _CsTree:
    """A shortest-path tree as SciPy's predecessor array; ``get`` walks one site's path."""

    nodes: list
    index: dict
    pred: np.ndarray
    root: int

    def get(self, target: str) -> list | None:
        i = self.index.get(target)
        if i is None or (self.pred[i] < 0 and i != self.root):
            return None
        out = [self.nodes[i]]
        while self.pred[i] >= 0:
            i = int(self.pred[i])
            out.append(self.nodes[i])
        return out[::-1]


def _within(paths: list[Path], bound_ms: float | None) -> list[Path]:
    if bound_ms is None:
        return list(paths)
    return [p for p in paths if p.latency_ms <= bound_ms + EPS_MS]


def _protect(
    finder: PathFinder,
    paths: list[Path],
    bound_ms: float | None,
    failures: dict[str, tuple[str, ...]],
    route_fail: dict[str, set[str]],
) -> tuple[list[Path], list[tuple[str, Path | None]]]:
    """Add, for each failure shared by every path, the shortest path avoiding it. Also
    returns the failures still shared by every path (none avoids them inside the bound),
    each with the fastest path avoiding it, or None."""
    if not paths:
        return paths, []
    src, dst = paths[0].nodes[0], paths[0].nodes[-1]
    tried: dict[str, Path | None] = {}
    while True:
        common = set.intersection(*(set().union(*(route_fail[r] for r in p.routes)) for p in paths))
        todo = sorted(common - set(tried))
        if not todo:
            return paths, [(f, tried[f]) for f in sorted(common)]
        f = todo[0]
        alt = finder.avoiding(src, dst, failures[f])
        tried[f] = alt
        in_bound = alt is not None and (bound_ms is None or alt.latency_ms <= bound_ms + EPS_MS)
        if in_bound and alt not in paths:
            paths = [*paths, alt]


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


def plan_network(ds: Dataset) -> NetworkPlan:
    """Link options, usable routes, failures, commodities and candidate paths."""
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

    def add_pair(kind: str, a: str, b: str, bound: float | None, ways: tuple) -> None:
        # Storage ids name the storage site: a site that holds both GPUs and storage may
        # appear in two pairs, (a, b) and (b, a), whose commodities would otherwise clash.
        tag = f"@{a}" if kind == "storage" else ""
        for (src, dst), rt in zip(((a, b), (b, a)), ways, strict=True):
            cid = f"{kind}:{src}>{dst}{tag}"
            note(cid, kind, (src, dst), (a, b), bound, rt)
            commodities.append(
                Commodity(cid, kind, src, dst, (a, b), bound, protect, rt.paths, arc=rt.arc)
            )

    storage_pairs, storage_blocked = [], []
    if dem.storage_gbps_per_rack > 0 and gpu:
        for a, b in itertools.product(stor, gpu):
            if a == b:
                continue
            ways = both_ways(a, b, dem.storage_latency_ms)
            if ways is None:
                storage_blocked.append((a, b, finder.best_latency_ms(a, b)))
                continue
            storage_pairs.append((a, b))
            add_pair("storage", a, b, dem.storage_latency_ms, ways)
    sync_pairs, sync_blocked = [], []
    if dem.sync_gbps > 0 or dem.sync_latency_ms is not None:
        for a, b in itertools.combinations(gpu, 2):
            ways = both_ways(a, b, dem.sync_latency_ms)
            if ways is None:
                sync_blocked.append((a, b, finder.best_latency_ms(a, b)))
                continue
            sync_pairs.append((a, b))
            if dem.sync_gbps > 0:
                add_pair("sync", a, b, dem.sync_latency_ms, ways)
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
        unusable_routes=unusable,
        restrictions=restrictions,
        finder=finder,
        unprotectable=unprotectable,
        replication_pairs=replication_pairs,
        replication_blocked=replication_blocked,
        user_pairs=user_pairs,
        user_blocked=user_blocked,
    )
