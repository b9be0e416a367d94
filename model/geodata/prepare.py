"""Rebuild ``world.geojson.gz`` from world-atlas's ``countries-50m.json`` (Natural Earth 1:50m
admin-0 countries as TopoJSON; see README.md beside this file). Not used at run time:

    python -m model.geodata.prepare countries-50m.json | gzip -9n > model/geodata/world.geojson.gz

Land is the merged ``land`` object; borders are the arcs two different countries share.
Longitudes are made continuous along each ring (it may run past ±180°).
Both are simplified (Douglas–Peucker, :data:`TOLERANCE` degrees) and rounded to
:data:`DIGITS` decimals (about 1 km), which keeps the file at about 200 KB gzipped.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

TOLERANCE = 0.02  # degrees
DIGITS = 2


def _arcs(topo: dict) -> list[list[tuple[float, float]]]:
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    out = []
    for arc in topo["arcs"]:
        x = y = 0
        pts = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        out.append(pts)
    return out


def _simplify(pts: list[tuple[float, float]], tol: float) -> list[tuple[float, float]]:
    """Douglas–Peucker, iterative; the end points stay."""
    if len(pts) < 3:
        return pts
    keep = [False] * len(pts)
    keep[0] = keep[-1] = True
    stack = [(0, len(pts) - 1)]
    while stack:
        i, j = stack.pop()
        (x1, y1), (x2, y2) = pts[i], pts[j]
        dx, dy = x2 - x1, y2 - y1
        norm = (dx * dx + dy * dy) ** 0.5
        best, at = -1.0, -1
        for k in range(i + 1, j):
            px, py = pts[k]
            d = abs(dy * (px - x1) - dx * (py - y1)) / norm if norm else abs(px - x1) + abs(py - y1)
            if d > best:
                best, at = d, k
        if at > 0 and best > tol:
            keep[at] = True
            stack += [(i, at), (at, j)]
    return [p for p, k in zip(pts, keep, strict=True) if k]


def _unwrap(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Longitudes made continuous: a ring that crosses the antimeridian goes on past ±180°
    instead of jumping across the whole map (which would draw a band round the world)."""
    out: list[tuple[float, float]] = []
    shift = 0.0
    for i, (x, y) in enumerate(pts):
        if i:
            jump = x + shift - out[-1][0]
            if jump > 180:
                shift -= 360
            elif jump < -180:
                shift += 360
        out.append((x + shift, y))
    return out


def _round(pts: list[tuple[float, float]]) -> list[list[float]]:
    out: list[list[float]] = []
    for x, y in pts:
        p = [round(x, DIGITS), round(y, DIGITS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def convert(topo: dict) -> dict:
    arcs = [_simplify(a, TOLERANCE) for a in _arcs(topo)]

    def ring(refs: list[int]) -> list[tuple[float, float]]:
        pts: list[tuple[float, float]] = []
        for r in refs:
            a = arcs[r] if r >= 0 else arcs[~r][::-1]
            pts += a if not pts else a[1:]
        return pts

    polygons = []
    for geom in topo["objects"]["land"]["geometries"]:
        polys = geom["arcs"] if geom["type"] == "MultiPolygon" else [geom["arcs"]]
        for poly in polys:
            rings = [_round(_unwrap(ring(r))) for r in poly]
            rings = [r for r in rings if len(r) >= 4]
            if rings:
                polygons.append(rings)
    users: dict[int, set[int]] = defaultdict(set)
    for n, geom in enumerate(topo["objects"]["countries"]["geometries"]):
        polys = geom.get("arcs", [])
        polys = polys if geom["type"] == "MultiPolygon" else [polys]
        for poly in polys:
            for r in poly:
                for a in r:
                    users[a if a >= 0 else ~a].add(n)
    borders = [_round(_unwrap(arcs[a])) for a in sorted(users) if len(users[a]) > 1]
    borders = [b for b in borders if len(b) >= 2]
    features = [
        {
            "type": "Feature",
            "properties": {"layer": "land"},
            "geometry": {"type": "MultiPolygon", "coordinates": polygons},
        },
        {
            "type": "Feature",
            "properties": {"layer": "borders"},
            "geometry": {"type": "MultiLineString", "coordinates": borders},
        },
    ]
    return {"type": "FeatureCollection", "features": features}


def main(argv: list[str]) -> int:
    topo = json.loads(Path(argv[0]).read_text())
    sys.stdout.write(json.dumps(convert(topo), separators=(",", ":")) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
