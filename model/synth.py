"""Seeded generator of synthetic data sets (docs/contract.md §1) for tests and scaling studies.

``python -m model.synth --sites N --seed S OUT_DIR`` writes a complete, loadable data set
of N sites in a 1,500 km × 1,500 km box: a mix of GPU, storage-only and transit sites,
zones from spatial clustering (k-means on the projected coordinates), the Japan data
set's equipment tables and settings scaled to N. Without ``--routes`` no routes.csv is
written (the solver generates candidates from coordinates); with it, a nearest-neighbour
candidate routes.csv is written here, connected and 2-edge-connected where the sites
allow it.

The output is a pure function of (N, seed, options): one ``random.Random(seed)`` drives
every draw, numbers are written with fixed decimals, so the same call writes
byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import io
import logging
import math
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

BOX_KM = 1500.0
CENTRE_LAT, CENTRE_LON = 47.0, 10.0  # box centre; only fixes where on Earth it lies
KM_PER_DEG_LAT = 111.195
ROUTE_FACTOR = 1.25
RACK_KW = 132.0
EARTH_RADIUS_KM = 6371.0088

# Equipment: the Japan data set's tables (data/japan/README.md gives every source).
LINK_TYPES = (
    ("type", "medium", "capacity_gbps", "reach_km", "capex_usd", "opex_usd_per_year",
     "power_w", "dsp_latency_us", "ports", "deep_buffer_over_km"),
    ("400zr", "smf", 400, 120, 6000, 0, 30, 5, 1, 100),
    ("400zrp", "smf", 400, 500, 10000, 0, 42, 8, 1, 100),
    ("800zr", "smf", 800, 120, 16000, 0, 50, 5, 1, 100),
    ("800zrp", "smf", 800, 500, 20000, 0, 56, 8, 1, 100),
    ("800zrp_lr", "smf", 600, 1000, 20000, 0, 56, 15, 1, 100),
    ("lh800", "smf", 800, 2000, 120000, 0, 160, 20, 1, 100),
    ("emb1200", "smf", 1200, 100, 150000, 0, 192, 20, 2, 100),
    ("hcf800", "hcf", 800, 120, 16000, 0, 50, 5, 1, 100),
)
ROUTERS = (
    ("model", "capacity_gbps", "ports", "capex_usd", "power_kw", "deep_buffer"),
    ("jericho4", 51200, 64, 275000, 3.0, 1),
    ("tomahawk5", 51200, 64, 100000, 2.5, 0),
    ("tomahawk5_cpo", 51200, 64, 120000, 2.2, 0),
)
COOLING = (
    ("method", "max_rack_kw", "pue", "capex_usd_per_kw"),
    ("air", 20, "1.40", 2000),
    ("rear_door", 60, "1.28", 2450),
    ("direct_liquid", 140, "1.15", 2300),
    ("immersion", 100, "1.06", 2530),
)
SITE_COLUMNS = ("site", "lat", "lon", "zone", "gpu", "storage", "existing", "max_power_mw",
                "max_racks", "open_capex_usd", "build_usd_per_kw", "energy_usd_per_mwh",
                "carbon_kg_per_mwh", "pue_offset")
ROUTE_COLUMNS = ("a", "b", "km", "medium", "srlg", "build_capex_usd", "max_units",
                 "existing_gbps", "flow_usd_per_gbps_year")
SCENARIOS = (
    ("scenario", "demand.sync_latency_ms", "resilience.link_protection",
     "resilience.zone_survival_share"),
    ("base", "", "", ""),
    ("sync_tight", "3", "", ""),
    ("no_protection", "", "none", ""),
    ("zone_survival_off", "", "", "0"),
)
# Route lighting cost (Japan README, "routes.csv"): fibre PV per km, terminals, ILAs.
FIBRE_USD_PER_KM = 15709.0  # Europe variant: US$1,600/km/yr over 20 years at 8 %
TERMINAL_USD = 200_000
ILA_USD = 100_000
ILA_SPACING_KM = 80.0


@dataclass(frozen=True)
class Site:
    """One generated site; ``x``/``y`` are km in the box, used for clustering."""

    name: str
    x: float
    y: float
    lat: float
    lon: float
    role: str  # "gpu" (gpu + storage), "storage" or "transit"
    zone: str = ""


@dataclass(frozen=True)
class SynthOptions:
    """What to generate."""

    sites: int
    seed: int
    routes: bool = False
    neighbours: int = 3
    gpu_share: float = 0.6  # of the sites: GPU-capable (which may also hold storage)
    storage_share: float = 0.15  # storage-only; the rest are transit


def _to_latlon(x: float, y: float) -> tuple[float, float]:
    """Box km (origin at the centre) to degrees, equirectangular about the centre."""
    lat = CENTRE_LAT + y / KM_PER_DEG_LAT
    lon = CENTRE_LON + x / (KM_PER_DEG_LAT * math.cos(math.radians(CENTRE_LAT)))
    return round(lat, 4), round(lon, 4)


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def _roles(n: int, rng: random.Random, gpu: float = 0.6, storage: float = 0.15) -> list[str]:
    """``gpu`` of the sites GPU(+storage) (default ~60 %), ``storage`` storage-only (~15 %),
    the rest transit; at least two GPU sites (so two storage zones and a sync pair can
    exist) and, from 4 sites, one transit."""
    n_gpu = max(2, round(gpu * n))
    transit_share = 0.25 if (gpu, storage) == (0.6, 0.15) else 1.0 - gpu - storage
    n_transit = 0 if n < 4 else max(1, round(transit_share * n))
    n_gpu = min(n_gpu, n - n_transit)
    n_storage = n - n_gpu - n_transit
    roles = ["gpu"] * n_gpu + ["storage"] * n_storage + ["transit"] * n_transit
    rng.shuffle(roles)
    return roles


def _kmeans(points: list[tuple[float, float]], k: int, rng: random.Random) -> list[int]:
    """Lloyd's k-means with k-means++ seeding; returns a cluster index per point."""
    centres = [points[rng.randrange(len(points))]]
    while len(centres) < k:
        d2 = [min((px - cx) ** 2 + (py - cy) ** 2 for cx, cy in centres) for px, py in points]
        total = sum(d2)
        if total == 0:
            break
        pick, acc = rng.random() * total, 0.0
        for i, d in enumerate(d2):
            acc += d
            if acc >= pick:
                centres.append(points[i])
                break
    labels = [0] * len(points)
    for iteration in range(50):
        new = [min(range(len(centres)),
                   key=lambda c, p=p: (p[0] - centres[c][0]) ** 2 + (p[1] - centres[c][1]) ** 2)
               for p in points]
        if new == labels and iteration > 0:
            break
        labels = new
        for c in range(len(centres)):
            members = [p for p, lab in zip(points, labels, strict=True) if lab == c]
            if members:
                centres[c] = (sum(p[0] for p in members) / len(members),
                              sum(p[1] for p in members) / len(members))
    return labels


def _zone_names(labels: list[int]) -> list[str]:
    """Name clusters z01, z02, ... in order of first appearance (stable, readable)."""
    order: dict[int, str] = {}
    for lab in labels:
        order.setdefault(lab, f"z{len(order) + 1:02d}")
    return [order[lab] for lab in labels]


def generate_sites(opts: SynthOptions, rng: random.Random) -> list[Site]:
    """Random positions, roles and k-means zones; the first two GPU sites get different
    zones so that two storage copies can always be placed."""
    n = opts.sites
    width = len(str(n))
    raw = []
    for i in range(n):
        x = rng.uniform(-BOX_KM / 2, BOX_KM / 2)
        y = rng.uniform(-BOX_KM / 2, BOX_KM / 2)
        raw.append((f"s{i + 1:0{width}d}", x, y))
    roles = _roles(n, rng, opts.gpu_share, opts.storage_share)
    k = max(2, min(n, round(math.sqrt(n / 2))))
    labels = _kmeans([(x, y) for _, x, y in raw], k, rng)
    zones = _zone_names(labels)
    gpu_idx = [i for i, r in enumerate(roles) if r == "gpu"]
    if len({zones[i] for i in gpu_idx}) < 2:  # possible only for tiny N: split them
        zones[gpu_idx[1]] = f"z{len(set(zones)) + 1:02d}"
    sites = []
    for (name, x, y), role, zone in zip(raw, roles, zones, strict=True):
        lat, lon = _to_latlon(x, y)
        sites.append(Site(name, x, y, lat, lon, role, zone))
    return sites


def _site_rows(sites: list[Site], rng: random.Random) -> list[tuple]:
    """Economic attributes, drawn per site (ranges documented in the README we write)."""
    rows = []
    for s in sites:
        north = (s.y + BOX_KM / 2) / BOX_KM  # 0 at the south edge, 1 at the north
        pue_offset = round(0.03 - 0.08 * north + rng.uniform(-0.01, 0.01), 2)
        if s.role == "gpu":
            mw = rng.choice((20, 30, 50, 60, 80, 100, 150, 200, 300))
            opn = rng.randrange(20, 101) * 1_000_000
        elif s.role == "storage":
            mw = rng.choice((10, 20, 30))
            opn = rng.randrange(10, 41) * 1_000_000
        else:
            mw, opn = 2, 0
        build = rng.randrange(600, 1121) * 10
        energy = round(rng.uniform(50.0, 180.0), 1)
        carbon = rng.randrange(30, 601)
        rows.append((s.name, f"{s.lat:.4f}", f"{s.lon:.4f}", s.zone,
                     int(s.role == "gpu"), int(s.role in ("gpu", "storage")), 0, mw, "",
                     opn, build, f"{energy:.1f}", carbon, f"{pue_offset:.2f}"))
    return rows


def _settings(sites: list[Site], site_rows: list[tuple]) -> str:
    """settings.toml scaled to the generated sites (rules in the README we write)."""
    gpu_mw = sorted((float(r[7]) for r, s in zip(site_rows, sites, strict=True)
                     if s.role == "gpu"), reverse=True)
    gpu_zones = {s.zone for s in sites if s.role == "gpu"}
    max_gpu_sites = min(4, len(gpu_mw))
    # racks: 48 per GPU site, at most 40 % of what the max_gpu_sites largest GPU sites
    # can power at PUE 1.25, a multiple of 8
    capacity_racks = sum(gpu_mw[:max_gpu_sites]) * 1000 / (RACK_KW * 1.25)
    gpu_racks = max(16, int(min(48 * len(gpu_mw), 0.4 * capacity_racks)) // 8 * 8)
    min_racks = max(8, min(64, gpu_racks // (2 * max_gpu_sites) // 8 * 8))
    storage_pb = round(gpu_racks * 72 * 2.5 / 1000, 1)
    zone_share = 0.5 if len(gpu_zones) >= 3 else 0.0
    protection = "diverse" if len(sites) >= 4 else "none"  # 2-3 sites: no diverse paths
    return f"""# Synthetic data set: see README.md for how every number was drawn.

[demand]
gpu_racks = {gpu_racks}
rack_kw = {RACK_KW:g}
rack_capex_usd = 3000000
storage_pb = {storage_pb}
storage_kw_per_pb = 5
storage_copies = 2
storage_gbps_per_rack = 280
storage_gbps_per_pb = 2000
storage_latency_ms = 15
sync_gbps = 3200
sync_latency_ms = 10
max_gpu_sites = {max_gpu_sites}
min_racks_per_gpu_site = {min_racks}

[resilience]
link_protection = "{protection}"
protected_share = 0.5
zone_survival_share = {zone_share}
min_routers_per_site = 2

[economics]
discount_rate = 0.08
power_weight_usd_per_mw_year = 0
carbon_usd_per_t = 0

[economics.lifetime_years]
site = 20
cooling = 15
router = 5
optics = 5

[network]
route_factor = {ROUTE_FACTOR}
candidate_k = 3
max_route_km = 2000
paths_per_pair = 3
hop_latency_us = 10
transit_pue = 1.6
capacity_sharing = "duplex"
exclude_media = []

[network.latency_us_per_km]
smf = 4.9
hcf = 3.34
"""


def generate_routes(sites: list[Site], neighbours: int) -> list[tuple]:
    """Each site's ``neighbours`` nearest sites, then the shortest extra routes that join
    the components and bypass every bridge (2-edge-connected where possible)."""
    names = [s.name for s in sites]
    pos = {s.name: (s.lat, s.lon) for s in sites}
    km = {}
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            km[(a, b)] = round(haversine_km(*pos[a], *pos[b]) * ROUTE_FACTOR)
    by_len = sorted((d, p) for p, d in km.items())
    per_site: dict[str, list[tuple[float, tuple[str, str]]]] = {n: [] for n in names}
    for d, p in by_len:
        per_site[p[0]].append((d, p))
        per_site[p[1]].append((d, p))
    edges: set[tuple[str, str]] = set()
    for s in names:
        edges.update(p for _, p in per_site[s][:neighbours])
    root = {n: n for n in names}  # union-find over the chosen edges

    def find(n: str) -> str:
        while root[n] != n:
            root[n] = root[root[n]]
            n = root[n]
        return n

    for a, b in edges:
        root[find(a)] = find(b)
    for _, (a, b) in by_len:  # Kruskal-style: join components, shortest first
        if find(a) != find(b):
            root[find(a)] = find(b)
            edges.add((a, b))
    while True:
        bridge = next(iter(_bridges(names, edges)), None)
        if bridge is None:
            break
        side = _component(edges - {bridge}, bridge[0])
        extra = next((p for _, p in by_len if p not in edges
                      and (p[0] in side) != (p[1] in side)), None)
        if extra is None:
            break
        edges.add(extra)
    rows = []
    for a, b in sorted(edges):
        d = km[(a, b)]
        ilas = max(0, math.ceil(d / ILA_SPACING_KM) - 1)
        capex = round(d * FIBRE_USD_PER_KM + 2 * TERMINAL_USD + ilas * ILA_USD, -4)
        rows.append((a, b, max(d, 1), "smf", "", int(capex), 32, 0, ""))
    return rows


def _component(edges: set[tuple[str, str]], start: str) -> set[str]:
    adj: dict[str, set[str]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    seen, todo = {start}, [start]
    while todo:
        for nxt in adj.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def _bridges(names: list[str], edges: set[tuple[str, str]]) -> list[tuple[str, str]]:
    """Bridges of the undirected graph (Tarjan's low-link, iterative), sorted."""
    adj: dict[str, list[str]] = {n: [] for n in names}
    for a, b in sorted(edges):
        adj[a].append(b)
        adj[b].append(a)
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    found: list[tuple[str, str]] = []
    for root in names:
        if root in order:
            continue
        order[root] = low[root] = len(order)
        stack = [(root, "", iter(adj[root]))]
        while stack:
            node, parent, it = stack[-1]
            child = next(it, None)
            if child is None:
                stack.pop()
                if parent:
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent]:
                        found.append((min(parent, node), max(parent, node)))
            elif child == parent:
                continue
            elif child in order:
                low[node] = min(low[node], order[child])
            else:
                order[child] = low[child] = len(order)
                stack.append((child, node, iter(adj[child])))
    return sorted(found)


def _csv(rows: Sequence[Sequence[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return buf.getvalue()


def _extra_args(opts: SynthOptions) -> str:
    out = "--routes " if opts.routes else ""
    if (opts.gpu_share, opts.storage_share) != (0.6, 0.15):
        out += f"--gpu-share {opts.gpu_share:g} --storage-share {opts.storage_share:g} "
    return out


def _roles_text(opts: SynthOptions) -> str:
    if (opts.gpu_share, opts.storage_share) == (0.6, 0.15):
        return "~60 % GPU (which may also hold storage), ~15 % storage-only, ~25 % transit"
    transit = 1 - opts.gpu_share - opts.storage_share
    return (f"{opts.gpu_share:.0%} GPU (which may also hold storage), "
            f"{opts.storage_share:.0%} storage-only, {transit:.0%} transit")


def _readme(opts: SynthOptions, sites: list[Site], settings: str) -> str:
    counts = {r: sum(s.role == r for s in sites) for r in ("gpu", "storage", "transit")}
    zones = len({s.zone for s in sites})
    routes = ("`routes.csv` lists nearest-neighbour candidates (see below)." if opts.routes
              else "No `routes.csv`: the solver generates candidate routes from the "
                   "coordinates (`[network] route_factor`, `candidate_k`, `max_route_km`).")
    return f"""# Synthetic data set ({opts.sites} sites, seed {opts.seed})

**Synthetic**: written by `python -m model.synth --sites {opts.sites} --seed {opts.seed}
{_extra_args(opts)}OUT_DIR`. No number here describes a real place or
price; the same command writes byte-identical files. Use it for tests and scaling
studies, not for conclusions.

## Sites ({counts['gpu']} GPU + storage, {counts['storage']} storage-only, \
{counts['transit']} transit; {zones} zones)

* Positions: uniform in a {BOX_KM:,.0f} km × {BOX_KM:,.0f} km box centred on
  {CENTRE_LAT}° N, {CENTRE_LON}° E, converted to degrees with an equirectangular
  projection about the centre.
* Roles: {_roles_text(opts)}
  (none below 4 sites), at least two GPU sites, shuffled.
* Zones: k-means on the box coordinates with k = round(sqrt(N / 2)) (at least 2),
  named in order of first appearance; the first two GPU sites are kept in different
  zones so that two storage copies always fit.
* `max_power_mw`: GPU sites one of 20, 30, 50, 60, 80, 100, 150, 200, 300; storage-only
  10, 20 or 30; transit 2. `open_capex_usd`: GPU US$20–100 M, storage US$10–40 M,
  transit 0 (uniform, whole millions). `build_usd_per_kw` uniform 6,000–11,200 (steps
  of 10), `energy_usd_per_mwh` uniform 50–180, `carbon_kg_per_mwh` uniform 30–600.
  `pue_offset` = 0.03 − 0.08 × (northness 0..1) ± 0.01: colder to the north. These
  ranges bracket the Japan and Europe data sets.
* `existing` 0 and `max_racks` empty everywhere.

## Routes

{routes}
With `--routes`: each site's {opts.neighbours} nearest neighbours, then the shortest
extra routes that connect the graph and bypass every bridge; `km` = great circle ×
{ROUTE_FACTOR}; `build_capex_usd` = km × US${FIBRE_USD_PER_KM:,.0f} + 2 × US$200,000 +
(ceil(km / 80) − 1) × US$100,000 (the Europe data set's unit costs); `max_units` 32.

## Equipment

`link_types.csv`, `routers.csv` and `cooling.csv` are the Japan data set's tables
without the Japan-only `apn100` type (sources in `data/japan/README.md`).

## Settings

`settings.toml` follows the Japan base case with these scaled values:

* `max_gpu_sites` = min(4, GPU sites);
* `gpu_racks` = 48 per GPU site but at most 40 % of the racks the `max_gpu_sites`
  largest GPU sites can power at PUE 1.25 (132 kW racks), rounded down to a multiple
  of 8 (at least 16);
* `min_racks_per_gpu_site` = gpu_racks ÷ (2 × max_gpu_sites), a multiple of 8 between
  8 and 64;
* `storage_pb` = 2.5 TB per GPU × 72 GPUs per rack;
* `zone_survival_share` 0.5 when GPU sites span at least three zones, else 0;
* `link_protection` "diverse" from 4 sites, "none" below (2–3 sites cannot offer
  diverse paths);
* `storage_gbps_per_pb` 2,000 (Japan: 1,440) so that a GPU site's own zone can serve
  all its reads and an isolated corner site cannot make a small instance infeasible;
* `max_route_km` 2,000 (the reach of the `lh800` type), so generated routes span the
  box.

`scenarios.csv` has `base`, `sync_tight` (3 ms), `no_protection` and
`zone_survival_off`.

```toml
{settings.strip()}
```
"""


def write_dataset(out: Path, opts: SynthOptions) -> list[Path]:
    """Generate and write every file; return the paths written."""
    rng = random.Random(opts.seed)
    sites = generate_sites(opts, rng)
    site_rows = _site_rows(sites, rng)
    settings = _settings(sites, site_rows)
    files = {
        "sites.csv": _csv([SITE_COLUMNS, *site_rows]),
        "link_types.csv": _csv(LINK_TYPES),
        "routers.csv": _csv(ROUTERS),
        "cooling.csv": _csv(COOLING),
        "scenarios.csv": _csv(SCENARIOS),
        "settings.toml": settings,
        "README.md": _readme(opts, sites, settings),
    }
    if opts.routes:
        files["routes.csv"] = _csv([ROUTE_COLUMNS, *generate_routes(sites, opts.neighbours)])
    out.mkdir(parents=True, exist_ok=True)
    stale = out / "routes.csv"
    if not opts.routes and stale.exists():
        stale.unlink()  # a routes.csv from an earlier --routes run would be silently used
    written = []
    for name, text in files.items():
        path = out / name
        path.write_text(text, encoding="utf-8", newline="")
        written.append(path)
    log.info("wrote %d files for %d sites (seed %d) to %s", len(written), opts.sites,
             opts.seed, out)
    return written


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m model.synth",
        description="Write a synthetic, seeded data set of N sites (contract §1) to OUT_DIR.",
        epilog="The same --sites, --seed and options always write byte-identical files.",
    )
    p.add_argument("out_dir", metavar="OUT_DIR", type=Path, help="folder to write (created)")
    p.add_argument("--sites", type=int, required=True, metavar="N",
                   help="number of sites, at least 2")
    p.add_argument("--seed", type=int, default=0, metavar="S", help="random seed (default 0)")
    p.add_argument("--routes", action="store_true",
                   help="also write a nearest-neighbour candidate routes.csv")
    p.add_argument("--neighbours", type=int, default=3, metavar="K",
                   help="nearest neighbours per site with --routes (default 3)")
    p.add_argument("--gpu-share", type=float, default=0.6, metavar="F",
                   help="share of GPU-capable sites (default 0.6)")
    p.add_argument("--storage-share", type=float, default=0.15, metavar="F",
                   help="share of storage-only sites (default 0.15); the rest are transit")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns 0, or exits with 2 on invalid arguments."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.sites < 2:
        parser.error(f"--sites must be at least 2 (got {args.sites}): a data set needs a "
                     "GPU site and a second site for the second storage copy")
    if args.neighbours < 1:
        parser.error(f"--neighbours must be at least 1 (got {args.neighbours})")
    if not (0 < args.gpu_share <= 1 and 0 <= args.storage_share <= 1
            and args.gpu_share + args.storage_share <= 1):
        parser.error("--gpu-share (above 0) and --storage-share must add up to at most 1 "
                     f"(got {args.gpu_share:g} and {args.storage_share:g})")
    if args.out_dir.exists() and not args.out_dir.is_dir():
        parser.error(f"OUT_DIR {args.out_dir} exists and is not a folder")
    opts = SynthOptions(sites=args.sites, seed=args.seed, routes=args.routes,
                        neighbours=args.neighbours, gpu_share=args.gpu_share,
                        storage_share=args.storage_share)
    written = write_dataset(args.out_dir, opts)
    print(f"wrote {len(written)} files to {args.out_dir}")
    return 0


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
