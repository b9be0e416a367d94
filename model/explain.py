"""Infeasibility explained: which requirements conflict, and by how much they must move.

When HiGHS proves the model infeasible, the same model is made elastic: every requirement
row (rack demand, caps, zone survival, storage copies, power caps, latency-blocked pairs,
bandwidth, protection, unit limits, deep-buffer ports) gets a non-negative slack, and the
sum of slacks, each relative to its requirement's size, is minimised. The slacks left at
the optimum are the smallest set of moves found that makes the design possible; each is
reported in data terms (settings key, site, pair, route, commodity, figure).

Those moves name the effect (racks that cannot be placed, say) when the cause is protected
storage or scale-across traffic that no path inside its latency bound keeps alive through
some failure (:class:`model.network.Unprotectable`): its demand is held at 0, which blocks
the pair, and the elastic model finds moving racks cheaper than that. So when there are
such pairs, the elastic model is solved once more without their impossible protection
rows; if that needs fewer moves, each such pair the relaxed design uses is reported first
(requirement ``[resilience] link_protection``): its bound, its paths, the failure they all
cross and the fastest path avoiding it (the amount, in ms).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pyomo.core as pyo

from model.build import build_model
from model.families import STRENGTHENING
from model.index import ModelIndex, build_index
from model.load import Dataset
from model.network import NetworkPlan, plan_network
from model.precheck import unprotectable_by_pair, unprotectable_message
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

    stacks = ds.settings.network.stacks
    stack_note = f" of [network] stacks {', '.join(stacks)}" if stacks else ""

    def reach(g: str) -> str:
        bound = ds.users.at[g, "max_latency_ms"]
        return "reachable from" if pd.isna(bound) else f"within {float(bound):g} ms of"

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
        "users_racks": lambda g, x: Row(
            "users.csv racks",
            g,
            x,
            "racks",
            f"region {g}: {_fmt(x)} of its {ds.users.at[g, 'racks']} inference racks cannot "
            f"be placed at GPU-capable sites {reach(g)} {ds.users.at[g, 'site']}",
        ),
        "users_site_racks": lambda s, x: Row(
            "sites.csv max_racks / max_power_mw",
            s,
            x,
            "racks",
            f"site {s}: {_fmt(x)} training and inference racks beyond its cap of "
            f"{ix.rack_cap.get(s)} racks",
        ),
        "replication_send": lambda a, x: Row(
            "[demand] replication_latency_ms",
            a,
            x,
            "Gbps",
            f"storage site {a}: {_fmt(x)} Gbps of replication (replication_gbps_per_pb "
            f"{d.replication_gbps_per_pb:g} × its PB) cannot reach storage of another zone"
            + (
                ""
                if d.replication_latency_ms is None
                else f" within replication_latency_ms {d.replication_latency_ms:g} ms"
            ),
        ),
        "replication_receive": lambda b, x: Row(
            "[demand] replication_gbps_per_pb",
            b,
            x,
            "Gbps",
            f"storage site {b}: receives {_fmt(x)} Gbps of replication more than "
            "replication_gbps_per_pb × its PB",
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
        "macsec_ports": lambda s, x: Row(
            "routers.csv macsec",
            s,
            x,
            "ports",
            f"site {s}: {_fmt(x)} ports on MACsec routes (routes.csv macsec, [network] "
            f"macsec_media) need MACsec routers{stack_note}",
        ),
        "macsec_deep_ports": lambda s, x: Row(
            "routers.csv macsec, deep_buffer",
            s,
            x,
            "ports",
            f"site {s}: {_fmt(x)} ports on long MACsec routes need routers with both MACsec "
            f"and a deep buffer{stack_note}",
        ),
        "macsec_special_ports": lambda s, x: Row(
            "routers.csv macsec, deep_buffer",
            s,
            x,
            "ports",
            f"site {s}: {_fmt(x)} ports on MACsec or long routes need MACsec or deep-buffer "
            f"routers{stack_note}",
        ),
    }


def with_unprotectable(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> tuple[pyo.ConcreteModel, ModelIndex, NetworkPlan]:
    """The model to explain: ``m`` itself, or, when the plan dropped storage or
    scale-across pairs whose protected traffic cannot survive a failure, one planned and
    built again with them (over the first candidate paths), since the explanation lifts
    exactly that protection to see whether it is what makes the requirements conflict."""
    if not (plan.storage_unprotected or plan.sync_unprotected):
        return m, ix, plan
    full = plan_network(ds, drop_unprotectable=False)
    model, ix = build_model(ds, full, build_index(ds, full))
    return model, ix, full


def explain_infeasibility(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> pd.DataFrame:
    """Make the requirement rows of ``m`` elastic (in place), minimise the relative slack,
    and return one row per requirement that must move (of the model
    :func:`with_unprotectable` gives, when that is not ``m``)."""
    m, ix, plan = with_unprotectable(m, ds, ix, plan)
    templates = _messages(ds, ix, plan)
    m.objective.deactivate()
    for name in STRENGTHENING:  # implied by the rows made elastic below, else stay hard
        cuts = m.component(name)
        if cuts is not None:
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
    rows = _protection_causes(m, ds, plan) + rows
    return pd.DataFrame([r.__dict__ for r in rows], columns=COLUMNS)


def _protection_causes(m: pyo.ConcreteModel, ds: Dataset, plan: NetworkPlan) -> list[Row]:
    """Re-solve the elastic model of ``m`` (just solved) without the protection rows that no
    path of a storage or scale-across commodity inside its bound can meet; when that needs
    fewer moves, one row per such pair that the relaxed design uses (demand > 0)."""
    groups = {
        key: us
        for key, us in unprotectable_by_pair(plan).items()
        if key[0] in ("storage", "sync", "replication", "inference")
    }
    rows_of = m.component("resilience_protection")
    if not groups or rows_of is None:
        return []
    ids = {u.commodity for us in groups.values() for u in us}
    coms = plan.commodities
    lifted = []
    for c, f in rows_of:
        cut = set(plan.failures[f])
        if coms[c].id in ids and all(cut & set(p.routes) for p in coms[c].paths):
            rows_of[c, f].deactivate()
            lifted.append((c, f))
    before = pyo.value(m.elastic_objective)
    outcome = solve(m, ds.settings.solver)
    for c, f in lifted:
        rows_of[c, f].activate()
    if not outcome.has_design:
        log.warning("elastic model without impossible protection not solved: %s", outcome.message)
        return []
    after = pyo.value(m.elastic_objective)
    if after > before - TOL * max(1.0, before):
        return []
    used = {
        (coms[c].kind, coms[c].pair)
        for c, _ in lifted
        if (pyo.value(m.commodity_demand[c], exception=False) or 0.0) > TOL
    }
    tail = (
        "; without this protection the requirements can all be met"
        if after <= TOL
        else "; without this protection fewer moves are needed"
    )
    out = []
    for key in sorted(used):
        us = groups[key]
        alt = us[0].alt
        out.append(
            Row(
                "[resilience] link_protection",
                "-".join(key[1]),
                float("nan") if alt is None else round(alt.latency_ms, 6),
                "ms",
                unprotectable_message(ds, us) + tail,
            )
        )
    return out
