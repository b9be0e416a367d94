"""Is the candidate path set complete? Pricing at an LP relaxation's optimum.

Commodities routed on arc flows use every path by construction. A commodity routed on a
candidate path set (it has a latency bound, or it is protected) could gain from a path p
outside the set only if p's column has a negative reduced cost at the LP's duals:

    rc(p) = Σ_{hops (r, dir) of p} (flow_usd_per_gbps_year_r + |π_{r,dir}|)
            − σ_c − Σ_{F not crossed by p} μ_{c,F}
          = Σ_{hops} (flow_usd_per_gbps_year_r + |π_{r,dir}|) − σ_c − M_c
            + Σ_{F crossed by p} μ_{c,F}

with π the duals of the capacity rows, σ_c the dual of the commodity's demand row
(``traffic_flow``), μ_{c,F} ≥ 0 the dual of its survival row under failure F
(``resilience_protection``: Σ_{p avoiding F} flow_p ≥ share·demand_c) and M_c = Σ_F μ_{c,F},
all in their economic sign (|π| is what a Gbps of capacity is worth, σ_c and μ what a Gbps
of demand or of surviving flow costs; the solver's sign depends on how each row is
oriented). A failure without a row has μ = 0: its row would be implied, so the current
duals extended by 0 stay dual feasible. A new path's own rows (its cap
``traffic_path_cap``, its variable bounds) are not binding at flow 0.

The cheapest path is a resource-constrained shortest path: latency is the resource (the
commodity's bound), and the failures a path crosses (SRLGs, routes without one: the plan's
failures) each add their μ once, however many of their routes the path uses. Found exactly
by label setting: a label is (cost, latency, set S of crossed failures with μ > 0). Label
L1 dominates L2 at a site when every extension E costs L1 no more:

    cost1 + μ(F(E) \\ S1) ≤ cost2 + μ(F(E) \\ S2) for every E
    ⇐ lat1 ≤ lat2 and cost1 + μ(S2 \\ S1) ≤ cost2

(the worst E crosses every failure L2 has paid for and L1 has not). All costs are ≥ 0, so
a walk is never cheaper than the path left after cutting out its cycles: the cheapest
walk, cycles cut, is the cheapest simple path (elementarity for free).

If no commodity has a path of negative reduced cost, the LP relaxation over the candidate
sets equals the LP relaxation over all paths. Caveat: the model's unit bounds (the big-M of
``links_lit``) are computed from the candidate set; the LP over all paths is meant at
those bounds.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import pyomo.core as pyo

from model.families import STRENGTHENING
from model.highs_direct import Compiled, DirectHighs, compile_model
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan, Path
from model.paths import EPS_MS

log = logging.getLogger(__name__)
MAX_LABELS = 200_000
INTEGER_TOL = 1e-6


@dataclass(frozen=True)
class PricingReport:
    """``complete``: True proven, False an improving path exists, None not decided.
    ``new_paths``: commodity index → the cheapest improving path (not serialised)."""

    complete: bool | None
    exact_commodities: int
    path_commodities: int
    priced: int
    improving: int
    lp_bound: float | None
    most_negative_reduced_cost: float | None
    note: str
    new_paths: dict[int, Path] = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("new_paths")
        return out


@dataclass(frozen=True)
class LPSolution:
    """An LP relaxation's optimum: objective and row duals (None when not solved).
    ``compiled``: the model the LP relaxes, compiled for HiGHS (a MIP of the same model
    can reuse it, see :meth:`~model.highs_direct.Compiled.variant`)."""

    objective: float | None
    duals: dict[Any, float] | None
    model: pyo.ConcreteModel
    termination: str
    compiled: Compiled | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Cheapest:
    """The cheapest path of a pricing search: its cost (penalties included), routes and
    sites in order, and the penalised failures it crosses."""

    cost: float
    routes: tuple[str, ...]
    nodes: tuple[str, ...]
    crossed: frozenset[str]


def solve_lp(
    m: pyo.ConcreteModel,
    ds: Dataset,
    fix_design: bool = False,
    compiled: Compiled | None = None,
) -> LPSolution:
    """The LP relaxation of ``m`` (integers relaxed, or fixed at their current values when
    ``fix_design``), without the single-site cuts, solved with duals. ``m`` is left as it
    was: the LP is a variant of its compiled form (``compiled``, when the caller has it),
    not a copy of the model.

    The single-site cuts hold the capacity on every route at a site, also on routes no
    candidate path uses (their units are not in the model). The LP is degenerate there: a
    dual may price the demand on a cut row instead of the demand row (HiGHS 1.16 does),
    which no path's reduced cost sees, and the units a new path needs would price below
    zero: no certificate. Priced without them (they only strengthen the LP)."""
    base = compile_model(m) if compiled is None else compiled
    lp = base.variant(relax=True, fix_integers=fix_design, drop=STRENGTHENING)
    highs = DirectHighs()
    res = highs.solve(
        m,
        time_limit=ds.settings.solver.time_limit_s,
        rel_gap=None,
        threads=ds.settings.solver.threads,
        seed=ds.settings.solver.seed,
        want_duals=True,
        compiled=lp,
        load=False,
    )
    if not res.optimal:
        return LPSolution(None, None, m, res.termination, base)
    if highs.duals is None:  # HiGHS gave no dual vector
        log.warning("LP relaxation: no duals; the path set is not priced")
        return LPSolution(None, None, m, "dualsUnavailable", base)
    return LPSolution(res.objective, highs.duals, m, res.termination, base)


def _arcs(
    ds: Dataset, ix: ModelIndex, plan: NetworkPlan, pi: Mapping[tuple[str, str], float]
) -> dict[str, list[tuple[str, str, float, float]]]:
    """tail → [(head, route, flow cost + |π| per Gbps, route latency µs)], sorted."""
    routes = ds.routes
    shared = ds.settings.network.capacity_sharing == "shared"
    directed = routes["directed"].to_dict() if "directed" in routes else {}
    arcs: dict[str, list[tuple[str, str, float, float]]] = {}
    for r in ix.routes:
        a, b = routes.at[r, "a"], routes.at[r, "b"]
        for tail, head, way in ((a, b, "ab"), (b, a, "ba")):
            if way == "ba" and directed.get(r):
                continue
            row = (r, "both" if shared else way)
            weight = float(routes.at[r, "flow_usd_per_gbps_year"]) + abs(pi.get(row, 0.0))
            arcs.setdefault(tail, []).append((head, r, weight, plan.route_latency_us[r]))
    return arcs


def price(lp: LPSolution, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> PricingReport:
    """Price every path-routed commodity at the duals of ``lp`` (see the module doc)."""
    coms = plan.commodities
    exact = sum(c.arc for c in coms)
    path_coms = [i for i, c in enumerate(coms) if not c.arc]
    base = {"exact_commodities": exact, "path_commodities": len(path_coms)}
    if not path_coms:
        return PricingReport(
            True,
            **base,
            priced=0,
            improving=0,
            lp_bound=lp.objective,
            most_negative_reduced_cost=None,
            note="every commodity is routed on arcs (all paths)",
        )
    if lp.duals is None:
        return PricingReport(
            None,
            **base,
            priced=0,
            improving=0,
            lp_bound=None,
            most_negative_reduced_cost=None,
            note=f"LP relaxation not solved ({lp.termination})",
        )
    duals, relaxed = lp.duals, lp.model
    cap = relaxed.component("links_capacity")
    pi = {k: duals.get(cap[k], 0.0) for k in cap} if cap is not None else {}
    arcs = _arcs(ds, ix, plan, pi)
    flow_rows = relaxed.traffic_flow
    prot = relaxed.component("resilience_protection")
    mu: dict[int, dict[str, float]] = {}
    scale = max(1.0, abs(lp.objective or 0.0))
    if prot is not None:
        for c, f in prot:
            value = abs(duals.get(prot[c, f], 0.0))
            if value > 1e-12 * scale:
                mu.setdefault(c, {})[f] = value
    route_fail = plan.failures_by_route()
    hop_us = ds.settings.network.hop_latency_us
    finder = plan.finder
    improving, worst, undecided = 0, 0.0, 0
    new_paths: dict[int, Path] = {}
    for c in path_coms:
        com = coms[c]
        sigma = abs(duals.get(flow_rows[c], 0.0))
        penalty = mu.get(c, {})
        gain = sigma + sum(penalty.values())  # σ_c + M_c
        if gain <= 1e-9 * scale:
            continue
        best = cheapest_path(arcs, com.src, com.dst, com.bound_ms, hop_us, penalty, route_fail)
        if best is None:
            undecided += 1
            continue
        rc = best.cost - gain
        if rc >= -1e-7 * scale:
            continue
        path = (
            finder._path(best.routes, best.nodes)
            if finder is not None
            else Path(best.routes, best.nodes, 0.0)
        )
        if any(p.routes == path.routes for p in com.paths):
            continue  # numerically negative on a path already there
        improving += 1
        worst = min(worst, rc)
        new_paths[c] = path
    complete: bool | None = improving == 0 and undecided == 0
    if improving == 0 and undecided:
        complete = None
    if improving:
        note = (
            f"{improving} of {len(path_coms)} path-routed commodities have an improving "
            "path outside the candidate set"
        )
    else:
        note = "no path outside the candidate set improves the LP relaxation"
    if undecided:
        note += f"; {undecided} commodities hit the label limit (not decided)"
    log.info("pricing: %s", note)
    return PricingReport(
        complete,
        **base,
        priced=len(path_coms) - undecided,
        improving=improving,
        lp_bound=lp.objective,
        most_negative_reduced_cost=worst if improving else None,
        note=note,
        new_paths=new_paths,
    )


def cheapest_path(
    arcs: Mapping[str, list[tuple[str, str, float, float]]],
    src: str,
    dst: str,
    bound_ms: float | None,
    hop_us: float,
    penalty: Mapping[str, float] | None = None,
    route_fail: Mapping[str, list[str]] | None = None,
) -> Cheapest | None:
    """Cheapest src → dst path with latency ≤ bound, where each failure F the path crosses
    adds ``penalty[F]`` once (label setting, dominance of the module doc). None when the
    label limit is hit; cost ``inf`` (and no routes) when no path is inside the bound."""
    penalty = penalty or {}
    route_fail = route_fail or {}
    pen_of = {
        r: tuple(sorted(f for f in fs if penalty.get(f, 0.0) > 0.0)) for r, fs in route_fail.items()
    }
    limit_us = None if bound_ms is None else (bound_ms + EPS_MS) * 1000.0
    empty: frozenset[str] = frozenset()
    # labels[i] = (parent label, route into the node, node, crossed set)
    labels: list[tuple[int, str, str, frozenset[str]]] = [(-1, "", src, empty)]
    heap = [(0.0, 0.0, 0, 0)]  # cost, latency so far (without the current node's hop), hops, id
    frontier: dict[str, list[tuple[float, float, frozenset[str]]]] = {}
    kept = 0
    while heap:
        cost, lat, hops, lid = heapq.heappop(heap)
        _, _, node, crossed = labels[lid]
        if node == dst:
            return _simple(labels, lid, cost, arcs, penalty, pen_of)
        mine = frontier.setdefault(node, [])
        if any(lt <= lat and c + sum(penalty[f] for f in crossed - s) <= cost for c, lt, s in mine):
            continue
        mine.append((cost, lat, crossed))
        kept += 1
        if kept > MAX_LABELS:
            return None
        for head, r, w, route_us in arcs.get(node, []):
            nlat = lat + route_us + (hop_us if hops > 0 else 0.0)
            if limit_us is not None and nlat > limit_us:
                continue
            extra = [f for f in pen_of.get(r, ()) if f not in crossed]
            ncost = cost + w + sum(penalty[f] for f in extra)
            labels.append((lid, r, head, crossed.union(extra) if extra else crossed))
            heapq.heappush(heap, (ncost, nlat, hops + 1, len(labels) - 1))
    return Cheapest(float("inf"), (), (), empty)


def _simple(
    labels: list[tuple[int, str, str, frozenset[str]]],
    lid: int,
    cost: float,
    arcs: Mapping[str, list[tuple[str, str, float, float]]],
    penalty: Mapping[str, float],
    pen_of: Mapping[str, tuple[str, ...]],
) -> Cheapest:
    """The walk ending in label ``lid`` with its cycles cut out (never dearer, never
    slower: every cost is ≥ 0), its cost recomputed when a cycle was cut."""
    nodes, routes = [], []
    crossed = labels[lid][3]
    while lid >= 0:
        parent, r, node, _ = labels[lid]
        nodes.append(node)
        if r:
            routes.append(r)
        lid = parent
    nodes.reverse()
    routes.reverse()
    if len(set(nodes)) == len(nodes):
        return Cheapest(cost, tuple(routes), tuple(nodes), crossed)
    out_n, out_r = [nodes[0]], []
    for r, nxt in zip(routes, nodes[1:], strict=True):
        if nxt in out_n:
            j = out_n.index(nxt)
            del out_n[j + 1 :]
            del out_r[j:]
        else:
            out_n.append(nxt)
            out_r.append(r)
    weight = {(t, r): w for t, hs in arcs.items() for _, r, w, _ in hs}
    crossed = frozenset(f for r in out_r for f in pen_of.get(r, ()))
    cost = sum(weight[(t, r)] for t, r in zip(out_n, out_r, strict=False))
    cost += sum(penalty[f] for f in crossed)
    return Cheapest(cost, tuple(out_r), tuple(out_n), crossed)
