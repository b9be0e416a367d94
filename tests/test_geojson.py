"""design.geojson: valid RFC 7946 GeoJSON ([lon, lat] in WGS 84, no foreign members that
break readers, strict JSON) with every site as a Point and every route of links.csv as a
LineString between its two sites; sites.csv carries lat and lon. Checked by hand on a
tiny design whose coordinates are known."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from builders import route, write_dataset

from model.pipeline import SolveOptions, run_scenario

# Tokyo and Osaka (lat, lon), written in sites.csv as lat, lon.
TOKYO = (35.68, 139.77)
OSAKA = (34.69, 135.50)
NAGOYA = (35.18, 136.91)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("geo")
    sites = [
        {"site": "tokyo", "lat": TOKYO[0], "lon": TOKYO[1], "gpu": 1, "zone": "z1",
         "build_usd_per_kw": 1, "max_racks": 2},
        {"site": "osaka", "lat": OSAKA[0], "lon": OSAKA[1], "gpu": 1, "zone": "z2",
         "build_usd_per_kw": 2},
        {"site": "nagoya", "lat": NAGOYA[0], "lon": NAGOYA[1], "zone": "z3"},
    ]  # fmt: skip
    ds = write_dataset(
        root / "geo",
        sites,
        routes=[route("tokyo", "nagoya", 270), route("nagoya", "osaka", 140)],
        settings={"demand": {"gpu_racks": 4, "sync_gbps": 100, "max_gpu_sites": 2}},
    )
    run_scenario(ds, "base", root / "res", SolveOptions(mip_gap=0.0))
    return root / "res" / "geo" / "base"


def strict_json(text: str) -> dict:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_sites_csv_carries_coordinates(folder: Path) -> None:
    sites = pd.read_csv(folder / "sites.csv").set_index("site")
    assert (sites.at["tokyo", "lat"], sites.at["tokyo", "lon"]) == TOKYO
    assert (sites.at["osaka", "lat"], sites.at["osaka", "lon"]) == OSAKA


def test_geojson_points_and_lines(folder: Path) -> None:
    geo = strict_json((folder / "design.geojson").read_text(encoding="utf-8"))
    sites = pd.read_csv(folder / "sites.csv")
    links = pd.read_csv(folder / "links.csv")
    assert geo["type"] == "FeatureCollection" and "crs" not in geo  # RFC 7946 §4
    points = [f for f in geo["features"] if f["geometry"]["type"] == "Point"]
    lines = [f for f in geo["features"] if f["geometry"]["type"] == "LineString"]
    assert len(points) + len(lines) == len(geo["features"])
    assert len(points) == len(sites) == 3
    assert len(lines) == links["route"].nunique()
    # [lon, lat], by hand
    at = {f["properties"]["site"]: f["geometry"]["coordinates"] for f in points}
    assert at == {
        "tokyo": [TOKYO[1], TOKYO[0]],
        "osaka": [OSAKA[1], OSAKA[0]],
        "nagoya": [NAGOYA[1], NAGOYA[0]],
    }
    for f in points:
        row = sites.set_index("site").loc[f["properties"]["site"]]
        assert f["properties"]["open"] == row["open"]
        assert f["properties"]["gpu_racks"] == row["gpu_racks"]
    # 2 racks fit at tokyo, 2 go to osaka: the sync traffic lights both routes
    ends = {tuple(tuple(p) for p in f["geometry"]["coordinates"]) for f in lines}
    assert ends == {
        ((TOKYO[1], TOKYO[0]), (NAGOYA[1], NAGOYA[0])),
        ((NAGOYA[1], NAGOYA[0]), (OSAKA[1], OSAKA[0])),
    }
    for f in lines:
        p = f["properties"]
        rows = links[links["route"] == p["route"]]
        assert p["units"] == rows["units"].sum()
        assert p["type"] == ";".join(rows["type"])
        assert p["capacity_gbps"] == rows["route_capacity_gbps"].iloc[0]
        assert p["utilization"] == rows["utilization"].iloc[0]
        assert p["lit"] == (p["units"] > 0)


def test_geojson_coordinates_are_in_range(folder: Path) -> None:
    geo = strict_json((folder / "design.geojson").read_text(encoding="utf-8"))
    for f in geo["features"]:
        coords = f["geometry"]["coordinates"]
        for lon, lat in [coords] if f["geometry"]["type"] == "Point" else coords:
            assert -180 <= lon <= 180 and -90 <= lat <= 90
