"""Users (docs/contract.md §9): inference racks near customer regions. Hand-computed
optima: flat economics (every CRF = 1), racks of 10 kW at PUE 1, so a rack costs 10 ×
the site's build $/kW; smf is 5 µs/km (100 km = 0.5 ms); one zr unit (100 Gbps each way)
costs 7; routers are free."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import approx, gpu_site, route, solve_dir, transit, write_dataset

from model.errors import InfeasibleError, InputError
from model.load import load_dataset
from model.verify import verify_tables


def dataset(folder: Path, users: list[dict], **kw) -> Path:
    # P: the region's entry PoP. A (1 $/kW) 400 km = 2 ms from P; B (3 $/kW) 100 km =
    # 0.5 ms from P.
    sites = kw.pop("sites", None) or [
        transit("P"),
        gpu_site("A", build_usd_per_kw=1, **kw.pop("a", {})),
        gpu_site("B", build_usd_per_kw=3),
    ]
    folder = write_dataset(
        folder,
        sites,
        routes=[route("P", "A", 400), route("P", "B", 100)],
        **kw,
    )
    rows = [{"max_latency_ms": "", "protected": 0, **u} for u in users]
    pd.DataFrame(rows).to_csv(folder / "users.csv", index=False)
    return folder


def served(res) -> dict[str, int]:
    return {r.serving_site: int(r.racks) for r in res.tables.users.itertuples()}


def test_latency_bound_moves_inference_to_the_near_site(tmp_path: Path) -> None:
    # 2 racks, 100 Gbps. Unbounded: both at A, 20 kW × 1 + one unit P-A 7 = 27 (B: 60 +
    # 7 = 67). Within 1 ms of P only B qualifies: 67.
    free = solve_dir(
        dataset(tmp_path / "free", [{"region": "r", "site": "P", "racks": 2, "gbps": 100}])
    )
    assert free.outcome.objective == approx(27)
    assert served(free) == {"A": 2}
    sites = free.tables.sites.set_index("site")
    assert sites.at["A", "inference_racks"] == 2
    assert sites.at["A", "gpu_racks"] == 0
    assert free.tables.users.iloc[0]["latency_ms"] == approx(2.0)
    flows = free.tables.flows
    assert set(flows["kind"]) == {"inference"}
    assert set(flows["commodity"]) == {"inference:P>A@r", "inference:A>P@r"}
    assert free.tables.summary.at[0, "inference_racks"] == 2
    near = solve_dir(
        dataset(
            tmp_path / "near",
            [{"region": "r", "site": "P", "racks": 2, "gbps": 100, "max_latency_ms": 1}],
        )
    )
    assert near.outcome.objective == approx(67)
    assert served(near) == {"B": 2}


def test_site_cap_splits_a_region_and_traffic_follows(tmp_path: Path) -> None:
    # 3 racks, 100 Gbps, A holds 2: A 2 (20) + B 1 (30) + one unit on each route (66.7
    # and 33.3 Gbps each way) 14 = 64 (all at B: 90 + 7 = 97).
    res = solve_dir(
        dataset(
            tmp_path, [{"region": "r", "site": "P", "racks": 3, "gbps": 100}], a={"max_racks": 2}
        )
    )
    assert res.outcome.objective == approx(64)
    assert served(res) == {"A": 2, "B": 1}
    users = res.tables.users.set_index("serving_site")
    assert users.at["A", "gbps"] == approx(200 / 3)
    assert users.at["B", "gbps"] == approx(100 / 3)


def test_training_and_inference_share_the_rack_cap(tmp_path: Path) -> None:
    # 1 training rack and 2 inference racks; A holds 2 racks in all. Training at A (10)
    # leaves A one inference rack: 10 + 10 + 30 + 14 = 64. Training at B (30), both
    # inference racks at A (20), one unit P-A (7): 57, the optimum. (Were the cap not
    # shared, all three at A: 37.) Inference racks do not make A a GPU site.
    res = solve_dir(
        dataset(
            tmp_path,
            [{"region": "r", "site": "P", "racks": 2, "gbps": 100}],
            a={"max_racks": 2},
            settings={"demand": {"gpu_racks": 1}},
        )
    )
    assert res.outcome.objective == approx(57)
    sites = res.tables.sites.set_index("site")
    assert (sites.at["A", "gpu_racks"], sites.at["A", "inference_racks"]) == (0, 2)
    assert (sites.at["B", "gpu_racks"], sites.at["B", "inference_racks"]) == (1, 0)
    assert res.tables.summary.at[0, "gpu_sites"] == 1


def test_a_gpu_capable_entry_site_serves_at_zero_ms(tmp_path: Path) -> None:
    # Entry E is GPU-capable (5 $/kW) and the bound (0.1 ms) reaches nothing else:
    # 2 racks at E, 20 kW × 5 = 100, no traffic on the network.
    sites = [transit("P"), gpu_site("A", build_usd_per_kw=1), gpu_site("B", build_usd_per_kw=3)]
    sites.append(gpu_site("E", build_usd_per_kw=5))
    folder = dataset(
        tmp_path,
        [{"region": "r", "site": "E", "racks": 2, "gbps": 100, "max_latency_ms": 0.1}],
        sites=sites,
    )
    pd.DataFrame([route("P", "A", 400), route("P", "B", 100), route("P", "E", 100)]).to_csv(
        folder / "routes.csv", index=False
    )
    res = solve_dir(folder)
    assert res.outcome.objective == approx(100)
    assert served(res) == {"E": 2}
    assert res.tables.flows.empty
    assert res.tables.users.iloc[0]["latency_ms"] == 0


def test_no_site_within_the_bound_is_explained(tmp_path: Path) -> None:
    folder = dataset(
        tmp_path, [{"region": "osaka", "site": "P", "racks": 2, "gbps": 100, "max_latency_ms": 0.2}]
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    assert (
        "region osaka: no GPU-capable site within 0.2 ms of P (users.csv max_latency_ms); "
        "the nearest, B, is 0.500 ms" in str(err.value)
    )


def test_verifier_checks_the_racks_served(tmp_path: Path) -> None:
    res = solve_dir(dataset(tmp_path, [{"region": "r", "site": "P", "racks": 2, "gbps": 100}]))
    assert verify_tables(res.dataset, res.tables) == []
    sites = res.tables.sites.copy()
    sites.loc[sites["site"] == "A", "inference_racks"] = 1
    broken = res.tables.__class__(**{**res.tables.__dict__, "sites": sites})
    found = {v.check for v in verify_tables(res.dataset, broken)}
    assert "users" in found


def test_bad_users_rows_are_named(tmp_path: Path) -> None:
    folder = dataset(
        tmp_path,
        [
            {"region": "r", "site": "X", "racks": 2, "gbps": 100},
            {"region": "q", "site": "P", "racks": 0, "gbps": 5},
        ],
    )
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    msg = str(err.value)
    assert "users.csv row 1 (line 2, region 'r'), column site: site 'X' is not in sites.csv" in msg
    assert "users.csv row 2 (line 3, region 'q'), column gbps: value 5 needs racks > 0" in msg


def test_training_and_inference_beyond_a_site_cap_are_explained(tmp_path: Path) -> None:
    # One GPU-capable site A holding 3 racks: 2 training racks and 2 inference racks of a
    # region entering at A each fit alone (the pre-solve checks pass), not together.
    folder = write_dataset(
        tmp_path,
        [gpu_site("A", max_racks=3)],
        settings={"demand": {"gpu_racks": 2}},
    )
    pd.DataFrame(
        [{"region": "r", "site": "A", "racks": 2, "gbps": 0, "max_latency_ms": "", "protected": 0}]
    ).to_csv(folder / "users.csv", index=False)
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder)
    # Dropping one inference rack or one training rack weigh the same (1 of 2): either move
    # may be reported, each in planner terms.
    msg = str(err.value)
    assert (
        "region r: 1 of its 2 inference racks cannot be placed at GPU-capable sites "
        "reachable from A"
        in msg
        or "1 of 2 GPU racks cannot be placed" in msg
    ), msg
