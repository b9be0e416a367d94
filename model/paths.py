"""Candidate paths over the route multigraph (model/network.py plans them per commodity).

``Path`` is one candidate path; :class:`PathFinder` ranks site sequences (Yen's algorithm up
to ``LABEL_SEARCH_SITES`` sites, a label-setting search per source above) and finds the
shortest path avoiding a failure (NetworkX's Dijkstra step for step on dicts, SciPy's
above); ``_protect`` adds the failure-avoiding alternatives a protected commodity needs.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass
from itertools import islice
from typing import Any

import networkx as nx
import numpy as np

from model.load import Dataset
from model.yen import adjacency, k_shortest_sequences

EPS_MS = 1e-9


@dataclass(frozen=True, slots=True)
class Path:
    """One candidate path: routes in order, the sites it visits, its latency. Slotted: a
    plan holds many (311,725 at 200 generated sites, 14 of its 204 MiB saved)."""

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
    #: algorithm per pair (:func:`~model.yen.k_shortest_sequences`), which grows as N³ over
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
        if self.label_search:  # _from_source and _cs_tree read these
            self._adj = {
                u: sorted((v, d["weight"]) for v, d in self.sites_g[u].items())
                for u in self.sites_g
            }
        else:
            # the site graph as k_shortest_sequences reads it, and the route graph as
            # _dijkstra does: kept in NetworkX's order through the removals and
            # re-insertions of _tree, which decide how its Dijkstra breaks ties
            self._succ, self._pred = adjacency(self.sites_g)
            self._route_succ, self._route_pred = adjacency(self.g)
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
                seqs = k_shortest_sequences(self._succ, self._pred, key[0], key[1], k)
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
            gone = dict.fromkeys(("route", r) for r in cut if ("route", r) in self.g)
            tree = self._dijkstra(root, list(gone))
            if len(self._trees) >= self.TREES:
                del self._trees[next(iter(self._trees))]
        self._trees[key] = tree
        return tree

    def _dijkstra(self, root: str, gone: list[tuple[str, str]]) -> _Tree:
        """:meth:`_tree` on small graphs: NetworkX's ``single_source_dijkstra`` with the
        route nodes ``gone`` taken out, as it ran on ``self.g`` with those nodes removed and
        their edges added back after (``remove_nodes_from``, ``add_edges_from``), step for
        step on :attr:`_route_succ`, so that ties break as they did: a route node added back
        comes last in the order of each of its ends (tests/test_paths.py replays cuts on
        both). It leaves out NetworkX's weight function and its graph updates."""
        succ = self._route_succ
        taken = []
        for n in gone:
            taken.append((n, succ.pop(n), [(u, succ[u].pop(n)) for u in self._route_pred[n]]))
        try:
            return _tree_from(succ, root)
        finally:
            for n, out, ins in taken:
                for u, w in ins:
                    succ[u][n] = w
                succ[n] = out

    def _cs_tree(self, root: str, cut: tuple[str, ...]) -> _CsTree:
        """:meth:`_tree` by SciPy's compiled Dijkstra (large graphs, see
        ``LABEL_SEARCH_SITES``): NetworkX's took 98 % of the network plan at 1,000 sites.
        SciPy is imported here, on large graphs only: with it, Pyomo imports ``scipy.stats``
        (0.8 s, a third of a small data set's run)."""
        from scipy.sparse import csr_matrix
        from scipy.sparse.csgraph import dijkstra

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
        return _CsTree(nodes, index, pred.tolist(), index[root])

    def best_latency_ms(self, src: str, dst: str) -> float | None:
        """Lowest achievable latency src → dst, or None when no path exists."""
        paths = self.shortest(src, dst, 1)
        return paths[0].latency_ms if paths else None


@dataclass(frozen=True)
class _CsTree:
    """A shortest-path tree as SciPy's predecessor array (a list: a tree answers some nine
    questions at 200 generated sites, and NumPy's item access was most of each walk);
    ``get`` walks one site's path."""

    nodes: list
    index: dict
    pred: list[int]
    root: int

    def get(self, target: str) -> list | None:
        i = self.index.get(target)
        if i is None or (self.pred[i] < 0 and i != self.root):
            return None
        out = [self.nodes[i]]
        while self.pred[i] >= 0:
            i = self.pred[i]
            out.append(self.nodes[i])
        return out[::-1]


@dataclass(frozen=True, slots=True)
class _Tree:
    """A shortest-path tree as the node each node was reached from; ``get`` spells one
    site's path as NetworkX's ``single_source_dijkstra`` gives it (root first)."""

    came: dict[Any, Any]
    reached: dict[Any, float]

    def get(self, target: str) -> list | None:
        if target not in self.reached:
            return None
        out = [target]
        while out[-1] in self.came:
            out.append(self.came[out[-1]])
        return out[::-1]


def _tree_from(succ: dict[Any, dict[Any, float]], root: str) -> _Tree:
    """NetworkX's ``_dijkstra_multisource`` from one source without target or cutoff
    (networkx/algorithms/shortest_paths/weighted.py, BSD-3-Clause; see model/yen.py for
    the notice): the same heap, the same order of neighbours, the last relaxation of a
    node decides where it was reached from."""
    reached: dict[Any, float] = {}
    seen: dict[Any, float] = {root: 0}
    came: dict[Any, Any] = {}
    order = itertools.count()
    fringe = [(0, next(order), root)]
    while fringe:
        dist, _, v = heapq.heappop(fringe)
        if v in reached:
            continue
        reached[v] = dist
        for u, cost in succ[v].items():
            if u in reached:
                continue  # weights are positive: no shorter way to a settled node
            vu = dist + cost
            if u not in seen or vu < seen[u]:
                seen[u] = vu
                heapq.heappush(fringe, (vu, next(order), u))
                came[u] = v
    return _Tree(came, reached)


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

    def crossed(p: Path) -> set[str]:
        return set().union(*(route_fail[r] for r in p.routes))

    # The failures every path crosses; a path added below can only narrow them (taken
    # once per path, not again for every path at each turn: 3.2 of 13.4 profiled seconds
    # of the network plan at 200 generated sites).
    common = set.intersection(*(crossed(p) for p in paths))
    while True:
        todo = sorted(common - set(tried))
        if not todo:
            return paths, [(f, tried[f]) for f in sorted(common)]
        f = todo[0]
        alt = finder.avoiding(src, dst, failures[f])
        tried[f] = alt
        in_bound = alt is not None and (bound_ms is None or alt.latency_ms <= bound_ms + EPS_MS)
        if in_bound and alt not in paths:
            paths = [*paths, alt]
            common &= crossed(alt)
