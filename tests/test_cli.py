"""Ladder rung 3: the command line — exit codes, messages, files written, and nothing
half-written when a run fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from builders import REPO, route, two_sites, write_dataset

from model import export
from model.cli import main
from model.extract import FLOW_COLUMNS, LINK_COLUMNS, SITE_COLUMNS, SUMMARY_COLUMNS


def small(folder: Path, **demand) -> Path:
    sites = [
        {
            "site": "A",
            "lat": 35,
            "lon": 139,
            "gpu": 1,
            "storage": 1,
            "zone": "z1",
            "build_usd_per_kw": 1,
        },
        {
            "site": "B",
            "lat": 34.7,
            "lon": 135.5,
            "gpu": 1,
            "storage": 1,
            "zone": "z2",
            "build_usd_per_kw": 2,
        },
    ]
    return write_dataset(
        folder,
        sites,
        routes=[route("A", "B", 500)],
        settings={
            "demand": {
                "gpu_racks": 4,
                "storage_pb": 1,
                "storage_copies": 2,
                "sync_gbps": 100,
                "max_gpu_sites": 2,
                **demand,
            },
            "resilience": {"zone_survival_share": 0.25},
        },
        scenarios=[
            {"scenario": "big", "demand.gpu_racks": 8},
            {"scenario": "tight", "demand.sync_latency_ms": 1},
        ],
    )


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, str(REPO / "solve.py"), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_exit_0_writes_every_table_with_every_column(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    proc = run_cli(str(ds), "--out", str(tmp_path / "res"), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = tmp_path / "res" / "tiny" / "base"
    for name, cols in (
        ("summary", SUMMARY_COLUMNS),
        ("sites", SITE_COLUMNS),
        ("links", LINK_COLUMNS),
        ("flows", FLOW_COLUMNS),
    ):
        df = pd.read_csv(out / f"{name}.csv")
        assert list(df.columns[: len(cols)]) == cols
    assert (out / "run.json").exists()
    assert "optimal" in proc.stdout and "annual cost" in proc.stdout
    summary = pd.read_csv(out / "summary.csv").iloc[0]
    assert summary["status"] == "optimal" and summary["gpu_sites"] == 2


def test_scenario_goes_to_its_own_folder(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    assert main([str(ds), "--scenario", "big", "--out", str(tmp_path / "res"), "-q"]) == 0
    summary = pd.read_csv(tmp_path / "res" / "tiny" / "big" / "summary.csv").iloc[0]
    assert summary["scenario"] == "big" and summary["gpu_racks"] == 8


def test_exit_2_invalid_input_names_file_row_column(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    sites = pd.read_csv(ds / "sites.csv", dtype=str, keep_default_na=False)
    sites.loc[1, "lon"] = "east"
    sites.to_csv(ds / "sites.csv", index=False)
    proc = run_cli(str(ds), "--out", str(tmp_path / "res"), cwd=tmp_path)
    assert proc.returncode == 2
    assert (
        "sites.csv row 2 (line 3, site 'B'), column lon: value 'east' is not a number"
        in proc.stderr
    )
    assert not (tmp_path / "res").exists()


def test_exit_2_missing_folder(tmp_path: Path) -> None:
    proc = run_cli(str(tmp_path / "nowhere"), cwd=tmp_path)
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_exit_3_infeasible_says_why(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    proc = run_cli(str(ds), "--scenario", "tight", "--out", str(tmp_path / "res"), cwd=tmp_path)
    assert proc.returncode == 3
    assert "infeasible:" in proc.stderr
    assert "sync_latency_ms 1 ms" in proc.stderr and "A-B best path 2.500 ms" in proc.stderr


def test_exit_4_no_design_within_limits(tmp_path: Path) -> None:
    # A knapsack-like instance HiGHS cannot finish in no time: 30 GPU sites with distinct
    # awkward rack caps and prices; a 1 ms limit stops it before any design.
    sites = [
        {
            "site": f"S{i:02d}",
            "lat": 35 + i * 0.01,
            "lon": 139,
            "gpu": 1,
            "max_racks": 7 + (i * 37) % 23,
            "open_capex_usd": 1000 + (i * 7919) % 997,
            "build_usd_per_kw": 1 + (i * 31) % 7,
        }
        for i in range(30)
    ]
    ds = write_dataset(
        tmp_path / "hard",
        sites,
        settings={"demand": {"gpu_racks": 211, "min_racks_per_gpu_site": 5}},
    )
    code = main([str(ds), "--out", str(tmp_path / "res"), "--time-limit", "0.001", "-q"])
    assert code == 4
    assert not (tmp_path / "res").exists()


def test_a_limit_spent_before_the_solver_stops_the_run_between_phases(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Loading, the network plan, the index and the build have no solver clock, so the
    # limit is checked between them (and inside them, see the next test): a limit already
    # spent by loading ends the run there, with exit 4 and the phase named, before any
    # path search or HiGHS.
    from model.highs_direct import highs_seconds

    ds = small(tmp_path / "tiny")
    before = highs_seconds()
    code = main([str(ds), "--out", str(tmp_path / "res"), "--time-limit", "1e-9"])
    assert code == 4
    err = capsys.readouterr().err
    assert "the time limit of 1e-09 s ran out by the end of the load phase" in err
    assert highs_seconds() == before
    assert not (tmp_path / "res" / "tiny" / "base").exists()


def test_a_limit_spent_inside_a_phase_stops_it_there(tmp_path: Path) -> None:
    # Inside a run (model/deadline.py), the network plan checks the limit per pair of
    # sites, the index per commodity and the build between model families: each of the
    # three, started after the limit is spent, stops with exit 4's error naming itself.
    # Outside a run there is no deadline: the same calls go through.
    import time

    from model.build import build_model
    from model.deadline import deadline
    from model.errors import NoDesignError
    from model.index import build_index
    from model.load import load_dataset
    from model.network import plan_network

    ds = load_dataset(two_sites(tmp_path / "two"))
    plan = plan_network(ds)
    ix = build_index(ds, plan)
    steps = {
        "network": lambda: plan_network(ds),
        "index": lambda: build_index(ds, plan),
        "build": lambda: build_model(ds, plan, ix),
    }
    with deadline(time.perf_counter() - 10.0, 5.0):
        for phase, step in steps.items():
            with pytest.raises(NoDesignError, match=f"5 s ran out during the {phase} phase"):
                step()
    assert build_model(ds, plan, ix)[0].open  # no deadline outside the block


def test_failed_run_leaves_earlier_results_intact(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    res = tmp_path / "res"
    assert main([str(ds), "--out", str(res), "-q"]) == 0
    before = (res / "tiny" / "base" / "summary.csv").read_text()
    (ds / "settings.toml").write_text(
        (ds / "settings.toml").read_text().replace("sync_gbps = 100", "sync_gbps = -1")
    )
    assert main([str(ds), "--out", str(res), "-q"]) == 2
    assert (res / "tiny" / "base" / "summary.csv").read_text() == before
    assert sorted(p.name for p in (res / "tiny").iterdir()) == ["base"]


def test_crash_during_export_leaves_no_half_written_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = small(tmp_path / "tiny")
    res = tmp_path / "res"
    assert main([str(ds), "--out", str(res), "-q"]) == 0
    before = {
        p.name: p.read_bytes() for p in (res / "tiny" / "base").iterdir() if p.suffix == ".csv"
    }

    def boom(*_args, **_kw):
        raise OSError("disk full")

    monkeypatch.setattr(export.json, "dumps", boom)
    assert main([str(ds), "--out", str(res), "-q"]) == 1
    after = {
        p.name: p.read_bytes() for p in (res / "tiny" / "base").iterdir() if p.suffix == ".csv"
    }
    assert after == before
    assert sorted(p.name for p in (res / "tiny").iterdir()) == ["base"]


def test_same_input_same_output(tmp_path: Path) -> None:
    ds = small(tmp_path / "tiny")
    for out in ("r1", "r2"):
        assert main([str(ds), "--out", str(tmp_path / out), "-q"]) == 0
    for name in ("sites.csv", "links.csv", "flows.csv"):
        a = (tmp_path / "r1" / "tiny" / "base" / name).read_text()
        b = (tmp_path / "r2" / "tiny" / "base" / name).read_text()
        assert a == b
    s1 = pd.read_csv(tmp_path / "r1" / "tiny" / "base" / "summary.csv")
    s2 = pd.read_csv(tmp_path / "r2" / "tiny" / "base" / "summary.csv")
    timing = ["build_s", "solve_s"]
    pd.testing.assert_frame_equal(s1.drop(columns=timing), s2.drop(columns=timing))


def test_help_lists_exit_codes() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "solve.py"), "--help"], capture_output=True, text=True, cwd=REPO
    )
    assert proc.returncode == 0 and "Exit codes" in proc.stdout
    assert "130 interrupted" in proc.stdout


def test_failed_self_check_is_a_bug_exit_1_and_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from model import pipeline
    from model.verify import Violation

    planted = [Violation("capacity", "route A-B ab", "load 500 > capacity 400")]
    monkeypatch.setattr(pipeline, "verify_tables", lambda ds, tables: planted)
    ds = small(tmp_path / "tiny")
    assert main([str(ds), "--out", str(tmp_path / "res"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "breaks 1 rule(s) on independent re-check" in err
    assert "capacity: route A-B ab: load 500 > capacity 400" in err
    assert not (tmp_path / "res" / "tiny" / "base").exists()
