"""Result tables of docs/contract.md §6, one function per table, from a solved model.

Every cost figure is the value of the very Expression the objective summed, so the parts
always add up: ``annual_cost_usd`` = Σ ``sites.annual_cost_usd`` + Σ ``links.annual_cost_usd``.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import pandas as pd
import pyomo.core as pyo

from model.families.objective import COST_PARTS
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan, Path
from model.solver import Outcome

TOL = 1e-6
SUMMARY_COLUMNS = [
    "dataset",
    "scenario",
    "status",
    "objective",
    "annual_cost_usd",
    "capex_usd",
    "opex_usd_per_year",
    "energy_usd_per_year",
    "power_mw",
    "it_power_mw",
    "network_power_kw",
    "gpu_sites",
    "storage_sites",
    "routes_lit",
    "units",
    "routers",
    "mip_gap",
    "build_s",
    "solve_s",
]
SITE_COLUMNS = [
    "site",
    "open",
    "cooling",
    "gpu_racks",
    "storage_pb",
    "it_kw",
    "facility_kw",
    "pue",
    "routers",
    "router_models",
    "annual_cost_usd",
    "lat",
    "lon",
]
LINK_COLUMNS = [
    "a",
    "b",
    "medium",
    "km",
    "type",
    "units",
    "capacity_gbps",
    "max_flow_gbps",
    "utilization",
    "capex_usd",
    "power_w",
]
FLOW_COLUMNS = [
    "commodity",
    "kind",
    "src",
    "dst",
    "path",
    "gbps",
    "latency_ms",
    "bound_ms",
    "protected",
]


def _v(x: object) -> float:
    """Value of a Pyomo object or number, 0 for None."""
    val = pyo.value(x, exception=False)
    return 0.0 if val is None else float(val)


def _int(x: object) -> int:
    return round(_v(x))


def _r(x: float, nd: int = 6) -> float:
    """Round for stable output (and kill -0.0)."""
    y = round(x, nd)
    return 0.0 if y == 0 else y


@dataclass(frozen=True)
class Tables:
    summary: pd.DataFrame
    sites: pd.DataFrame
    links: pd.DataFrame
    flows: pd.DataFrame
    failures: pd.DataFrame | None = None  # single-failure survival (model.failures)
    users: pd.DataFrame | None = None  # contract §9: regions and serving sites (users.csv)
    periods: pd.DataFrame | None = None  # contract §8: one row per period (growth runs)


def _route_units(m: pyo.ConcreteModel, ix: ModelIndex) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for r, t in ix.options:
        n = _int(m.units[r, t])
        if n:
            out.setdefault(r, {})[t] = n
    return out


Routed = list[tuple[int, Path, float]]  # (commodity, path, Gbps) with flow


def routed_flows(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan) -> Routed:
    """Every used path of every commodity: candidate paths with flow, and the paths of the
    arc flows' decomposition (circulations that carry no demand are dropped). A protected
    commodity's flow on one path is clipped to its demand: the model leaves it uncapped
    where flow is not billed, and any excess carries nothing (every row holds without it)."""
    demand = {
        c: _v(m.commodity_demand[c])
        for c in {c for c, _ in ix.paths}
        if plan.commodities[c].protected
    }
    used = [
        (c, plan.commodities[c].paths[p], min(_v(m.flow[c, p]), demand.get(c, math.inf)))
        for c, p in ix.paths
    ]
    for c, pieces in decompose_arc_flows(m, ds, ix, plan).items():
        used += [(c, path, gbps) for path, gbps in pieces]
    return [(c, path, gbps) for c, path, gbps in used if gbps > TOL]


def route_loads(routed: Routed, ds: Dataset) -> dict[str, dict[str, float]]:
    """Gbps per route and direction ('ab', 'ba'; 'both' with shared capacity)."""
    shared = ds.settings.network.capacity_sharing == "shared"
    ra = ds.routes["a"].to_dict()
    loads: dict[str, dict[str, float]] = {}
    for _c, path, gbps in routed:
        for r, way in path.ways(ra, shared):
            by_way = loads.setdefault(r, {})
            by_way[way] = by_way.get(way, 0.0) + gbps
    return loads


def decompose_arc_flows(
    m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, plan: NetworkPlan
) -> dict[int, list[tuple[Path, float]]]:
    """Split each source's arc flows into paths per commodity (flow decomposition: repeatedly
    the fewest-hop path to the destination on arcs still carrying flow, at its bottleneck)."""
    hop_us = ds.settings.network.hop_latency_us
    out: dict[int, list[tuple[Path, float]]] = {}
    for src, coms in sorted(ix.arc_sources.items()):
        residual: dict[str, list[list]] = {}  # tail → [head, route, flow] (mutable)
        for s, r, way in ix.arcs:
            if s != src:
                continue
            x = _v(m.arc_flow[s, r, way])
            if x > TOL:
                a, b = ds.routes.at[r, "a"], ds.routes.at[r, "b"]
                tail, head = (a, b) if way == "ab" else (b, a)
                residual.setdefault(tail, []).append([head, r, x])
        for c in sorted(coms, key=lambda i: plan.commodities[i].dst):
            dst = plan.commodities[c].dst
            left = _v(m.commodity_demand[c])
            found: dict[tuple[str, ...], tuple[Path, float]] = {}
            while left > TOL:
                arcs = _bfs(residual, src, dst)
                if arcs is None:
                    break
                amount = min(left, *(arc[2] for arc in arcs))
                for arc in arcs:
                    arc[2] -= amount
                left -= amount
                nodes = (src, *(arc[0] for arc in arcs))
                routes = tuple(arc[1] for arc in arcs)
                lat = sum(plan.route_latency_us[r] for r in routes) + hop_us * (len(nodes) - 2)
                prev = found.get(routes, (Path(routes, nodes, lat), 0.0))
                found[routes] = (prev[0], prev[1] + amount)
            out[c] = sorted(found.values(), key=lambda pf: pf[0].routes)
    return out


def _bfs(residual: dict[str, list[list]], src: str, dst: str) -> list[list] | None:
    """Fewest-hop path src → dst over arcs with flow left, as the arc records used."""
    prev: dict[str, list | None] = {src: None}
    queue = [src]
    for node in queue:
        if node == dst:
            break
        for arc in residual.get(node, []):
            if arc[2] > TOL and arc[0] not in prev:
                prev[arc[0]] = [node, arc]
                queue.append(arc[0])
    if dst not in prev:
        return None
    arcs, node = [], dst
    while prev[node] is not None:
        node, arc = prev[node]
        arcs.append(arc)
    return arcs[::-1]


def site_table(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex) -> pd.DataFrame:
    rows = []
    for s in ix.sites:
        is_open = _int(m.open[s])
        cooling = ""
        if s in ix.cooled:
            cooling = next((k for k in ix.methods if _int(m.cool[s, k])), "")
        elif is_open:
            cooling = "transit"
        racks = sum(_int(m.racks[s, k]) for k in ix.rack_methods) if s in ix.max_racks else 0
        it_kw, fac_kw = _v(m.it_load[s]), _v(m.facility[s])
        counts = {r: _int(m.routers[s, r]) for r in ix.models} if s in ix.site_routes else {}
        annual = sum(
            _v(getattr(m, f"cost_{p}")[s])
            for p in ("sites", "cooling", "routers", "energy", "carbon")
        )
        rows.append(
            {
                "site": s,
                "open": is_open,
                "cooling": cooling,
                "gpu_racks": racks,
                "storage_pb": _r(_v(m.stor[s])) if s in ix.storage_ub else 0.0,
                "it_kw": _r(it_kw, 3),
                "facility_kw": _r(fac_kw, 3),
                "pue": _r(fac_kw / it_kw, 4) if it_kw > TOL else None,
                "routers": sum(counts.values()),
                "router_models": ";".join(f"{r}:{n}" for r, n in counts.items() if n),
                "annual_cost_usd": _r(annual, 2),
                "lat": float(ds.sites.at[s, "lat"]),
                "lon": float(ds.sites.at[s, "lon"]),
                "zone": ds.sites.at[s, "zone"],
                "role": "gpu+storage"
                if ds.sites.at[s, "gpu"] and ds.sites.at[s, "storage"]
                else "gpu"
                if ds.sites.at[s, "gpu"]
                else "storage"
                if ds.sites.at[s, "storage"]
                else "transit",
                "existing": int(bool(ds.sites.at[s, "existing"])),
                "capex_usd": _r(_site_capex(m, ds, ix, s), 2),
            }
        )
    df = pd.DataFrame(rows, columns=[*SITE_COLUMNS, "zone", "role", "existing", "capex_usd"])
    if not ds.users.empty:  # contract §9: only with users.csv, so other results stay as they were
        served = {s: round(_v(m.inference[s])) for s in m.INFERENCE_SITES}
        df.insert(
            df.columns.get_loc("gpu_racks") + 1,
            "inference_racks",
            [served.get(s, 0) for s in df["site"]],
        )
    return df


USER_COLUMNS = ["region", "site", "serving_site", "racks", "gbps", "latency_ms"]


def users_table(
    m: pyo.ConcreteModel, ds: Dataset, plan: NetworkPlan, routed: Routed
) -> pd.DataFrame | None:
    """Contract §9: one row per region and serving site. ``gbps`` each direction;
    ``latency_ms`` the slowest path used from the entry site (0 at the entry site itself)."""
    if ds.users.empty:
        return None
    slowest: dict[tuple[str, str], float] = {}
    for c, path, _gbps in routed:
        com = plan.commodities[c]
        if com.kind == "inference" and com.src == ds.users.at[com.pair[0], "site"]:
            slowest[com.pair] = max(slowest.get(com.pair, 0.0), path.latency_ms)
    rows = []
    for g, s in m.USER_PAIRS:
        n = round(_v(m.serve[g, s]))
        if n <= 0:
            continue
        u = ds.users.loc[g]
        rows.append(
            {
                "region": g,
                "site": u["site"],
                "serving_site": s,
                "racks": n,
                "gbps": _r(float(u["gbps"]) * n / int(u["racks"]), 6),
                "latency_ms": _r(slowest.get((g, s), 0.0), 6),
            }
        )
    return pd.DataFrame(rows, columns=USER_COLUMNS)


def _site_capex(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, s: str) -> float:
    """One-time spend at a site: opening, facility build, cooling plant, routers."""
    site = ds.sites.loc[s]
    capex = 0.0 if site["existing"] else site["open_capex_usd"] * _int(m.open[s])
    capex += site["build_usd_per_kw"] * _v(m.facility[s])
    if s in ix.cooled:
        capex += sum(ds.cooling.at[k, "capex_usd_per_kw"] * _v(m.it[s, k]) for k in ix.methods)
    if s in ix.site_routes:
        capex += sum(ds.routers.at[r, "capex_usd"] * _int(m.routers[s, r]) for r in ix.models)
    return capex


def link_table(m: pyo.ConcreteModel, ds: Dataset, ix: ModelIndex, routed: Routed) -> pd.DataFrame:
    """One row per route and link type with units (type ``existing`` for a route carrying
    traffic on existing capacity only). Route-level figures (max_flow_gbps, utilization,
    build_capex_usd, flow cost) sit on the route's first row so that columns add up."""
    units = _route_units(m, ix)
    loads = route_loads(routed, ds)
    rows = []
    for r in ix.routes:
        route = ds.routes.loc[r]
        load = loads.get(r, {})
        max_flow = max(load.values(), default=0.0)
        if r not in units and max_flow <= TOL:
            continue
        cap_total = route["existing_gbps"] + sum(
            ix.option[(r, t)]["capacity_gbps"] * n for t, n in units.get(r, {}).items()
        )
        items = list(units.get(r, {}).items()) or [("existing", 0)]
        route_cost = _v(m.cost_routes[r]) + _v(m.cost_flow[r])
        for i, (t, n) in enumerate(items):
            first = i == 0
            opt = ix.option.get((r, t))
            cap = route["existing_gbps"] if opt is None else opt["capacity_gbps"] * n
            annual = route_cost if first else 0.0
            if opt is not None:
                annual += _v(m.cost_optics[r, t]) + _v(m.cost_link_opex[r, t])
            rows.append(
                {
                    "a": route["a"],
                    "b": route["b"],
                    "medium": route["medium"],
                    "km": route["km"],
                    "type": t,
                    "units": n,
                    "capacity_gbps": _r(cap, 3),
                    "max_flow_gbps": _r(max_flow, 3),
                    "utilization": _r(max_flow / cap_total, 4) if cap_total > TOL else None,
                    "capex_usd": _r(opt["capex_usd"] * n if opt else 0.0, 2),
                    "power_w": _r(opt["power_w"] * n if opt else 0.0, 3),
                    "route": r,
                    "srlg": ";".join(route["srlg"] or ()),
                    "existing_gbps": route["existing_gbps"] if first else 0.0,
                    "route_capacity_gbps": _r(cap_total, 3),
                    "opex_usd_per_year": _r(opt["opex_usd_per_year"] * n if opt else 0.0, 2),
                    "build_capex_usd": _r(
                        route["build_capex_usd"] if first and r in units else 0.0, 2
                    ),
                    "flow_usd_per_year": _r(_v(m.cost_flow[r]) if first else 0.0, 2),
                    "annual_cost_usd": _r(annual, 2),
                }
            )
    cols = [
        *LINK_COLUMNS,
        "route",
        "srlg",
        "existing_gbps",
        "route_capacity_gbps",
        "opex_usd_per_year",
        "build_capex_usd",
        "flow_usd_per_year",
        "annual_cost_usd",
    ]
    return pd.DataFrame(rows, columns=cols)


def path_label(path: Path, ds: Dataset) -> str:
    """Sites joined by '>'; a site reached over one of several parallel routes names that
    route in brackets after it: its medium (``A>B[hcf]>C``: A to B over hollow core) or, if
    the medium is shared too, the route id."""
    routes = ds.routes
    ends = Counter(frozenset((a, b)) for a, b in zip(routes["a"], routes["b"], strict=True))
    media = Counter(
        (frozenset((a, b)), md)
        for a, b, md in zip(routes["a"], routes["b"], routes["medium"], strict=True)
    )
    out = [path.nodes[0]]
    for i, r in enumerate(path.routes):
        pair = frozenset((path.nodes[i], path.nodes[i + 1]))
        label = path.nodes[i + 1]
        if ends[pair] > 1:
            medium = routes.at[r, "medium"]
            label += f"[{medium if media[(pair, medium)] == 1 else r}]"
        out.append(label)
    return ">".join(out)


def flow_table(
    m: pyo.ConcreteModel, ds: Dataset, plan: NetworkPlan, routed: Routed
) -> pd.DataFrame:
    rows = []
    for c, path, gbps in routed:
        com = plan.commodities[c]
        rows.append(
            {
                "commodity": com.id,
                "kind": com.kind,
                "src": com.src,
                "dst": com.dst,
                "path": path_label(path, ds),
                "gbps": _r(gbps, 6),
                "latency_ms": _r(path.latency_ms, 6),
                "bound_ms": com.bound_ms,
                "protected": int(com.protected),
                "demand_gbps": _r(_v(m.commodity_demand[c]), 6),
                "routes": ";".join(path.routes),
            }
        )
    df = pd.DataFrame(rows, columns=[*FLOW_COLUMNS, "demand_gbps", "routes"])
    return df.sort_values(["kind", "commodity", "path"], kind="stable").reset_index(drop=True)


def summary_table(
    m: pyo.ConcreteModel,
    ds: Dataset,
    ix: ModelIndex,
    outcome: Outcome,
    sites: pd.DataFrame,
    links: pd.DataFrame,
    timings: dict[str, float],
) -> pd.DataFrame:
    parts = {p: sum(_v(e) for e in getattr(m, f"cost_{p}").values()) for p in COST_PARTS}
    annual = sum(parts.values())
    power_mw = _v(m.power_mw)
    network_kw = 0.0
    for s in ix.site_routes:
        network_kw += sum(ds.routers.at[r, "power_kw"] * _int(m.routers[s, r]) for r in ix.models)
    network_kw += sum(ix.option[o]["power_w"] * _int(m.units[o]) for o in ix.options) / 1000.0
    capex = (
        float(sites["capex_usd"].sum())
        + float(links["capex_usd"].sum())
        + float(links["build_capex_usd"].sum())
    )
    racks_total = int(sites["gpu_racks"].sum())
    weight = ds.settings.economics.power_weight_usd_per_mw_year
    row = {
        "dataset": ds.name,
        "scenario": ds.scenario,
        "status": outcome.status,
        "objective": _r(annual + weight * power_mw, 2),
        "annual_cost_usd": _r(annual, 2),
        "capex_usd": _r(capex, 2),
        "opex_usd_per_year": _r(parts["link_opex"] + parts["flow"], 2),
        "energy_usd_per_year": _r(parts["energy"], 2),
        "power_mw": _r(power_mw, 6),
        "it_power_mw": _r(float(sites["it_kw"].sum()) / 1000.0, 6),
        "network_power_kw": _r(network_kw, 3),
        "gpu_sites": int((sites["gpu_racks"] > 0).sum()),
        "storage_sites": int((sites["storage_pb"] > TOL).sum()),
        "routes_lit": int(links.loc[links["units"] > 0, "route"].nunique()),
        "units": int(links["units"].sum()),
        "routers": int(sites["routers"].sum()),
        "mip_gap": None if outcome.mip_gap is None else _r(outcome.mip_gap, 8),
        "build_s": _r(timings.get("build", 0.0), 3),
        "solve_s": _r(outcome.solve_s, 3),
        "carbon_usd_per_year": _r(parts["carbon"], 2),
        "bound": None if outcome.bound is None else _r(outcome.bound, 2),
        "termination": outcome.termination,
        "gpu_racks": racks_total,
        "rack_capex_usd": _r(racks_total * ds.settings.demand.rack_capex_usd, 2),
        **{f"annual_{p}_usd": _r(v, 2) for p, v in parts.items()},
    }
    return pd.DataFrame([row])


def extract(
    m: pyo.ConcreteModel,
    ds: Dataset,
    ix: ModelIndex,
    plan: NetworkPlan,
    outcome: Outcome,
    timings: dict[str, float],
) -> Tables:
    """All result tables of one solved scenario."""
    sites = site_table(m, ds, ix)
    routed = routed_flows(m, ds, ix, plan)
    links = link_table(m, ds, ix, routed)
    flows = flow_table(m, ds, plan, routed)
    summary = summary_table(m, ds, ix, outcome, sites, links, timings)
    if "inference_racks" in sites.columns:  # contract §9, only with users.csv
        summary["inference_racks"] = int(sites["inference_racks"].sum())
    return Tables(summary, sites, links, flows, users=users_table(m, ds, plan, routed))
