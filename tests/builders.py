"""Shared helpers: write tiny data sets from Python, so every test instance is visible in
the test that uses it, with its hand-computed optimum beside it."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from model.pipeline import RunResult, SolveOptions, run_scenario

REPO = Path(__file__).resolve().parents[1]

# Economics that make every capital recovery factor 1 (discount 0, lifetimes 1 year), so
# hand-computed optima are plain sums of the prices in the tables.
FLAT_ECONOMICS = {
    "discount_rate": 0.0,
    "lifetime_years": {"site": 1, "cooling": 1, "router": 1, "optics": 1},
}
DEFAULT_SETTINGS: dict[str, Any] = {
    "demand": {"gpu_racks": 0, "rack_kw": 10.0},
    "resilience": {"min_routers_per_site": 0},
    "economics": FLAT_ECONOMICS,
    "network": {"hop_latency_us": 0.0, "latency_us_per_km": {"smf": 5.0, "hcf": 3.0}},
    "solver": {"mip_gap": 0.0, "time_limit_s": 60},
}
SITE_DEFAULTS = {
    "zone": "",
    "gpu": 0,
    "storage": 0,
    "existing": 0,
    "max_power_mw": "",
    "max_racks": "",
    "open_capex_usd": 0,
    "build_usd_per_kw": 0,
    "energy_usd_per_mwh": 0,
    "carbon_kg_per_mwh": 0,
    "pue_offset": 0,
}
ONE_LINK = [
    {
        "type": "zr",
        "medium": "smf",
        "capacity_gbps": 100,
        "reach_km": 1000,
        "capex_usd": 7,
        "opex_usd_per_year": 0,
        "power_w": 0,
        "dsp_latency_us": 0,
        "ports": 1,
        "deep_buffer_over_km": "",
    }
]
FREE_ROUTER = [
    {
        "model": "r",
        "capacity_gbps": 100000,
        "ports": 1000,
        "capex_usd": 0,
        "power_kw": 0,
        "deep_buffer": 1,
    }
]
PLAIN_COOLING = [{"method": "dlc", "max_rack_kw": 200, "pue": 1.0, "capex_usd_per_kw": 0}]


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


def dump_toml(data: dict, prefix: str = "") -> str:
    """A minimal TOML writer for nested tables of scalars and lists."""
    lines, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    out = ""
    if lines:
        out += (f"[{prefix}]\n" if prefix else "") + "\n".join(lines) + "\n\n"
    for k, v in tables:
        out += dump_toml(v, f"{prefix}.{k}" if prefix else k)
    return out


def write_dataset(
    folder: Path,
    sites: list[dict],
    settings: dict | None = None,
    routes: list[dict] | None = None,
    link_types: list[dict] | None = None,
    routers: list[dict] | None = None,
    cooling: list[dict] | None = None,
    demands: list[dict] | None = None,
    offers: list[dict] | None = None,
    scenarios: list[dict] | None = None,
) -> Path:
    """Write a data set folder; tables not given get one free, unconstrained row."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "settings.toml").write_text(dump_toml(_merge(DEFAULT_SETTINGS, settings or {})))
    pd.DataFrame([{**SITE_DEFAULTS, **s} for s in sites]).to_csv(folder / "sites.csv", index=False)
    tables = {
        "link_types.csv": link_types or ONE_LINK,
        "routers.csv": routers or FREE_ROUTER,
        "cooling.csv": cooling or PLAIN_COOLING,
        "routes.csv": routes,
        "demands.csv": demands,
        "offers.csv": offers,
        "scenarios.csv": scenarios,
    }
    for name, rows in tables.items():
        if rows is not None:
            pd.DataFrame(rows).to_csv(folder / name, index=False)
    return folder


def route(a: str, b: str, km: float, **kw: Any) -> dict:
    return {
        "a": a,
        "b": b,
        "km": km,
        "medium": "smf",
        "srlg": "",
        "build_capex_usd": 0,
        "max_units": "",
        "existing_gbps": 0,
        "flow_usd_per_gbps_year": 0,
        **kw,
    }


def solve_dir(folder: Path, scenario: str = "base", out: Path | None = None) -> RunResult:
    return run_scenario(folder, scenario, out, SolveOptions(mip_gap=0.0))


def approx(x: float) -> Any:
    return pytest.approx(x, rel=1e-9, abs=1e-6)


def racks_at(result: RunResult) -> dict[str, int]:
    s = result.tables.sites
    return {r.site: int(r.gpu_racks) for r in s.itertuples() if r.gpu_racks}


def units_on(result: RunResult) -> dict[tuple[str, str], int]:
    links = result.tables.links
    return {(r.route, r.type): int(r.units) for r in links.itertuples() if r.units}


def transit(name: str, **kw: Any) -> dict:
    """A site that hosts nothing (a transit node), at the default coordinates."""
    return {"site": name, "lat": 35.0, "lon": 139.0, **kw}


def gpu_site(name: str, **kw: Any) -> dict:
    """A site that may host GPU racks, at the default coordinates."""
    return {"site": name, "lat": 35.0, "lon": 139.0, "gpu": 1, **kw}


def two_sites(folder: Path, scenarios: list[dict] | None = None) -> Path:
    """A (build 1 USD/kW) and B (build 2 USD/kW), one 500 km route, 4 racks of 10 kW,
    sync 100 Gbps between GPU sites; a scenario row overrides any of it (default: one
    scenario 'big' of 8 racks). Solved in well under a second."""
    sites = [
        {"site": "A", "lat": 35, "lon": 139, "gpu": 1, "zone": "z1", "build_usd_per_kw": 1},
        {"site": "B", "lat": 34.7, "lon": 135.5, "gpu": 1, "zone": "z2", "build_usd_per_kw": 2},
    ]
    return write_dataset(
        folder,
        sites,
        routes=[route("A", "B", 500)],
        settings={"demand": {"gpu_racks": 4, "sync_gbps": 100, "max_gpu_sites": 2}},
        scenarios=scenarios
        if scenarios is not None
        else [{"scenario": "big", "demand.gpu_racks": 8}],
    )


def slow_once_designed(data: Any) -> None:
    """HiGHS's interrupt callback, 0.5 s a call once HiGHS has a design: a stand-in for the
    long steps between HiGHS's checks, so that a small model is still running at the
    watchdog on any machine."""
    if data.mip_primal_bound < math.inf:
        time.sleep(0.5)


def solve_past_the_watchdog(solver: Any, m: Any) -> Any:
    """``solver.solve`` of ``m`` with a 2 s limit that HiGHS itself is told to ignore
    (its own limit 1e4 s, gap 0) and slow steps once it has a design
    (tests/test_solvers.py, in the process and in a child)."""
    return solver.solve(
        m,
        time_limit=2.0,
        rel_gap=0.0,
        threads=1,
        seed=0,
        options={"time_limit": 1e4},
        on_log=slow_once_designed,
    )
