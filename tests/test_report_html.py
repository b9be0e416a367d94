"""report.html: one self-contained file per run, batch and Pareto front. Opened in a real
headless Chromium with the network off, it draws as many site markers and routes as the
design has (counted from the result tables), logs no console error and requests nothing
but the file itself. Strings from the data set are escaped; the same results give the
same bytes."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from builders import REPO, route, write_dataset

from model.batch import BatchConfig, PlainReporter, run_batch
from model.pareto import ParetoOptions, pareto_front
from model.pipeline import SolveOptions, run_scenario
from model.report_html import render_run

#: A site name that would inject markup if it were not escaped (the loader refuses only
#: ``>``, ``;``, brackets and control characters in names).
HOSTILE = "A<img src=x onerror=\"alert('x')\" & 'q'"
CHROMIUM = Path("/usr/bin/chromium")
DESIGNS = ["optimal", "feasible"]
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def dataset(folder: Path, scenarios: list[dict] | None = None) -> Path:
    """Two GPU and storage sites (one with a hostile name), a transit node between them
    and a candidate far away that nothing needs."""
    sites = [
        {"site": HOSTILE, "lat": 35.68, "lon": 139.77, "gpu": 1, "storage": 1, "zone": "z1",
         "build_usd_per_kw": 1},
        {"site": "B", "lat": 34.69, "lon": 135.50, "gpu": 1, "storage": 1, "zone": "z2",
         "build_usd_per_kw": 2},
        {"site": "T", "lat": 35.18, "lon": 136.91, "zone": "z3"},
        {"site": "far", "lat": 43.06, "lon": 141.35, "zone": "z4", "gpu": 1, "open_capex_usd": 1000,
         "build_usd_per_kw": 50},
    ]  # fmt: skip
    return write_dataset(
        folder,
        sites,
        routes=[route(HOSTILE, "T", 270), route("T", "B", 140), route(HOSTILE, "far", 900)],
        settings={
            "demand": {
                "gpu_racks": 4,
                "storage_pb": 1,
                "storage_copies": 2,
                "sync_gbps": 100,
                "max_gpu_sites": 2,
            },
            "resilience": {"zone_survival_share": 0.25},
        },
        scenarios=scenarios,
    )


@pytest.fixture(scope="module")
def solved(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("report")
    ds = dataset(root / "tiny")
    run_scenario(ds, "base", root / "res", SolveOptions(mip_gap=0.0))
    return root / "res" / "tiny" / "base"


def frames(folder: Path) -> dict[str, pd.DataFrame]:
    names = ("summary", "sites", "links", "flows", "failures")
    return {n: pd.read_csv(folder / f"{n}.csv") for n in names if (folder / f"{n}.csv").exists()}


def test_report_is_self_contained_and_escaped(solved: Path) -> None:
    text = (solved / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    for ref in ("http://", "https://", "//cdn", "src=", "@import", "url("):
        # the one src= allowed is inside the escaped hostile name
        assert ref not in text.replace("src=x", ""), ref
    assert HOSTILE not in text and "<img" not in text
    assert "A&lt;img src=x onerror=&quot;alert(&#x27;x&#x27;)&quot; &amp; &#x27;q&#x27;" in text


def test_same_results_give_the_same_bytes(solved: Path) -> None:
    run = json.loads((solved / "run.json").read_text())
    once = render_run(frames(solved), run)
    assert once == render_run(frames(solved), run)
    assert once == (solved / "report.html").read_text(encoding="utf-8")


def chromium_or_skip() -> None:
    """Skip without Chromium or playwright, except in CI (CI=true), where it is a failure."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("playwright (pip install -e '.[test]')")
    if missing:
        why = "report.html browser test needs " + " and ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(why)
        pytest.skip(why)


def open_in_chromium(page_file: Path, screenshot: Path | None = None) -> dict:
    """Load ``page_file`` offline in headless Chromium: counts of what the map drew, the
    console errors and every request made."""
    from playwright.sync_api import sync_playwright

    requests: list[str] = []
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            offline=True,
            viewport={"width": 1200, "height": 900},
        )
        try:
            page = browser.new_page()
            page.on("request", lambda r: requests.append(r.url))
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(page_file.resolve().as_uri(), wait_until="load")
            page.wait_for_timeout(300)
            counts = {
                sel: page.locator(f"svg#map {sel}").count()
                for sel in (".site", ".route", ".candidate", ".worst")
            }
            counts["img"] = page.locator("img").count()
            counts["title"] = page.title()
            counts["h1"] = page.locator("h1").inner_text()
            if screenshot is not None:
                page.screenshot(path=str(screenshot), full_page=False)
        finally:
            browser.close()
    return {"counts": counts, "errors": errors, "requests": requests}


def test_report_renders_the_design_in_chromium(solved: Path, tmp_path: Path) -> None:
    chromium_or_skip()
    sites = pd.read_csv(solved / "sites.csv")
    links = pd.read_csv(solved / "links.csv")
    summary = pd.read_csv(solved / "summary.csv").iloc[0]
    got = open_in_chromium(solved / "report.html", tmp_path / "report.png")
    counts = got["counts"]
    assert counts[".site"] == int((sites["open"] == 1).sum())
    assert counts[".route"] == links["route"].nunique()
    assert counts[".candidate"] == int((sites["open"] == 0).sum())
    assert counts[".candidate"] >= 1  # "far" is never worth opening
    if isinstance(summary["worst_failure"], str):
        assert counts[".worst"] >= 1
    assert counts["img"] == 0  # the hostile name stayed text
    assert got["errors"] == []
    assert got["requests"] == [(solved / "report.html").resolve().as_uri()]
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_screenshot_for_the_readme(tmp_path: Path) -> None:
    """docs/report.png is the Japan report; SCALEACROSS_UPDATE_SCREENSHOT=1 regenerates it."""
    shot = REPO / "docs" / "report.png"
    if os.environ.get("SCALEACROSS_UPDATE_SCREENSHOT") != "1":
        assert shot.is_file() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        return
    chromium_or_skip()
    run_scenario(REPO / "data" / "japan", "base", tmp_path)
    folder = tmp_path / "japan" / "base"
    got = open_in_chromium(folder / "report.html", tmp_path / "japan.png")
    assert got["errors"] == []
    shutil.copyfile(tmp_path / "japan.png", shot)


def test_batch_report_flags_ties_and_lists_changes(tmp_path: Path) -> None:
    scenarios = [
        {"scenario": "base"},
        {"scenario": "same", "demand.gpu_racks": 4},  # the base design again: a tie
        {"scenario": "big", "demand.gpu_racks": 8},
        {"scenario": "broken", "demand.sync_latency_ms": 0.001},  # infeasible
    ]
    ds = dataset(tmp_path / "tiny", scenarios)
    cfg = BatchConfig(ds, ("base", "same", "big", "broken"), tmp_path / "res", workers=1)
    result = run_batch(cfg, PlainReporter(enabled=False))
    text = (tmp_path / "res" / "tiny" / "report.html").read_text(encoding="utf-8")
    comparison = result.comparison.set_index("scenario")
    assert list(comparison["status"].isin(["optimal", "feasible"])) == [True, True, True, False]
    assert '<tr class="tie"><td>same</td>' in text
    assert '<tr class=""><td>big</td>' in text and '<tr class="bad"><td>broken</td>' in text
    assert "What changes against scenario base" in text
    assert HOSTILE not in text
    assert '<a href="big/report.html">' in text
    infeasible = (tmp_path / "res" / "tiny" / "broken" / "report.html").read_text(encoding="utf-8")
    assert "Smallest set of moves" in infeasible and HOSTILE not in infeasible


def test_pareto_report(tmp_path: Path) -> None:
    ds = dataset(tmp_path / "tiny")
    result = pareto_front(ds, "base", tmp_path / "res", None, ParetoOptions(points=3))
    folder = tmp_path / "res" / "tiny" / "base" / "pareto"
    text = (folder / "report.html").read_text(encoding="utf-8")
    assert text.count('class="point"') == int(result.table["status"].isin(DESIGNS).sum())
    for point in result.table["point"]:
        assert f"<h3>point {point}</h3>" in text
        assert (folder / f"point_{int(point):02d}" / "report.html").is_file()
        assert f'<a href="point_{int(point):02d}/report.html">' in text
