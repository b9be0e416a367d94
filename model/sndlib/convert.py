"""Map a parsed network and a supported variant to scaleacross tables: :func:`convert`.

Pure: returns a :class:`Dataset` of DataFrames (one per CSV), the settings and the notes
for the README; nothing is written here (see :mod:`model.sndlib.write`).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from model.schema import PLAUSIBLE_MAX
from model.sndlib.instance import SndlibError, SndLink, SndNetwork, SndNode, Variant

CoordMode = Literal["auto", "geo", "plane"]

MEDIUM = "sndlib"
EARTH_RADIUS_KM = 6371.0088
REACH_KM = 4.0e4  # once round the Earth: longer than any route, and than 1 km per route on a plane
PLANE_KM = 1.0


@dataclass(frozen=True)
class Dataset:
    """A converted instance: one DataFrame per CSV, the settings and the notes for README."""

    network: SndNetwork
    variant: Variant
    coords: Literal["geo", "plane"]
    settings: dict
    sites: pd.DataFrame
    routes: pd.DataFrame
    link_types: pd.DataFrame
    offers: pd.DataFrame
    demands: pd.DataFrame
    routers: pd.DataFrame
    cooling: pd.DataFrame
    preinstalled_cost: float
    notes: tuple[str, ...]


def detect_coords(nodes: Sequence[SndNode]) -> Literal["geo", "plane"]:
    """``plane`` when the coordinates cannot be longitude/latitude.

    That is: a node without coordinates, a value outside [-180, 180] × [-90, 90], or
    (four or more nodes) every value a whole number, as in india35's 0..49 grid.
    """
    xs = [n.x for n in nodes]
    ys = [n.y for n in nodes]
    if any(v is None for v in xs + ys):
        return "plane"
    if any(abs(x) > 180 for x in xs) or any(abs(y) > 90 for y in ys):
        return "plane"
    if len(nodes) >= 4 and all(float(v).is_integer() for v in xs + ys):
        return "plane"
    return "geo"


def _plane_latlon(nodes: Sequence[SndNode]) -> dict[str, tuple[float, float]]:
    """Map plane coordinates into a 1°×1° box at (0, 0), aspect ratio kept."""
    if any(n.x is None or n.y is None for n in nodes):  # no coordinates: a circle
        k = len(nodes)
        return {
            n.id: (
                round(0.5 + 0.5 * math.sin(2 * math.pi * i / k), 6),
                round(0.5 + 0.5 * math.cos(2 * math.pi * i / k), 6),
            )
            for i, n in enumerate(nodes)
        }
    x0, y0 = min(n.x for n in nodes), min(n.y for n in nodes)
    span = max(max(n.x for n in nodes) - x0, max(n.y for n in nodes) - y0) or 1.0
    return {n.id: (round((n.y - y0) / span, 6), round((n.x - x0) / span, 6)) for n in nodes}


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def type_name(capacity: float) -> str:
    """Link type id of a module capacity: ``mod_40000``, ``mod_2.5``."""
    return f"mod_{int(capacity)}" if float(capacity).is_integer() else f"mod_{capacity!r}"


def capacity_scale(link_types: pd.DataFrame, demands: pd.DataFrame) -> float:
    """A power of ten that brings module capacities and demands to at most ~1e4 when they
    exceed 1e6 (brain counts bits: 1e9-1e10 per module, which HiGHS presolve cannot handle
    beside unit coefficients); 1 otherwise, so most instances keep their own numbers."""
    largest = max([1.0, *link_types["capacity_gbps"], *demands["gbps"]])
    if largest <= 1e6:
        return 1.0
    return float(10 ** (math.ceil(math.log10(largest)) - 4))


def convert(net: SndNetwork, variant: Variant, coords: CoordMode = "auto") -> Dataset:
    """Map a parsed network and a supported variant to scaleacross tables (see README)."""
    variant.check_supported()
    mode = detect_coords(net.nodes) if coords == "auto" else coords
    if mode == "geo" and any(
        n.x is None or n.y is None or abs(n.x) > 180 or abs(n.y) > 90 for n in net.nodes
    ):
        raise SndlibError(
            f"{net.name}: --coords geo needs longitude/latitude on every node "
            "(x in [-180, 180], y in [-90, 90])"
        )
    notes = []
    if mode == "plane":
        latlon = _plane_latlon(net.nodes)
        notes.append(
            "Node coordinates are not longitude/latitude; they were mapped into a "
            "1°×1° box at (0°, 0°) (aspect ratio kept, originals in sndlib_x/"
            f"sndlib_y) and every route has km = {PLANE_KM}."
        )
    else:
        latlon = {n.id: (n.y, n.x) for n in net.nodes}
    sites = _sites(net, latlon)
    routes, route_notes = _routes(net, variant, latlon if mode == "geo" else None)
    link_types, offers, offer_notes = _modules(net, single=variant.capacity == "E")
    # turning a demand changes no load only when both demands and links are undirected
    demands, demand_notes = _demands(net, undirected=variant.demand == variant.link == "U")
    scale = capacity_scale(link_types, demands)
    if scale > 1:
        link_types["capacity_gbps"] = link_types["capacity_gbps"] / scale
        demands["gbps"] = demands["gbps"] / scale
        routes["existing_gbps"] = routes["existing_gbps"] / scale
        routes["flow_usd_per_gbps_year"] = routes["flow_usd_per_gbps_year"] * scale
        notes.append(
            f"Capacities, demands and pre-installed capacity are divided by {scale:g} (and "
            f"routing costs multiplied by it) so that the solver's coefficients stay in a "
            f"sane range; costs and the optimum are unchanged; settings [sndlib] "
            f"capacity_scale = {scale:g}."
        )
    total = float(demands["gbps"].sum())
    routers = pd.DataFrame(
        [
            {
                "model": "sndlib_virtual",
                # never binding: free, and bought as often as a site's links need; at most
                # what routers.csv accepts (abilene and geant in model M: 10 × total was
                # 1.3e7-2.0e7 and the data set was refused)
                "capacity_gbps": min(PLAUSIBLE_MAX["Gbps"], max(1.0, 10 * total)),
                "ports": 1_000_000,
                "capex_usd": 0.0,
                "power_kw": 0.0,
                "deep_buffer": 1,
            }
        ]
    )
    cooling = pd.DataFrame(
        [{"method": "none", "max_rack_kw": 1000.0, "pue": 1.0, "capex_usd_per_kw": 0.0}]
    )
    preinstalled = round(sum(lk.preinstalled_capacity_cost for lk in net.links), 6)
    settings = {
        "demand": {"gpu_racks": 0, "storage_pb": 0, "sync_gbps": 0},
        "resilience": {"link_protection": "none", "min_routers_per_site": 0},
        "economics": {
            "discount_rate": 0.0,
            "power_weight_usd_per_mw_year": 0,
            "carbon_usd_per_t": 0,
            "lifetime_years": {"site": 1, "cooling": 1, "router": 1, "optics": 1},
        },
        "network": {
            "capacity_sharing": "shared" if variant.link == "U" else "duplex",
            "paths_per_pair": 10,
            "hop_latency_us": 0,
            "transit_pue": 1.0,
            "latency_us_per_km": {MEDIUM: 1.0},
        },
        "sndlib": {
            "network": net.name,
            "variant": variant.code,
            "capacity_scale": scale,
            "preinstalled_cost": preinstalled,
            "coordinates": mode,
        },
    }
    return Dataset(
        network=net,
        variant=variant,
        coords=mode,
        settings=settings,
        sites=sites,
        routes=routes,
        link_types=link_types,
        offers=offers,
        demands=demands,
        routers=routers,
        cooling=cooling,
        preinstalled_cost=preinstalled,
        notes=(*notes, *route_notes, *offer_notes, *demand_notes),
    )


def _sites(net: SndNetwork, latlon: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """sites.csv: every node a transit node of its own zone, at no cost."""
    empty = [None] * len(net.nodes)
    sites = pd.DataFrame(
        {
            "site": [n.id for n in net.nodes],
            "lat": [latlon[n.id][0] for n in net.nodes],
            "lon": [latlon[n.id][1] for n in net.nodes],
            "zone": [n.id for n in net.nodes],
            "gpu": 0,
            "storage": 0,
            "existing": 0,
            "max_power_mw": pd.Series(empty, dtype="Float64"),
            "max_racks": pd.Series(empty, dtype="Int64"),
            "open_capex_usd": 0.0,
            "build_usd_per_kw": 0.0,
            "energy_usd_per_mwh": 0.0,
            "carbon_kg_per_mwh": 0.0,
            "pue_offset": 0.0,
            "sndlib_x": pd.Series([n.x for n in net.nodes], dtype="Float64"),
            "sndlib_y": pd.Series([n.y for n in net.nodes], dtype="Float64"),
        }
    )
    return sites


def _usable(link: SndLink) -> bool:
    """The link offers a module with capacity (else it keeps its pre-installed capacity)."""
    return any(m.capacity > 0 for m in link.modules)


def _routes(
    net: SndNetwork, variant: Variant, latlon: dict[str, tuple[float, float]] | None
) -> tuple[pd.DataFrame, list[str]]:
    """routes.csv: one route per link, in file order; parallel links stay apart.

    ``latlon`` None: coordinates are not geographic and every route is PLANE_KM long.
    """

    def km(link: SndLink) -> float:
        if latlon is None:
            return PLANE_KM
        return max(0.001, round(great_circle_km(*latlon[link.source], *latlon[link.target]), 3))

    unit_cap = 1 if variant.capacity == "E" else None
    routes = pd.DataFrame(
        {
            "a": [lk.source for lk in net.links],
            "b": [lk.target for lk in net.links],
            "km": [km(lk) for lk in net.links],
            "medium": MEDIUM,
            "srlg": "",
            "build_capex_usd": [lk.setup_cost if variant.fixed_charge else 0.0 for lk in net.links],
            "max_units": pd.Series(
                [unit_cap if _usable(lk) else 0 for lk in net.links], dtype="Int64"
            ),
            "existing_gbps": [lk.preinstalled_capacity for lk in net.links],
            "flow_usd_per_gbps_year": [lk.routing_cost for lk in net.links],
            "route": [lk.id for lk in net.links],
            "directed": 1 if variant.link == "D" else 0,
            "preinstalled_cost_usd": [lk.preinstalled_capacity_cost for lk in net.links],
        }
    )
    notes = []
    bare = [lk.id for lk in net.links if not _usable(lk)]
    if bare:
        notes.append(
            "Links without modules keep only their pre-installed capacity "
            f"(max_units = 0): {', '.join(bare)}."
        )
    pairs = Counter(frozenset((lk.source, lk.target)) for lk in net.links)
    parallel = sum(1 for lk in net.links if pairs[frozenset((lk.source, lk.target))] > 1)
    if parallel:
        notes.append(
            f"{parallel} links share their node pair with another link; each is its own "
            "route (multigraph), told apart by the route column."
        )
    return routes, notes


def _cover_cost(need: float, modules: Sequence[tuple[float, float]], limit: float) -> float:
    """The least cost of a multiset of ``modules`` ((capacity, cost) pairs, any number of
    each) whose capacities sum to at least ``need``; ``math.inf`` when none costs at most
    ``limit`` (the search stops there: depth-first, pruned by the best cost per unit)."""
    mods = sorted(modules, key=lambda m: m[1] / m[0])  # cheapest per unit first
    if not mods:
        return math.inf
    rate = mods[0][1] / mods[0][0]  # no cover of c units costs less than rate · c
    best = [math.inf]
    steps = [0]

    def walk(i: int, left: float, spent: float) -> None:
        steps[0] += 1
        if left <= 0:
            best[0] = min(best[0], spent)
            return
        if i == len(mods) or steps[0] > 100_000:
            return
        if spent + rate * left > min(best[0], limit) * (1 + 1e-12):
            return
        cap, cost = mods[i]
        for k in range(math.ceil(left / cap), -1, -1):
            if steps[0] > 100_000:  # give up: the module is kept (a cover found stands)
                return
            walk(i + 1, left - k * cap, spent + k * cost)

    walk(0, need, 0.0)
    return best[0]


def undominated(
    modules: Sequence[tuple[float, float]], single: bool
) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """Split one link's modules ((capacity, cost), distinct capacities) into those kept and
    those dominated. A dominated module is never needed for an optimum, so dropping it
    changes neither the optimal cost nor feasibility, only the size of the model.

    ``single`` (capacity model E, at most one module per link): a module is dominated by
    another one of at least its capacity at no more cost. Otherwise (M, any number of
    each): by a multiset of the other kept modules of at least its capacity at no more
    cost (e.g. ta1's 504000 at 162160.02 by one 2016000 at the same cost; its 11088000 at
    1621599.76 by two 6048000 at 486479.95). Larger modules are examined first, so of two
    equivalent choices (4032 at 2c against 2 × 2016 at c) the smaller module stays."""
    kept = sorted((m for m in modules if m[0] > 0), key=lambda m: (-m[0], m[1]))
    dropped = [m for m in modules if m[0] <= 0]  # no capacity: never of use
    for mod in list(kept):
        others = [m for m in kept if m != mod]
        if single:
            covered = any(c >= mod[0] and k <= mod[1] for c, k in others)
        else:
            covered = _cover_cost(mod[0], others, mod[1]) <= mod[1]
        if covered:
            kept.remove(mod)
            dropped.append(mod)
    return sorted(kept), sorted(dropped)


def _modules(net: SndNetwork, single: bool = False) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """link_types.csv (one type per module capacity) and offers.csv (one row per module
    that is not dominated, see :func:`undominated`)."""
    notes: list[str] = []
    rows: list[dict] = []
    dropped_total = 0
    for lk in net.links:
        cost: dict[str, float] = {}
        capacity: dict[str, float] = {}
        for mod in lk.modules:
            t = type_name(mod.capacity)
            if t in cost and cost[t] != mod.cost:
                notes.append(
                    f"Link {lk.id} lists capacity {mod.capacity:g} twice; the cheaper "
                    "module is kept."
                )
            cost[t] = min(mod.cost, cost.get(t, math.inf))
            capacity[t] = mod.capacity
        _, dropped = undominated([(capacity[t], c) for t, c in cost.items()], single)
        for cap, _ in dropped:
            del cost[type_name(cap)]
        dropped_total += len(dropped)
        rows += [
            {
                "a": lk.source,
                "b": lk.target,
                "medium": MEDIUM,
                "type": t,
                "capex_usd": 0.0,
                "opex_usd_per_year": c,
                "max_units": None,
                "route": lk.id,
            }
            for t, c in cost.items()
        ]
    columns = ["a", "b", "medium", "type", "capex_usd", "opex_usd_per_year", "max_units"]
    offers = pd.DataFrame(rows, columns=[*columns, "route"]).astype({"max_units": "Int64"})
    if dropped_total:
        how = (
            "another module of at least its capacity costs no more (capacity model E)"
            if single
            else "a combination of the link's other modules of at least its capacity costs "
            "no more (capacity model M)"
        )
        notes.append(
            f"{dropped_total} dominated (link, module) pairs are left out of offers.csv: "
            f"{how}. No optimum needs them, so the optimal cost is unchanged."
        )
    used = set(offers["type"])
    caps = sorted(
        {m.capacity for lk in net.links for m in lk.modules if type_name(m.capacity) in used}
    )
    link_types = pd.DataFrame(
        {
            "type": [type_name(c) for c in caps],
            "medium": MEDIUM,
            "capacity_gbps": caps,
            "reach_km": REACH_KM,
            "capex_usd": 0.0,
            "opex_usd_per_year": 0.0,
            "power_w": 0.0,
            "dsp_latency_us": 0.0,
            "ports": 0,
            "deep_buffer_over_km": pd.Series([None] * len(caps), dtype="Float64"),
        }
    )
    return link_types, offers, notes


def orient(pairs: Sequence[tuple[str, str]]) -> dict[frozenset[str], str]:
    """For undirected demands: the end each node pair is sent from, chosen so that few
    nodes send (greedy vertex cover of the demand graph: the node in the most pairs not
    yet given sends all of them; ties by first appearance). The model routes exact traffic
    on arc flows aggregated by sending node, one flow per node and arc, so fewer senders
    is a smaller model; with undirected demands and links, reversing a demand changes no
    link load and no cost."""
    order: dict[str, int] = {}
    for v in (v for p in pairs for v in p):
        order.setdefault(v, len(order))
    left = {frozenset(p) for p in pairs if p[0] != p[1]}
    sender: dict[frozenset[str], str] = {}
    while left:
        count = Counter(v for p in left for v in p)
        v = min(count, key=lambda x: (-count[x], order[x]))
        for p in [p for p in left if v in p]:
            sender[p] = v
            left.remove(p)
    return sender


def _demands(net: SndNetwork, undirected: bool = False) -> tuple[pd.DataFrame, list[str]]:
    """demands.csv: one row per SNDlib demand, no latency bound, unprotected. Undirected
    demands (demand model U) are turned to go from the end :func:`orient` picks."""
    ends = [(d.source, d.target) for d in net.demands]
    flipped = 0
    if undirected:
        sender = orient(ends)
        flipped = sum(1 for s, t in ends if sender[frozenset((s, t))] != s)
        ends = [(s, t) if sender[frozenset((s, t))] == s else (t, s) for s, t in ends]
    demands = pd.DataFrame(
        {
            "src": [s for s, _ in ends],
            "dst": [t for _, t in ends],
            "gbps": [d.value for d in net.demands],
            "max_latency_ms": pd.Series([None] * len(net.demands), dtype="Float64"),
            "protected": 0,
            "demand": [d.id for d in net.demands],
            "routing_unit": [d.routing_unit for d in net.demands],
            "max_path_length": pd.Series([d.max_path_length for d in net.demands], dtype="Int64"),
        }
    )
    notes = []
    if flipped:
        notes.append(
            f"Demands are undirected (demand model U): {flipped} are written from target to "
            f"source, so that {demands['src'].nunique()} of {len(net.nodes)} nodes send "
            "traffic (the model's exact routing has one flow per sending node and arc); "
            "with undirected links this changes no load and no cost."
        )
    shared_pair = int(demands.duplicated(["src", "dst"], keep=False).sum())
    if shared_pair:
        notes.append(
            f"{shared_pair} demands share their (src, dst) with another demand; each is kept "
            "as its own row (told apart by the demand column): sum them if a loader keys "
            "demands by pair."
        )
    hop_limited = int(demands["max_path_length"].notna().sum())
    if hop_limited:
        notes.append(
            f"{hop_limited} demands carry a max_path_length (hop limit); it is ignored, as "
            "the hop-limit letter N says."
        )
    return demands, notes
