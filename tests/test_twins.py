"""Twin rows (model/families/traffic.py): the two directions of a storage or scale-across
pair carry mirrored flows, a restriction that keeps an optimum."""

from __future__ import annotations

from pathlib import Path

import pytest
from builders import route, write_dataset

from model.build import build_model
from model.families import traffic
from model.index import build_index
from model.load import load_dataset
from model.network import NetworkPlan, plan_network
from model.pipeline import SolveOptions, run_scenario
from model.synth import main as synth

STORAGE = {
    "gpu_racks": 2,
    "rack_kw": 1,
    "storage_pb": 1,
    "storage_gbps_per_rack": 100,
    "storage_gbps_per_pb": 100000,
    "storage_latency_ms": 10,
}


def storage_pair(folder: Path, sharing: str, demands: list[dict] | None = None) -> Path:
    # G reads from and writes to S, directly or through X (two candidate paths each way).
    sites = [
        {"site": "G", "lat": 35, "lon": 139, "gpu": 1},
        {"site": "S", "lat": 35, "lon": 139, "storage": 1},
        {"site": "X", "lat": 35, "lon": 139},
    ]
    return write_dataset(
        folder,
        sites,
        routes=[route("S", "G", 100), route("S", "X", 100), route("X", "G", 100)],
        settings={"demand": STORAGE, "network": {"capacity_sharing": sharing}},
        demands=demands,
    )


def rows_of(folder: Path) -> tuple[list[tuple[int, int, int, int]], NetworkPlan]:
    ds = load_dataset(folder)
    plan = plan_network(ds)
    return traffic.twin_paths(ds, build_index(ds, plan), plan), plan


def test_each_path_is_paired_with_its_reverse(tmp_path: Path) -> None:
    rows, plan = rows_of(storage_pair(tmp_path, "duplex"))
    coms = plan.commodities
    assert sorted(c.id for c in coms) == ["storage:G>S@S", "storage:S>G@S"]
    assert len(rows) == 2  # the direct path and the one through X
    for c, p, d, q in rows:
        assert c < d and (coms[c].src, coms[c].dst) == (coms[d].dst, coms[d].src)
        assert coms[d].paths[q].routes == coms[c].paths[p].routes[::-1]
        assert coms[d].paths[q].nodes == coms[c].paths[p].nodes[::-1]
    assert sorted(coms[c].paths[p].nodes for c, p, _, _ in rows) == [
        ("S", "G"),
        ("S", "X", "G"),
    ]


def test_one_way_demand_stops_the_rows_on_duplex_links_only(tmp_path: Path) -> None:
    # An explicit S→G demand has no twin: on duplex links its direction's capacity rows do
    # not mirror the other's, so no pair gets rows; on shared links both directions are one
    # row and the storage pair keeps its two.
    one_way = [{"src": "S", "dst": "G", "gbps": 50, "max_latency_ms": 10, "protected": 0}]
    rows, _ = rows_of(storage_pair(tmp_path / "duplex", "duplex", one_way))
    assert rows == []
    rows, _ = rows_of(storage_pair(tmp_path / "shared", "shared", one_way))
    assert len(rows) == 2


def test_twin_rows_keep_the_optimum(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A generated set of 12 sites (storage and scale-across traffic, duplex links) solved to
    # a gap of 0 with and without the rows: the optimum is the data's, so it must not move.
    folder = tmp_path / "s12"
    assert synth(["--sites", "12", "--seed", "3", str(folder)]) == 0
    ds = load_dataset(folder)
    m, _ = build_model(ds, plan_network(ds))
    assert len(m.traffic_twin) > 100
    with_rows = run_scenario(folder, "base", None, SolveOptions(mip_gap=0.0))
    monkeypatch.setattr("model.build.add_twin_rows", lambda *args: None)
    without = run_scenario(folder, "base", None, SolveOptions(mip_gap=0.0))
    assert with_rows.outcome.status == without.outcome.status == "optimal"
    assert with_rows.outcome.objective == pytest.approx(without.outcome.objective, rel=1e-9)
