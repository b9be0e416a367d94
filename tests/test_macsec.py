"""MACsec (docs/contract.md §10): the ports of units on routes where traffic leaves our
control land on MACsec routers; ports needing a deep buffer and MACsec on models with
both. Hand-computed optima: flat economics (every CRF = 1), one zr unit (100 Gbps,
reach 1000 km, deep buffer beyond 500 km) costs 7, every router has 10 ports."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from builders import approx, route, solve_dir, transit, write_dataset

from model.errors import InputError
from model.load import load_dataset
from model.verify import verify_tables

ZR = {
    "type": "zr",
    "medium": "smf",
    "capacity_gbps": 100,
    "reach_km": 1000,
    "capex_usd": 7,
    "ports": 1,
    "deep_buffer_over_km": 500,
}


def router(name: str, capex: float, deep: int = 0, macsec: int = 0) -> dict:
    return {
        "model": name,
        "capacity_gbps": 1000,
        "ports": 10,
        "capex_usd": capex,
        "deep_buffer": deep,
        "macsec": macsec,
    }


ROUTERS = [router("plain", 1), router("deep", 3, deep=1), router("sec", 5, macsec=1)]


def models_at(res) -> dict[str, str]:
    s = res.tables.sites
    return {r.site: r.router_models for r in s.itertuples() if r.router_models}


def test_a_leased_route_lands_on_macsec_routers(tmp_path: Path) -> None:
    # 50 Gbps A → B over one 100 km route: one unit (7) and a router at each end.
    # Plain routers: 1 + 1 + 7 = 9. On a MACsec route: 5 + 5 + 7 = 17, whether the
    # routes.csv cell says so or the medium is in [network] macsec_media; an explicit
    # 0 in the cell keeps the route plain even when its medium is listed.
    def case(name: str, cell: object, media: list[str]) -> Path:
        return write_dataset(
            tmp_path / name,
            [transit("A"), transit("B")],
            routes=[route("A", "B", 100, macsec=cell)],
            link_types=[ZR],
            routers=ROUTERS,
            demands=[{"src": "A", "dst": "B", "gbps": 50}],
            settings={"network": {"macsec_media": media}},
        )

    plain = solve_dir(case("plain", "", []))
    assert plain.outcome.objective == approx(9)
    assert models_at(plain) == {"A": "plain:1", "B": "plain:1"}
    for name, cell, media in (("cell", 1, []), ("media", "", ["smf"])):
        res = solve_dir(case(name, cell, media))
        assert res.outcome.objective == approx(17), name
        assert models_at(res) == {"A": "sec:1", "B": "sec:1"}, name
    kept = solve_dir(case("kept", 0, ["smf"]))
    assert kept.outcome.objective == approx(9)
    # the verifier catches a plain router on the MACsec route
    res = solve_dir(case("check", 1, []))
    sites = res.tables.sites.copy()
    sites.loc[sites["site"] == "A", "router_models"] = "plain:1"
    broken = dataclasses.replace(res.tables, sites=sites)
    found = [v for v in verify_tables(res.dataset, broken) if v.check == "routers"]
    assert any("MACsec routers" in v.message for v in found)


def test_long_macsec_route_needs_both_on_one_model(tmp_path: Path) -> None:
    # 50 Gbps A → B over 100 km (MACsec) and A → C over 800 km (deep buffer): a combo
    # model (MACsec and deep buffer, 6) takes both ports at A (sec + deep would be 8);
    # B takes sec (5), C deep (3); two units 14. Total 6 + 5 + 3 + 14 = 28.
    # With A-C MACsec too, C needs the combo as well: 6 + 5 + 6 + 14 = 31.
    routers = [*ROUTERS, router("combo", 6, deep=1, macsec=1)]

    def case(name: str, long_cell: int) -> Path:
        return write_dataset(
            tmp_path / name,
            [transit("A"), transit("B"), transit("C")],
            routes=[route("A", "B", 100, macsec=1), route("A", "C", 800, macsec=long_cell)],
            link_types=[ZR],
            routers=routers,
            demands=[
                {"src": "A", "dst": "B", "gbps": 50},
                {"src": "A", "dst": "C", "gbps": 50},
            ],
        )

    res = solve_dir(case("one", 0))
    assert res.outcome.objective == approx(28)
    assert models_at(res) == {"A": "combo:1", "B": "sec:1", "C": "deep:1"}
    res = solve_dir(case("both", 1))
    assert res.outcome.objective == approx(31)
    assert models_at(res) == {"A": "combo:1", "B": "sec:1", "C": "combo:1"}


def test_bad_macsec_inputs_are_named(tmp_path: Path) -> None:
    cell = write_dataset(
        tmp_path / "cell", [transit("A"), transit("B")], routes=[route("A", "B", 100, macsec=2)]
    )
    with pytest.raises(InputError) as err:
        load_dataset(cell)
    assert "routes.csv row 1 (line 2, a 'A'), column macsec: value '2' is not 0 or 1" in str(
        err.value
    )
    media = write_dataset(
        tmp_path / "media",
        [transit("A"), transit("B")],
        routes=[route("A", "B", 100)],
        settings={"network": {"macsec_media": ["fiber"]}},
    )
    with pytest.raises(InputError) as err:
        load_dataset(media)
    assert (
        "settings.toml [network] macsec_media: medium 'fiber' is not a key of "
        "[network.latency_us_per_km]" in str(err.value)
    )


def test_one_port_cannot_serve_a_deep_and_a_macsec_unit(tmp_path: Path) -> None:
    # A ends a short MACsec route (to B) and an 800 km route (to C, deep buffer). The only
    # special model, combo (MACsec and deep buffer), has one port (6); plain has 10 (1).
    # A's two units need two special ports: 2 combos (12), not one combo and a plain box
    # (7), which would count the combo's single port once for MACsec and once for the
    # deep buffer. B and C one combo each (12), two units (14): 38.
    folder = write_dataset(
        tmp_path,
        [transit("A"), transit("B"), transit("C")],
        routes=[route("A", "B", 100, macsec=1), route("A", "C", 800, macsec=0)],
        link_types=[ZR],
        routers=[
            router("plain", 1),
            {**router("combo", 6, deep=1, macsec=1), "ports": 1},
        ],
        demands=[
            {"src": "A", "dst": "B", "gbps": 50},
            {"src": "A", "dst": "C", "gbps": 50},
        ],
    )
    res = solve_dir(folder)
    assert res.outcome.objective == approx(38)
    assert models_at(res) == {"A": "combo:2", "B": "combo:1", "C": "combo:1"}
