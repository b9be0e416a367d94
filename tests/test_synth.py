"""The synthetic data-set generator: determinism, contract (docs/contract.md §1), CLI errors."""

from __future__ import annotations

import csv
import tomllib
from pathlib import Path

import networkx as nx
import pytest

from model.synth import main

# contract §1: required files and their columns (the public contract).
REQUIRED = {
    "sites.csv": ["site", "lat", "lon", "zone", "gpu", "storage", "existing", "max_power_mw",
                  "max_racks", "open_capex_usd", "build_usd_per_kw", "energy_usd_per_mwh",
                  "carbon_kg_per_mwh", "pue_offset"],
    "link_types.csv": ["type", "medium", "capacity_gbps", "reach_km", "capex_usd",
                       "opex_usd_per_year", "power_w", "dsp_latency_us", "ports",
                       "deep_buffer_over_km"],
    "routers.csv": ["model", "capacity_gbps", "ports", "capex_usd", "power_kw", "deep_buffer"],
    "cooling.csv": ["method", "max_rack_kw", "pue", "capex_usd_per_kw"],
}
ROUTE_COLUMNS = ["a", "b", "km", "medium", "srlg", "build_capex_usd", "max_units",
                 "existing_gbps", "flow_usd_per_gbps_year"]
SETTINGS_KEYS = {
    "demand": {"gpu_racks", "rack_kw", "rack_capex_usd", "storage_pb", "storage_kw_per_pb",
               "storage_copies", "storage_gbps_per_rack", "storage_gbps_per_pb",
               "storage_latency_ms", "sync_gbps", "sync_latency_ms", "max_gpu_sites",
               "min_racks_per_gpu_site"},
    "resilience": {"link_protection", "protected_share", "zone_survival_share",
                   "min_routers_per_site"},
    "economics": {"discount_rate", "power_weight_usd_per_mw_year", "carbon_usd_per_t",
                  "lifetime_years"},
    "network": {"route_factor", "candidate_k", "max_route_km", "paths_per_pair",
                "hop_latency_us", "latency_us_per_km", "transit_pue", "capacity_sharing"},
}


def _gen(out: Path, *args: str) -> Path:
    assert main([*args, str(out)]) == 0
    return out


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    a = _gen(tmp_path / "a", "--sites", "15", "--seed", "7", "--routes")
    b = _gen(tmp_path / "b", "--sites", "15", "--seed", "7", "--routes")
    assert _files(a) == _files(b)


def test_different_seed_writes_different_sites(tmp_path: Path) -> None:
    a = _gen(tmp_path / "a", "--sites", "15", "--seed", "1")
    b = _gen(tmp_path / "b", "--sites", "15", "--seed", "2")
    assert (a / "sites.csv").read_bytes() != (b / "sites.csv").read_bytes()


@pytest.mark.parametrize("n", [2, 3, 12, 40])
def test_contract_files_columns_and_sites(tmp_path: Path, n: int) -> None:
    out = _gen(tmp_path / "d", "--sites", str(n), "--seed", "3")
    for name, columns in REQUIRED.items():
        with (out / name).open(newline="", encoding="utf-8") as fh:
            header = next(csv.reader(fh))
        assert header[: len(columns)] == columns, name
    assert (out / "README.md").read_text(encoding="utf-8").lower().count("synthetic") >= 1
    assert not (out / "routes.csv").exists()
    settings = tomllib.loads((out / "settings.toml").read_text(encoding="utf-8"))
    for section, keys in SETTINGS_KEYS.items():
        assert keys <= set(settings[section]), section
    sites = _rows(out / "sites.csv")
    names = [s["site"] for s in sites]
    assert len(sites) == n
    assert len(set(names)) == n
    assert any(s["gpu"] == "1" for s in sites)
    assert any(s["storage"] == "1" for s in sites)
    storage_zones = {s["zone"] for s in sites if s["storage"] == "1"}
    assert len(storage_zones) >= settings["demand"]["storage_copies"]
    for s in sites:
        assert s["gpu"] in ("0", "1") and s["storage"] in ("0", "1")
        if s["gpu"] == "1":
            assert s["storage"] == "1"
    media = set(settings["network"]["latency_us_per_km"])
    assert {t["medium"] for t in _rows(out / "link_types.csv")} <= media


def test_routes_option_writes_connected_candidates(tmp_path: Path) -> None:
    out = _gen(tmp_path / "d", "--sites", "25", "--seed", "5", "--routes")
    routes = _rows(out / "routes.csv")
    with (out / "routes.csv").open(newline="", encoding="utf-8") as fh:
        assert next(csv.reader(fh)) == ROUTE_COLUMNS
    names = {s["site"] for s in _rows(out / "sites.csv")}
    g = nx.Graph()
    g.add_nodes_from(names)
    for r in routes:
        assert r["a"] in names and r["b"] in names and r["a"] != r["b"]
        assert float(r["km"]) > 0
        g.add_edge(r["a"], r["b"])
    assert nx.is_connected(g)
    assert not list(nx.bridges(g))


def test_rerun_without_routes_removes_stale_routes(tmp_path: Path) -> None:
    out = _gen(tmp_path / "d", "--sites", "6", "--seed", "1", "--routes")
    assert (out / "routes.csv").exists()
    _gen(out, "--sites", "6", "--seed", "1")
    assert not (out / "routes.csv").exists()


@pytest.mark.parametrize("n", ["1", "0", "-3"])
def test_too_few_sites_exits_2_with_message(
    tmp_path: Path, n: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--sites", n, str(tmp_path / "d")])
    assert exc.value.code == 2
    assert "--sites must be at least 2" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_missing_sites_argument_exits_2(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path / "d")])
    assert exc.value.code == 2


def test_generated_data_set_loads(tmp_path: Path) -> None:
    load = pytest.importorskip("model.load")
    out = _gen(tmp_path / "d", "--sites", "12", "--seed", "4")
    ds = load.load_dataset(out)
    assert len(ds.sites) == 12
    assert len(ds.routes) > 0  # generated from coordinates by the loader
    routed = _gen(tmp_path / "r", "--sites", "12", "--seed", "4", "--routes")
    assert len(load.load_dataset(routed).routes) > 0
