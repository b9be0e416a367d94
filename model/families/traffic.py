"""Traffic and paths: storage traffic split h_{a,b}, scale-across pairs, explicit demands,
path flows that meet every commodity's demand (MODEL.md §3, §4.4)."""

from __future__ import annotations

import pyomo.environ as pyo

from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan


def add_traffic(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> None:
    """Storage: Σ_a h_{a,b} = storage_gbps_per_rack·racks_b [Gbps] (h_{b,b} local, no network),
    Σ_b h_{a,b} ≤ storage_gbps_per_pb·stor_a. Scale-across: pair_{a,b} ≥ gpu_a + gpu_b − 1;
    gpu_a + gpu_b ≤ 1 where no path meets sync_latency_ms. Flow: Σ_{p ∈ P_c} flow_p ≥ demand_c,
    demand_c = h (storage), sync_gbps·pair (scale-across) or gbps (explicit)."""
    dem = ds.settings.demand
    m.COMMODITIES = pyo.Set(initialize=range(len(plan.commodities)), ordered=True)
    m.PATHS = pyo.Set(initialize=ix.paths, dimen=2, ordered=True)
    m.flow = pyo.Var(
        m.PATHS, domain=pyo.NonNegativeReals, bounds=lambda _, c, p: (0, ix.commodity_ub[c])
    )

    storage_traffic = dem.storage_gbps_per_rack > 0 and ix.gpu_sites
    local = [(s, s) for s in ix.gpu_sites if s in ix.storage_ub] if storage_traffic else []
    h_pairs = sorted(set(plan.storage_pairs) | set(local)) if storage_traffic else []
    m.STORAGE_PAIRS = pyo.Set(initialize=h_pairs, dimen=2, ordered=True)
    m.h = pyo.Var(m.STORAGE_PAIRS, domain=pyo.NonNegativeReals)
    if storage_traffic:
        m.traffic_storage_demand = pyo.Constraint(
            m.GPU_SITES,
            rule=lambda _, b: (
                sum(m.h[a, bb] for a, bb in h_pairs if bb == b)
                == dem.storage_gbps_per_rack * sum(m.racks[b, k] for k in m.RACK_COOLING)
            ),
        )
        served = sorted({a for a, _ in h_pairs})
        m.traffic_storage_serve = pyo.Constraint(
            served,
            rule=lambda _, a: (
                sum(m.h[aa, b] for aa, b in h_pairs if aa == a)
                <= dem.storage_gbps_per_pb * m.stor[a]
            ),
        )

    m.SYNC_PAIRS = pyo.Set(
        initialize=plan.sync_pairs if dem.sync_gbps > 0 else [], dimen=2, ordered=True
    )
    m.pair = pyo.Var(m.SYNC_PAIRS, domain=pyo.NonNegativeReals, bounds=(0, 1))
    if dem.sync_gbps > 0 and len(ix.gpu_sites) > 1:
        m.traffic_sync_pair = pyo.Constraint(
            m.SYNC_PAIRS, rule=lambda _, a, b: m.pair[a, b] >= m.gpu[a] + m.gpu[b] - 1
        )
    blocked = sorted((a, b) for a, b, _ in plan.sync_blocked)
    if blocked:
        m.SYNC_BLOCKED = pyo.Set(initialize=blocked, dimen=2, ordered=True)
        m.traffic_sync_blocked = pyo.Constraint(
            m.SYNC_BLOCKED, rule=lambda _, a, b: m.gpu[a] + m.gpu[b] <= 1
        )

    def demand(c: int) -> pyo.Expression | float:
        com = plan.commodities[c]
        if com.kind == "storage":
            return m.h[com.pair]
        if com.kind == "sync":
            return dem.sync_gbps * m.pair[com.pair]
        return com.gbps

    m.commodity_demand = pyo.Expression(m.COMMODITIES, rule=lambda _, c: demand(c))
    paths_of: dict[int, list[tuple[int, int]]] = {}
    for c, p in ix.paths:
        paths_of.setdefault(c, []).append((c, p))
    m.traffic_flow = pyo.Constraint(
        m.COMMODITIES,
        rule=lambda _, c: sum(m.flow[p] for p in paths_of.get(c, [])) >= m.commodity_demand[c],
    )
