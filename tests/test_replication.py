"""Replication between storage copies (docs/contract.md §12): every storage site sends
replication_gbps_per_pb × its PB to storage sites of other zones and receives no more than
that, on paths within replication_latency_ms. Hand-computed optima: economics are flat
(every CRF = 1), storage draws 1 kW per PB, PUE 1, so a site's cost is build × 10 kW per
10 PB; smf is 5 µs/km (100 km = 0.5 ms); one zr unit (100 Gbps each way) costs 7."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from builders import approx, route, solve_dir, write_dataset

from model.errors import InfeasibleError, InputError
from model.load import load_dataset
from model.verify import verify_tables


def store(name: str, zone: str, build: float) -> dict:
    return {
        "site": name,
        "lat": 35.0,
        "lon": 139.0,
        "storage": 1,
        "zone": zone,
        "build_usd_per_kw": build,
    }


SETTINGS = {
    "demand": {
        "storage_pb": 10,
        "storage_copies": 2,
        "storage_kw_per_pb": 1.0,
        "replication_gbps_per_pb": 1.0,
    }
}


def pb_at(res) -> dict[str, float]:
    s = res.tables.sites
    return {r.site: r.storage_pb for r in s.itertuples() if r.storage_pb > 0}


def test_a_copy_no_link_reaches_is_impossible(tmp_path: Path) -> None:
    # A (z1, 2 $/kW), B (z2, 3 $/kW) joined by 100 km; C (z3, 1 $/kW) has no route.
    # Without replication the copies go to the cheapest zones: C 10 + A 20 = 30.
    # With 1 Gbps/PB, C cannot send its 10 Gbps anywhere, so it holds nothing: A 10 PB
    # (20) + B 10 PB (30) + one unit A-B carrying 10 Gbps each way (7) = 57.
    ds = write_dataset(
        tmp_path,
        [store("A", "z1", 2), store("B", "z2", 3), store("C", "z3", 1)],
        routes=[route("A", "B", 100)],
        settings=SETTINGS,
        scenarios=[{"scenario": "off", "demand.replication_gbps_per_pb": 0}],
    )
    off = solve_dir(ds, "off")
    assert off.outcome.objective == approx(30)
    assert pb_at(off) == {"A": 10, "C": 10}
    assert off.tables.flows.empty
    on = solve_dir(ds)
    assert on.outcome.status == "optimal"
    assert on.outcome.objective == approx(57)
    assert pb_at(on) == {"A": 10, "B": 10}
    flows = on.tables.flows.set_index("commodity")
    assert set(flows["kind"]) == {"replication"}
    assert flows.at["replication:A>B", "gbps"] == approx(10)
    assert flows.at["replication:B>A", "gbps"] == approx(10)


def test_replication_latency_bound_moves_the_second_copy(tmp_path: Path) -> None:
    # A (z1, 2 $/kW); B (z2, 3 $/kW) 100 km (0.5 ms) from A; D (z3, 2.5 $/kW) 300 km
    # (1.5 ms) from A. Unbounded: A 20 + D 25 + one unit A-D 7 = 52. With
    # replication_latency_ms 1 the pair A-D is out of reach: A 20 + B 30 + 7 = 57.
    ds = write_dataset(
        tmp_path,
        [store("A", "z1", 2), store("B", "z2", 3), store("D", "z3", 2.5)],
        routes=[route("A", "B", 100), route("A", "D", 300)],
        settings=SETTINGS,
        scenarios=[{"scenario": "near", "demand.replication_latency_ms": 1}],
    )
    free = solve_dir(ds)
    assert free.outcome.objective == approx(52)
    assert pb_at(free) == {"A": 10, "D": 10}
    near = solve_dir(ds, "near")
    assert near.outcome.objective == approx(57)
    assert pb_at(near) == {"A": 10, "B": 10}
    assert set(near.tables.flows["bound_ms"]) == {1.0}


def test_no_pair_within_the_bound_is_explained(tmp_path: Path) -> None:
    ds = write_dataset(
        tmp_path,
        [store("A", "z1", 2), store("B", "z2", 3)],
        routes=[route("A", "B", 100)],
        settings={"demand": {**SETTINGS["demand"], "replication_latency_ms": 0.1}},
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(ds)
    msg = str(err.value)
    assert "replication_latency_ms 0.1 ms" in msg
    assert "A (the nearest storage site of another zone, B, is 0.500 ms)" in msg


def test_negative_rate_is_refused(tmp_path: Path) -> None:
    ds = write_dataset(
        tmp_path,
        [store("A", "z1", 2)],
        settings={"demand": {"replication_gbps_per_pb": -1}},
    )
    with pytest.raises(InputError) as err:
        load_dataset(ds)
    assert "replication_gbps_per_pb" in str(err.value)


def test_verifier_checks_what_each_copy_sends(tmp_path: Path) -> None:
    ds = write_dataset(
        tmp_path,
        [store("A", "z1", 2), store("B", "z2", 3)],
        routes=[route("A", "B", 100)],
        settings=SETTINGS,
    )
    res = solve_dir(ds)
    assert verify_tables(res.dataset, res.tables) == []
    flows = res.tables.flows.copy()
    flows.loc[flows["commodity"] == "replication:A>B", ["gbps", "demand_gbps"]] = 4.0
    broken = dataclasses.replace(res.tables, flows=flows)
    found = [v for v in verify_tables(res.dataset, broken) if v.check == "traffic"]
    assert any("storage site A" in v.objects and "replication sent" in v.message for v in found)
