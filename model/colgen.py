"""Column generation over paths: what the design is optimal over.

Path-routed commodities (a latency bound, or protection) use a candidate path set
(:mod:`model.network`). Two loops widen it with the paths pricing finds
(:mod:`model.pricing`):

1. **Root** (before the MIP): solve the LP relaxation, price every path-routed commodity,
   add each commodity's cheapest path of negative reduced cost, rebuild the model,
   repeat. When no path improves (``lp_complete``), the LP value is the LP relaxation over
   *all* paths: a lower bound z_LP* on every design, whatever its paths
   (``all_path_lp_bound``). At most ``MAX_ROOT_ROUNDS`` rounds, within a fifth of the time
   limit; stopped early, the set is not proven and no all-path bound is claimed.
2. **Design** (after the MIP): fix the integer decisions at the incumbent, solve that LP,
   price; paths that route this design more cheaply are added and the MIP is solved again
   from the incumbent (a MIP start). At most ``MAX_DESIGN_ROUNDS`` rounds, within the
   time limit. This lowers the cost; it proves nothing about other designs.

3. **Enumeration** (after the root loop, :mod:`model.enumerate_paths`): when every
   path-routed commodity has at most ``[network] enumerate_paths_up_to`` simple paths inside
   its bound, each gets all of them (``paths_complete``); the model over the sets is then the
   model over all paths. Run after the root loop, so the LP bound it proved stays the LP
   over all paths (more columns of an LP-complete set do not lower it).

The claim (``optimal_over``): "all paths" when every commodity is routed exactly (arc
flows) and the MIP is optimal, or the sets are complete by enumeration and the MIP is
optimal (within ``mip_gap``: the MIP bound is then valid for every path), or when the set
is LP-complete and the design's objective
z ≤ z_LP* · (1 + mip_gap) (+ 1e-6 absolute): the design is then within the MIP gap of a
bound valid for every path. Otherwise "candidate paths", with the gap (z − z_LP*) / z
against the all-path bound when there is one (``all_path_gap``; with complete sets, the
MIP's own gap when smaller).

The model is rebuilt with the enlarged sets rather than changed in place: the new paths
bring capacity, survival and cap rows and new unit bounds, and a rebuild is cheap next to
a solve (Japan: 0.3 s against an LP of about 1 s).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pyomo.core as pyo

from model.build import build_model
from model.config import SolverSettings
from model.enumerate_paths import complete_paths
from model.highs_direct import Compiled, compile_model
from model.index import ModelIndex, build_index
from model.load import Dataset
from model.network import NetworkPlan, Path
from model.other_solvers import HIGHS
from model.pricing import PricingReport, price, solve_lp
from model.screen import transfer
from model.solver import DirectHighs, Outcome, relative_gap, solve

log = logging.getLogger(__name__)
MAX_ROOT_ROUNDS = 20
MAX_DESIGN_ROUNDS = 3
ROOT_TIME_SHARE = 0.2  # of the time limit, for the root loop
#: Above this many path-routed commodities the root loop does not run: one LP of the full
#: relaxation took 78-120 s at 200 generated sites (46,240 commodities), the loop stopped at
#: its time share unproven, and the MIP had that much less time (bench/wall.py).
ROOT_MAX_PATH_COMMODITIES = 20_000


@dataclass
class PathSet:
    """The current candidate sets: network plan, index and the model built on them."""

    plan: NetworkPlan
    ix: ModelIndex
    model: pyo.ConcreteModel
    #: ``model`` as compiled for HiGHS by the last LP solved on it (None: not compiled);
    #: the MIP reuses it (model/highs_direct.py, ``Compiled``)
    compiled: Compiled | None = field(default=None, repr=False)


@dataclass
class Routing:
    """What the run proved about its paths; ``as_dict`` is run.json's ``routing``."""

    exact_commodities: int = 0
    path_commodities: int = 0
    priced: int = 0
    lp_complete: bool | None = None
    candidate_lp_bound: float | None = None  # LP over the initial candidate sets
    all_path_lp_bound: float | None = None  # LP over all paths (when lp_complete)
    paths_added: int = 0
    root_rounds: int = 0
    root_paths_added: int = 0
    design_rounds: int = 0
    design_paths_added: int = 0
    improving: int = 0  # commodities with an improving path at the last root pricing
    most_negative_reduced_cost: float | None = None
    optimal_over: str = "candidate paths"
    all_path_gap: float | None = None
    max_root_rounds: int = MAX_ROOT_ROUNDS
    paths_complete: bool | None = None  # every simple path inside the bounds (enumerated)
    enumerated_paths_added: int = 0
    max_design_rounds: int = MAX_DESIGN_ROUNDS
    note: str = ""
    notes: list[str] = field(default_factory=list, repr=False)

    def as_dict(self) -> dict:
        out = {k: v for k, v in vars(self).items() if k != "notes"}
        out["note"] = "; ".join(self.notes) if self.notes else self.note
        return out


def with_paths(plan: NetworkPlan, new: dict[int, Path]) -> NetworkPlan:
    """The plan with each commodity's new path appended to its candidate set."""
    coms = list(plan.commodities)
    for c in sorted(new):
        coms[c] = replace(coms[c], paths=(*coms[c].paths, new[c]))
    return replace(plan, commodities=coms)


def _rebuild(ds: Dataset, plan: NetworkPlan) -> PathSet:
    ix = build_index(ds, plan)
    model, ix = build_model(ds, plan, ix)
    return PathSet(plan, ix, model)


def root_columns(ds: Dataset, paths: PathSet) -> tuple[PathSet, Routing]:
    """Price and add paths at the LP relaxation until none improves (module doc, 1)."""
    routing = Routing()
    budget = ROOT_TIME_SHARE * ds.settings.solver.time_limit_s
    start = time.perf_counter()
    report: PricingReport | None = None
    if all(c.arc for c in paths.plan.commodities):  # nothing to price: no LP needed
        routing.lp_complete = True
        routing.exact_commodities = len(paths.plan.commodities)
        routing.note = "every commodity is routed on arcs (all paths)"
        return paths, routing
    n_path = sum(not c.arc for c in paths.plan.commodities)
    if n_path > ROOT_MAX_PATH_COMMODITIES:
        routing.exact_commodities = len(paths.plan.commodities) - n_path
        routing.path_commodities = n_path
        routing.notes.insert(
            0,
            f"not priced: {n_path:,} path-routed commodities, more than "
            f"{ROOT_MAX_PATH_COMMODITIES:,} (one LP of the relaxation would take minutes of "
            "the time limit); the design is optimal over the candidate paths only",
        )
        log.info("root column generation skipped: %d path-routed commodities", n_path)
        return paths, routing
    while True:
        lp = solve_lp(paths.model, ds)
        paths.compiled = lp.compiled
        report = price(lp, ds, paths.ix, paths.plan)
        routing.root_rounds += 1
        if routing.candidate_lp_bound is None:
            routing.candidate_lp_bound = report.lp_bound
        if not report.new_paths:
            break
        paths = _rebuild(ds, with_paths(paths.plan, report.new_paths))
        routing.root_paths_added += len(report.new_paths)
        spent = time.perf_counter() - start
        if routing.root_rounds >= MAX_ROOT_ROUNDS or spent > budget:
            routing.notes.append(
                f"root column generation stopped after {routing.root_rounds} rounds "
                f"({spent:.1f} s; caps {MAX_ROOT_ROUNDS} rounds, {budget:.0f} s): the last "
                "paths found were added but the set is not proven complete"
            )
            report = replace(report, complete=False)
            break
    routing.exact_commodities = report.exact_commodities
    routing.path_commodities = report.path_commodities
    routing.priced = report.priced
    routing.improving = report.improving
    routing.most_negative_reduced_cost = report.most_negative_reduced_cost
    routing.lp_complete = report.complete
    if report.complete and report.path_commodities:
        routing.all_path_lp_bound = report.lp_bound
    routing.paths_added = routing.root_paths_added
    routing.notes.insert(0, report.note)
    paths = _enumerate(ds, paths, routing)
    log.info(
        "root column generation: %d round(s), %d path(s) added, LP %s → %s (%s)",
        routing.root_rounds,
        routing.root_paths_added,
        routing.candidate_lp_bound,
        report.lp_bound,
        "complete over all paths" if report.complete else "not proven complete",
    )
    return paths, routing


def _enumerate(ds: Dataset, paths: PathSet, routing: Routing) -> PathSet:
    """Complete the sets by enumeration when they are small (module doc, 3)."""
    enum = complete_paths(ds, paths.plan)
    routing.paths_complete = enum.complete
    if enum.complete is not None:
        routing.notes.append(enum.note)
    if not enum.complete:
        return paths
    routing.enumerated_paths_added = enum.paths_added
    if enum.paths_added:
        return _rebuild(ds, enum.plan)
    return PathSet(enum.plan, paths.ix, paths.model, paths.compiled)


def design_columns(
    ds: Dataset,
    paths: PathSet,
    outcome: Outcome,
    routing: Routing,
    settings: SolverSettings,
    spent_s: Callable[[], float],
    rebuild_s: float = 0.0,
) -> tuple[PathSet, Outcome]:
    """Price with the design fixed; add improving paths and re-solve the MIP from the
    incumbent (module doc, 2). ``spent_s`` gives the seconds used of the time limit;
    ``rebuild_s``, what building the model took: a round starts, and its paths are added,
    only while that much and a second of the limit are left."""
    if not routing.path_commodities or not outcome.has_design:
        return paths, outcome
    for _ in range(MAX_DESIGN_ROUNDS):
        left = settings.time_limit_s - spent_s()
        if left < 1.0 + 2 * rebuild_s:
            routing.notes.append("no time left to price the design")
            break
        lp = solve_lp(paths.model, ds, fix_design=True, compiled=paths.compiled)
        paths.compiled = lp.compiled
        report = price(lp, ds, paths.ix, paths.plan)
        routing.design_rounds += 1
        if not report.new_paths:
            break
        if settings.time_limit_s - spent_s() < 1.0 + rebuild_s:
            routing.notes.append("no time left to add the paths that price the design")
            break
        bigger = _rebuild(ds, with_paths(paths.plan, report.new_paths))
        if settings.name == HIGHS:  # compiled once for the transfer's LP and the MIP
            bigger.compiled = compile_model(bigger.model)
        if not transfer(paths.model, bigger.model, settings, bigger.compiled):
            routing.notes.append("the design did not carry over to the enlarged path set")
            break
        solver = DirectHighs()
        solver.warm_start = True
        left = max(1.0, settings.time_limit_s - spent_s())
        again = solve(
            bigger.model,
            settings.model_copy(update={"time_limit_s": left}),
            solver=solver,
            compiled=bigger.compiled,
        )
        if not again.has_design or again.objective is None:
            routing.notes.append(f"re-solve on the enlarged path set failed ({again.status})")
            break
        if outcome.objective is not None and again.objective > outcome.objective:
            # HiGHS did not keep the start (a limit stopped it first): keep the design we had
            routing.notes.append("the re-solve on the enlarged path set ended worse; not used")
            break
        n = len(report.new_paths)
        routing.design_paths_added += n
        routing.paths_added += n
        log.info(
            "design pricing: %d path(s) added, objective %s → %s",
            n,
            outcome.objective,
            again.objective,
        )
        outcome = replace(again, solve_s=outcome.solve_s + again.solve_s)
        paths = bigger
    return paths, outcome


def claim(routing: Routing, outcome: Outcome, mip_gap: float) -> Routing:
    """Set ``optimal_over`` and ``all_path_gap`` (module doc)."""
    z = outcome.objective
    if routing.path_commodities == 0:
        routing.optimal_over = "all paths" if outcome.status == "optimal" else "candidate paths"
        routing.all_path_gap = outcome.mip_gap
        return routing
    bound = routing.all_path_lp_bound
    complete = bool(routing.paths_complete) and z is not None
    gaps: list[float | None] = []
    if complete and outcome.mip_gap is not None:
        gaps.append(outcome.mip_gap)  # the MIP bound is over all paths
    if z is not None and bound is not None:
        gaps.append(relative_gap(z, bound))
    gaps = [g for g in gaps if g is not None]
    routing.all_path_gap = min(gaps) if gaps else None
    proven = (complete and outcome.status == "optimal") or (
        z is not None and bound is not None and z <= bound * (1.0 + mip_gap) + 1e-6
    )
    routing.optimal_over = "all paths" if proven else "candidate paths"
    return routing
