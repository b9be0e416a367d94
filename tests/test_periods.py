"""Growth over periods (docs/contract.md §8), on tiny instances solved by HiGHS with their
optimum computed by hand beside them. Flat economics (tests/builders.py): every capital
recovery factor is 1 and, with discount rate 0, a period of n years weighs n."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from builders import approx, gpu_site, route, solve_dir, write_dataset

from model.errors import InputError
from model.extract import SITE_COLUMNS
from model.load import load_dataset
from model.periods import discount_factor, period_dataset
from model.pipeline import SolveOptions


def _csv(folder: Path, name: str, rows: list[dict]) -> None:
    pd.DataFrame(rows).to_csv(folder / name, index=False)


def _racks(result, period: str) -> dict[str, int]:
    s = result.tables.sites
    s = s[s["period"] == period]
    return {r.site: int(r.gpu_racks) for r in s.itertuples() if r.gpu_racks}


def test_site_opens_only_from_its_year_and_racks_stay(tmp_path: Path) -> None:
    """A opens for 100 USD/yr, B for 10 but only from 2027; 2 racks, one GPU site. 2026
    must use A; its racks stay in 2027, so A stays open and B stays unused:
    100 + 100 = 200 (B from the start would cost 10 a year)."""
    folder = write_dataset(
        tmp_path / "d",
        [
            gpu_site("A", open_capex_usd=100),
            gpu_site("B", open_capex_usd=10, available_year=2027),
        ],
        settings={"demand": {"gpu_racks": 2, "max_gpu_sites": 1}},
    )
    _csv(folder, "periods.csv", [{"period": "p1", "year": 2026}, {"period": "p2", "year": 2027}])
    result = solve_dir(folder, out=tmp_path / "out")
    assert result.tables.summary.at[0, "objective"] == approx(200)
    assert _racks(result, "p1") == {"A": 2}
    assert _racks(result, "p2") == {"A": 2}
    periods = pd.read_csv(result.out_dir / "periods.csv")
    assert list(periods["period"]) == ["p1", "p2"]
    assert list(periods["annual_cost_usd"]) == [100, 100]
    assert list(periods["capex_added_usd"]) == [100, 0]
    sites = pd.read_csv(result.out_dir / "sites.csv")
    assert sites.columns[0] == "period" and set(SITE_COLUMNS) <= set(sites.columns)
    assert len(sites[sites["period"] == "p1"]) == 1  # B is not a candidate in 2026
    assert len(sites[sites["period"] == "p2"]) == 2


def test_racks_stay_where_they_were_built(tmp_path: Path) -> None:
    """2 racks in 2026, 4 from 2027. A (energy 1 USD/MWh) is the only site in 2026; B
    (free) comes in 2027. The 2 racks at A stay; the 2 new ones go to B:
    2026: 2 × 10 kW × 8.76 = 175.2; 2027: the same at A, 0 at B; total 350.4."""
    folder = write_dataset(
        tmp_path / "d",
        [
            gpu_site("A", energy_usd_per_mwh=1),
            gpu_site("B", available_year=2027),
        ],
        settings={"demand": {"gpu_racks": 2}},
    )
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2026, "gpu_racks": 2},
            {"period": "p2", "year": 2027, "gpu_racks": 4},
        ],
    )
    result = solve_dir(folder)
    assert result.tables.summary.at[0, "objective"] == approx(350.4)
    assert _racks(result, "p1") == {"A": 2}
    assert _racks(result, "p2") == {"A": 2, "B": 2}


def test_power_cap_that_rises(tmp_path: Path) -> None:
    """A (open 10) takes 20 kW (2 racks of 10 kW at PUE 1) until its cap rises to 40 kW in
    2027 (site_power.csv); B opens for 50. 2 racks, then 4: A holds all of them, 10 + 10
    = 20. Without the step B would open in 2027: 10 + 60 = 70."""
    folder = write_dataset(
        tmp_path / "d",
        [
            gpu_site("A", open_capex_usd=10, max_power_mw=0.02, zone="a"),
            gpu_site("B", open_capex_usd=50, zone="b"),
        ],
        settings={"demand": {"gpu_racks": 2}},
        routes=[route("A", "B", 10)],
    )
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2026, "gpu_racks": 2},
            {"period": "p2", "year": 2027, "gpu_racks": 4},
        ],
    )
    _csv(folder, "site_power.csv", [{"site": "A", "year": 2027, "max_power_mw": 0.04}])
    result = solve_dir(folder)
    assert result.tables.summary.at[0, "objective"] == approx(20)
    assert _racks(result, "p2") == {"A": 4}
    (folder / "site_power.csv").unlink()
    result = solve_dir(folder)
    assert result.tables.summary.at[0, "objective"] == approx(70)
    assert _racks(result, "p2") == {"A": 2, "B": 2}


def test_a_power_step_inside_a_period_counts_from_the_next(tmp_path: Path) -> None:
    """A period takes the state at its first year: a step in 2027 inside 2026–2027 applies
    from the 2028 period; a site available in 2027 likewise."""
    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A", max_power_mw=1), gpu_site("B", available_year=2027)],
        settings={"demand": {"gpu_racks": 1}},
    )
    _csv(folder, "periods.csv", [{"period": "a", "year": 2026}, {"period": "b", "year": 2028}])
    _csv(folder, "site_power.csv", [{"site": "A", "year": 2027, "max_power_mw": 5}])
    ds = load_dataset(folder)
    first, second = (period_dataset(ds, p) for p in ds.periods)
    assert list(first.sites.index) == ["A"] and first.sites.at["A", "max_power_mw"] == 1
    assert list(second.sites.index) == ["A", "B"] and second.sites.at["A", "max_power_mw"] == 5
    assert [p.years for p in ds.periods] == [2, 1]


def test_discount_factor_of_a_multi_year_period(tmp_path: Path) -> None:
    """Rate 10 %: the 2026 period lasts 2 years (to 2028), 2028 one. One rack of 10 kW at
    1 USD/MWh costs 87.6 a year: DF = 1 + 1/1.1 and 1/1.21, total 87.6 × (1 + 1/1.1 +
    1/1.21) = 250.9752... (no capex: the rate changes nothing else)."""
    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A", energy_usd_per_mwh=1)],
        settings={"demand": {"gpu_racks": 1}, "economics": {"discount_rate": 0.1}},
    )
    _csv(
        folder, "periods.csv", [{"period": "now", "year": 2026}, {"period": "later", "year": 2028}]
    )
    ds = load_dataset(folder)
    dfs = [discount_factor(p, 2026, 0.1) for p in ds.periods]
    assert dfs == [approx(1 + 1 / 1.1), approx(1 / 1.21)]
    result = solve_dir(folder, out=tmp_path / "out")
    assert result.tables.summary.at[0, "objective"] == approx(
        round(87.6 * (1 + 1 / 1.1 + 1 / 1.21), 2)
    )
    periods = pd.read_csv(result.out_dir / "periods.csv")
    assert list(periods["years"]) == [2, 1]
    assert periods["discount_factor"].tolist() == [
        approx(round(1 + 1 / 1.1, 8)),
        approx(round(1 / 1.21, 8)),
    ]


def test_decreasing_gpu_racks_is_an_input_error(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", [gpu_site("A")], settings={"demand": {"gpu_racks": 4}})
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2026, "gpu_racks": ""},
            {"period": "p2", "year": 2027, "gpu_racks": 3},
        ],
    )
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    assert err.value.exit_code == 2
    text = str(err.value) + "\n".join(err.value.problems)
    assert "periods.csv row 2 (line 3, period 'p2'), column gpu_racks" in text
    assert "below the previous period's 4" in text


def test_periods_csv_errors_name_file_row_and_column(tmp_path: Path) -> None:
    folder = write_dataset(tmp_path / "d", [gpu_site("A")], settings={"demand": {"gpu_racks": 1}})
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2027, "gpu_rack": 1},
            {"period": "p2", "year": 2026, "gpu_rack": 2},
        ],
    )
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    assert any("column gpu_rack: not a [demand] key" in p for p in err.value.problems)
    _csv(folder, "periods.csv", [{"period": "p1", "year": 2027}, {"period": "p2", "year": 2026}])
    with pytest.raises(InputError) as err:
        load_dataset(folder)
    assert any(
        "periods.csv row 2 (line 3, period 'p2'), column year" in p for p in err.value.problems
    )


def test_without_periods_csv_nothing_changes(tmp_path: Path) -> None:
    """available_year and site_power.csv without periods.csv: one period, no period column,
    the same design as without them."""
    sites = [gpu_site("A", open_capex_usd=100), gpu_site("B", open_capex_usd=10)]
    plain = write_dataset(tmp_path / "plain", sites, settings={"demand": {"gpu_racks": 1}})
    sites[1]["available_year"] = 2030
    extra = write_dataset(tmp_path / "extra", sites, settings={"demand": {"gpu_racks": 1}})
    _csv(extra, "site_power.csv", [{"site": "B", "year": 2030, "max_power_mw": 1}])
    a, b = solve_dir(plain, out=tmp_path / "out"), solve_dir(extra, out=tmp_path / "out")
    assert load_dataset(extra).periods == ()
    for name in ("sites", "links", "flows", "summary"):
        assert "period" not in getattr(b.tables, name).columns
    assert a.tables.summary.at[0, "objective"] == b.tables.summary.at[0, "objective"] == 10
    assert not (b.out_dir / "periods.csv").exists()


def test_written_plan_verifies_and_a_broken_one_does_not(tmp_path: Path) -> None:
    """`python solve.py verify` of a multi-period result checks every period's block and
    that nothing built goes away."""
    from model.verify import verify

    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A", energy_usd_per_mwh=1), gpu_site("B", available_year=2027)],
        settings={"demand": {"gpu_racks": 2}},
    )
    _csv(
        folder,
        "periods.csv",
        [{"period": "p1", "year": 2026}, {"period": "p2", "year": 2027, "gpu_racks": 4}],
    )
    out = solve_dir(folder, out=tmp_path / "out").out_dir
    assert verify(out).violations == []
    sites = pd.read_csv(out / "sites.csv", dtype=str, keep_default_na=False)
    a1 = (sites["period"] == "p1") & (sites["site"] == "A")
    sites.loc[a1, "gpu_racks"] = "3"  # more racks in p1 than p2 keeps at A
    sites.to_csv(out / "sites.csv", index=False)
    found = [str(v) for v in verify(out).violations]
    assert any("stays built" in v and "gpu_racks" in v for v in found), found


def test_precheck_names_the_period(tmp_path: Path) -> None:
    """A holds 2 racks of 10 kW (20 kW); 2027 asks for 4: the check names 2027."""
    from model.errors import InfeasibleError

    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A", max_power_mw=0.02)],
        settings={"demand": {"gpu_racks": 2}},
    )
    _csv(
        folder,
        "periods.csv",
        [{"period": "2026", "year": 2026}, {"period": "2027", "year": 2027, "gpu_racks": 4}],
    )
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder, out=tmp_path / "out")
    assert err.value.problems and all(p.startswith("2027: ") for p in err.value.problems)
    rows = pd.read_csv(tmp_path / "out" / "d" / "base" / "infeasibility.csv")
    assert rows["message"].str.startswith("2027: ").all()


def test_a_growth_front_caps_the_peak_power_of_every_period(tmp_path: Path) -> None:
    """Cost–power front of a growth plan: discounted cost of the horizon against the peak
    power over its periods. 1 rack (10 kW) in 2026, 2 in 2027; A opens for 10 a year at
    PUE 1.5, B for 40 at PUE 1.0; discount 0, so each period weighs 1.
    - cost-optimal: both racks at A, 10 + 10 = 20, peak 30 kW;
    - power-optimal: both at B, peak 20 kW, 40 + 40 = 80 (a rack at A stays, so any
      plan using A peaks at ≥ 25 kW);
    - cap 25 kW (the middle of 3): the 2026 rack at A, the 2027 one at B: 10 + 50 = 60
      (both at A would be 30 kW, both at B 80 USD)."""
    from model.pareto import ParetoOptions, pareto_front

    folder = write_dataset(
        tmp_path / "d",
        [
            gpu_site("A", open_capex_usd=10, pue_offset=0.5, zone="a"),
            gpu_site("B", open_capex_usd=40, zone="b"),
        ],
        settings={"demand": {"gpu_racks": 1, "sync_gbps": 0}},
        routes=[route("A", "B", 10)],
    )
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2026, "gpu_racks": 1},
            {"period": "p2", "year": 2027, "gpu_racks": 2},
        ],
    )
    result = pareto_front(
        folder, out_root=tmp_path / "out", solve_opts=SolveOptions(mip_gap=0.0),
        opts=ParetoOptions(points=3),
    )  # fmt: skip
    table = result.table
    assert list(table.columns[:4]) == ["point", "cap_mw", "peak_power_mw", "discounted_cost_usd"]
    assert result.p_min_mw == approx(0.02) and result.p_max_mw == approx(0.03)
    assert list(table["peak_power_mw"]) == [approx(0.02), approx(0.025), approx(0.03)]
    assert list(table["discounted_cost_usd"]) == [approx(80), approx(60), approx(20)]
    middle = result.out_dir / "point_02"
    sites = pd.read_csv(middle / "sites.csv")
    racks = {(r.period, r.site): int(r.gpu_racks) for r in sites.itertuples() if r.gpu_racks}
    assert racks == {("p1", "A"): 1, ("p2", "A"): 1, ("p2", "B"): 1}
    periods = pd.read_csv(middle / "periods.csv")
    assert list(periods["power_mw"]) == [approx(0.015), approx(0.025)]
    assert list(periods["annual_cost_usd"]) == [approx(10), approx(50)]
    assert (result.out_dir / "pareto.png").stat().st_size > 0


def test_a_scenario_takes_its_own_rows(tmp_path: Path) -> None:
    """Extension: periods.csv `scenario`; a scenario without rows of its own takes the rows
    whose cell is empty. Empty cells keep the previous period's value."""
    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A")],
        settings={"demand": {"gpu_racks": 1}},
        scenarios=[{"scenario": "slow"}, {"scenario": "fast"}],
    )
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "a", "year": 2026, "gpu_racks": 2, "scenario": ""},
            {"period": "b", "year": 2027, "gpu_racks": "", "scenario": ""},
            {"period": "a", "year": 2026, "gpu_racks": "", "scenario": "slow"},
            {"period": "b", "year": 2030, "gpu_racks": 3, "scenario": "slow"},
        ],
    )
    fast, slow = load_dataset(folder, "fast"), load_dataset(folder, "slow")
    assert [(p.year, p.settings.demand.gpu_racks) for p in fast.periods] == [(2026, 2), (2027, 2)]
    assert [(p.year, p.years, p.settings.demand.gpu_racks) for p in slow.periods] == [
        (2026, 4, 1),
        (2030, 1, 3),
    ]


def test_a_batch_compares_two_ramps(tmp_path: Path) -> None:
    """`--all` on a growth data set: one plan per scenario and comparison.csv with the
    discounted objective. A site at 1 USD/kW, 10 kW racks: 10 USD per rack and year;
    discount 0, so a period weighs its years. fast: 2 racks in 2026, 4 in 2027:
    20 + 40 = 60. slow: 2 racks for 2026–2027, 4 from 2028: 2 × 20 + 40 = 80."""
    from model.cli import main

    folder = write_dataset(
        tmp_path / "d",
        [gpu_site("A", build_usd_per_kw=1)],
        settings={"demand": {"gpu_racks": 2}},
        scenarios=[{"scenario": "fast"}, {"scenario": "slow"}],
    )
    _csv(
        folder,
        "periods.csv",
        [
            {"period": "p1", "year": 2026, "gpu_racks": 2, "scenario": ""},
            {"period": "p2", "year": 2027, "gpu_racks": 4, "scenario": ""},
            {"period": "p1", "year": 2026, "gpu_racks": 2, "scenario": "slow"},
            {"period": "p2", "year": 2028, "gpu_racks": 4, "scenario": "slow"},
        ],
    )
    out = tmp_path / "out"
    assert (
        main([str(folder), "--all", "--out", str(out), "--workers", "1", "-q", "--mip-gap", "0"])
        == 0
    )
    comparison = pd.read_csv(out / "d" / "comparison.csv").set_index("scenario")
    assert comparison.at["fast", "objective"] == approx(60)
    assert comparison.at["slow", "objective"] == approx(80)
    for scenario, years in (("fast", [1, 1]), ("slow", [2, 1])):
        periods = pd.read_csv(out / "d" / scenario / "periods.csv")
        assert list(periods["years"]) == years
        assert list(periods["annual_cost_usd"]) == [approx(20), approx(40)]
    assert (out / "d" / "report.html").is_file()


@pytest.mark.parametrize("scenario", ["base", "fast_ramp", "slow_ramp"])
def test_japan_growth_loads(scenario: str) -> None:
    from builders import REPO

    ds = load_dataset(REPO / "data" / "japan_growth", scenario)
    racks = [p.settings.demand.gpu_racks for p in ds.periods]
    assert racks[0] == 400 and racks == sorted(racks) and len(racks) == 3
    assert not ds.routes_generated


@pytest.mark.slow
def test_japan_growth_fast_ramp_solves_and_verifies(tmp_path: Path) -> None:
    """The shipped growth set end to end (about a minute): a design for every period,
    re-checked from the written CSVs."""
    from builders import REPO

    from model.pipeline import run_scenario
    from model.verify import verify

    res = run_scenario(REPO / "data" / "japan_growth", "fast_ramp", tmp_path)
    assert res.outcome.status in ("optimal", "feasible")
    periods = pd.read_csv(res.out_dir / "periods.csv")
    assert list(periods["gpu_racks"]) == [400, 800, 1200]
    assert verify(res.out_dir).violations == []


def test_infeasible_only_together_names_the_periods(tmp_path: Path) -> None:
    """Half the racks survive any zone: 2026 needs a rack at A (z1) and at B (z2). From 2027
    B's cap is 0 and C (z2) opens: 2027 alone has a design (A, C), but B's rack cannot
    stay. Every check passes; HiGHS proves the plan infeasible and the explanation names
    the rack at B, 2026 → 2027."""
    from model.errors import InfeasibleError

    folder = write_dataset(
        tmp_path / "d",
        [
            gpu_site("A", zone="z1"),
            gpu_site("B", zone="z2"),
            gpu_site("C", zone="z2", available_year=2027),
        ],
        settings={"demand": {"gpu_racks": 2}, "resilience": {"zone_survival_share": 0.5}},
    )
    _csv(
        folder, "periods.csv", [{"period": "2026", "year": 2026}, {"period": "2027", "year": 2027}]
    )
    _csv(folder, "site_power.csv", [{"site": "B", "year": 2027, "max_power_mw": 0}])
    with pytest.raises(InfeasibleError) as err:
        solve_dir(folder, out=tmp_path / "out")
    assert any(p.startswith("2026 → 2027: racks[B") for p in err.value.problems), err.value.problems
