"""The design on a map, as inline SVG: land and borders (Natural Earth, clipped to the
design's box), every route of links.csv as a line (colour by link type, width by units,
dashed on existing capacity only), every open site as a marker (GPU sites are circles sized
by racks and coloured by cooling, storage sites squares, transit nodes diamonds), unopened
candidates as small grey dots; the worst single failure is drawn under a red halo.

Element classes the browser test counts: ``site`` (one per open site), ``route`` (one per
route of links.csv), ``candidate`` (one per unopened site)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from model.geo import Projection, background, bounding_box, route_rows
from model.report_html.common import colours, esc, missing, num, pct


def _path(points: list[tuple[float, float]], close: bool) -> str:
    d = "M" + "L".join(f"{x:g},{y:g}" for x, y in points)
    return d + ("Z" if close else "")


def failure_parts(worst: Any, links: pd.DataFrame) -> tuple[set[str], set[str]]:
    """Routes and sites a failure id (``srlg:X``, ``route:R``, ``site:S``) takes out."""
    if missing(worst) or ":" not in str(worst):
        return set(), set()
    kind, name = str(worst).split(":", 1)
    if kind == "site":
        return set(), {name}
    if kind == "route":
        return {name}, set()
    routes = set()
    for r, srlg in zip(links["route"], links["srlg"].fillna(""), strict=True):
        if name in str(srlg).split(";"):
            routes.add(str(r))
    return routes, set()


def _marker(role: str, x: float, y: float, r: float) -> str:
    if "gpu" in role:
        return f'<circle cx="{x:g}" cy="{y:g}" r="{r:.1f}"'
    if role == "storage":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r:.1f}" height="{2 * r:.1f}"'
    pts = f"{x:g},{y - r:.1f} {x + r:.1f},{y:g} {x:g},{y + r:.1f} {x - r:.1f},{y:g}"
    return f'<polygon points="{pts}"'


def design_map(
    sites: pd.DataFrame,
    links: pd.DataFrame,
    worst: Any = None,
    width: float = 640.0,
    height: float = 620.0,
) -> str:
    """The SVG map of one design (sites.csv and links.csv as tables)."""
    pos = {str(s): (float(lon), float(lat)) for s, lon, lat in zip(
        sites["site"], sites["lon"], sites["lat"], strict=True)}  # fmt: skip
    routes = route_rows(links)
    box = bounding_box(list(pos.values()))  # every candidate: the region, not just the design
    proj = Projection(box, width, height)
    polys, lines = background(box)
    out = [
        f'<svg class="map" id="map" width="{proj.width:g}" height="{proj.height:g}" '
        f'viewBox="0 0 {proj.width:g} {proj.height:g}" role="img" '
        'aria-label="map of the design">'
    ]
    land = "".join(_path([proj(p) for p in ring], True) for poly in polys for ring in poly)
    if land:
        out.append(f'<path class="land" fill-rule="evenodd" d="{land}"/>')
    border = "".join(_path([proj(p) for p in line], False) for line in lines)
    if border:
        out.append(f'<path class="border" d="{border}"/>')
    out.append(_routes(routes, pos, proj, links, worst))
    out.append(_sites(sites, pos, proj, worst, links))
    out.append("</svg>")
    return "".join(out)


def _routes(
    routes: list[dict[str, Any]],
    pos: dict[str, tuple[float, float]],
    proj: Projection,
    links: pd.DataFrame,
    worst: Any,
) -> str:
    types = colours((t for r in routes for t in r["type"].split(";")), offset=5)
    hit, _ = failure_parts(worst, links)
    seen: dict[frozenset[str], int] = {}
    halo, lines = [], []
    for r in routes:
        pair = frozenset((r["a"], r["b"]))
        nth = seen.get(pair, 0)
        seen[pair] = nth + 1
        (x1, y1), (x2, y2) = proj(pos[r["a"]]), proj(pos[r["b"]])
        # parallel routes between the same two sites bow apart
        bow = 0 if nth == 0 else (18 * ((nth + 1) // 2)) * (1 if nth % 2 else -1)
        length = math.hypot(x2 - x1, y2 - y1) or 1.0
        cx = (x1 + x2) / 2 - bow * (y2 - y1) / length
        cy = (y1 + y2) / 2 + bow * (x2 - x1) / length
        d = f"M{x1:g},{y1:g}Q{cx:.1f},{cy:.1f} {x2:g},{y2:g}"
        w = 2.0 + 1.6 * math.sqrt(max(r["units"], 0))
        colour = types[r["type"].split(";")[0]] if r["lit"] else "#777"
        dash = "" if r["lit"] else ' stroke-dasharray="6 4"'
        tip = (
            f"{r['a']} – {r['b']} ({r['route']}, {r['medium']}, {num(r['km'])} km)\n"
            f"{r['units_by_type'] if r['lit'] else 'existing capacity only'}; "
            f"capacity {num(r['capacity_gbps'])} Gbps, max flow {num(r['max_flow_gbps'])} Gbps, "
            f"utilisation {pct(r['utilization'], 0)}"
        )
        failed = r["route"] in hit
        if failed:
            tip += "\nfails in the worst single failure"
            halo.append(f'<path class="worst-halo" d="{d}" stroke-width="{w + 9:.1f}"/>')
        lines.append(
            f'<path class="route{" worst" if failed else ""}" data-route="{esc(r["route"])}" '
            f'd="{d}" stroke="{colour}" stroke-width="{w:.1f}"{dash} data-tip="{esc(tip)}">'
            f"<title>{esc(tip)}</title></path>"
        )
    return "".join(halo) + "".join(lines)


def _sites(
    sites: pd.DataFrame,
    pos: dict[str, tuple[float, float]],
    proj: Projection,
    worst: Any,
    links: pd.DataFrame,
) -> str:
    opened = sites[sites["open"] == 1]
    cool = colours(str(c) for c in opened["cooling"].fillna("") if str(c) not in ("", "transit"))
    _, hit = failure_parts(worst, links)
    top = max(float(opened["gpu_racks"].max()) if len(opened) else 0.0, 1.0)
    dots, marks, labels = [], [], []
    for rec in sites.to_dict("records"):
        name = str(rec["site"])
        x, y = proj(pos[name])
        if rec["open"] != 1:
            dots.append(
                f'<circle class="candidate" cx="{x:g}" cy="{y:g}" r="2.5" '
                f'data-tip="{esc(name)} (candidate, not opened)"/>'
            )
            continue
        racks = int(rec["gpu_racks"] or 0)
        role = "gpu" if racks else ("storage" if float(rec["storage_pb"] or 0) > 0 else "transit")
        radius = 5.0 + 13.0 * math.sqrt(racks / top) if racks else 6.0
        cooling = "" if missing(rec["cooling"]) else str(rec["cooling"])
        fill = cool.get(cooling, "#555" if role == "transit" else "#6d4c41")
        tip = (
            f"{name} ({role}{', zone ' + str(rec['zone']) if not missing(rec.get('zone')) else ''})"
            f"\nracks {racks}, storage {num(rec['storage_pb'], 1)} PB, cooling {cooling or '–'}"
            f"\nfacility {num(rec['facility_kw'])} kW, PUE {num(rec['pue'], 3)}, routers "
            f"{rec['router_models'] if not missing(rec['router_models']) else '–'}"
            f"\nannual cost {num(rec['annual_cost_usd'])} USD/yr"
        )
        failed = name in hit
        if failed:
            tip += "\nfails in the worst single failure"
            marks.append(
                f'<circle class="worst-halo" cx="{x:g}" cy="{y:g}" r="{radius + 6:.1f}" '
                'stroke-width="6"/>'
            )
        marks.append(
            _marker(role, x, y, radius)
            + f' class="site {role}{" worst" if failed else ""}" data-site="{esc(name)}" '
            f'fill="{fill}" stroke="#fff" stroke-width="1.5" data-tip="{esc(tip)}">'
            f"<title>{esc(tip)}</title></{_tag(role)}>"
        )
        labels.append(
            f'<text class="label" x="{x + radius + 3:.1f}" y="{y + 4:g}">{esc(name)}</text>'
        )
    return "".join(dots) + "".join(marks) + "".join(labels)


def _tag(role: str) -> str:
    return "circle" if "gpu" in role else "rect" if role == "storage" else "polygon"


def legend(sites: pd.DataFrame, links: pd.DataFrame) -> str:
    """Colour keys of the map: cooling methods and link types."""
    opened = sites[sites["open"] == 1]
    cool = colours(str(c) for c in opened["cooling"].fillna("") if str(c) not in ("", "transit"))
    types = colours((t for r in route_rows(links) for t in r["type"].split(";")), offset=5)
    parts = ['<p class="note">']
    parts += [f'<span style="color:{c}">●</span> {esc(k)} cooling &nbsp; ' for k, c in cool.items()]
    parts += [f'<span style="color:{c}">━</span> {esc(t)} &nbsp; ' for t, c in types.items()]
    parts.append(
        "● GPU site (size: racks) &nbsp; ■ storage site &nbsp; ◆ transit node &nbsp; "
        '<span class="candidate">•</span> candidate not opened &nbsp; '
        "┄ existing capacity only &nbsp; "
        '<span style="color:#e53935">▬</span> worst single failure</p>'
    )
    return "".join(parts)
