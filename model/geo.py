"""Coordinates of a design: ``design.geojson`` (RFC 7946: WGS 84, ``[lon, lat]``) and the
land and borders drawn behind the map of ``report.html``.

Everything here reads the result tables (sites.csv carries ``lat``/``lon``), never the
data set, so a written results folder is enough. The background geometry is Natural
Earth 1:50m, shipped as package data (``model/geodata/README.md``); it is clipped to the
design's bounding box so a report carries only what it shows.
"""

from __future__ import annotations

import gzip
import json
import math
from functools import cache
from importlib import resources
from typing import Any

import pandas as pd

Point = tuple[float, float]  # (lon, lat)
BBox = tuple[float, float, float, float]  # lon_min, lat_min, lon_max, lat_max


def _plain(value: Any) -> Any:
    """A table cell as a JSON value: NaN/NA → None, numpy scalars → Python."""
    if value is None:
        return None
    if not isinstance(value, str) and pd.isna(value):
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def route_rows(links: pd.DataFrame) -> list[dict[str, Any]]:
    """One record per route of links.csv (a route with several link types is one row per
    type there): ends, medium, km, ``type`` (types joined by ``;``), ``units``, capacity,
    max flow, utilisation, ``lit`` (carries units; else it carries traffic on existing
    capacity only), sorted by route id."""
    out = []
    for route, rows in sorted(links.groupby("route", sort=False), key=lambda kv: str(kv[0])):
        first = rows.iloc[0]
        units = int(rows["units"].sum())
        out.append(
            {
                "route": str(route),
                "a": str(first["a"]),
                "b": str(first["b"]),
                "medium": _plain(first["medium"]),
                "km": _plain(first["km"]),
                "type": ";".join(str(t) for t in rows["type"]),
                "units": units,
                "units_by_type": ";".join(
                    f"{t}:{int(n)}" for t, n in zip(rows["type"], rows["units"], strict=True)
                ),
                "capacity_gbps": _plain(first.get("route_capacity_gbps")),
                "max_flow_gbps": _plain(first["max_flow_gbps"]),
                "utilization": _plain(first["utilization"]),
                "srlg": _plain(first.get("srlg")) or "",
                "lit": units > 0,
            }
        )
    return out


def design_geojson(
    sites: pd.DataFrame, links: pd.DataFrame, periods: pd.DataFrame | None = None
) -> dict[str, Any]:
    """The design as a GeoJSON FeatureCollection: every candidate site as a Point with its
    sites.csv row as properties, every route of links.csv as a LineString from ``a`` to
    ``b`` with :func:`route_rows`'s properties (``kind`` tells the two apart).

    A growth run (the tables carry a ``period`` column, contract §8) gives one feature per
    period in which a site is open and per route of that period's links.csv, with
    ``period`` (the name as in the tables), ``year`` (from ``periods``, periods.csv; None
    without it) and ``first_period`` (the first period in which the site is open or the
    route carries link units; None for a route on existing capacity only): filter on
    ``period`` for one period's design, on ``period == first_period`` for what it adds."""
    if "period" in sites.columns:
        return _growth_geojson(sites, links, periods)
    features: list[dict[str, Any]] = []
    where: dict[str, list[float]] = {}
    for row in sites.sort_values("site", kind="stable").to_dict("records"):
        lon, lat = float(row["lon"]), float(row["lat"])
        where[str(row["site"])] = [lon, lat]
        props = {"kind": "site", **{k: _plain(v) for k, v in row.items()}}
        features.append(
            {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
             "properties": props}
        )  # fmt: skip
    for r in route_rows(links):
        line = [where[r["a"]], where[r["b"]]]
        features.append(
            {"type": "Feature", "geometry": {"type": "LineString", "coordinates": line},
             "properties": {"kind": "route", **r}}
        )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def period_names(frame: pd.DataFrame, periods: pd.DataFrame | None = None) -> list[str]:
    """The periods of a growth run's table, in order, as text: periods.csv's order when
    ``periods`` is given, else the order in which the ``period`` column first names them;
    [] for a table without a ``period`` column."""
    if "period" not in frame.columns:
        return []
    if periods is not None and "period" in periods.columns and len(periods):
        return [str(p) for p in periods["period"]]
    return [str(p) for p in dict.fromkeys(frame["period"])]


def period_rows(frame: pd.DataFrame, name: str) -> pd.DataFrame:
    """The rows of period ``name`` (compared as text: a CSV read back makes ``2026`` a
    number), index reset."""
    return frame[frame["period"].astype(str) == name].reset_index(drop=True)


def is_open(sites: pd.DataFrame) -> pd.Series:
    """sites.csv ``open`` as a boolean mask (numbers or their text)."""
    return pd.to_numeric(sites["open"], errors="coerce").fillna(0) == 1


def _growth_geojson(
    sites: pd.DataFrame, links: pd.DataFrame, periods: pd.DataFrame | None
) -> dict[str, Any]:
    names = period_names(sites, periods)
    years: dict[str, Any] = {}
    if periods is not None and {"period", "year"} <= set(periods.columns):
        years = {str(p): _plain(y) for p, y in zip(periods["period"], periods["year"], strict=True)}
    where = {
        str(s): [float(lon), float(lat)]
        for s, lon, lat in zip(sites["site"], sites["lon"], sites["lat"], strict=True)
    }
    opened: dict[str, pd.DataFrame] = {}
    routes: dict[str, list[dict[str, Any]]] = {}
    first: dict[tuple[str, str], str] = {}  # (kind, site or route) → first period built
    for name in names:
        block = period_rows(sites, name)
        opened[name] = block[is_open(block)].sort_values("site", kind="stable")
        routes[name] = route_rows(period_rows(links, name))
        for s in opened[name]["site"]:
            first.setdefault(("site", str(s)), name)
        for r in routes[name]:
            if r["lit"]:
                first.setdefault(("route", r["route"]), name)
    features: list[dict[str, Any]] = []
    for name in names:
        when = {"period": name, "year": years.get(name)}
        for row in opened[name].to_dict("records"):
            lon, lat = where[str(row["site"])]
            props = {"kind": "site", **{k: _plain(v) for k, v in row.items()}, **when,
                     "first_period": first.get(("site", str(row["site"])))}  # fmt: skip
            features.append(
                {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                 "properties": props}
            )  # fmt: skip
        for r in routes[name]:
            props = {"kind": "route", **r, **when, "first_period": first.get(("route", r["route"]))}
            features.append(
                {"type": "Feature",
                 "geometry": {"type": "LineString", "coordinates": [where[r["a"]], where[r["b"]]]},
                 "properties": props}
            )  # fmt: skip
    return {"type": "FeatureCollection", "features": features}


def geojson_text(
    sites: pd.DataFrame, links: pd.DataFrame, periods: pd.DataFrame | None = None
) -> str:
    """:func:`design_geojson` as text (sorted keys, no NaN: strict JSON)."""
    return json.dumps(design_geojson(sites, links, periods), sort_keys=True, allow_nan=False) + "\n"


# --- background geometry -------------------------------------------------------------------


@cache
def world() -> tuple[tuple[tuple[tuple[Point, ...], ...], ...], tuple[tuple[Point, ...], ...]]:
    """Natural Earth land polygons (rings of (lon, lat)) and country borders (lines)."""
    raw = resources.files("model.geodata").joinpath("world.geojson.gz").read_bytes()
    data = json.loads(gzip.decompress(raw))
    land: tuple = ()
    borders: tuple = ()
    for f in data["features"]:
        coords = f["geometry"]["coordinates"]
        if f["properties"]["layer"] == "land":
            land = tuple(tuple(tuple(map(tuple, ring)) for ring in poly) for poly in coords)
        else:
            borders = tuple(tuple(map(tuple, line)) for line in coords)
    return land, borders


def _ring_bbox(ring: tuple[Point, ...]) -> BBox:
    xs = [p[0] for p in ring]
    ys = [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def _overlaps(a: BBox, b: BBox) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def clip_ring(ring: tuple[Point, ...] | list[Point], box: BBox) -> list[Point]:
    """Sutherland–Hodgman: the part of a closed ring inside ``box`` (edges along the box
    where the ring leaves it), [] when nothing is inside."""
    pts = list(ring)
    for edge in range(4):
        if not pts:
            return []
        out: list[Point] = []
        prev = pts[-1]
        for cur in pts:
            cin, pin = _inside(cur, edge, box), _inside(prev, edge, box)
            if cin:
                if not pin:
                    out.append(_cross(prev, cur, edge, box))
                out.append(cur)
            elif pin:
                out.append(_cross(prev, cur, edge, box))
            prev = cur
        pts = out
    return pts if len(pts) >= 3 else []


def _inside(p: Point, edge: int, box: BBox) -> bool:
    return (p[0] >= box[0], p[1] >= box[1], p[0] <= box[2], p[1] <= box[3])[edge]


def _cross(p: Point, q: Point, edge: int, box: BBox) -> Point:
    if edge in (0, 2):
        x = box[edge]
        t = (x - p[0]) / (q[0] - p[0])
        return x, p[1] + t * (q[1] - p[1])
    y = box[edge]
    t = (y - p[1]) / (q[1] - p[1])
    return p[0] + t * (q[0] - p[0]), y


def clip_line(line: tuple[Point, ...], box: BBox) -> list[list[Point]]:
    """The pieces of a polyline with at least one end inside ``box`` (each piece runs one
    point beyond the box on either side; the SVG viewport cuts the rest)."""
    pieces: list[list[Point]] = []
    cur: list[Point] = []
    inside = [box[0] <= x <= box[2] and box[1] <= y <= box[3] for x, y in line]
    for i, p in enumerate(line):
        near = inside[i] or (i > 0 and inside[i - 1]) or (i + 1 < len(line) and inside[i + 1])
        if near:
            cur.append(p)
        elif cur:
            pieces.append(cur)
            cur = []
    if len(cur) >= 2:
        pieces.append(cur)
    return [p for p in pieces if len(p) >= 2]


def background(box: BBox) -> tuple[list[list[list[Point]]], list[list[Point]]]:
    """Land polygons (clipped rings) and border pieces inside ``box``."""
    land, borders = world()
    polys = []
    for poly in land:
        if not _overlaps(_ring_bbox(poly[0]), box):
            continue
        rings = [clip_ring(r, box) for r in poly]
        rings = [r for r in rings if r]
        if rings:
            polys.append(rings)
    lines = [piece for line in borders for piece in clip_line(line, box)]
    return polys, lines


def bounding_box(points: list[Point], margin: float = 0.12, min_span: float = 2.0) -> BBox:
    """The points' bounding box widened by ``margin`` of its span on every side, at least
    ``min_span`` degrees wide and tall (one site still gets a map around it)."""
    xs = [p[0] for p in points] or [0.0]
    ys = [p[1] for p in points] or [0.0]
    cx, cy = (min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2
    w = max(max(xs) - min(xs), min_span) * (1 + 2 * margin)
    h = max(max(ys) - min(ys), min_span) * (1 + 2 * margin)
    return cx - w / 2, max(-90.0, cy - h / 2), cx + w / 2, min(90.0, cy + h / 2)


class Projection:
    """Equirectangular at the box's middle latitude, fitted into ``width`` × ``height``
    pixels (the other side shrinks to the box's aspect); y grows downwards."""

    def __init__(self, box: BBox, width: float = 900.0, height: float = 640.0) -> None:
        self.box = box
        self.k = math.cos(math.radians((box[1] + box[3]) / 2)) or 1e-6
        span_x = (box[2] - box[0]) * self.k
        span_y = box[3] - box[1]
        self.scale = min(width / span_x, height / span_y)
        self.width = round(span_x * self.scale, 1)
        self.height = round(span_y * self.scale, 1)

    def __call__(self, p: Point) -> tuple[float, float]:
        x = (p[0] - self.box[0]) * self.k * self.scale
        y = (self.box[3] - p[1]) * self.scale
        return round(x, 1), round(y, 1)
