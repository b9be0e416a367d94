"""Cheap checks before the solve that catch infeasible requirements and say why, in the
planner's terms (sites, pairs, settings keys, figures).

Protected traffic that no path inside its latency bound can keep alive through some failure
(:class:`model.network.Unprotectable`) can only be 0: a storage pair serves nothing, a
scale-across pair cannot both host GPUs, an explicit demand cannot be met. The checks count
such pairs as blocked and, where that makes the requirements impossible for every
placement, name them with their bound, their paths and the fastest path avoiding the
failure (:func:`unprotectable_message`).
"""

from __future__ import annotations

import logging

import pandas as pd

from model.errors import InfeasibleError
from model.index import ModelIndex
from model.load import Dataset
from model.network import NetworkPlan, Unprotectable, replication_on, unusable_reason

log = logging.getLogger(__name__)
SHOWN = 6  # protection conflicts named in full; the rest are counted


def _fmt_ms(ms: float | None) -> str:
    return "no path at all" if ms is None else f"best path {ms:.3f} ms"


def _failure_name(u: Unprotectable) -> str:
    kind, _, name = u.failure.partition(":")
    if kind == "route":
        return f"route {name}"
    return f"srlg {name} (route{'s' if len(u.cut) > 1 else ''} {', '.join(u.cut)})"


def unprotectable_message(ds: Dataset, records: list[Unprotectable]) -> str:
    """One line for the protected traffic of one pair (storage, scale-across) or demand:
    what it is, why it is protected, its paths inside the bound, the failure they all
    cross and the fastest path avoiding it. ``records``: that traffic's records, the
    failure named is the first; the others are counted."""
    u = records[0]
    if u.kind == "storage":
        what = f"storage traffic between GPU site {u.pair[1]} and storage site {u.pair[0]}"
        key, bound = "[demand] storage_latency_ms", u.bound_ms
    elif u.kind == "sync":
        what = f"scale-across traffic between GPU sites {u.pair[0]} and {u.pair[1]}"
        key, bound = "[demand] sync_latency_ms", u.bound_ms
    elif u.kind == "replication":
        what = f"replication from storage site {u.pair[0]} to storage site {u.pair[1]}"
        key, bound = "[demand] replication_latency_ms", u.bound_ms
    elif u.kind == "inference":
        what = f"inference traffic of region {u.pair[0]} ({u.src} → {u.dst})"
        key, bound = "users.csv max_latency_ms", u.bound_ms
    else:
        what = f"demand {u.commodity.removeprefix('demand:')} ({u.src} → {u.dst})"
        key, bound = "max_latency_ms", u.bound_ms
    why = (
        "demands.csv protected = 1"
        if u.kind == "demand"
        else "users.csv protected = 1"
        if u.kind == "inference"
        else f"[resilience] link_protection {ds.settings.resilience.link_protection}"
    )
    shown = ", ".join(f"{'>'.join(p.nodes)} {p.latency_ms:.3f} ms" for p in u.paths[:3])
    more = f" and {len(u.paths) - 3} more" if len(u.paths) > 3 else ""
    n = len(u.paths)
    within = "with no latency bound" if bound is None else f"within {key} {bound:g} ms"
    if u.alt is None:
        alt = "and no path avoids it"
    else:
        alt = (
            f"and the fastest path avoiding it ({'>'.join(u.alt.nodes)}) takes "
            f"{u.alt.latency_ms:.3f} ms"
        )
    others = {r.failure for r in records} - {u.failure}
    extra = f" (and {len(others)} more failure{'s' if len(others) > 1 else ''} alike)"
    return (
        f"{what} is protected ({why}) but cannot survive failure {_failure_name(u)}: "
        f"{n} path{'s' if n > 1 else ''} {within} ({shown}{more}) "
        f"{'all cross' if n > 1 else 'crosses'} it, {alt}" + (extra if others else "")
    )


def unprotectable_by_pair(
    plan: NetworkPlan,
) -> dict[tuple[str, tuple[str, str]], list[Unprotectable]]:
    """(kind, pair) → the Unprotectable records of that pair's commodities, in plan order
    (for demands the pair is the demand's (src, dst); demands.csv may hold several)."""
    out: dict[tuple[str, tuple[str, str]], list[Unprotectable]] = {}
    for u in plan.unprotectable:
        key = (u.kind, u.pair) if u.kind != "demand" else (u.commodity, u.pair)
        out.setdefault(key, []).append(u)
    return out


def check_feasibility(ds: Dataset, plan: NetworkPlan, ix: ModelIndex) -> None:
    """Raise InfeasibleError listing every requirement that cannot be met."""
    s = ds.settings
    dem, res = s.demand, s.resilience
    problems: list[str] = []
    unprot = unprotectable_by_pair(plan)
    unprot_storage = {pair for kind, pair in unprot if kind == "storage"}
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
    placement = len(problems)
    why: list[str] = []  # protection conflicts behind the placement problems below
    if racks_needed > 0 and ix.gpu_sites and dem.storage_gbps_per_rack > 0:
        if dem.storage_pb <= 0:
            problems.append(
                "[demand] storage_gbps_per_rack > 0 but storage_pb is 0: GPU racks "
                "need storage bandwidth and there is no storage to serve it"
            )
        # A storage pair whose protected traffic cannot survive some failure serves nothing.
        reach = {b for a, b in plan.storage_pairs if (a, b) not in unprot_storage}
        reach |= {x for x in ix.gpu_sites if x in ix.storage_ub}
        cut = [b for b in ix.gpu_sites if b not in reach]
        for b in cut:
            usable_gpu.pop(b, None)
        why = [
            unprotectable_message(ds, us)
            for (kind, (_, b)), us in unprot.items()
            if kind == "storage" and b in cut
        ]
        if cut and not reach and dem.storage_pb > 0:
            best = {
                b: min(
                    (ms for a, bb, ms in plan.storage_blocked if bb == b and ms is not None),
                    default=None,
                )
                for b in cut
            }
            protected = {b for _, (_, b) in (k for k in unprot if k[0] == "storage")}
            detail = "; ".join(
                f"{b}: {_fmt_ms(best[b])}"
                if b not in protected
                else f"{b}: its protected storage traffic cannot survive a single failure"
                for b in cut
            )
            within = (
                ""
                if dem.storage_latency_ms is None
                else f" within [demand] storage_latency_ms {dem.storage_latency_ms:g} ms"
            )
            problems.append(f"no GPU site reaches a storage site{within} ({detail})")
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
        problems += _sync_reach(ds, plan, usable_gpu, unprot, why)
    if len(problems) > placement:
        problems += why[:SHOWN] + (
            [f"and {len(why) - SHOWN} more protected pairs alike"] if len(why) > SHOWN else []
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
    problems += _replication_reach(ds, plan, ix)
    stacks = s.network.stacks
    if stacks and not ix.models and any(c.paths or c.arc for c in plan.commodities):
        problems.append(
            f"[network] stacks {', '.join(stacks)}: no router model of routers.csv is of these "
            "stacks (or of none), so no route can be lit"
        )
    problems += _user_reach(ds, plan, ix)
    for c in plan.commodities:
        if c.kind != "demand":
            continue
        if not c.paths and not c.arc:
            ms = plan.finder.best_latency_ms(c.src, c.dst)
            bound = "no bound" if c.bound_ms is None else f"max_latency_ms {c.bound_ms:g} ms"
            problems.append(
                f"demand {c.id.removeprefix('demand:')} ({c.src} → {c.dst}): {bound}, {_fmt_ms(ms)}"
            )
        elif (c.id, c.pair) in unprot:
            problems.append(unprotectable_message(ds, unprot[(c.id, c.pair)]))
    deep = [o for o in ix.options if ix.option[o]["deep_buffer"]]
    if deep and not ds.routers["deep_buffer"].any():
        log.warning("%d route options need deep-buffer routers but routers.csv has none", len(deep))
    secure = [o for o in ix.options if ds.routes.at[o[0], "macsec"]]
    if secure and not any(ds.routers.at[k, "macsec"] for k in ix.models):
        log.warning(
            "%d route options are on MACsec routes but no router model%s has macsec = 1: "
            "those routes cannot be lit",
            len(secure),
            " of [network] stacks" if ds.settings.network.stacks else "",
        )
    if problems:
        if plan.unusable_routes:
            names = ", ".join(unusable_reason(ds, r) for r in plan.unusable_routes[:10])
            more = len(plan.unusable_routes) - 10
            problems.append(
                f"routes that cannot be used: {names}" + (f" and {more} more" if more > 0 else "")
            )
        raise InfeasibleError("the requirements cannot all be met", problems)


def _user_reach(ds: Dataset, plan: NetworkPlan, ix: ModelIndex) -> list[str]:
    """Users (contract §9): every region needs GPU-capable sites within its latency bound of
    its entry site (the entry site itself at 0 ms) that can hold its racks."""
    out = []
    rack_kw = ds.settings.demand.rack_kw
    unprot_users: dict[str, dict[str, list[Unprotectable]]] = {}
    for (kind, pair), us in unprotectable_by_pair(plan).items():
        if kind == "inference":
            unprot_users.setdefault(pair[0], {})[pair[1]] = us
    for u in ds.users.sort_index().itertuples():
        if u.racks <= 0:
            continue
        bound = None if pd.isna(u.max_latency_ms) else float(u.max_latency_ms)
        within = f"within {bound:g} ms of" if bound is not None else "reachable from"
        near = [x for g, x in plan.user_pairs if g == u.region]
        if not near:
            far = sorted((ms, x) for x, ms in plan.user_blocked.get(u.region, []) if ms is not None)
            nearest = (
                f"; the nearest, {far[0][1]}, is {far[0][0]:.3f} ms"
                if far
                else "; none is reachable at all"
                if plan.user_blocked.get(u.region)
                else "; sites.csv has no site with gpu = 1"
            )
            out.append(
                f"region {u.region}: no GPU-capable site {within} {u.site} "
                f"(users.csv max_latency_ms){nearest}"
            )
            continue
        cut = unprot_users.get(u.region, {})
        if u.site not in near and near and all(x in cut for x in near):
            out.append(
                f"region {u.region}: every GPU-capable site {within} {u.site} ({', '.join(near)}) "
                "is reached only by protected traffic that cannot survive a single failure "
                "inside the bound: " + unprotectable_message(ds, cut[near[0]])
            )
            continue
        room = sum(ix.inference_ub.get(x, 0) for x in near)
        if room < u.racks:
            out.append(
                f"region {u.region}: the GPU-capable sites {within} {u.site} "
                f"({', '.join(near)}) hold at most {room} racks of {rack_kw:g} kW "
                f"(sites.csv max_racks, max_power_mw); users.csv racks is {u.racks}"
            )
    return out


def _replication_reach(ds: Dataset, plan: NetworkPlan, ix: ModelIndex) -> list[str]:
    """Replication (contract §12): a storage site holds storage only if it can send
    replication to, and (since all sites together receive exactly what all send) receive
    it from, storage sites of other zones within replication_latency_ms. Those sites must
    lie in storage_copies zones and hold storage_pb × storage_copies."""
    dem = ds.settings.demand
    if not (replication_on(ds) and ix.storage_sites):
        return []
    sends = {a for a, _ in plan.replication_pairs}
    gets = {b for _, b in plan.replication_pairs}
    able = [x for x in ix.storage_sites if x in sends and x in gets]
    zone = ds.sites["zone"]
    zones = sorted({zone[x] for x in able})
    room = sum(ix.storage_ub[x] for x in able)
    need = dem.storage_pb * dem.storage_copies
    if len(zones) >= dem.storage_copies and room >= need - 1e-9:
        return []
    within = (
        ""
        if dem.replication_latency_ms is None
        else f" within [demand] replication_latency_ms {dem.replication_latency_ms:g} ms"
    )
    cut = []
    for x in ix.storage_sites:
        if x in able:
            continue
        best = [(ms, b) for a, b, ms in plan.replication_blocked if a == x and ms is not None]
        nearest = (
            f"the nearest storage site of another zone, {min(best)[1]}, is {min(best)[0]:.3f} ms"
            if best
            else "no path to storage of another zone"
        )
        cut.append(f"{x} ({nearest})")
    shown = "; ".join(cut[:SHOWN]) + (f"; and {len(cut) - SHOWN} more" if len(cut) > SHOWN else "")
    what = (
        f"lie in {len(zones)} zone(s) ({', '.join(zones) or 'none'}), "
        f"[demand] storage_copies is {dem.storage_copies}"
        if len(zones) < dem.storage_copies
        else f"hold at most {room:g} PB, {dem.storage_pb:g} PB × {dem.storage_copies} copies "
        "are needed"
    )
    return [
        f"[demand] replication_gbps_per_pb {dem.replication_gbps_per_pb:g}: every storage copy "
        f"must replicate to and from storage of another zone{within}; the storage sites that "
        f"can {what}" + (f". Cut off: {shown}" if cut else "")
    ]


def _sync_reach(
    ds: Dataset,
    plan: NetworkPlan,
    usable_gpu: dict[str, int],
    unprot: dict[tuple[str, tuple[str, str]], list[Unprotectable]],
    why: list[str],
) -> list[str]:
    """Scale-across: the GPU sites of a design are pairwise joined within sync_latency_ms,
    their scale-across traffic protected where link_protection asks for it. A pair blocked
    by latency, or whose protected traffic cannot survive some failure inside the bound,
    cannot both host GPUs. Two checks, each valid for every placement: some pair is
    needed and none is left; the sites joined to one site (itself included) hold too few
    racks. Protection conflicts behind a failed check are added to ``why``."""
    dem, res = ds.settings.demand, ds.settings.resilience
    racks = dem.gpu_racks
    blocked = {(a, b) for a, b, _ in plan.sync_blocked}
    protected = {pair for kind, pair in unprot if kind == "sync"}
    needed_sites = _min_sites(usable_gpu, racks, res.zone_survival_share > 0)
    if needed_sites < 2 or not (blocked or protected):
        return []
    joined = [p for p in plan.sync_pairs if p not in protected]

    def line(pair: tuple[str, str]) -> str:
        return unprotectable_message(ds, unprot[("sync", pair)])

    within = (
        ""
        if dem.sync_latency_ms is None
        else f" within [demand] sync_latency_ms {dem.sync_latency_ms:g} ms"
    )
    if not joined:
        best = min((ms for _, _, ms in plan.sync_blocked if ms is not None), default=None)
        pairs = ", ".join(f"{a}-{b} {_fmt_ms(ms)}" for a, b, ms in plan.sync_blocked[:6])
        if not protected:
            top = "none" if best is None else f"{best:.3f} ms"
            return [
                f"at least {needed_sites} GPU sites are needed but no pair of GPU sites is"
                f"{within or ' joined by a path'} (best pair {top}; {pairs})"
            ]
        why.extend(line(p) for p in sorted(protected))
        return [
            f"at least {needed_sites} GPU sites are needed but no pair of GPU sites can "
            f"exchange protected scale-across traffic{within}"
            + (f" (beyond the bound: {pairs})" if pairs else "")
        ]
    out = blocked | protected
    ok = set(joined)
    group = {
        x: sorted([x] + [y for y in usable_gpu if y != x and tuple(sorted((x, y))) in ok])
        for x in sorted(usable_gpu)
    }
    x = min(group, key=lambda v: (-sum(usable_gpu[y] for y in group[v]), v))
    most = sum(usable_gpu[y] for y in group[x])
    if most >= racks:
        return []
    why.extend(line(p) for p in sorted(protected) if p[0] in usable_gpu and p[1] in usable_gpu)
    latency = [
        f"{a}-{b}" for a, b in sorted(out - protected) if a in usable_gpu and b in usable_gpu
    ]
    return [
        f"GPU sites that can all exchange scale-across traffic{within} hold at most {most} "
        f"racks (the largest group joined to one site: {', '.join(group[x])}); [demand] "
        f"gpu_racks is {racks}"
        + (f" (pairs beyond the bound: {', '.join(latency[:6])})" if latency else "")
    ]


def _min_sites(max_racks: dict[str, int], racks: int, two_zones: bool) -> int:
    """Fewest GPU sites that can hold ``racks`` (at least 2 when zone survival is on)."""
    total, n = 0, 0
    for cap in sorted(max_racks.values(), reverse=True):
        if total >= racks:
            break
        total += cap
        n += 1
    return max(n, 2 if two_zones else 1)
