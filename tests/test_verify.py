"""The independent verifier: a real design passes; one planted violation of each kind is
named by the right check; the CLI exit codes (0 clean, 5 violation, 2 unreadable)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from model.pipeline import run_scenario
from model.verify import EXIT_VIOLATION, Violation, main, verify_design, verify_tables

REPO = Path(__file__).resolve().parents[1]

SETTINGS = """
[demand]
gpu_racks = 4
rack_kw = 100
storage_pb = 1
storage_copies = 2
storage_kw_per_pb = 10
storage_gbps_per_rack = 10
storage_gbps_per_pb = 1000
storage_latency_ms = 5
sync_gbps = 100
sync_latency_ms = 5
max_gpu_sites = 2
min_racks_per_gpu_site = 1

[resilience]
link_protection = "diverse"
protected_share = 0.5
zone_survival_share = 0.5
min_routers_per_site = 1

[economics]
discount_rate = 0.05

[network]
hop_latency_us = 10

[solver]
mip_gap = 0.0
time_limit_s = 60
"""
SITES = """site,lat,lon,zone,gpu,storage,existing,max_power_mw,max_racks,open_capex_usd,build_usd_per_kw,energy_usd_per_mwh,carbon_kg_per_mwh,pue_offset
A,35.0,139.0,z1,1,0,0,1,2,1000,10,100,0,0
B,35.0,140.0,z2,1,1,0,1,2,5000,10,200,0,0.02
C,36.0,139.0,z3,0,1,0,1,,100,10,100,0,0
"""  # noqa: E501
ROUTES = """a,b,km,medium,srlg,build_capex_usd,max_units,existing_gbps,flow_usd_per_gbps_year
A,B,100,smf,,1000,8,0,0.5
B,C,100,smf,,1000,8,0,0
A,C,100,smf,west,1000,8,0,0
"""
LINK_TYPES = """type,medium,capacity_gbps,reach_km,capex_usd,opex_usd_per_year,power_w,dsp_latency_us,ports,deep_buffer_over_km
zr,smf,400,120,1000,50,20,5,1,50
"""  # noqa: E501
ROUTERS = """model,capacity_gbps,ports,capex_usd,power_kw,deep_buffer
deep,12800,32,500,1,1
shallow,12800,32,100,1,0
"""
COOLING = """method,max_rack_kw,pue,capex_usd_per_kw
air,40,1.5,100
dlc,140,1.2,200
"""
DEMANDS = """src,dst,gbps,max_latency_ms,protected
C,A,50,5,1
"""


def write_dataset(folder: Path) -> Path:
    """Three sites in three zones on a triangle of 100 km routes (every route past the
    type's 50 km deep-buffer limit); A and B may host GPUs, B and C storage; two storage
    copies, diverse protection, zone survival and one protected explicit demand."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {
        "settings.toml": SETTINGS,
        "sites.csv": SITES,
        "routes.csv": ROUTES,
        "link_types.csv": LINK_TYPES,
        "routers.csv": ROUTERS,
        "cooling.csv": COOLING,
        "demands.csv": DEMANDS,
    }
    for name, text in files.items():
        (folder / name).write_text(text.lstrip())
    return folder


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, object]:
    root = tmp_path_factory.mktemp("verify")
    data = write_dataset(root / "tri")
    result = run_scenario(data, "base", root / "results")
    return data, result.out_dir, result


@pytest.fixture
def design(solved: tuple[Path, Path, object], tmp_path: Path) -> Path:
    """A fresh copy of the solved design to plant a violation in."""
    return Path(shutil.copytree(solved[1], tmp_path / "design"))


def edit(folder: Path, name: str, fn) -> pd.DataFrame:
    df = pd.read_csv(folder / name, keep_default_na=False, dtype=str)
    df = fn(df)
    df.to_csv(folder / name, index=False)
    return df


def checks(violations: list[Violation]) -> set[str]:
    return {v.check for v in violations}


def named(violations: list[Violation], check: str, *words: str) -> list[Violation]:
    """Violations of ``check`` whose objects or message mention every word."""
    return [
        v
        for v in violations
        if v.check == check and all(w in f"{v.objects} {v.message}" for w in words)
    ]


def site_col(df: pd.DataFrame, site: str, col: str) -> str:
    return df.loc[df["site"] == site, col].iloc[0]


def test_solved_design_passes(solved: tuple[Path, Path, object]) -> None:
    data, out, result = solved
    sites = pd.read_csv(out / "sites.csv", keep_default_na=False)
    # The instance exercises what the checks look at: racks at A and B, storage at two
    # sites, protected traffic on two paths, deep-buffer routers.
    assert sites.set_index("site")["gpu_racks"].to_dict() == {"A": 2, "B": 2, "C": 0}
    assert (sites["storage_pb"] > 0).sum() == 2
    assert verify_design(out) == []
    assert verify_design(out, data) == []
    assert verify_tables(result.dataset, result.tables) == []


def test_racks_moved_to_a_site_without_gpus(design: Path) -> None:
    def move(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["site"] == "A", "gpu_racks"] = "0"
        df.loc[df["site"] == "C", "gpu_racks"] = "2"
        return df

    edit(design, "sites.csv", move)
    found = verify_design(design)
    assert named(found, "racks", "site C", "gpu = 0")
    assert named(found, "traffic", "sync C→B", "100 > 0")  # C now needs scale-across traffic


def test_racks_moved_between_gpu_sites_breaks_zone_survival(design: Path) -> None:
    def move(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["site"] == "A", "gpu_racks"] = "1"
        df.loc[df["site"] == "B", "gpu_racks"] = "3"
        return df

    edit(design, "sites.csv", move)
    found = verify_design(design)
    zone = named(found, "zone_survival", "zone z2")
    assert zone and "2 > 1" in zone[0].message  # need 0.5 × 4 = 2, A keeps 1
    assert named(found, "racks", "site B", "max_racks")
    assert named(found, "cooling", "site A", "it_kw")


def test_storage_copies_in_one_zone(design: Path) -> None:
    sites = pd.read_csv(design / "sites.csv", keep_default_na=False, dtype=str)
    holders = sites.loc[sites["storage_pb"].astype(float) > 0, "site"].tolist()
    assert sorted(holders) == ["B", "C"]

    def move(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["site"] == "B", "storage_pb"] = "2.0"
        df.loc[df["site"] == "C", "storage_pb"] = "0.0"
        return df

    edit(design, "sites.csv", move)
    found = verify_design(design)
    hit = named(found, "storage", "zone z2", "storage_pb")
    assert hit and "2 > 1" in hit[0].message


def test_capacity_exceeded_by_scaling_a_flow(design: Path) -> None:
    def scale(df: pd.DataFrame) -> pd.DataFrame:
        i = df.index[df["kind"] == "sync"][0]
        df.loc[i, "gbps"] = str(float(df.loc[i, "gbps"]) * 100)
        return df

    edit(design, "flows.csv", scale)
    found = verify_design(design)
    hit = [v for v in found if v.check == "capacity" and "Σ flow" in v.message]
    assert hit and hit[0].objects.startswith("route ")


def test_latency_above_bound(solved: tuple[Path, Path, object], tmp_path: Path) -> None:
    data, out, _ = solved
    tight = Path(shutil.copytree(data, tmp_path / "tight"))
    text = (
        (tight / "settings.toml")
        .read_text()
        .replace("sync_latency_ms = 5", "sync_latency_ms = 0.4")
    )
    (tight / "settings.toml").write_text(text)
    found = verify_design(out, tight)
    hit = named(found, "latency", "sync:", "latency_ms > bound")
    assert hit and "> 0.4" in hit[0].message
    assert named(found, "latency", "bound_ms is 5")  # the CSV's bound is not the data's


def test_flow_against_a_directed_route(solved: tuple[Path, Path, object], tmp_path: Path) -> None:
    data, out, _ = solved
    one_way = Path(shutil.copytree(data, tmp_path / "one_way"))
    routes = (one_way / "routes.csv").read_text().splitlines()
    routes = [routes[0] + ",directed"] + [f"{r},{int(r.startswith('A,B'))}" for r in routes[1:]]
    (one_way / "routes.csv").write_text("\n".join(routes) + "\n")
    hit = named(verify_design(out, one_way), "capacity", "route A-B", "directed A→B")
    assert hit and "B→A" in hit[0].message


def test_latency_misreported(design: Path) -> None:
    edit(design, "flows.csv", lambda df: df.assign(latency_ms="0.001"))
    assert named(verify_design(design), "latency", "latency_ms is 0.001")


def test_unit_count_reduced(design: Path) -> None:
    def reduce(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, "units"] = str(int(df.loc[0, "units"]) - 1)
        return df

    links = edit(design, "links.csv", reduce)
    found = verify_design(design)
    route = links.loc[0, "route"]
    assert named(found, "links", f"route {route}", "capacity_gbps")
    assert checks(found) >= {"links", "capacity", "cooling", "costs"}


def test_router_removed(design: Path) -> None:
    def remove(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["site"] == "A", ["routers", "router_models"]] = ["0", ""]
        return df

    edit(design, "sites.csv", remove)
    found = verify_design(design)
    assert named(found, "routers", "site A", "router ports")
    assert named(found, "routers", "site A", "min_routers_per_site")


def test_deep_buffer_router_swapped_for_shallow(design: Path) -> None:
    sites = pd.read_csv(design / "sites.csv", keep_default_na=False, dtype=str)
    assert site_col(sites, "A", "router_models").startswith("deep:")

    def swap(df: pd.DataFrame) -> pd.DataFrame:
        i = df.index[df["site"] == "A"][0]
        df.loc[i, "router_models"] = df.loc[i, "router_models"].replace("deep:", "shallow:")
        return df

    edit(design, "sites.csv", swap)
    found = verify_design(design)
    assert named(found, "routers", "site A", "deep-buffer")
    assert not named(found, "routers", "site B")


def test_cost_changed(design: Path) -> None:
    edit(
        design,
        "summary.csv",
        lambda df: df.assign(annual_cost_usd=float(df.loc[0, "annual_cost_usd"]) + 1000),
    )
    found = verify_design(design)
    assert checks(found) == {"costs"}
    assert named(found, "costs", "summary.csv", "annual_cost_usd")


def test_site_cost_changed(design: Path) -> None:
    def bump(df: pd.DataFrame) -> pd.DataFrame:
        i = df.index[df["site"] == "B"][0]
        df.loc[i, "annual_cost_usd"] = str(float(df.loc[i, "annual_cost_usd"]) + 50)
        return df

    edit(design, "sites.csv", bump)
    found = verify_design(design)
    assert named(found, "costs", "site B", "annual_cost_usd")


def test_cooling_that_cannot_take_the_rack(design: Path) -> None:
    def swap(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[df["site"] == "A", "cooling"] = "air"
        return df

    edit(design, "sites.csv", swap)
    found = verify_design(design)
    hit = named(found, "cooling", "site A (air)", "max_rack_kw")
    assert hit and "100 > 40" in hit[0].message
    assert named(found, "cooling", "site A", "facility_kw")  # PUE 1.5, not 1.2


def test_protection_lost_when_one_path_carries_everything(design: Path) -> None:
    flows = pd.read_csv(design / "flows.csv", keep_default_na=False, dtype=str)
    sync = flows[flows["commodity"] == "sync:A>B"]
    assert len(sync) == 2  # direct, and via C

    def concentrate(df: pd.DataFrame) -> pd.DataFrame:
        rows = df.index[df["commodity"] == "sync:A>B"]
        total = df.loc[rows, "gbps"].astype(float).sum()
        df.loc[rows[0], "gbps"] = str(total)
        return df.drop(index=rows[1])

    edit(design, "flows.csv", concentrate)
    found = verify_design(design)
    assert named(found, "traffic", "sync:A>B", "under failure", "protected_share")


def test_storage_bandwidth_short(design: Path) -> None:
    """A holds no storage (storage = 0), so its 2 racks × 10 Gbps must come over the
    network; without storage flows it gets none."""
    edit(design, "flows.csv", lambda df: df[df["kind"] != "storage"])
    hit = named(verify_design(design), "traffic", "GPU site A", "storage_gbps_per_rack")
    assert hit and "0 Gbps < storage_gbps_per_rack × racks 20 Gbps" in hit[0].message


def test_demand_not_carried(design: Path) -> None:
    edit(design, "flows.csv", lambda df: df[df["kind"] != "demand"])
    found = verify_design(design)
    hit = named(found, "traffic", "demand C>A", "gbps > Σ flow")
    assert hit and "50 > 0" in hit[0].message


def test_storage_direction_missing(tmp_path: Path) -> None:
    """Two GPU+storage sites: ``storage:A>B`` could be either site's storage; the verifier
    pairs the read and write directions up, and names the pair when one is missing."""
    data = write_dataset(tmp_path / "pair")
    (data / "sites.csv").write_text(
        SITES.replace("A,35.0,139.0,z1,1,0", "A,35.0,139.0,z1,1,1").lstrip()
    )
    (data / "demands.csv").unlink()
    text = SETTINGS.replace("storage_copies = 2", "storage_copies = 1")
    (data / "settings.toml").write_text(
        text.replace('link_protection = "diverse"', 'link_protection = "none"')
    )
    out = run_scenario(data, "base", tmp_path / "results").out_dir
    assert verify_design(out) == []
    flows = pd.read_csv(out / "flows.csv", keep_default_na=False, dtype=str)
    storage = flows[flows["kind"] == "storage"]
    if storage.empty:
        pytest.skip("the optimum keeps all storage traffic local")
    edit(out, "flows.csv", lambda df: df.drop(index=storage.index[-1]))
    assert named(verify_design(out), "traffic", "storage")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from model.verify import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True, timeout=60
    )


def test_cli_exit_codes(solved: tuple[Path, Path, object], design: Path, tmp_path: Path) -> None:
    """0 clean, 5 a violation, 2 a missing file (in a subprocess, as solve.py runs it)."""
    data, out, _ = solved
    ok = run_cli(str(out), "--data", str(data))
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("OK:") and "checks" in ok.stdout

    edit(design, "summary.csv", lambda df: df.assign(units=99))
    bad = run_cli(str(design))
    assert bad.returncode == EXIT_VIOLATION == 5
    assert "costs" in bad.stdout and "units is 99" in bad.stdout

    (design / "flows.csv").unlink()
    missing = run_cli(str(design))
    assert missing.returncode == 2
    assert "flows.csv" in missing.stderr


def test_main_exit_codes_for_unusable_folders(
    solved: tuple[Path, Path, object], design: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = solved[1]
    assert main([str(out)]) == 0
    assert main([str(tmp_path / "nowhere")]) == 2
    infeasible = tmp_path / "infeasible"
    infeasible.mkdir()
    (infeasible / "summary.csv").write_text("dataset,scenario,status\ntri,base,infeasible\n")
    (infeasible / "run.json").write_text((out / "run.json").read_text())
    assert main([str(infeasible)]) == 2
    assert "no design to verify" in capsys.readouterr().err
    (design / "flows.csv").write_text("commodity,kind\nx,y\n")
    assert main([str(design)]) == 2
    assert "flows.csv: required column(s) missing" in capsys.readouterr().err
    shutil.copy(out / "flows.csv", design / "flows.csv")
    edit(design, "sites.csv", lambda df: df.assign(it_kw="lots"))
    assert main([str(design)]) == 2
    assert "column it_kw: value 'lots' is not a number" in capsys.readouterr().err
