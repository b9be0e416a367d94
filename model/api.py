"""The Python face of scaleacross (docs/api.md walks through it): load a data set from a
folder or from DataFrames, apply settings overrides, solve, read the result tables, write a
results folder, run a batch or a Pareto front. Every step is the command line's own code
(:mod:`model.load`, :mod:`model.pipeline`, :mod:`model.export`, :mod:`model.batch`,
:mod:`model.pareto`): the same input gives the same design and the same files.

Overrides and data sets made from DataFrames are written to a private temporary copy of
the data set (the contract's files only) and read back by the loader, so they are checked
exactly as ``scenarios.csv`` rows and data set files are.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from model import schema
from model.batch import BatchConfig, BatchResult, PlainReporter, all_scenarios, run_batch
from model.export import dataset_name, results_target, scenario_lock, write_results
from model.load import Dataset, load_dataset
from model.pareto import ParetoOptions, ParetoResult
from model.pareto import pareto_front as _pareto_front
from model.pipeline import RunResult, SolveOptions, run_scenario

CONTRACT_FILES = ("settings.toml", *(t.file for t in schema.TABLES))


class Problem:
    """A data set ready to solve: a folder and a scenario (with any overrides applied).
    ``dataset`` is the validated :class:`~model.load.Dataset` (its tables as DataFrames,
    its effective ``settings``)."""

    def __init__(self, folder: Path, scenario: str, private: Path | None = None) -> None:
        self.folder = folder
        self.scenario = scenario
        if private is not None:  # a private copy lives as long as this object
            weakref.finalize(self, shutil.rmtree, private, ignore_errors=True)
        self.dataset: Dataset = load_dataset(folder, scenario)

    @property
    def name(self) -> str:
        return self.dataset.name

    @property
    def settings(self) -> dict[str, Any]:
        """The effective settings of the scenario, as plain data."""
        return self.dataset.settings.model_dump(mode="json")

    def with_overrides(self, overrides: dict[str, Any], scenario: str | None = None) -> Problem:
        """This problem with dotted settings overrides (``{"demand.gpu_racks": 300}``) on
        top of its scenario's; ``scenario`` names the result (default: the current name)."""
        return _overridden(self, overrides, scenario or self.scenario)

    def solve(self, **kw: Any) -> Result:
        """:func:`solve` this problem."""
        return solve(self, **kw)

    def save(self, folder: str | Path) -> Path:
        """Copy the data set's files (settings.toml and the CSVs, scenarios.csv with any
        overrides) to ``folder`` (created), e.g. to run a batch on a data set made from
        DataFrames. Returns the folder."""
        out = Path(folder)
        out.mkdir(parents=True, exist_ok=True)
        for file in CONTRACT_FILES:
            if (self.folder / file).is_file():
                shutil.copyfile(self.folder / file, out / file)
        return out

    def __repr__(self) -> str:
        return f"Problem({self.name!r}, scenario={self.scenario!r})"


def load_data(
    path: str | Path,
    scenario: str = "base",
    overrides: dict[str, Any] | None = None,
    name: str | None = None,
) -> Problem:
    """The data set at ``path`` under ``scenario`` (a row of its scenarios.csv), plus
    ``overrides`` (dotted settings keys, as in scenarios.csv); ``name`` names the result's
    scenario (its results folder; default: ``scenario``). Raises InputError (every problem
    listed) when the data, an override or the name is invalid."""
    problem = Problem(Path(path), scenario)
    if overrides or (name and name != scenario):
        return problem.with_overrides(overrides or {}, name)
    return problem


def from_frames(
    name: str,
    settings: dict[str, Any],
    sites: pd.DataFrame,
    link_types: pd.DataFrame,
    routers: pd.DataFrame,
    cooling: pd.DataFrame,
    routes: pd.DataFrame | None = None,
    offers: pd.DataFrame | None = None,
    demands: pd.DataFrame | None = None,
    scenarios: pd.DataFrame | None = None,
    scenario: str = "base",
    users: pd.DataFrame | None = None,
    periods: pd.DataFrame | None = None,
    site_power: pd.DataFrame | None = None,
) -> Problem:
    """A data set from DataFrames with the columns of docs/data-format.md and ``settings``
    as nested dicts (the tables of settings.toml). ``name`` names the data set (and its
    results folder). ``users`` (customer regions), ``periods`` and ``site_power`` (growth
    over periods) are optional like their CSV files."""
    tmp = Path(tempfile.mkdtemp(prefix="scaleacross-api-"))
    folder = tmp / name
    folder.mkdir()
    (folder / "settings.toml").write_text(toml_text(settings), encoding="utf-8")
    frames = {
        "sites.csv": sites,
        "link_types.csv": link_types,
        "routers.csv": routers,
        "cooling.csv": cooling,
        "routes.csv": routes,
        "offers.csv": offers,
        "demands.csv": demands,
        "scenarios.csv": scenarios,
        "users.csv": users,
        "periods.csv": periods,
        "site_power.csv": site_power,
    }
    for file, df in frames.items():
        if df is not None:
            df.to_csv(folder / file, index=False, lineterminator="\n")
    return Problem(folder, scenario, tmp)


def _overridden(problem: Problem, overrides: dict[str, Any], scenario: str) -> Problem:
    tmp = Path(tempfile.mkdtemp(prefix="scaleacross-api-"))
    folder = tmp / problem.name
    folder.mkdir()
    for file in CONTRACT_FILES:
        if (problem.folder / file).is_file():
            shutil.copyfile(problem.folder / file, folder / file)
    merged = {**problem.dataset.overrides, **overrides}
    rows = []
    if (folder / "scenarios.csv").is_file():
        old = pd.read_csv(folder / "scenarios.csv", dtype=str, keep_default_na=False)
        rows = [r for r in old.to_dict("records") if r["scenario"] != scenario]
    rows.append({"scenario": scenario, **{k: _csv_value(v) for k, v in merged.items()}})
    pd.DataFrame(rows).fillna("").to_csv(folder / "scenarios.csv", index=False)
    return Problem(folder, scenario, tmp)


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ";".join(str(v) for v in value)
    return str(value)


def toml_text(data: dict[str, Any], prefix: str = "") -> str:
    """``data`` (nested dicts of numbers, strings, booleans, lists) as TOML."""
    lines, tables = [], []
    for k, v in data.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append(f"{k} = {_toml_value(v)}")
    out = ("\n".join(lines) + "\n") if lines else ""
    for k, v in tables:
        out += f"\n[{prefix}{k}]\n" + toml_text(v, f"{prefix}{k}.")
    return out


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


@dataclass
class Result:
    """A solved scenario: the result tables as DataFrames and the solver's outcome."""

    run_result: RunResult

    @property
    def tables(self) -> Any:
        return self.run_result.tables

    summary = property(lambda self: self.tables.summary)
    sites = property(lambda self: self.tables.sites)
    links = property(lambda self: self.tables.links)
    flows = property(lambda self: self.tables.flows)
    failures = property(lambda self: self.tables.failures)
    users = property(lambda self: self.tables.users)
    periods = property(lambda self: self.tables.periods)  # growth over periods, else None

    @property
    def status(self) -> str:
        """``optimal`` or ``feasible`` (a limit stopped HiGHS; see ``gap``)."""
        return self.run_result.outcome.status

    @property
    def gap(self) -> float | None:
        """Relative MIP gap reached."""
        return self.run_result.outcome.mip_gap

    @property
    def bound(self) -> float | None:
        """Best bound HiGHS proved on the objective, USD/yr."""
        return self.run_result.outcome.bound

    @property
    def objective(self) -> float:
        return float(self.summary.at[0, "objective"])

    @property
    def run(self) -> dict[str, Any]:
        """What run.json holds: settings, outcome, routing claim, timings, versions."""
        return self.run_result.run

    @property
    def folder(self) -> Path | None:
        """The results folder written (None until :meth:`write`)."""
        return self.run_result.out_dir

    def write(self, out_root: str | Path = "results") -> Path:
        """Write ``out_root/<data set>/<scenario>/`` (CSVs, run.json, report.html,
        design.geojson, design.xlsx) atomically, as the command line does."""
        ds = self.run_result.dataset
        target = results_target(out_root, dataset_name(ds.path), ds.scenario)
        with scenario_lock(target):
            self.run_result.out_dir = write_results(target, self.tables, self.run)
        return target

    def report_html(self) -> str:
        """The report.html page of this result, as text."""
        from model.report_html import render_run

        names = ("summary", "sites", "links", "flows", "failures", "users", "periods")
        frames = {n: getattr(self.tables, n) for n in names if getattr(self.tables, n) is not None}
        return render_run(frames, self.run)

    def geojson(self) -> dict[str, Any]:
        """design.geojson as a dict (RFC 7946)."""
        from model.geo import design_geojson

        return design_geojson(self.sites, self.links)


def solve(
    problem: Problem | str | Path,
    time_limit_s: float | None = None,
    mip_gap: float | None = None,
    threads: int | None = None,
    seed: int | None = None,
    screen: int | None = None,
    out: str | Path | None = None,
) -> Result:
    """Solve a :class:`Problem` (or the base scenario of a folder). Solver options
    override the data set's ``[solver]`` table as the command-line flags do; with ``out``
    the results folder is written too. Raises InfeasibleError, NoDesignError, InputError
    (:mod:`model.errors`) like the command line's exit codes 3, 4, 2."""
    if not isinstance(problem, Problem):
        problem = load_data(problem)
    opts = SolveOptions(time_limit_s, mip_gap, threads, seed, screen)
    return Result(run_scenario(problem.folder, problem.scenario, out, opts))


def solve_batch(
    path: str | Path,
    scenarios: list[str] | None = None,
    out: str | Path = "results",
    workers: int = 1,
    **solver: Any,
) -> BatchResult:
    """Solve ``scenarios`` (default: every row of scenarios.csv) in worker processes and
    write their folders, comparison.csv/.png and report.html under ``out/<data set>/``;
    ``.comparison`` is the comparison table. ``solver``: as for :func:`solve`."""
    folder = Path(path)
    names = tuple(scenarios or all_scenarios(folder))
    cfg = BatchConfig(
        folder, names, Path(out), _solve_options(solver), workers, None, logging.WARNING
    )
    return run_batch(cfg, PlainReporter(enabled=False))


def pareto_front(
    path: str | Path,
    scenario: str = "base",
    points: int = 5,
    out: str | Path | None = "results",
    **solver: Any,
) -> ParetoResult:
    """The cost–power front of one scenario (``points`` ≥ 2 power caps); ``.table`` is
    pareto.csv; with ``out`` it is written to ``out/<data set>/<scenario>/pareto/``."""
    opts = _solve_options(solver)
    return _pareto_front(path, scenario, out, opts, ParetoOptions(points=points))


def _solve_options(kw: dict[str, Any]) -> SolveOptions:
    names = {"time_limit_s", "mip_gap", "threads", "seed", "screen"}
    unknown = set(kw) - names
    if unknown:
        raise TypeError(f"unknown solver options {sorted(unknown)}; known: {sorted(names)}")
    return SolveOptions(
        kw.get("time_limit_s"),
        kw.get("mip_gap"),
        kw.get("threads"),
        kw.get("seed"),
        kw.get("screen"),
    )
