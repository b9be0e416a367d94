"""Replication between storage copies (docs/contract.md §12).

With ``storage_copies`` > 1 and ``replication_gbps_per_pb`` > 0, every storage site a sends
rate × stor_a [Gbps] in total to storage sites of other zones, split freely over q_{a,b} ≥ 0,
and no site receives more than what it holds would send. Each q_{a,b} is the demand of the
commodity ``replication:a>b`` (routed, and protected, like storage traffic); pairs with no
path within ``replication_latency_ms`` get no q, so a copy that no link reaches cannot
hold storage.
"""

from __future__ import annotations

import pyomo.core as pyo

from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan, replication_on


def add_replication(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """q_{a,b} ≥ 0 [Gbps] per ordered pair of storage sites of different zones within the
    bound; Σ_b q_{a,b} = rate·stor_a (``replication_send``); Σ_a q_{a,b} ≤ rate·stor_b
    (``replication_receive``)."""
    on = replication_on(ds) and bool(ix.storage_sites)
    pairs = sorted(plan.replication_pairs) if on else []
    m.REPLICATION_PAIRS = pyo.Set(initialize=pairs, dimen=2, ordered=True)
    m.q = pyo.Var(m.REPLICATION_PAIRS, domain=pyo.NonNegativeReals)
    if not on:
        return
    rate = ds.settings.demand.replication_gbps_per_pb
    out_of: dict[str, list[tuple[str, str]]] = {}
    into: dict[str, list[tuple[str, str]]] = {}
    for a, b in pairs:
        out_of.setdefault(a, []).append((a, b))
        into.setdefault(b, []).append((a, b))
    m.REPLICATION_SENDERS = pyo.Set(initialize=ix.storage_sites, ordered=True)
    m.replication_send = pyo.Constraint(
        m.REPLICATION_SENDERS,
        rule=lambda _, a: sum(m.q[p] for p in out_of.get(a, [])) == rate * m.stor[a],
    )
    m.REPLICATION_RECEIVERS = pyo.Set(initialize=sorted(into), ordered=True)
    m.replication_receive = pyo.Constraint(
        m.REPLICATION_RECEIVERS,
        rule=lambda _, b: sum(m.q[p] for p in into[b]) <= rate * m.stor[b],
    )
