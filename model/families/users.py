"""Users: inference racks near customer regions (docs/contract.md §9).

Each region g of users.csv is served by racks_g inference racks at GPU-capable sites with a
path from its entry site within max_latency_ms (the entry site itself, when GPU-capable,
at 0 ms): serve_{g,s} ∈ ℤ≥0, Σ_s serve_{g,s} = racks_g. Between the entry site and each
serving site s ≠ entry runs gbps_g × serve_{g,s} / racks_g in each direction (commodities
``inference:entry>s@g`` and ``inference:s>entry@g``, demand set in model.families.traffic).

Inference racks count at their site for power (IT load, model.families.power), cooling,
opening and cost beside the training racks, but do not make it a GPU (training) site:
Σ_k racks_{s,k} + inf_s ≤ cap_s × open_s, inf_s ≤ cap_s × Σ_{k takes rack_kw} cool_{s,k}.
"""

from __future__ import annotations

import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan


def add_users(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """serve_{g,s} [racks]; ``users_racks``: Σ_s serve_{g,s} = racks_g; inference_s =
    Σ_g serve_{g,s}; ``users_site_racks``: training + inference racks ≤ cap_s·open_s;
    ``users_rack_cooling``: inference_s ≤ cap_s·Σ_{k ∈ rack methods} cool_{s,k}."""
    racks = {u.region: int(u.racks) for u in ds.users.itertuples()}
    pairs = sorted(p for p in plan.user_pairs if ix.inference_ub.get(p[1], 0) > 0)
    m.USER_PAIRS = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.serve = pyo.Var(
        m.USER_PAIRS,
        domain=pyo.NonNegativeIntegers,
        bounds=lambda _, g, s: (0, min(racks[g], ix.inference_ub[s])),
    )
    sites = sorted({s for _, s in pairs})
    m.INFERENCE_SITES = pyo.Set(initialize=sites, ordered=True)
    m.inference = pyo.Expression(
        m.INFERENCE_SITES, rule=lambda _, s: sum(m.serve[g, x] for g, x in pairs if x == s)
    )
    regions = sorted(g for g, n in racks.items() if n > 0)
    if not regions:
        return
    m.USER_REGIONS = pyo.Set(initialize=regions, ordered=True)
    m.users_racks = pyo.Constraint(
        m.USER_REGIONS,
        rule=lambda _, g: sum(m.serve[gg, s] for gg, s in pairs if gg == g) == racks[g],
    )
    if not sites:
        return

    def training(s: str) -> pyo.Expression:
        return sum(m.racks[s, k] for k in m.RACK_COOLING) if s in ix.max_racks else 0

    def cap(s: str) -> int:
        given = ix.rack_cap.get(s)
        return ix.inference_ub[s] if given is None else given

    def site_racks(_: pyo.ConcreteModel, s: str) -> pyo.Expression:
        given = ix.rack_cap.get(s)
        if given is None:  # no cap of its own: inference racks only at an open site
            return m.inference[s] <= ix.inference_ub[s] * m.open[s]
        return training(s) + m.inference[s] <= given * m.open[s]

    m.users_site_racks = pyo.Constraint(m.INFERENCE_SITES, rule=site_racks)
    m.users_rack_cooling = pyo.Constraint(
        m.INFERENCE_SITES,
        rule=lambda _, s: m.inference[s] <= cap(s) * sum(m.cool[s, k] for k in m.RACK_COOLING),
    )
