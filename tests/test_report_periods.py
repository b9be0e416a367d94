"""report.html, design.geojson and design.xlsx of a growth plan (docs/contract.md §8) show
every period. A tiny two-period plan solved by HiGHS, its optimum by hand: A (energy
1 USD/MWh) is the only GPU site in 2026; B (free) becomes available in 2027, when the
racks double. The 2 racks at A stay; the 2 new ones go to B, whose sync traffic with A
lights the route A-B (one unit of 7 USD) and takes a router at each end (free):
2026: 2 × 10 kW × 8.76 = 175.2; 2027: 175.2 + 0 + 7 = 182.2; total 357.4 (4 racks at A
in 2027 would cost 350.4 that year). C (open 1000) is never worth opening."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from builders import approx, route, solve_dir, write_dataset
from test_report_html import CHROMIUM, FLAGS, chromium_or_skip

from model.export import extra_files
from model.pipeline import RunResult
from model.report_html import render_run

TABLES = ("summary", "sites", "links", "flows", "failures", "periods")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    root = tmp_path_factory.mktemp("growth")
    sites = [
        {"site": "A", "lat": 35.68, "lon": 139.77, "gpu": 1, "zone": "z1",
         "energy_usd_per_mwh": 1},
        {"site": "B", "lat": 34.69, "lon": 135.50, "gpu": 1, "zone": "z2",
         "available_year": 2027},
        {"site": "C", "lat": 43.06, "lon": 141.35, "gpu": 1, "zone": "z3",
         "open_capex_usd": 1000},
    ]  # fmt: skip
    ds = write_dataset(
        root / "grow",
        sites,
        routes=[route("A", "B", 500), route("A", "C", 900)],
        settings={"demand": {"gpu_racks": 2, "sync_gbps": 100, "max_gpu_sites": 2}},
    )
    pd.DataFrame(
        [{"period": "2026", "year": 2026}, {"period": "2027", "year": 2027, "gpu_racks": 4}]
    ).to_csv(ds / "periods.csv", index=False)
    result = solve_dir(ds, out=root / "res")
    assert result.tables.summary.at[0, "objective"] == approx(357.4)
    return result


@pytest.fixture(scope="module")
def folder(result: RunResult) -> Path:
    return result.out_dir


def frames(folder: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_csv(folder / f"{n}.csv") for n in TABLES if (folder / f"{n}.csv").exists()}


def panel(text: str, i: int) -> str:
    """The HTML of the i-th period's panel."""
    start = text.index(f'<div class="panel" id="panel-{i}"')
    end = text.find('<div class="panel" id="panel-', start + 1)
    return text[start : end if end > 0 else text.index("<h2>Solver outcome")]


def test_report_shows_every_period_and_what_is_new(folder: Path) -> None:
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert "<h1>grow / base: growth plan over 2 periods</h1>" in text
    assert "Growth plan over <b>2 periods</b> (2026, 2027)" in text
    assert "discounted objective of the horizon <b>357.40 $</b>" in text
    # the build-out table: a row per period, with what it adds
    assert "<h2>Build-out by period</h2>" in text
    assert "<td>2026</td>" in text and "<td>2027</td>" in text
    assert "first build-out: 1 site, 0 routes, +2 racks" in text
    assert "sites opened: B; routes lit: A-B; racks: B +2" in text
    # a tab per period, the last one picked; one map per period
    assert '<input type="radio" name="period" id="period-0" value="2026">' in text
    assert '<input type="radio" name="period" id="period-1" value="2027" checked>' in text
    first, second = panel(text, 0), panel(text, 1)
    assert 'id="map-0"' in first and 'id="map-1"' in second
    # 2026: A only (B is not yet a candidate), nothing marked
    assert 'data-site="A"' in first and 'data-site="B"' not in first
    assert 'data-route="A-B"' not in first and " new" not in first
    assert "everything shown is built in 2026" in first
    # 2027: B and the route A-B are new, marked on the map and in the tables
    assert 'class="site gpu new" data-site="B"' in second
    assert "B · new in 2027</text>" in second
    assert re.search(r'class="route( worst)? new" data-route="A-B"', second)
    assert 'class="site gpu grown" data-site="A"' in second  # a router added at A
    assert '<tr class="new"><td>new: +2 racks, +1 router</td><td>B</td>' in second
    assert '<tr class="new"><td>new: 1 × zr</td><td>A-B</td>' in second
    assert "Cost and power in the last period (2027)" in text


def test_same_results_give_the_same_bytes(result: RunResult, folder: Path) -> None:
    run = json.loads((folder / "run.json").read_text())
    text = (folder / "report.html").read_text(encoding="utf-8")
    tables = {n: getattr(result.tables, n) for n in TABLES[:-1]}
    assert render_run({**tables, "periods": pd.read_csv(folder / "periods.csv")}, run) == text
    # without periods.csv among the tables (model.api), run.json's list stands in
    assert extra_files(tables, run)["report.html"] == text


def test_report_from_the_csvs(folder: Path) -> None:
    """Read back, the period names are numbers: the same periods, maps and marks."""
    run = json.loads((folder / "run.json").read_text())
    read = frames(folder)
    assert read["sites"]["period"].dtype.kind == "i"
    text = render_run(read, run)
    written = (folder / "report.html").read_text(encoding="utf-8")
    for i in (0, 1):
        marks = re.compile(r'class="(site|route)[^"]*" data-(?:site|route)="[^"]*"')
        assert marks.findall(panel(text, i)) == marks.findall(panel(written, i))

    def when(text: str) -> list[tuple]:
        keys = ("kind", "site", "route", "period", "year", "first_period")
        return [tuple(f["properties"].get(k) for k in keys) for f in json.loads(text)["features"]]

    geo = extra_files(read, run)["design.geojson"]
    assert when(geo) == when((folder / "design.geojson").read_text())


def test_a_single_period_page_has_no_period_selector(folder: Path) -> None:
    run = json.loads((folder / "run.json").read_text())
    last = {
        n: f[f["period"] == "2027"].drop(columns="period") if "period" in f.columns else f
        for n, f in frames(folder).items()
        if n != "periods"
    }
    text = render_run(last, {k: v for k, v in run.items() if k != "periods"})
    assert 'class="periods"' not in text and "period-0" not in text and "new-halo" not in text
    assert 'id="map"' in text and "growth plan" not in text


def test_geojson_has_a_feature_per_period(folder: Path) -> None:
    geo = json.loads((folder / "design.geojson").read_text(encoding="utf-8"))
    seen = {
        (f["properties"]["kind"], f["properties"].get("site") or f["properties"].get("route"),
         f["properties"]["period"]): f["properties"]
        for f in geo["features"]
    }  # fmt: skip
    assert sorted(seen) == [
        ("route", "A-B", "2027"),
        ("site", "A", "2026"),
        ("site", "A", "2027"),
        ("site", "B", "2027"),  # C is never open: no feature
    ]
    assert seen[("site", "A", "2026")]["first_period"] == "2026"
    assert seen[("site", "A", "2027")]["first_period"] == "2026"
    assert seen[("site", "B", "2027")]["first_period"] == "2027"
    assert seen[("route", "A-B", "2027")]["first_period"] == "2027"
    assert [seen[k]["year"] for k in sorted(seen)] == [2027, 2026, 2027, 2027]
    assert seen[("site", "B", "2027")]["gpu_racks"] == 2
    point = next(f for f in geo["features"] if f["properties"].get("site") == "B")
    assert point["geometry"]["coordinates"] == [135.50, 34.69]


def test_workbook_has_the_periods_sheet(folder: Path) -> None:
    sheets = pd.read_excel(folder / "design.xlsx", sheet_name=None)
    assert list(sheets) == ["summary", "periods", "sites", "links", "flows", "failures", "columns"]
    periods = sheets["periods"]
    assert list(periods["period"].astype(str)) == ["2026", "2027"]
    assert list(periods["year"]) == [2026, 2027]
    pd.testing.assert_frame_equal(periods, pd.read_csv(folder / "periods.csv"), check_dtype=False)
    cols = sheets["columns"].fillna("")
    assert (cols["meaning"] != "").all(), cols[cols["meaning"] == ""]
    period = cols[cols["column"] == "period"]
    assert sorted(period["sheet"]) == ["failures", "flows", "links", "periods", "sites"]
    objective = cols[(cols["sheet"] == "summary") & (cols["column"] == "objective")]
    assert "discounted total of the horizon" in objective["meaning"].iloc[0]


def test_period_selector_in_chromium(folder: Path, tmp_path: Path) -> None:
    """Radio buttons and CSS alone: the last period shows first; a click on the first tab
    shows its map instead. No script error, no request."""
    chromium_or_skip()
    from playwright.sync_api import sync_playwright

    page_file = folder / "report.html"
    requests: list[str] = []
    errors: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            page = browser.new_context(offline=True).new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            first, second = page.locator("#panel-0"), page.locator("#panel-1")
            assert second.is_visible() and not first.is_visible()
            assert page.locator("#map-1 .site.new").count() == 1
            assert page.locator("#map-1 .route.new").count() == 1
            page.click('label[for="period-0"]')
            assert first.is_visible() and not second.is_visible()
            assert page.locator("#map-0 .site").count() == 1
            assert page.locator("#map-0 .new").count() == 0
            page.screenshot(path=str(tmp_path / "p1.png"))
        finally:
            browser.close()
    assert errors == [] and requests == [page_file.resolve().as_uri()]
    assert (tmp_path / "p1.png").stat().st_size > 10_000
