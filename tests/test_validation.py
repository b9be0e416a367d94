"""Input validation: every problem is reported at once with file, row, column, value and
what was expected."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import route, write_dataset
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from model.errors import InputError
from model.load import load_dataset

SITES = [{"site": "A", "lat": 35, "lon": 139, "gpu": 1}, {"site": "B", "lat": 34, "lon": 135}]


def problems(folder: Path, scenario: str = "base") -> str:
    with pytest.raises(InputError) as err:
        load_dataset(folder, scenario)
    return str(err.value)


def test_bad_cells_are_all_reported_with_row_and_column(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES, routes=[route("A", "B", 100)])
    sites = pd.read_csv(ds / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[0, "lat"] = "north"
    sites.loc[1, "gpu"] = "yes"
    sites.loc[1, "max_power_mw"] = "-5"
    sites.to_csv(ds / "sites.csv", index=False)
    msg = problems(ds)
    assert "3 problems" in msg
    assert "sites.csv row 1 (line 2, site 'A'), column lat: value 'north' is not a number" in msg
    assert "sites.csv row 2 (line 3, site 'B'), column gpu: value 'yes' is not 0 or 1" in msg
    assert "column max_power_mw: value '-5' is not a number ≥ 0" in msg


def test_unknown_site_and_medium_in_routes(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES, routes=[route("A", "C", 100, medium="copper")])
    msg = problems(ds)
    assert "routes.csv row 1 (line 2, route 'A-C'), column b: site 'C' is not in sites.csv" in msg
    assert "column medium: medium 'copper' is not a key of [network.latency_us_per_km]" in msg


def test_missing_required_file_and_column(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES)
    (ds / "cooling.csv").unlink()
    pd.DataFrame([{"model": "r", "ports": 4}]).to_csv(ds / "routers.csv", index=False)
    msg = problems(ds)
    assert "cooling.csv: required file is missing" in msg
    assert "routers.csv: required column 'capacity_gbps' is missing" in msg


def test_duplicate_ids(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, [*SITES, {"site": "A", "lat": 1, "lon": 1}])
    assert "sites.csv row 3 (line 4), column site: duplicate id 'A'" in problems(ds)


def test_settings_type_errors_and_unknown_keys(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES)
    text = (ds / "settings.toml").read_text()
    text = text.replace("gpu_racks = 0", 'gpu_racks = "many"\ngpu_rackz = 3')
    (ds / "settings.toml").write_text(text)
    msg = problems(ds)
    assert "settings.toml [demand] gpu_racks: value 'many'" in msg
    assert "settings.toml [demand] gpu_rackz" in msg and "Extra inputs are not permitted" in msg


def test_named_choice_is_checked(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES, settings={"resilience": {"link_protection": "1+1"}})
    msg = problems(ds)
    assert "[resilience] link_protection: value '1+1'" in msg and "'none' or 'diverse'" in msg


def test_scenario_override_errors_name_row_and_column(tmp_path: Path) -> None:
    ds = write_dataset(
        tmp_path,
        SITES,
        scenarios=[
            {"scenario": "ok", "demand.gpu_racks": 2},
            {"scenario": "bad", "demand.gpu_racks": "lots"},
        ],
    )
    assert load_dataset(ds, "ok").settings.demand.gpu_racks == 2
    msg = problems(ds, "bad")
    assert (
        "scenarios.csv row 2 (line 3, scenario 'bad'), column demand.gpu_racks: value 'lots'" in msg
    )


def test_unknown_scenario_and_column(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, SITES, scenarios=[{"scenario": "x", "demand.gpu_rack": 2}])
    msg = problems(ds, "y")
    assert "scenarios.csv, column demand.gpu_rack: not a settings key" in msg
    ds2 = write_dataset(tmp_path / "2", SITES, scenarios=[{"scenario": "x"}])
    assert "no scenario 'y' (known: x)" in problems(ds2, "y")


def test_offer_for_unknown_route_and_wrong_medium(tmp_path: Path) -> None:
    links = [
        {"type": "zr", "medium": "smf", "capacity_gbps": 100, "reach_km": 1000},
        {"type": "h", "medium": "hcf", "capacity_gbps": 100, "reach_km": 1000},
    ]
    offers = [
        {"a": "A", "b": "Z", "medium": "smf", "type": "zr"},
        {"a": "B", "b": "A", "medium": "smf", "type": "h"},
    ]
    ds = write_dataset(
        tmp_path, SITES, routes=[route("A", "B", 100)], link_types=links, offers=offers
    )
    msg = problems(ds)
    assert "offers.csv row 1 (line 2, type 'zr'), column a: no route A-Z of medium 'smf'" in msg
    assert "type 'h' runs on 'hcf', route 'A-B' is 'smf'" in msg


def test_pue_offset_cannot_make_facility_smaller_than_it(tmp_path: Path) -> None:
    ds = write_dataset(tmp_path, [{"site": "A", "lat": 35, "lon": 139, "pue_offset": -0.1}])
    assert "makes 'dlc' PUE 0.900 < 1" in problems(ds)


def test_generated_routes_connect_sites_and_remove_bridges(tmp_path: Path) -> None:
    # No routes.csv: candidates come from coordinates (k nearest, connected, 2-edge-connected).
    sites = [{"site": f"S{i}", "lat": 35 + 0.5 * i, "lon": 139 + (i % 2)} for i in range(6)]
    ds = load_dataset(write_dataset(tmp_path, sites, settings={"network": {"candidate_k": 1}}))
    assert ds.routes_generated
    import networkx as nx

    g = nx.Graph(list(zip(ds.routes["a"], ds.routes["b"], strict=True)))
    assert nx.is_connected(g) and not list(nx.bridges(g))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=st.text(alphabet="0123456789.-eE x,", min_size=0, max_size=8))
def test_numeric_cells_either_parse_or_name_the_column(tmp_path: Path, text: str) -> None:
    ds = write_dataset(tmp_path / "h", SITES)
    sites = pd.read_csv(ds / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[0, "max_power_mw"] = text
    sites.to_csv(ds / "sites.csv", index=False)
    try:
        loaded = load_dataset(ds)
    except InputError as exc:
        assert "column max_power_mw" in str(exc) or "cannot be read" in str(exc)
    else:
        value = loaded.sites.at["A", "max_power_mw"]
        assert value is None or pd.isna(value) or value >= 0


def test_an_empty_zone_is_the_sites_own_zone(tmp_path: Path) -> None:
    # An empty cell is read as NaN, which is truthy: it used to stay NaN and crash the
    # precheck when sorting zones (float against str), exit 1 on valid input.
    sites = [
        {"site": "A", "lat": 35, "lon": 139, "gpu": 1, "zone": "", "build_usd_per_kw": 1},
        {"site": "B", "lat": 34.7, "lon": 135.5, "gpu": 1, "zone": "z2", "build_usd_per_kw": 2},
    ]
    folder = write_dataset(
        tmp_path / "tiny",
        sites,
        routes=[route("A", "B", 500)],
        settings={"demand": {"gpu_racks": 4, "sync_gbps": 100, "max_gpu_sites": 2}},
    )
    ds = load_dataset(folder)
    assert ds.sites["zone"].to_dict() == {"A": "A", "B": "z2"}
    from model.cli import main

    assert main([str(folder), "--out", str(tmp_path / "res"), "-q"]) == 0
