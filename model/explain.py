"""Infeasibility explained: which requirements conflict, and by how much they must move.

When HiGHS proves the model infeasible, the same model is made elastic: every requirement
row (rack demand, caps, zone survival, storage copies, power caps, latency-blocked pairs,
bandwidth, protection, unit limits, deep-buffer ports) gets a non-negative slack, and the
sum of slacks, each relative to its requirement's size, is minimised. The slacks left at
the optimum are the smallest set of moves found that makes the design possible; each is
reported in data terms (settings key, site, pair, route, commodity, figure).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyomo.environ as pyo

from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan
from model.solver import solve

log = logging.getLogger(__name__)
TOL = 1e-6
COLUMNS = ["requirement", "objects", "amount", "unit", "message"]


@dataclass(frozen=True)
class Row:
    requirement: str
    objects: str
    amount: float
    unit: str
    message: str


def _fmt(x: float) -> str:
    return f"{x:,.3f}".rstrip("0").rstrip(".")


def _messages(ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> dict[str, Callable]:
    """Family name → (index, amount) → Row (None: the move is the mirror of another)."""
    d, res = ds.settings.demand, ds.settings.resilience
    sites = ds.sites
    blocked = {(a, b): ms for a, b, ms in plan.sync_blocked}
    coms = plan.commodities

    def best(ms: float | None) -> str:
        return "no path at all" if ms is None else f"best path {ms:.3f} ms"

    def com_name(c: int) -> str:
        return coms[c].id

    def arc_name(src: str, dst: str) -> str:
        names = [c.id for c in coms if c.arc and c.src == src and c.dst == dst]
        return ", ".join(names) or f"traffic {src}>{dst}"

    return {
        "compute_total": lambda i, x: Row(
            "[demand] gpu_racks",
            "",
            x,
            "racks",
            f"{_fmt(x)} of {d.gpu_racks} GPU racks cannot be placed",
        ),
        "compute_min_racks": lambda s, x: Row(
            "[demand] min_racks_per_gpu_site",
            s,
            x,
            "racks",
            f"site {s}: min_racks_per_gpu_site {d.min_racks_per_gpu_site} would have to drop "
            f"by {_fmt(x)}",
        ),
        "compute_max_racks": lambda s, x: Row(
            "sites.csv max_racks / max_power_mw",
            s,
            x,
            "racks",
            f"site {s}: {_fmt(x)} racks beyond its cap of {ix.max_racks[s]} racks "
            f"(max_racks {sites.at[s, 'max_racks']}, max_power_mw "
            f"{sites.at[s, 'max_power_mw']})",
        ),
        "compute_max_sites": lambda i, x: Row(
            "[demand] max_gpu_sites",
            "",
            x,
            "sites",
            f"max_gpu_sites {d.max_gpu_sites} would have to rise by {_fmt(x)}",
        ),
        "compute_zone_survival": lambda z, x: Row(
            "[resilience] zone_survival_share",
            z,
            x,
            "racks",
            f"zone {z}: {_fmt(x)} more racks outside it needed for zone_survival_share "
            f"{res.zone_survival_share:g}",
        ),
        "storage_total": lambda i, x: Row(
            "[demand] storage_pb",
            "",
            x,
            "PB",
            f"{_fmt(x)} of {d.storage_pb * d.storage_copies:g} PB (storage_pb × "
            f"storage_copies) cannot be placed",
        ),
        "storage_zone_copy": lambda z, x: Row(
            "[demand] storage_copies",
            z,
            x,
            "PB",
            f"zone {z} would hold {_fmt(x)} PB more than one copy ({d.storage_pb:g} PB): "
            f"storage_copies {d.storage_copies} needs distinct zones",
        ),
        "power_site_cap": lambda s, x: Row(
            "sites.csv max_power_mw",
            s,
            x / 1000.0,
            "MW",
            f"site {s}: max_power_mw {sites.at[s, 'max_power_mw']:g} would have to rise by "
            f"{_fmt(x / 1000.0)} MW",
        ),
        "traffic_sync_blocked": lambda p, x: Row(
            "[demand] sync_latency_ms",
            f"{p[0]}-{p[1]}",
            x,
            "site pairs",
            f"GPU sites {p[0]} and {p[1]} would both host GPUs, but sync_latency_ms "
            f"{d.sync_latency_ms:g} ms is below their {best(blocked.get(tuple(p)))}",
        ),
        "traffic_storage_demand": lambda b, x: Row(
            "[demand] storage_latency_ms",
            b,
            x,
            "Gbps",
            f"GPU site {b}: {_fmt(x)} Gbps of storage bandwidth cannot be served from storage "
            f"within storage_latency_ms {d.storage_latency_ms} ms",
        ),
        "traffic_storage_serve": lambda a, x: Row(
            "[demand] storage_gbps_per_pb",
            a,
            x,
            "Gbps",
            f"storage site {a}: serves {_fmt(x)} Gbps more than storage_gbps_per_pb × its PB",
        ),
        "traffic_flow": lambda c, x: Row(
            "bandwidth",
            com_name(c),
            x,
            "Gbps",
            f"{com_name(c)}: {_fmt(x)} Gbps cannot be carried (route unit limits or latency "
            f"bound {coms[c].bound_ms} ms)",
        ),
        "traffic_arc_balance": lambda sv, x: (
            None
            if sv[0] == sv[1]
            else Row(
                "bandwidth",
                arc_name(*sv),
                x,
                "Gbps",
                f"{arc_name(*sv)}: {_fmt(x)} Gbps cannot be carried (route unit limits)",
            )
        ),
        "resilience_protection": lambda cf, x: Row(
            "[resilience] protected_share",
            f"{com_name(cf[0])} / {cf[1]}",
            x,
            "Gbps",
            f"{com_name(cf[0])}: {_fmt(x)} Gbps short of protected_share "
            f"{res.protected_share:g} after failure {cf[1].replace(':', ' ', 1)}",
        ),
        "links_lit": lambda r, x: Row(
            "routes.csv max_units",
            r,
            x,
            "units",
            f"route {r}: {_fmt(x)} units beyond max_units {ds.routes.at[r, 'max_units']}",
        ),
        "routers_deep_buffer": lambda s, x: Row(
            "routers.csv deep_buffer",
            s,
            x,
            "ports",
            f"site {s}: {_fmt(x)} ports of long routes need deep-buffer routers",
        ),
    }


def explain_infeasibility(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> pd.DataFrame:
    """Make the requirement rows of ``m`` elastic (in place), minimise the relative slack,
    and return one row per requirement that must move."""
    templates = _messages(ds, ix, plan)
    m.objective.deactivate()
    cuts = m.component("links_site_cut")  # LP strengthening only: implied by the rows
    if cuts is not None:  # made elastic below, and would otherwise stay hard
        cuts.deactivate()
    m.elastic = pyo.Var(pyo.Any, dense=False, domain=pyo.NonNegativeReals)
    weights: dict = {}
    for family in templates:
        comp = m.component(family)
        if comp is None:
            continue
        for idx in list(comp.keys()):
            con = comp[idx]
            if not con.active:
                continue
            body, lo, hi = con.body, con.lower, con.upper
            size = max(1.0, abs(pyo.value(hi if hi is not None else lo)))
            up, down = (family, idx, "+"), (family, idx, "-")
            if con.equality:
                con.set_value(body + m.elastic[up] - m.elastic[down] == pyo.value(hi))
                weights[up] = weights[down] = 1.0 / size
            elif hi is not None:
                con.set_value(body - m.elastic[down] <= pyo.value(hi))
                weights[down] = 1.0 / size
            else:
                con.set_value(body + m.elastic[up] >= pyo.value(lo))
                weights[up] = 1.0 / size
    m.elastic_objective = pyo.Objective(
        expr=sum(w * m.elastic[k] for k, w in sorted(weights.items(), key=lambda kw: str(kw[0])))
    )
    outcome = solve(m, ds.settings.solver)
    if not outcome.has_design:
        log.warning("elastic model not solved: %s", outcome.message)
        return pd.DataFrame(columns=COLUMNS)
    rows = []
    for (family, idx, _sign), var in sorted(m.elastic.items(), key=lambda kv: str(kv[0])):
        amount = pyo.value(var, exception=False) or 0.0
        row = templates[family](idx, amount) if amount > TOL else None
        if row is not None:
            rows.append(row)
    return pd.DataFrame([r.__dict__ for r in rows], columns=COLUMNS)
