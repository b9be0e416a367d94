"""Complete path sets by enumeration: when every path-routed commodity has few simple paths
inside its latency bound, give each of them all of those paths.

Pricing (:mod:`model.pricing`) proves a set complete at the LP relaxation only; a path that
pays only in another integer design is not found by it. On small graphs the whole set is
cheap: every simple path src → dst inside the bound, searched depth first over the route
graph (a parallel route is a path of its own, so every route variant of a site sequence is
there, not only :class:`~model.network.PathFinder`'s ``VARIANTS`` fastest), pruned by the
latency still to go (a shortest-path distance to dst over the fastest parallel routes: a
lower bound, so nothing inside the bound is cut). When the search is exhausted for *every*
path-routed commodity, the candidate sets are all simple paths inside the bounds, and the
model over them is the model over all paths:

* a walk (a path through a site twice) is never needed: cutting its cycles leaves a simple
  path that is no slower (route and hop latencies ≥ 0), crosses no route the walk does not
  cross (so no more capacity, flow cost ≥ 0 per Gbps per route, and no failure it avoided),
  and is capped no tighter (``traffic_path_cap`` depends on the routes crossed);
* commodities without a bound or protection are routed on arcs (every path) already.

So a MIP optimum over these sets (``status`` optimal, within ``mip_gap``) is optimal over
all paths at the MIP level, with no LP argument (``routing.paths_complete``). The unit
bounds of the model are computed from these sets, which are then all paths: no caveat.

Caps: more than ``[network] enumerate_paths_up_to`` paths for one commodity (0 turns the
step off), more than ``MAX_TOTAL_PATHS`` over all commodities, a search of more than
``STEPS_PER_PATH`` × (cap + 1) arc steps for one commodity, or more than ``TIME_SHARE`` of
the time limit in all (it comes out of the time limit, like everything before the MIP): the
enumeration stops at the first commodity over a cap, adds nothing, and the sets stay what
they were (the claim then rests on the LP bound, as before). Stopping at the first such
commodity keeps a large set (data/japan: 6 ms) from paying for a search that cannot
succeed.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, replace

import networkx as nx

from model.load import Dataset
from model.network import NetworkPlan, Path, PathFinder
from model.paths import EPS_MS

log = logging.getLogger(__name__)
MAX_TOTAL_PATHS = 5_000
STEPS_PER_PATH = 200
TIME_SHARE = 0.05  # of [solver] time_limit_s, for the whole enumeration


@dataclass(frozen=True)
class Enumeration:
    """``complete``: True every path-routed commodity has all its simple paths inside its
    bound in ``plan``; False a cap stopped the search (``plan`` unchanged); None the step is
    off or there is nothing to enumerate."""

    complete: bool | None
    plan: NetworkPlan
    paths_added: int
    total_paths: int
    note: str


def simple_paths(
    finder: PathFinder,
    src: str,
    dst: str,
    bound_ms: float | None,
    up_to: int,
    dist: dict[str, float] | None = None,
) -> list[Path] | None:
    """Every simple path src → dst over the route graph with latency ≤ ``bound_ms`` (None:
    no bound), fastest first; None when there are more than ``up_to`` of them or the search
    takes more than ``STEPS_PER_PATH`` × (``up_to`` + 1) steps. ``dist``: site → the
    latency + hop_us of the fastest path from it to dst (:func:`to_target`)."""
    hop = finder.hop_us
    dist = to_target(finder, dst) if dist is None else dist
    limit = math.inf if bound_ms is None else (bound_ms + EPS_MS) * 1000.0 + 1e-6
    if src not in dist or dist[src] - hop > limit:
        return []
    adj = _adjacency(finder)
    found: list[Path] = []
    budget = STEPS_PER_PATH * (up_to + 1)
    nodes, routes, on = [src], [], {src}
    # g: Σ (route latency + hop) over the routes taken; full latency = g + dist[v] − hop
    stack = [(iter(adj.get(src, ())), 0.0)]
    while stack:
        it, g = stack[-1]
        step = next(it, None)
        if step is None:
            stack.pop()
            if routes:
                routes.pop()
                on.discard(nodes.pop())
            continue
        budget -= 1
        if budget < 0:
            return None
        v, r, lat = step
        if v in on or v not in dist:
            continue
        ng = g + lat + hop
        if ng + dist[v] - hop > limit:
            continue
        if v == dst:
            path = finder._path((*routes, r), (*nodes, v))
            if bound_ms is None or path.latency_ms <= bound_ms + EPS_MS:
                found.append(path)
                if len(found) > up_to:
                    return None
            continue
        nodes.append(v)
        routes.append(r)
        on.add(v)
        stack.append((iter(adj.get(v, ())), ng))
    found.sort(key=lambda p: (p.latency_us, p.nodes, p.routes))
    return found


def to_target(finder: PathFinder, dst: str) -> dict[str, float]:
    """Site → shortest latency + hop_us to ``dst`` over the site graph (fastest parallel
    route per hop): a lower bound on the rest of any path from that site."""
    return nx.single_source_dijkstra_path_length(
        finder.sites_g.reverse(copy=False), dst, weight="weight"
    )


def _adjacency(finder: PathFinder) -> dict[str, list[tuple[str, str, float]]]:
    adj = getattr(finder, "_enum_adj", None)
    if adj is None:
        adj = {}
        for (u, v), rids in sorted(finder.parallel.items()):
            for r in rids:
                adj.setdefault(u, []).append((v, r, finder.route_latency_us[r]))
        finder._enum_adj = adj  # type: ignore[attr-defined]
    return adj


def complete_paths(ds: Dataset, plan: NetworkPlan) -> Enumeration:
    """Give every path-routed commodity all its simple paths inside its bound, or change
    nothing when a cap stops the search (see the module doc)."""
    up_to = ds.settings.network.enumerate_paths_up_to
    coms = plan.commodities
    todo = [i for i, c in enumerate(coms) if not c.arc]
    finder = plan.finder
    if up_to <= 0 or not todo or finder is None:
        why = "off ([network] enumerate_paths_up_to = 0)" if up_to <= 0 else "nothing to do"
        return Enumeration(None, plan, 0, 0, f"path enumeration {why}")
    current = sum(len(coms[i].paths) for i in todo)
    if current > MAX_TOTAL_PATHS:  # the complete sets hold at least these
        note = (
            f"path enumeration not tried: the candidate sets already hold {current} paths "
            f"(more than {MAX_TOTAL_PATHS})"
        )
        return Enumeration(False, plan, 0, 0, note)
    deadline = time.perf_counter() + TIME_SHARE * ds.settings.solver.time_limit_s
    dists: dict[str, dict[str, float]] = {}
    found: dict[tuple[str, str, float | None], list[Path] | None] = {}
    new = list(coms)
    total = added = 0
    for i in todo:
        c = coms[i]
        if time.perf_counter() > deadline:
            note = (
                f"path enumeration stopped at {c.id}: out of time ({TIME_SHARE:.0%} of the "
                "time limit); candidate sets unchanged"
            )
            log.info(note)
            return Enumeration(False, plan, 0, 0, note)
        key = (c.src, c.dst, c.bound_ms)
        back = found.get((c.dst, c.src, c.bound_ms))
        if key in found:
            paths = found[key]
        elif finder.symmetric and back is not None:
            paths = [p.reversed() for p in back]
        else:
            if c.dst not in dists:
                dists[c.dst] = to_target(finder, c.dst)
            paths = simple_paths(finder, c.src, c.dst, c.bound_ms, up_to, dists[c.dst])
        found[key] = paths
        if paths is None:
            note = (
                f"path enumeration stopped at {c.id}: more than {up_to} simple paths inside "
                "its bound ([network] enumerate_paths_up_to); candidate sets unchanged"
            )
            log.info(note)
            return Enumeration(False, plan, 0, 0, note)
        have = {p.routes for p in c.paths}
        extra = [p for p in paths if p.routes not in have]
        total += len(c.paths) + len(extra)
        if total > MAX_TOTAL_PATHS:
            note = (
                f"path enumeration stopped at {c.id}: more than {MAX_TOTAL_PATHS} paths over "
                "all commodities; candidate sets unchanged"
            )
            log.info(note)
            return Enumeration(False, plan, 0, 0, note)
        if extra:
            added += len(extra)
            new[i] = replace(c, paths=(*c.paths, *extra))
    note = (
        f"every simple path inside its bound enumerated for all {len(todo)} path-routed "
        f"commodities ({total} paths, {added} added): the candidate sets are all paths"
    )
    log.info(note)
    restrictions = [
        f"{r}; enumerated completely ({total} paths, every simple path inside the bound): "
        "not a restriction"
        if r.startswith("candidate paths:")
        else r
        for r in plan.restrictions
    ]
    out = replace(plan, commodities=new, restrictions=restrictions)
    return Enumeration(True, out, added, total, note)
