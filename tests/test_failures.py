"""Failure report of a design as built: every single failure against every commodity.

Instances (transit nodes only, one explicit demand A → B of 100 Gbps):

- ``diamond``: routes A-X, X-B (shared-risk group ``north``) and A-Y, Y-B (none);
  protection ``diverse`` with protected_share 1: each of the two disjoint paths must carry
  the full 100 Gbps, so every single failure (srlg north, route A-Y, route Y-B, site X,
  site Y) leaves 100 Gbps: share 1.0. Sites A and B are endpoints: lost.
- ``single``: one route A-B, no protection: its failure leaves 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from model.failures import COLUMNS, failure_report, worst_case
from model.pipeline import run_scenario

SETTINGS = """
[demand]
gpu_racks = 0

[resilience]
link_protection = "{protection}"
protected_share = 1.0
min_routers_per_site = 0

[network]
hop_latency_us = 0

[solver]
mip_gap = 0.0
"""
SITES = "site,lat,lon\n" + "".join(
    f"{s},35.{i},139.{i}\n" for i, s in enumerate(["A", "B", "X", "Y"])
)
FILES = {
    "link_types.csv": "type,medium,capacity_gbps,reach_km,capex_usd\nzr,smf,100,500,10\n",
    "routers.csv": "model,capacity_gbps,ports,capex_usd\nr,100000,1000,0\n",
    "cooling.csv": "method,max_rack_kw,pue\ndlc,200,1.1\n",
}
DIAMOND = "a,b,km,srlg\nA,X,50,north\nX,B,50,north\nA,Y,80,\nY,B,80,\n"
SINGLE = "a,b,km,srlg\nA,B,50,\nA,X,50,\nX,Y,50,\n"


def solve(folder: Path, routes: str, protection: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "settings.toml").write_text(SETTINGS.format(protection=protection))
    (folder / "sites.csv").write_text(SITES)
    (folder / "routes.csv").write_text(routes)
    for name, text in FILES.items():
        (folder / name).write_text(text)
    # The demand's own column decides whether it is protected (contract §7).
    protected = int(protection == "diverse")
    (folder / "demands.csv").write_text(f"src,dst,gbps,protected\nA,B,100,{protected}\n")
    return run_scenario(folder, "base", folder.parent / "results").out_dir


def test_two_disjoint_protected_paths_survive_every_single_failure(tmp_path: Path) -> None:
    df = failure_report(solve(tmp_path / "diamond", DIAMOND, "diverse"))
    assert list(df.columns) == COLUMNS
    survivable = df[df["endpoint_lost"] == 0]
    assert set(survivable["failure"]) == {
        "srlg:north",
        "route:A-Y",
        "route:Y-B",
        "site:X",
        "site:Y",
    }
    assert (survivable["commodity"] == "demand:A>B").all()
    assert survivable["survival_share"].tolist() == [1.0] * 5
    assert survivable["surviving_gbps"].min() == pytest.approx(100.0)
    lost = df[df["endpoint_lost"] == 1]
    assert set(lost["failure"]) == {"site:A", "site:B"}
    assert (lost["surviving_gbps"] == 0).all() and (lost["survival_share"] == 0).all()
    assert set(df["kind"]) == {"srlg", "route", "site"}
    worst = worst_case(df)
    assert worst["survival_share"] == 1.0 and worst["failures_short"] == 0
    assert worst_case(df, include_endpoints=True)["survival_share"] == 0.0


def test_single_path_loses_everything_when_its_route_fails(tmp_path: Path) -> None:
    df = failure_report(solve(tmp_path / "single", SINGLE, "none"))
    row = df[df["failure"] == "route:A-B"].iloc[0]
    assert row["kind"] == "route" and row["demand_gbps"] == 100.0
    assert row["surviving_gbps"] == 0.0 and row["survival_share"] == 0.0
    assert row["endpoint_lost"] == 0
    # Routes the design does not use are no failures of it.
    assert not df["failure"].isin(["route:A-X", "route:X-Y"]).any()
    assert worst_case(df) == {
        "failure": "route:A-B",
        "kind": "route",
        "commodity": "demand:A>B",
        "survival_share": 0.0,
        "failures_short": 1,
    }


def test_empty_design_has_no_worst_case() -> None:
    import pandas as pd

    assert worst_case(pd.DataFrame(columns=COLUMNS))["failure"] is None
