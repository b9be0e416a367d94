"""A first design for large cases: solve the model restricted to the most promising GPU
sites, then hand its integer decisions to HiGHS as a MIP start for the full model.

The full model is what is solved and reported: the start only gives HiGHS an incumbent
early, so a run stopped by its time limit returns at least the restricted design, and
the gap is measured against the full model's bound. Nothing is cut off.

Ranking (an estimate, used for nothing else): the annual cost of one GPU rack at a site
with its best cooling method for ``rack_kw`` (build per facility kW and cooling capex
annualised, energy and carbon at the site's prices) plus the site's open cost spread over
an even share of the racks (``gpu_racks / max_gpu_sites``). The cheapest ``keep`` sites
are kept, then the next cheapest until the ``max_gpu_sites`` largest kept sites can power
1.2 × ``gpu_racks``, and those outside any one zone 1.2 × the racks that must survive it;
then the next cheapest of the cheapest site's zone until the zone's kept sites can power
the racks that must survive the loss of another zone (:func:`zone_fill`).
If the restricted model has no design within its time, the shortlist doubles.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyomo.core as pyo

from model.build import build_model
from model.families.compute import survival_racks
from model.highs_direct import Compiled, compile_model
from model.index import build_index
from model.load import Dataset
from model.network import plan_network
from model.solver import HIGHS, DirectHighs, Outcome, solve

log = logging.getLogger(__name__)


def site_racks(ds: Dataset) -> dict[str, float]:
    """Racks each GPU-capable site can power at its best cooling method's PUE (and
    ``max_racks`` when set)."""
    rack_kw = ds.settings.demand.rack_kw
    fit = ds.cooling[ds.cooling["max_rack_kw"] >= rack_kw]
    pue = fit["pue"].min() if not fit.empty else math.inf
    return {
        site.Index: capacity(site, rack_kw, pue + site.pue_offset)
        for site in ds.sites.itertuples()
        if site.gpu
    }


def rack_cost(ds: Dataset) -> dict[str, float]:
    """Estimated annual USD of one GPU rack at each GPU-capable site (see module doc)."""
    s = ds.settings
    dem, eco = s.demand, s.economics
    fit = ds.cooling[ds.cooling["max_rack_kw"] >= dem.rack_kw]
    share = dem.gpu_racks / max(1, dem.max_gpu_sites or 1)
    site_cap = site_racks(ds)
    out = {}
    for site in ds.sites.itertuples():
        if not site.gpu or fit.empty:
            continue
        best = math.inf
        for k in fit.itertuples():
            pue = k.pue + site.pue_offset
            facility_kw = dem.rack_kw * pue
            cost = (
                eco.crf("site") * site.build_usd_per_kw * facility_kw
                + eco.crf("cooling") * k.capex_usd_per_kw * dem.rack_kw
                + facility_kw * 8.76 * site.energy_usd_per_mwh
                + facility_kw * 8.76 * site.carbon_kg_per_mwh / 1000 * eco.carbon_usd_per_t
                + eco.power_weight_usd_per_mw_year * facility_kw / 1000
            )
            best = min(best, cost)
        racks = site_cap[site.Index]
        if racks < max(1, dem.min_racks_per_gpu_site):
            continue  # cannot host a GPU site at all
        opening = 0.0 if site.existing else eco.crf("site") * site.open_capex_usd
        out[site.Index] = best + opening / min(share, racks)
    return out


def capacity(site: object, rack_kw: float, pue: float) -> float:
    """Racks the site can power at ``pue`` (and ``max_racks`` when set)."""
    racks = math.inf
    mw, cap = getattr(site, "max_power_mw", None), getattr(site, "max_racks", None)
    if mw is not None and not pd.isna(mw):
        racks = mw * 1000 / (rack_kw * pue)
    if cap is not None and not pd.isna(cap) and cap != "":
        racks = min(racks, float(cap))
    return racks


def shortlist(ds: Dataset, keep: int) -> list[str]:
    """The GPU sites the restricted model keeps (see module doc), sorted."""
    dem = ds.settings.demand
    cost = rack_cost(ds)
    ranked = sorted(cost, key=lambda x: (cost[x], x))
    racks = site_racks(ds)
    chosen, zones = [], set()

    def top(sites: list[str]) -> float:  # racks the max_gpu_sites largest can power
        n = dem.max_gpu_sites or len(sites)
        return sum(sorted((racks[x] for x in sites), reverse=True)[:n])

    def enough() -> bool:  # with headroom: all racks, and the survivors of any one zone
        share = ds.settings.resilience.zone_survival_share
        if top(chosen) < 1.2 * dem.gpu_racks:
            return False
        return share <= 0 or all(
            top([x for x in chosen if ds.sites.at[x, "zone"] != z]) >= 1.2 * share * dem.gpu_racks
            for z in zones
        )

    for x in ranked:
        if len(chosen) < keep or not enough():
            chosen.append(x)
            zones.add(ds.sites.at[x, "zone"])
    return sorted(chosen + zone_fill(ds, chosen, ranked, racks))


def zone_fill(
    ds: Dataset, chosen: list[str], ranked: list[str], racks: dict[str, float]
) -> list[str]:
    """The next cheapest sites of the cheapest site's zone (``chosen`` is in rank order)
    until the zone's kept sites other than the cheapest can power the racks zone survival
    keeps outside any one zone (:func:`~model.families.compute.survival_racks`). The
    cheapest designs put their GPU sites in few zones, where the scale-across traffic needs
    the fewest relay sites; with two zones each holds at least that many racks. The rank
    is an estimate without links or relays, so the shortlist holds a way to fill that zone
    without its cheapest site too: at 200 generated sites the best design known puts its
    z06 racks at the 1st and the 18th cheapest site, the 16th being no good partner. Only
    that one zone: filling every kept zone made the shortlist of 1,000 generated nodes 20
    sites instead of 12, and its restricted model found no design in its 41 s."""
    need = survival_racks(ds)
    if not chosen or need < 1:
        return []
    zone = ds.sites["zone"]
    first = zone[chosen[0]]  # chosen is in rank order
    have = sum(racks[x] for x in chosen[1:] if zone[x] == first)
    added = []
    for x in ranked:
        if have >= need:
            break
        if zone[x] == first and x not in chosen:
            added.append(x)
            have += racks[x]
    return added


def restricted(ds: Dataset, keep: int) -> Dataset | None:
    """The data set with GPU hosting allowed only on the shortlist; None when that would
    not restrict anything."""
    gpu = ds.sites.index[ds.sites["gpu"].astype(bool)]
    if len(gpu) <= keep:
        return None
    short = set(shortlist(ds, keep))
    if len(short) >= len(gpu):
        return None
    sites = ds.sites.copy()
    sites["gpu"] = [bool(g) and x in short for x, g in zip(sites.index, sites["gpu"], strict=True)]
    return replace(ds, sites=sites)


INTEGER_PARTS = ("open", "cool", "gpu", "racks", "units", "lit", "routers")


def transfer(
    small: pyo.ConcreteModel,
    full: pyo.ConcreteModel,
    settings: Any,
    compiled: Compiled | None = None,
) -> Outcome | None:
    """Give the full model the restricted design as its current values: the integer
    decisions by site and route key (every other integer 0), the continuous ones from an
    LP of the full model with those integers fixed (HiGHS discards a start that is not
    feasible as given). The LP's outcome: the design's cost in the full model. None, with
    the values cleared, when that LP finds none. ``compiled``: the full model compiled
    for HiGHS; the LP is a variant of it (the MIP that follows reuses it, so the full
    model is compiled once, not twice)."""

    def restricted_value(v: Any) -> float:
        part = v.parent_component().local_name
        src = getattr(small, part, None) if part in INTEGER_PARTS else None
        idx = v.index()
        x = src[idx].value if src is not None and idx in src else 0
        return float(round(x or 0))

    if settings.name == HIGHS:
        base = compile_model(full) if compiled is None else compiled
        values = np.array(
            [restricted_value(v) if base.integer[j] else 0.0 for j, v in enumerate(base.columns)]
        )
        lp = base.variant(relax=True, fix_integers=True, values=values)
        outcome = solve(full, settings, solver=DirectHighs(), compiled=lp)
    else:
        fixed = []
        for v in full.component_data_objects(pyo.Var, descend_into=True):
            if v.fixed or not (v.is_integer() or v.is_binary()):
                continue
            v.fix(restricted_value(v))
            fixed.append(v)
        try:
            outcome = solve(full, settings)
        finally:
            for v in fixed:
                v.unfix()
    if not outcome.has_design:
        log.warning("the first design does not complete in the full model (%s)", outcome.status)
        for v in full.component_data_objects(pyo.Var, descend_into=True):
            if not v.fixed:
                v.set_value(None)
        return None
    log.info("first design completed in the full model: objective %s", outcome.objective)
    return outcome


@dataclass
class FirstDesign:
    """The restricted model's answer: which GPU sites it kept, its model (None once its
    design is carried into the full model) and outcome."""

    gpu_sites: list[str]
    model: pyo.ConcreteModel | None
    outcome: Outcome
    tried: list[int] = field(default_factory=list)  # shortlist sizes, in order

    def as_dict(self) -> dict:
        return {
            "gpu_sites": self.gpu_sites,
            "shortlists_tried": self.tried,
            "status": self.outcome.status,
            "objective": self.outcome.objective,
            "solve_s": round(self.outcome.solve_s, 3),
        }


def first_design(ds: Dataset, keep: int, time_limit_s: float) -> FirstDesign | None:
    """Solve restricted models, doubling the shortlist while one is proved infeasible,
    until one has a design, the shortlist no longer restricts, or ``time_limit_s`` (network
    plans and builds included) is spent (None). A restricted model that stops without a
    design and without a proof (its time is up) ends the search: None."""
    deadline = time.perf_counter() + time_limit_s
    tried: list[int] = []
    while keep > 0:
        small = restricted(ds, keep)
        if small is None:
            return None
        tried.append(keep)
        plan = plan_network(small)
        model, _ = build_model(small, plan, build_index(small, plan))
        left = deadline - time.perf_counter()
        if left < 1.0:
            log.info("first design: its %.0f s were spent building its model", time_limit_s)
            return None
        settings = small.settings.solver.model_copy(update={"time_limit_s": left})
        outcome = solve(model, settings)
        gpu = sorted(small.sites.index[small.sites["gpu"].astype(bool)])
        log.info(
            "first design over %d GPU sites: %s, objective %s",
            len(gpu),
            outcome.status,
            outcome.objective,
        )
        if outcome.has_design:
            return FirstDesign(gpu, model, outcome, tried)
        if outcome.status != "infeasible":
            # out of time (or HiGHS failed): a doubled shortlist only takes longer, and the
            # budget is shared; the full model starts without a first design
            log.info("first design: none within its %.0f s (%s)", time_limit_s, outcome.termination)
            return None
        keep *= 2
    return None
