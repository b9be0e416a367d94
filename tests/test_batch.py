"""Batches of scenarios: local worker processes and a Dask LocalCluster give the same
comparison.csv, a failing scenario never stops the batch, invalid overrides stop it before
anything is solved, and the progress output stays plain when stdout is not a terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import Future
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest
from builders import REPO, two_sites

from model.batch import (
    TIMING_COLUMNS,
    Job,
    LocalBackend,
    PlainReporter,
    RichReporter,
    ScenarioRow,
    execute,
    worst_exit,
)
from model.cli import main

THREE = [
    {"scenario": "one_site", "demand.max_gpu_sites": 1},
    {"scenario": "split", "resilience.zone_survival_share": 0.5},
    {"scenario": "big_split", "demand.gpu_racks": 8, "resilience.zone_survival_share": 0.5},
]


def read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, keep_default_na=False, dtype=str).drop(columns=TIMING_COLUMNS)


def check_three(df: pd.DataFrame) -> None:
    # one_site: 4 racks at A, 40 kW × 1 USD/kW = 40; split: 2 racks each side, 20 + 40 = 60
    # plus one 100 G unit (7 USD) for sync: 67; big_split: 4 + 4 racks, 40 + 80 + 7 = 127.
    assert list(df["scenario"]) == ["one_site", "split", "big_split"]
    assert list(df["status"]) == ["optimal"] * 3
    assert [float(x) for x in df["annual_cost_usd"]] == [40.0, 67.0, 127.0]
    assert [int(x) for x in df["gpu_sites"]] == [1, 2, 2]
    assert [x and float(x) for x in df["demand.max_gpu_sites"]] == [1.0, "", ""]
    assert list(df["error"]) == ["", "", ""]


@pytest.mark.slow  # a Dask LocalCluster takes a few seconds to start
def test_local_workers_and_dask_give_the_same_comparison(tmp_path: Path) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    local, dask = tmp_path / "local", tmp_path / "dask"
    assert main([str(ds), "--all", "--workers", "2", "--out", str(local), "-q"]) == 0
    args = ["--all", "--workers", "2", "--dask", "local", "--out", str(dask), "-q"]
    assert main([str(ds), *args]) == 0
    a, b = read(local / "tiny" / "comparison.csv"), read(dask / "tiny" / "comparison.csv")
    check_three(a)
    pd.testing.assert_frame_equal(a, b)
    for out in (local, dask):
        assert (out / "tiny" / "comparison.png").stat().st_size > 0
        for name in ("one_site", "split", "big_split"):
            assert (out / "tiny" / name / "summary.csv").exists()
        assert not [p for p in (out / "tiny").iterdir() if p.name.startswith(".")]


def test_a_failing_scenario_does_not_stop_the_batch(tmp_path: Path) -> None:
    # tight: zone survival needs both sites, which are 2.5 ms apart: infeasible
    tight = {
        "scenario": "tight",
        "demand.sync_latency_ms": 1,
        "resilience.zone_survival_share": 0.5,
    }
    scenarios = [THREE[0], tight, THREE[1]]
    ds = two_sites(tmp_path / "tiny", scenarios)
    out = tmp_path / "res"
    assert main([str(ds), "--all", "--out", str(out), "-q"]) == 3
    df = read(out / "tiny" / "comparison.csv")
    assert list(df["scenario"]) == ["one_site", "tight", "split"]
    assert list(df["status"]) == ["optimal", "infeasible", "optimal"]
    assert list(df["exit_code"]) == ["0", "3", "0"]
    assert "sync_latency_ms 1 ms" in df.at[1, "error"] and df.at[1, "annual_cost_usd"] == ""
    assert (out / "tiny" / "split" / "summary.csv").exists()


def test_invalid_overrides_stop_the_batch_before_anything_is_solved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenarios = [
        THREE[0],
        {"scenario": "typo", "demand.gpu_racks": "many"},
        {"scenario": "negative", "resilience.zone_survival_share": 2},
    ]
    ds = two_sites(tmp_path / "tiny", scenarios)
    out = tmp_path / "res"
    assert main([str(ds), "--all", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "2 of 3 scenarios are invalid; nothing was solved" in err
    assert (
        "scenarios.csv row 2 (line 3, scenario 'typo'), column demand.gpu_racks: value 'many'"
        in err
    )
    assert "scenarios.csv row 3 (line 4, scenario 'negative'), column" in err
    assert "resilience.zone_survival_share" in err
    assert not out.exists()


@pytest.mark.slow  # a fresh interpreter and three worker processes
def test_plain_progress_when_stdout_is_piped(tmp_path: Path) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    names = ["one_site", "split", "big_split"]
    args = [a for n in names for a in ("--scenario", n)]
    proc = subprocess.run(
        [sys.executable, str(REPO / "solve.py"), str(ds), *args, "--out", str(tmp_path / "r")],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\x1b[" not in proc.stdout and "\r" not in proc.stdout
    lines = proc.stdout.splitlines()
    assert len(lines) == 3
    assert sorted(line.split("] ")[1].split(":")[0] for line in lines) == sorted(names)
    assert [line.split("] ")[0] for line in lines] == ["[1/3", "[2/3", "[3/3"]
    check_three(read(tmp_path / "r" / "tiny" / "comparison.csv"))


def die(job: Job) -> ScenarioRow:
    """A worker that dies hard (as on out-of-memory) for one scenario."""
    if job.scenario == "doomed":
        os._exit(9)
    return ScenarioRow(job.scenario, 0, {"status": "optimal"})


def test_a_lost_worker_takes_only_its_own_scenario(tmp_path: Path) -> None:
    jobs = [Job(str(tmp_path), name, None) for name in ("first", "doomed", "last")]
    backend = LocalBackend(2, fn=die)
    try:
        rows = execute(jobs, backend, PlainReporter(enabled=False))
    finally:
        backend.close()
    assert [r.scenario for r in rows] == ["first", "doomed", "last"]
    assert [r.exit_code for r in rows] == [0, 1, 0]
    assert rows[1].error.startswith("worker lost: BrokenProcessPool")


def test_worst_exit_code_ranks_other_errors_first() -> None:
    assert worst_exit([0, 0]) == 0
    assert worst_exit([0, 2, 3]) == 3
    assert worst_exit([3, 4, 2]) == 4
    assert worst_exit([4, 1, 3]) == 1


def test_one_scenario_keeps_the_single_run_output(tmp_path: Path) -> None:
    ds = two_sites(tmp_path / "tiny", THREE)
    assert main([str(ds), "--scenario", "split", "--out", str(tmp_path / "r"), "-q"]) == 0
    assert (tmp_path / "r" / "tiny" / "split" / "summary.csv").exists()
    assert not (tmp_path / "r" / "tiny" / "comparison.csv").exists()


class Immediate:
    """A backend whose jobs are done at once: 'bad' fails as a lost worker would."""

    def submit(self, job: Job) -> Future:
        fut: Future = Future()
        if job.scenario == "bad":
            fut.set_exception(RuntimeError("cluster gone"))
        else:
            fut.set_result(
                ScenarioRow(
                    job.scenario,
                    0,
                    {"status": "optimal", "mip_gap": 0.0, "annual_cost_usd": 1.0, "power_mw": 2.0},
                )
            )
        return fut

    def wait(self, pending: set, timeout: float) -> tuple[set, set]:
        return set(pending), set()

    def running(self, pending: dict) -> int:
        return 0


def test_future_errors_become_rows() -> None:
    rows = execute([Job("/x", "bad", None)], Immediate(), PlainReporter(enabled=False))
    assert rows[0].exit_code == 1 and rows[0].error == "worker lost: RuntimeError: cluster gone"


def test_rich_progress_on_a_terminal() -> None:
    from rich.console import Console

    out = StringIO()
    console = Console(file=out, force_terminal=True, width=120)
    rows = execute(
        [Job("/x", "good", None), Job("/x", "bad", None)], Immediate(), RichReporter(console)
    )
    assert [r.exit_code for r in rows] == [0, 1]
    text = out.getvalue()
    assert "good: optimal" in text and "bad: error (exit 1): worker lost" in text
    assert "2/2" in text and "failed 1" in text
