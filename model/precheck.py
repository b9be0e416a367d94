"""Cheap checks before the solve that catch infeasible requirements and say why, in the
planner's terms (sites, pairs, settings keys, figures)."""

from __future__ import annotations

import logging

from model.errors import InfeasibleError
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan, unusable_reason

log = logging.getLogger(__name__)


def _fmt_ms(ms: float | None) -> str:
    return "no path at all" if ms is None else f"best path {ms:.3f} ms"


def check_feasibility(ds: Dataset, plan: NetworkPlan, ix: ModelIndex) -> None:
    """Raise InfeasibleError listing every requirement that cannot be met."""
    s = ds.settings
    dem, res = s.demand, s.resilience
    problems: list[str] = []
    racks_needed = dem.gpu_racks
    if racks_needed > 0:
        if not ix.rack_methods:
            best = ds.cooling["max_rack_kw"].max()
            densest = ds.cooling["max_rack_kw"].idxmax()
            problems.append(
                f"no cooling method takes {dem.rack_kw:g} kW racks ([demand] rack_kw): the "
                f"densest is {densest!r} at {best:g} kW (cooling.csv max_rack_kw)"
            )
        if not ix.gpu_sites:
            problems.append("no site may host GPU racks (sites.csv gpu = 1 nowhere)")
        if racks_needed < dem.min_racks_per_gpu_site:
            problems.append(
                f"[demand] gpu_racks {racks_needed} is below min_racks_per_gpu_site "
                f"{dem.min_racks_per_gpu_site}: no GPU site can be opened"
            )
    usable_gpu = dict(ix.max_racks)
    if racks_needed > 0 and ix.gpu_sites and dem.storage_gbps_per_rack > 0:
        if dem.storage_pb <= 0:
            problems.append(
                "[demand] storage_gbps_per_rack > 0 but storage_pb is 0: GPU racks "
                "need storage bandwidth and there is no storage to serve it"
            )
        reach = {b for _, b in plan.storage_pairs} | {x for x in ix.gpu_sites if x in ix.storage_ub}
        cut = [b for b in ix.gpu_sites if b not in reach]
        for b in cut:
            usable_gpu.pop(b, None)
        if cut and not reach and dem.storage_pb > 0:
            best = {
                b: min(
                    (ms for a, bb, ms in plan.storage_blocked if bb == b and ms is not None),
                    default=None,
                )
                for b in cut
            }
            detail = "; ".join(f"{b}: {_fmt_ms(best[b])}" for b in cut)
            problems.append(
                f"no GPU site reaches a storage site within [demand] storage_latency_ms "
                f"{dem.storage_latency_ms:g} ms ({detail})"
            )
    if racks_needed > 0 and usable_gpu:
        capacity = sum(usable_gpu.values())
        if capacity < racks_needed:
            problems.append(
                f"GPU sites can hold at most {capacity} racks (sites.csv max_racks and "
                f"max_power_mw at {dem.rack_kw:g} kW per rack and the lowest PUE"
                + (", only sites that reach storage" if len(usable_gpu) < len(ix.max_racks) else "")
                + f"); [demand] gpu_racks is {racks_needed}"
            )
        if dem.max_gpu_sites is not None:
            top = sorted(usable_gpu.values(), reverse=True)[: dem.max_gpu_sites]
            if sum(top) < racks_needed <= capacity:
                problems.append(
                    f"[demand] max_gpu_sites {dem.max_gpu_sites}: the largest "
                    f"{dem.max_gpu_sites} GPU sites hold {sum(top)} racks, gpu_racks is "
                    f"{racks_needed}"
                )
        if res.zone_survival_share > 0:
            need = res.zone_survival_share * racks_needed
            for zone, members in sorted(ix.zones.items()):
                outside = sum(v for x, v in usable_gpu.items() if x not in members)
                if outside < need - 1e-9:
                    problems.append(
                        f"zone {zone!r}: losing it leaves at most {outside} racks elsewhere, "
                        f"[resilience] zone_survival_share {res.zone_survival_share:g} needs "
                        f"{need:g}"
                    )
        needed_sites = _min_sites(usable_gpu, racks_needed, res.zone_survival_share > 0)
        if needed_sites >= 2 and not plan.sync_pairs and dem.sync_latency_ms is not None:
            best = min((ms for _, _, ms in plan.sync_blocked if ms is not None), default=None)
            pairs = ", ".join(f"{a}-{b} {_fmt_ms(ms)}" for a, b, ms in plan.sync_blocked[:6])
            problems.append(
                f"at least {needed_sites} GPU sites are needed but no pair of GPU sites is "
                f"within [demand] sync_latency_ms {dem.sync_latency_ms:g} ms (best pair "
                f"{'none' if best is None else f'{best:.3f} ms'}; {pairs})"
            )
    if dem.storage_pb > 0:
        if not ix.storage_sites:
            problems.append(
                "[demand] storage_pb > 0 but no site may host storage "
                "(sites.csv storage = 1 nowhere)"
            )
        zones = {ds.sites.at[x, "zone"] for x in ix.storage_sites}
        if dem.storage_copies > len(zones) and ix.storage_sites:
            problems.append(
                f"[demand] storage_copies {dem.storage_copies} needs that many zones with "
                f"storage sites; there are {len(zones)} ({', '.join(sorted(zones))})"
            )
        total = sum(ix.storage_ub.values())
        if ix.storage_sites and total < dem.storage_pb * dem.storage_copies - 1e-9:
            problems.append(
                f"storage sites can hold at most {total:g} PB (power caps and copies); "
                f"{dem.storage_pb:g} PB × {dem.storage_copies} copies are needed"
            )
    for c in plan.commodities:
        if c.kind != "demand":
            continue
        if not c.paths and not c.arc:
            ms = plan.finder.best_latency_ms(c.src, c.dst)
            bound = "no bound" if c.bound_ms is None else f"max_latency_ms {c.bound_ms:g} ms"
            problems.append(
                f"demand {c.id.removeprefix('demand:')} ({c.src} → {c.dst}): {bound}, {_fmt_ms(ms)}"
            )
        elif c.protected and s.resilience.protected_share > 0:
            for f, routes in plan.failures.items():
                if all(set(routes) & set(p.routes) for p in c.paths):
                    problems.append(
                        f"protected demand {c.id.removeprefix('demand:')} ({c.src} → {c.dst}) "
                        f"cannot survive failure {f.replace(':', ' ', 1)}: every path within "
                        "its latency bound uses it"
                    )
                    break
    deep = [o for o in ix.options if ix.option[o]["deep_buffer"]]
    if deep and not ds.routers["deep_buffer"].any():
        log.warning("%d route options need deep-buffer routers but routers.csv has none", len(deep))
    if problems:
        if plan.unusable_routes:
            names = ", ".join(unusable_reason(ds, r) for r in plan.unusable_routes[:10])
            more = len(plan.unusable_routes) - 10
            problems.append(
                f"routes that cannot be used: {names}" + (f" and {more} more" if more > 0 else "")
            )
        raise InfeasibleError("the requirements cannot all be met", problems)


def _min_sites(max_racks: dict[str, int], racks: int, two_zones: bool) -> int:
    """Fewest GPU sites that can hold ``racks`` (at least 2 when zone survival is on)."""
    total, n = 0, 0
    for cap in sorted(max_racks.values(), reverse=True):
        if total >= racks:
            break
        total += cap
        n += 1
    return max(n, 2 if two_zones else 1)
