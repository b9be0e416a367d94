"""Is the candidate path set complete? A pricing check at the LP relaxation's optimum.

Commodities routed on arc flows use every path by construction. For a commodity routed on
a candidate path set (it has a latency bound), a path outside the set could only improve
the LP relaxation if its reduced cost is negative:

    Σ_{hops (r, dir)} (flow_usd_per_gbps_year_r + |π_{r,dir}|) − |σ_c| < 0

with π the duals of the capacity rows and σ_c the dual of the commodity's demand row, in
their economic sign (|π| is what a Gbps of capacity is worth, σ_c what a Gbps of demand
costs; the solver's sign depends on how each row is oriented). The cheapest such path
inside the latency bound is a resource-constrained shortest path, found exactly by label
setting. If no commodity has one, the LP relaxation over the
candidate set equals the LP relaxation over all paths, so the MIP bound is valid for
unrestricted routing. Protected commodities are not priced (their survival rows depend on
the path set itself); the report says so.
"""

from __future__ import annotations

import heapq
import logging
from dataclasses import asdict, dataclass

import pyomo.environ as pyo
from pyomo.contrib.solver.common.factory import SolverFactory
from pyomo.contrib.solver.common.results import TerminationCondition

from model.index import ModelIndex
from model.load import Dataset
from model.network import EPS_MS, NetworkPlan

log = logging.getLogger(__name__)
MAX_LABELS = 200_000


@dataclass(frozen=True)
class PricingReport:
    """``complete``: True proven, False an improving path exists, None not decided."""

    complete: bool | None
    exact_commodities: int
    path_commodities: int
    priced: int
    improving: int
    lp_bound: float | None
    most_negative_reduced_cost: float | None
    note: str

    def as_dict(self) -> dict:
        return asdict(self)


def price_paths(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> PricingReport:
    coms = plan.commodities
    exact = sum(c.arc for c in coms)
    path_coms = [i for i, c in enumerate(coms) if not c.arc]
    priceable = [i for i in path_coms if not coms[i].protected]
    base = {"exact_commodities": exact, "path_commodities": len(path_coms)}
    if not path_coms:
        return PricingReport(
            True,
            **base,
            priced=0,
            improving=0,
            lp_bound=None,
            most_negative_reduced_cost=None,
            note="every commodity is routed on arcs (all paths)",
        )
    relaxed = m.clone()
    pyo.TransformationFactory("core.relax_integer_vars").apply_to(relaxed)
    res = SolverFactory("highs").solve(
        relaxed,
        load_solutions=False,
        raise_exception_on_nonoptimal_result=False,
        time_limit=ds.settings.solver.time_limit_s,
        threads=ds.settings.solver.threads,
    )
    if res.termination_condition != TerminationCondition.convergenceCriteriaSatisfied:
        return PricingReport(
            None,
            **base,
            priced=0,
            improving=0,
            lp_bound=None,
            most_negative_reduced_cost=None,
            note=f"LP relaxation not solved ({res.termination_condition.name})",
        )
    duals = res.solution_loader.get_duals()
    cap = relaxed.component("links_capacity")
    pi = {k: duals.get(cap[k], 0.0) for k in cap} if cap is not None else {}
    flow_rows = relaxed.traffic_flow
    shared = ds.settings.network.capacity_sharing == "shared"
    routes = ds.routes
    hop_us = ds.settings.network.hop_latency_us
    arcs: dict[str, list[tuple[str, str, float, float]]] = {}
    directed = routes["directed"].to_dict() if "directed" in routes else {}
    for r in ix.routes:
        a, b = routes.at[r, "a"], routes.at[r, "b"]
        for tail, head, way in ((a, b, "ab"), (b, a, "ba")):
            if way == "ba" and directed.get(r):
                continue
            row = (r, "both" if shared else way)
            weight = routes.at[r, "flow_usd_per_gbps_year"] + abs(pi.get(row, 0.0))
            arcs.setdefault(tail, []).append((head, r, weight, plan.route_latency_us[r]))
    scale = max(1.0, abs(res.incumbent_objective or 0.0))
    improving, worst, undecided = 0, 0.0, 0
    for c in priceable:
        com = coms[c]
        sigma = abs(duals.get(flow_rows[c], 0.0))
        if sigma <= 1e-9 * scale:
            continue
        best = _cheapest_within(arcs, com.src, com.dst, com.bound_ms, hop_us)
        if best is None:
            undecided += 1
            continue
        rc = best - sigma
        if rc < -1e-7 * scale:
            improving += 1
            worst = min(worst, rc)
    unpriced = len(path_coms) - len(priceable)
    complete: bool | None = improving == 0 and undecided == 0 and unpriced == 0
    if improving == 0 and (undecided or unpriced):
        complete = None
    if improving:
        note = (
            f"{improving} of {len(priceable)} priced commodities have an improving path "
            "outside the candidate set"
        )
    elif priceable:
        note = "no path outside the candidate set improves the LP relaxation"
    else:
        note = "no commodity could be priced"
    if unpriced:
        note += f"; {unpriced} protected commodities not priced (not proven complete)"
    if undecided:
        note += f"; {undecided} commodities hit the label limit"
    log.info("pricing: %s", note)
    return PricingReport(
        complete,
        **base,
        priced=len(priceable),
        improving=improving,
        lp_bound=res.incumbent_objective,
        most_negative_reduced_cost=worst if improving else None,
        note=note,
    )


def _cheapest_within(
    arcs: dict, src: str, dst: str, bound_ms: float | None, hop_us: float
) -> float | None:
    """Cheapest src → dst path cost with latency ≤ bound (label setting with dominance);
    None when the label limit is hit."""
    limit_us = None if bound_ms is None else (bound_ms + EPS_MS) * 1000.0
    heap = [(0.0, 0.0, 0, src)]  # cost, latency so far (without hop of the current node)
    frontier: dict[str, list[tuple[float, float]]] = {}
    labels = 0
    while heap:
        cost, lat, hops, node = heapq.heappop(heap)
        if node == dst:
            return cost
        kept = frontier.setdefault(node, [])
        if any(c <= cost and lt <= lat for c, lt in kept):
            continue
        kept.append((cost, lat))
        labels += 1
        if labels > MAX_LABELS:
            return None
        for head, _r, w, route_us in arcs.get(node, []):
            nlat = lat + route_us + (hop_us if hops > 0 else 0.0)
            if limit_us is not None and nlat > limit_us:
                continue
            heapq.heappush(heap, (cost + w, nlat, hops + 1, head))
    return float("inf")
