"""Regression figures of the shipped data sets (data/japan, data/europe) and a smoke test
of the synthetic generator at a realistic size.

The expected figures were measured on a fresh run (the "What the results show" section of
each data set's README gives the same numbers). A change to a figure here means either the
data or the model changed the answer: update the README table with it, not just this file.
The annual cost is compared with a relative tolerance of 1e-3, ten times the default MIP gap
(1e-4), so a design within the gap found by another branching path still passes. The
structural facts asserted are those that decide the design and have no tie: which GPU
sites, in which zones, with how many racks where zone survival or a power cap forces it.

The file takes ~45 s on a lightly loaded 2-core machine (Europe base and the 30-site
synthetic set ~15 s each, Japan base ~8 s). Expensive scenarios (demand_x2, the Europe
latency sweep, ...) are not solved here: see ``bench/run.py`` and the READMEs.
"""

from __future__ import annotations

import contextlib
import io
import math
from pathlib import Path

import pandas as pd
import pytest
from builders import REPO

from model import synth
from model.load import load_dataset
from model.pipeline import RunResult, SolveOptions, run_scenario

JAPAN = REPO / "data" / "japan"
EUROPE = REPO / "data" / "europe"
OPTS = SolveOptions(time_limit_s=120)
REL = 1e-3


def _solve(data: Path, scenario: str) -> RunResult:
    return run_scenario(data, scenario, None, OPTS)


def _gpu_racks(res: RunResult) -> dict[str, int]:
    sites = res.tables.sites
    used = sites[sites["gpu_racks"] > 0]
    return {s: round(r) for s, r in zip(used["site"], used["gpu_racks"], strict=True)}


def _storage_by_zone(res: RunResult) -> dict[str, float]:
    zone = res.dataset.sites["zone"]
    sites = res.tables.sites.set_index("site")
    pb = sites.loc[sites["storage_pb"] > 1e-6, "storage_pb"]
    return {z: round(v, 3) for z, v in pb.groupby(zone.reindex(pb.index)).sum().items()}


def _link_types(res: RunResult) -> set[str]:
    links = res.tables.links
    return set(links.loc[links["units"] > 0, "type"])


def _check_cost(res: RunResult, expected: float) -> None:
    assert res.outcome.status == "optimal", res.outcome
    cost = float(res.tables.summary.at[0, "annual_cost_usd"])
    assert math.isclose(cost, expected, rel_tol=REL), f"annual cost {cost:,.0f} != {expected:,.0f}"


# --- every scenario row loads (validation only, no solve) -------------------------------


def _scenarios(folder: Path) -> list[str]:
    return pd.read_csv(folder / "scenarios.csv", dtype=str)["scenario"].tolist()


@pytest.mark.parametrize(
    ("folder", "scenario"),
    [(f, s) for f in (JAPAN, EUROPE) for s in _scenarios(f)],
    ids=lambda v: v.name if isinstance(v, Path) else v,
)
def test_every_scenario_row_loads(folder: Path, scenario: str) -> None:
    ds = load_dataset(folder, scenario)
    assert ds.scenario == scenario
    assert not ds.routes_generated  # both shipped sets carry their own routes.csv


# --- Japan ----------------------------------------------------------------------------


def test_japan_base() -> None:
    res = _solve(JAPAN, "base")
    _check_cost(res, 146_312_628.49)
    # Zone survival 0.5 with two sites forces an even split: Hokuriku + Tohoku.
    assert _gpu_racks(res) == {"nanto": 200, "sendai": 200}
    # One full copy of the 72 PB in each GPU site: storage reads stay local.
    assert _storage_by_zone(res) == {"hokuriku": 72.0, "tohoku": 72.0}
    # A protected ring nanto-niigata-sendai / nanto-otemachi-sendai of 800G ZR+.
    assert int(res.tables.summary.at[0, "routes_lit"]) == 4
    assert _link_types(res) == {"800zrp"}


def test_japan_no_protection() -> None:
    res = _solve(JAPAN, "no_protection")
    _check_cost(res, 143_509_980.67)
    assert _gpu_racks(res) == {"nanto": 200, "sendai": 200}
    # Without protection only the cheaper half of the ring is lit.
    links = res.tables.links
    lit = {frozenset((a, b)) for a, b in zip(links["a"], links["b"], strict=True)}
    assert lit == {frozenset(("nanto", "niigata")), frozenset(("sendai", "niigata"))}


def test_japan_one_site_storage_split() -> None:
    res = _solve(JAPAN, "one_site_storage_split")
    _check_cost(res, 140_257_510.11)
    assert _gpu_racks(res) == {"nanto": 400}
    # 72 PB × 1,440 Gb/s cannot serve 400 × 280 Gb/s: the Otemachi copy serves the rest.
    assert _storage_by_zone(res) == {"hokuriku": 72.0, "kanto": 72.0}


def test_japan_fukuoka_tokyo_apn() -> None:
    res = _solve(JAPAN, "fukuoka_tokyo_apn")
    _check_cost(res, 56_295_107.32)
    assert _gpu_racks(res) == {"itoshima": 128}
    assert _storage_by_zone(res) == {"kyushu": 72.0, "kanto": 72.0}
    assert "apn100" in _link_types(res)


# --- Europe ---------------------------------------------------------------------------


def test_europe_base() -> None:
    res = _solve(EUROPE, "base")
    _check_cost(res, 124_326_326.75)
    assert _gpu_racks(res) == {"helsinki": 250, "lulea": 250}
    assert _storage_by_zone(res) == {"finland": 90.0, "sweden": 90.0}


# --- synthetic ------------------------------------------------------------------------


def test_synthetic_30_sites_solves(tmp_path: Path) -> None:
    with contextlib.redirect_stdout(io.StringIO()):
        assert synth.main(["--sites", "30", "--seed", "1", str(tmp_path / "s30")]) == 0
    res = _solve(tmp_path / "s30", "base")
    assert res.outcome.status in ("optimal", "feasible"), res.outcome
    assert int(res.tables.summary.at[0, "gpu_sites"]) >= 1
