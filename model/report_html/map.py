"""The design on a map, as inline SVG: land and borders (Natural Earth, clipped to the
design's box), every route of links.csv as a line (colour by link type, width by units,
dashed on existing capacity only), every open site as a marker (GPU sites are circles sized
by racks and coloured by cooling, storage sites squares, transit nodes diamonds), unopened
candidates as small grey dots; the worst single failure is drawn under a red halo. A
growth run draws one map per period (:func:`design_map` with ``growth``): the same box,
colours and marker scale in every period, and what is new in the period marked (class
``new``: a magenta ring and "new in <period>" beside a site, a magenta halo under a route;
class ``grown``, dashed: a site or route that gained racks, storage, routers or units).

Element classes the browser test counts: ``site`` (one per open site), ``route`` (one per
route of links.csv), ``candidate`` (one per unopened site), ``new`` (what a period adds)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
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


#: The colour that marks what a period of a growth run adds.
NEW = "#d81b60"


@dataclass(frozen=True)
class Growth:
    """One period's map of a growth run: ``sites``/``links`` of every period (the box, the
    colours and the marker scale are theirs, so the maps compare), the period's name, the
    sites and routes new in it, and what it adds to each site or route (tooltips)."""

    sites: pd.DataFrame
    links: pd.DataFrame
    period: str
    map_id: str
    new_sites: frozenset[str] = frozenset()
    new_routes: frozenset[str] = frozenset()
    grown_sites: frozenset[str] = frozenset()
    grown_routes: frozenset[str] = frozenset()
    added: dict[str, str] = field(default_factory=dict)  # site or "route:<id>" → text


def _positions(sites: pd.DataFrame) -> dict[str, tuple[float, float]]:
    return {str(s): (float(lon), float(lat)) for s, lon, lat in zip(
        sites["site"], sites["lon"], sites["lat"], strict=True)}  # fmt: skip


def _cooling_colours(sites: pd.DataFrame) -> dict[str, str]:
    opened = sites[sites["open"] == 1]
    return colours(str(c) for c in opened["cooling"].fillna("") if str(c) not in ("", "transit"))


def _type_colours(links: pd.DataFrame) -> dict[str, str]:
    return colours((t for r in route_rows(links) for t in r["type"].split(";")), offset=5)


def design_map(
    sites: pd.DataFrame,
    links: pd.DataFrame,
    worst: Any = None,
    width: float = 640.0,
    height: float = 620.0,
    growth: Growth | None = None,
) -> str:
    """The SVG map of one design (sites.csv and links.csv as tables); with ``growth``, of
    one period of a growth run (``sites``/``links``: that period's rows)."""
    pos = _positions(sites if growth is None else growth.sites)
    routes = route_rows(links)
    box = bounding_box(list(pos.values()))  # every candidate: the region, not just the design
    proj = Projection(box, width, height)
    polys, lines = background(box)
    map_id = "map" if growth is None else growth.map_id
    out = [
        f'<svg class="map" id="{esc(map_id)}" width="{proj.width:g}" height="{proj.height:g}" '
        f'viewBox="0 0 {proj.width:g} {proj.height:g}" role="img" '
        'aria-label="map of the design">'
    ]
    land = "".join(_path([proj(p) for p in ring], True) for poly in polys for ring in poly)
    if land:
        out.append(f'<path class="land" fill-rule="evenodd" d="{land}"/>')
    border = "".join(_path([proj(p) for p in line], False) for line in lines)
    if border:
        out.append(f'<path class="border" d="{border}"/>')
    out.append(_routes(routes, pos, proj, links, worst, growth))
    out.append(_sites(sites, pos, proj, worst, links, growth))
    out.append("</svg>")
    return "".join(out)


def _routes(
    routes: list[dict[str, Any]],
    pos: dict[str, tuple[float, float]],
    proj: Projection,
    links: pd.DataFrame,
    worst: Any,
    growth: Growth | None = None,
) -> str:
    types = _type_colours(links if growth is None else growth.links)
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
        new = growth is not None and r["route"] in growth.new_routes
        grown = growth is not None and r["route"] in growth.grown_routes
        if growth is not None:
            tip += _added_tip(growth, f"route:{r['route']}", new)
        if failed:
            tip += "\nfails in the worst single failure"
            halo.append(f'<path class="worst-halo" d="{d}" stroke-width="{w + 9:.1f}"/>')
        if new or grown:
            halo.append(
                f'<path class="{"new" if new else "grown"}-halo" d="{d}" '
                f'stroke-width="{w + 7:.1f}"/>'
            )
        klass = "route" + (" worst" if failed else "") + (" new" if new else "")
        klass += " grown" if grown else ""
        lines.append(
            f'<path class="{klass}" data-route="{esc(r["route"])}" '
            f'd="{d}" stroke="{colour}" stroke-width="{w:.1f}"{dash} data-tip="{esc(tip)}">'
            f"<title>{esc(tip)}</title></path>"
        )
    return "".join(halo) + "".join(lines)


def _added_tip(growth: Growth, key: str, new: bool) -> str:
    """The tooltip line of what the period adds to a site or route ("" when nothing)."""
    added = growth.added.get(key, "")
    if new:
        return f"\nnew in {growth.period}" + (f": {added}" if added else "")
    return f"\nadded in {growth.period}: {added}" if added else ""


def _sites(
    sites: pd.DataFrame,
    pos: dict[str, tuple[float, float]],
    proj: Projection,
    worst: Any,
    links: pd.DataFrame,
    growth: Growth | None = None,
) -> str:
    every = sites if growth is None else growth.sites  # colours and scale of every period
    opened = every[every["open"] == 1]
    cool = _cooling_colours(every)
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
        new = growth is not None and name in growth.new_sites
        grown = growth is not None and name in growth.grown_sites
        if growth is not None:
            tip += _added_tip(growth, name, new)
        if failed:
            tip += "\nfails in the worst single failure"
            marks.append(
                f'<circle class="worst-halo" cx="{x:g}" cy="{y:g}" r="{radius + 6:.1f}" '
                'stroke-width="6"/>'
            )
        stroke = 'stroke="#fff" stroke-width="1.5"'
        if new:
            stroke = f'stroke="{NEW}" stroke-width="3"'
        elif grown:
            stroke = f'stroke="{NEW}" stroke-width="2" stroke-dasharray="3 2"'
        marks.append(
            _marker(role, x, y, radius)
            + f' class="site {role}{" worst" if failed else ""}{" new" if new else ""}'
            f'{" grown" if grown else ""}" '
            f'data-site="{esc(name)}" fill="{fill}" {stroke} data-tip="{esc(tip)}">'
            f"<title>{esc(tip)}</title></{_tag(role)}>"
        )
        shown = f"{name} · new in {growth.period}" if new and growth is not None else name
        labels.append(
            f'<text class="label{" new" if new else ""}" x="{x + radius + 3:.1f}" y="{y + 4:g}">'
            f"{esc(shown)}</text>"
        )
    return "".join(dots) + "".join(marks) + "".join(labels)


def _tag(role: str) -> str:
    return "circle" if "gpu" in role else "rect" if role == "storage" else "polygon"


def legend(sites: pd.DataFrame, links: pd.DataFrame, growth: Growth | None = None) -> str:
    """Colour keys of the map: cooling methods and link types (of every period, with
    ``growth``, and the mark of what is new)."""
    cool = _cooling_colours(sites if growth is None else growth.sites)
    types = _type_colours(links if growth is None else growth.links)
    if growth is not None:  # the colours of every period, the keys of this one
        cool = {k: c for k, c in cool.items() if k in _cooling_colours(sites)}
        types = {k: c for k, c in types.items() if k in _type_colours(links)}
    parts = ['<p class="note">']
    parts += [f'<span style="color:{c}">●</span> {esc(k)} cooling &nbsp; ' for k, c in cool.items()]
    parts += [f'<span style="color:{c}">━</span> {esc(t)} &nbsp; ' for t, c in types.items()]
    parts.append(
        "● GPU site (size: racks) &nbsp; ■ storage site &nbsp; ◆ transit node &nbsp; "
        '<span class="candidate">•</span> candidate not opened &nbsp; '
        "┄ existing capacity only &nbsp; "
        '<span style="color:#e53935">▬</span> worst single failure</p>'
    )
    if growth is not None and (
        growth.new_sites or growth.new_routes or growth.grown_sites or growth.grown_routes
    ):
        parts.insert(
            -1,
            f'<span style="color:{NEW}">◯</span> site new in the period (label "new in …") '
            f'&nbsp; <span style="color:{NEW};opacity:.5">▬</span> route lit in the period '
            f'&nbsp; <span style="color:{NEW}">◌</span> dashed: grew in the period &nbsp; ',
        )
    return "".join(parts)
