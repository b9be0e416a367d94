"""build_model: the Pyomo model as a table of contents, one ``add_*`` per family."""

from __future__ import annotations

import logging

import pyomo.core as pyo
from pyomo.common.gc_manager import PauseGC

from model.deadline import check
from model.families.compute import add_compute, add_sites, add_storage, add_zone_survival
from model.families.links import (
    add_capacity,
    add_connectivity,
    add_cut_strengthening,
    add_links,
)
from model.families.macsec import add_macsec
from model.families.objective import add_objective
from model.families.power import add_cooling, add_power
from model.families.relays import add_relay_rows
from model.families.replication import add_replication
from model.families.resilience import add_protection
from model.families.routers import add_routers
from model.families.traffic import add_traffic, add_twin_rows
from model.families.users import add_users
from model.index import ModelIndex, build_index
from model.load import Dataset
from model.network import NetworkPlan

log = logging.getLogger(__name__)


def build_model(
    ds: Dataset,
    plan: NetworkPlan,
    ix: ModelIndex | None = None,
    into: pyo.Block | None = None,
) -> tuple[pyo.ConcreteModel, ModelIndex]:
    """The MILP of docs/contract.md §2–5 for one data set and scenario; ``into``: add it
    to this block (one period of contract §8, model/periods.py) instead of a new model."""
    if ds.periods:  # the horizon is planned by model/periods.py, one period per block
        raise ValueError(f"data set {ds.name} has periods.csv: build it with model.periods")
    ix = ix or build_index(ds, plan)
    m = into if into is not None else pyo.ConcreteModel(name=f"scaleacross:{ds.name}:{ds.scenario}")
    # The build makes hundreds of thousands of small objects and no garbage cycles worth
    # collecting: without the collector's passes it takes half the time (200 generated
    # sites: 5.5 → 2.6 s), as Pyomo's own writers do.
    with PauseGC():
        _add_families(m, ds, ix, plan)
    return m, ix


def _add_families(m: pyo.Block, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    add_sites(m, ds, ix)  # open_s
    add_cooling(m, ds, ix)  # cool_{s,k}, one method per open site
    add_compute(m, ds, ix)  # racks, GPU sites
    add_zone_survival(m, ds, ix)  # racks outside every zone
    add_storage(m, ds, ix)  # PB per site, copies in distinct zones
    add_users(m, ds, ix, plan)  # inference racks serving customer regions
    add_links(m, ds, ix)  # units per route and type, lit routes
    add_routers(m, ds, ix)  # ports, capacity, minimum, deep buffer
    add_macsec(m, ds, ix)  # ports of MACsec routes on MACsec routers
    add_power(m, ds, ix)  # IT load, PUE, facility caps, open ends of lit routes
    add_replication(m, ds, ix, plan)  # q between storage copies of different zones
    check("build")  # the run's time limit (model/deadline.py)
    add_traffic(m, ds, ix, plan)  # storage split, sync pairs, path flows
    add_twin_rows(m, ds, ix, plan)  # the two directions of a pair carry mirrored flows
    check("build")
    add_capacity(m, ds, ix)  # flow per route and direction ≤ capacity
    check("build")
    add_cut_strengthening(m, ds, ix, plan)  # valid site cuts: tighter LP, same optimum
    add_connectivity(m, ds, ix, plan)  # demands between parts need a tree of units
    check("build")
    add_protection(m, ds, ix, plan)  # survive any single SRLG failure
    add_relay_rows(m, ds, ix, plan)  # a scale-across pair pays for its cheapest relays
    check("build")
    add_objective(m, ds, ix)  # annualised cost + power weight


def model_size(m: pyo.ConcreteModel) -> dict[str, int]:
    """Active variables (all, integer incl. binary) and constraints."""
    variables = [v for v in m.component_data_objects(pyo.Var, active=True) if not v.fixed]
    return {
        "variables": len(variables),
        "integer_variables": sum(1 for v in variables if v.is_integer() or v.is_binary()),
        "constraints": sum(1 for _ in m.component_data_objects(pyo.Constraint, active=True)),
    }
