"""One scenario end to end: load → plan network → precheck → build → solve → extract →
export. Each phase is timed; the phases are the modules of this package."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO, TypeVar

import pandas as pd

from model import heap
from model.build import build_model, model_size
from model.colgen import PathSet, claim, design_columns, root_columns
from model.config import AUTO_THREADS_SITES
from model.deadline import Deadline, deadline
from model.errors import (
    DesignCheckError,
    InfeasibleError,
    InputError,
    NoDesignError,
    ScaleacrossError,
)
from model.explain import COLUMNS as EXPLAIN_COLUMNS
from model.explain import explain_infeasibility
from model.export import (
    dataset_name,
    results_target,
    scenario_lock,
    versions,
    write_folder,
    write_results,
)
from model.extract import SUMMARY_COLUMNS, Tables, extract
from model.failures import failure_report_tables, worst_case
from model.highs_direct import Compiled, compile_model, highs_seconds
from model.index import build_index
from model.load import Dataset, load_dataset
from model.network import plan_network
from model.other_solvers import HIGHS
from model.other_solvers import problem as solver_problem
from model.precheck import check_feasibility
from model.screen import FirstDesign, first_design, transfer
from model.solver import DirectHighs, Outcome, relative_gap, solve
from model.verify import verify_tables

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class RunResult:
    dataset: Dataset
    outcome: Outcome
    tables: Tables
    timings: dict[str, float]
    size: dict[str, int]
    out_dir: Path | None
    run: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SolveOptions:
    """Command-line overrides of ``[solver]`` (None keeps the data set's value)."""

    time_limit_s: float | None = None
    mip_gap: float | None = None
    threads: int | None = None
    seed: int | None = None
    screen_gpu_sites: int | None = None
    name: str | None = None  # the solver (``[solver] name``)


def _timed(timings: dict[str, float], phase: str, fn: Callable[[], T]) -> T:
    log.debug("phase %s: started", phase)
    start = time.perf_counter()
    try:
        return fn()
    finally:
        timings[phase] = time.perf_counter() - start
        log.info("phase %s: %.3f s", phase, timings[phase])


def within_limit(ds: Dataset, started: float, phase: str) -> None:
    """Stop with no design (exit 4) when the scenario's time limit has run out by the end
    of ``phase``: loading, the network plan, the index and the build have no solver clock
    (1,000 generated nodes: 3, 30, 8 and 37 s), so the limit is checked between them (and
    inside the last three, model/deadline.py) rather than letting a run that cannot
    finish in time go on to the solver."""
    Deadline(started, ds.settings.solver.time_limit_s).check(phase, ended=True)


def effective(ds: Dataset, opts: SolveOptions) -> Dataset:
    """The data set with command-line solver options applied to its settings, and two
    threads on sets of more than ``AUTO_THREADS_SITES`` sites (model/config.py) where nothing
    names a count."""
    changes = {k: v for k, v in vars(opts).items() if v is not None}
    if (
        "threads" not in changes
        and "threads" not in ds.settings.solver.model_fields_set
        and len(ds.sites) > AUTO_THREADS_SITES
    ):
        changes["threads"] = 2
    if not changes:
        return ds
    solver = ds.settings.solver.model_copy(update=changes)
    return replace(ds, settings=ds.settings.model_copy(update={"solver": solver}))


def run_scenario(
    data_dir: str | Path,
    scenario: str = "base",
    out_root: str | Path | None = "results",
    opts: SolveOptions | None = None,
    tee: bool | TextIO = False,
    progress: Callable[[Any], None] | None = None,
) -> RunResult:
    """Solve one scenario; write its results under ``out_root/<data set>/<scenario>/``
    (nothing is written when ``out_root`` is None). ``progress``: called with HiGHS's MIP
    logging data during the solve (model/progress.py). Raises ScaleacrossError subclasses;
    BusyError when another run is writing the same scenario (held from before the solve to
    after the rename, see :func:`~model.export.scenario_lock`)."""
    started = time.perf_counter()  # the time limit counts from here (docs/model.md)
    timings: dict[str, float] = {}
    target = (
        None if out_root is None else results_target(out_root, dataset_name(data_dir), scenario)
    )
    ds = _timed(timings, "load", lambda: load_dataset(data_dir, scenario))
    ds = effective(ds, opts or SolveOptions())
    unavailable = solver_problem(ds.settings.solver.name)
    if unavailable:
        raise InputError(unavailable)
    within_limit(ds, started, "load")
    log.debug(
        "data set %s (%s), scenario %s: %d sites, %d routes%s, %d link types, %d demands; "
        "overrides %s; solver %s",
        ds.name,
        Path(data_dir).resolve(),
        ds.scenario,
        len(ds.sites),
        len(ds.routes),
        " (generated)" if ds.routes_generated else "",
        len(ds.link_types),
        len(ds.demands),
        ds.overrides or "none",
        ds.settings.solver.model_dump(),
    )
    try:
        if target is None:
            return _solve_and_write(ds, data_dir, None, timings, tee, progress, started)
        log.debug("results go to %s", target.resolve())
        with scenario_lock(target):
            return _solve_and_write(ds, data_dir, target, timings, tee, progress, started)
    finally:
        heap.release()  # what heap.settle() froze is the collector's again


def _until_solved(ds: Dataset, started: float) -> AbstractContextManager[Deadline]:
    """The run's deadline for the phases before the MIP has a design (model/deadline.py):
    past it they stop the run, naming the phase. Not after: pricing's rebuilds and the
    writing of a design never throw the design away."""
    return deadline(started, ds.settings.solver.time_limit_s)


def _limited(
    ds: Dataset, started: float, timings: dict[str, float], phase: str, fn: Callable[[], T]
) -> T:
    """A phase without a solver clock, timed, under the run's deadline inside it and
    checked against the limit at its end (exit 4, naming the phase)."""
    with _until_solved(ds, started):
        out = _timed(timings, phase, fn)
    within_limit(ds, started, phase)
    return out


def _solve_and_write(
    ds: Dataset,
    data_dir: str | Path,
    target: Path | None,
    timings: dict[str, float],
    tee: bool | TextIO,
    progress: Callable[[Any], None] | None = None,
    started: float | None = None,
) -> RunResult:
    started = time.perf_counter() if started is None else started
    if ds.periods:  # contract §8: growth over periods, one block per period
        from model.periods import solve_periods

        return solve_periods(ds, data_dir, target, timings, tee, progress, started)
    highs_before = highs_seconds()
    plan = _limited(ds, started, timings, "network", lambda: plan_network(ds))
    ix = _limited(ds, started, timings, "index", lambda: build_index(ds, plan))
    log.debug(
        "network plan: %d usable routes, %d commodities, %d failure cases, %d candidate paths",
        len(plan.usable),
        len(plan.commodities),
        len(plan.failures),
        len(ix.paths),
    )
    try:
        _timed(timings, "validate", lambda: check_feasibility(ds, plan, ix))
    except InfeasibleError as exc:
        rows = pd.DataFrame(
            [
                {"requirement": "check", "objects": "", "amount": None, "unit": "", "message": p}
                for p in exc.problems
            ],
            columns=EXPLAIN_COLUMNS,
        )
        _write_infeasible(target, ds, rows, timings)
        raise
    plan.forget_dropped()  # the precheck's messages were all they were kept for
    model, ix = _limited(ds, started, timings, "build", lambda: build_model(ds, plan, ix))
    paths, routing = _timed(timings, "colgen", lambda: root_columns(ds, PathSet(plan, ix, model)))
    plan, ix, model = paths.plan, paths.ix, paths.model
    size = model_size(model)
    log.info(
        "model: %(variables)d variables (%(integer_variables)d integer), "
        "%(constraints)d constraints",
        size,
    )
    heap.settle()
    solver = DirectHighs()
    outcome, first = solve_scenario(
        ds, model, timings, tee, progress, started, solver, paths.compiled
    )
    paths.compiled = solver.compiled  # the MIP's model, for design pricing's LP
    solver.release()  # HiGHS's memory, before the design is extracted and written
    if outcome.status == "infeasible":
        rows = _timed(timings, "explain", lambda: explain_infeasibility(model, ds, ix, plan))
        _write_infeasible(target, ds, rows, timings)
        raise InfeasibleError(
            "HiGHS proved the requirements infeasible although every single check passed; "
            "they conflict in combination. The smallest set of moves found that makes a "
            "design possible (infeasibility.csv):",
            rows["message"].tolist() or ["(the elastic model found no explanation)"],
        )
    if not outcome.has_design:
        raise NoDesignError(
            f"no design found within the limits ({outcome.termination}; time limit "
            f"{ds.settings.solver.time_limit_s:g} s): raise --time-limit or --mip-gap"
        )
    paths, outcome = _timed(
        timings,
        "colgen_design",
        lambda: design_columns(
            ds,
            paths,
            outcome,
            routing,
            ds.settings.solver,
            lambda: time.perf_counter() - started,
            timings.get("index", 0.0) + timings.get("build", 0.0),
        ),
    )
    plan, ix, model = paths.plan, paths.ix, paths.model
    routing = claim(routing, outcome, ds.settings.solver.mip_gap)
    heap.settle()
    tables = _timed(timings, "extract", lambda: extract(model, ds, ix, plan, outcome, timings))
    tables = replace(tables, summary=_with_routing(tables.summary, routing.as_dict()))
    tables = _timed(timings, "verify", lambda: self_check(ds, tables))
    run = run_record(
        ds,
        data_dir,
        outcome,
        size,
        timings,
        plan,
        len(ix.paths),
        routing.as_dict(),
        first.as_dict() if first is not None else None,
        float(tables.summary.at[0, "rack_capex_usd"]),
        highs_seconds() - highs_before,
    )
    out_dir = None
    if target is not None:
        out_dir = _timed(timings, "export", lambda: write_results(target, tables, run))
    return RunResult(ds, outcome, tables, timings, size, out_dir, run)


def run_record(
    ds: Dataset,
    data_dir: str | Path,
    outcome: Outcome,
    size: dict[str, int],
    timings: dict[str, float],
    plan: Any,
    candidate_paths: int,
    routing: dict[str, Any],
    first_design: dict[str, Any] | None,
    rack_capex_usd: float,
    highs_s: float,
) -> dict[str, Any]:
    """run.json of a solved scenario (model/periods.py adds its ``periods``)."""
    return {
        "dataset": ds.name,
        "scenario": ds.scenario,
        "data_dir": str(Path(data_dir).resolve()),
        "settings": ds.settings.model_dump(mode="json"),
        "overrides": ds.overrides,
        "outcome": outcome.as_dict(),
        "model_size": size,
        "timings_s": timings,
        "versions": versions(),
        "inputs_sha256": ds.inputs_sha256,
        "restrictions": plan.restrictions,
        "first_design": first_design,
        "routing": routing,
        "network": {
            "usable_routes": len(plan.usable),
            "unusable_routes": plan.unusable_routes,
            "failures": len(plan.failures),
            "commodities": len(plan.commodities),
            "candidate_paths": candidate_paths,
            "sync_pairs_blocked_by_latency": [list(p[:2]) for p in plan.sync_blocked],
            "storage_pairs_blocked_by_latency": [list(p[:2]) for p in plan.storage_blocked],
            # pairs whose protected traffic no path inside the bound carries through some
            # failure: demand 0, no commodities or paths in the model (contract §7)
            "sync_pairs_unprotectable": [list(p) for p in plan.sync_unprotected],
            "storage_pairs_unprotectable": [list(p) for p in plan.storage_unprotected],
        },
        "rack_capex_usd": rack_capex_usd,
        # HiGHS's own seconds in this run: the MIP, the first design, the pricing LPs
        "highs_s": round(highs_s, 3),
    }


def _with_routing(summary: pd.DataFrame, routing: dict[str, Any]) -> pd.DataFrame:
    """summary.csv's routing claim: ``optimal_over``, ``all_path_bound_usd`` (the LP
    relaxation over all paths, when proven) and ``all_path_gap``."""
    out = summary.copy()
    bound = routing["all_path_lp_bound"]
    gap = routing["all_path_gap"]
    out["optimal_over"] = routing["optimal_over"]
    out["all_path_bound_usd"] = None if bound is None else round(float(bound), 2)
    out["all_path_gap"] = None if gap is None else round(float(gap), 8)
    return out


def solve_scenario(
    ds: Dataset,
    model: Any,
    timings: dict[str, float],
    tee: bool | TextIO = False,
    progress: Callable[[Any], None] | None = None,
    started: float | None = None,
    solver: DirectHighs | None = None,
    compiled: Compiled | None = None,
) -> tuple[Outcome, FirstDesign | None]:
    """Solve the full model. On large sets (``[solver] screen_gpu_sites``) a model
    restricted to the cheapest GPU sites is solved first (:func:`first_design_budget`;
    skipped when that is too little) and its design
    starts HiGHS; when the MIP stops before it has a design of its own, that design is the
    outcome. The time limit counts from ``started`` (the run's
    start: loading, the network plan, the build and root column generation spend it too);
    the MIP gets what is left, at least a second (the limit itself when shorter).
    ``solver``: the HiGHS instance to use (its ``compiled`` is the MIP's model after);
    ``compiled``: ``model`` as compiled by an LP before (root pricing), else it is compiled
    here, once for the first design's transfer and the MIP."""
    started = time.perf_counter() if started is None else started
    settings = ds.settings.solver
    limit = settings.time_limit_s
    keep = settings.screen_keep(int(ds.sites["gpu"].astype(bool).sum()))
    solver = DirectHighs() if solver is None else solver
    # What follows the MIP (extracting, the self-check, writing) is left time of its own:
    # about a third of what the index and the build took (200 generated sites: some 15 s).
    after = 0.3 * (timings.get("index", 0.0) + timings.get("build", 0.0))
    first = None
    if keep:
        built = sum(timings.get(k, 0.0) for k in ("network", "index", "build"))
        budget = first_design_budget(limit, time.perf_counter() - started, after, built)
        # the restricted model's own plan and build take about a fifth of the full one's:
        # a budget under 0.3 of the full one's would be spent before it solves anything
        if budget >= max(1.0, 0.3 * built):
            with _until_solved(ds, started):
                first = _timed(timings, "first_design", lambda: first_design(ds, keep, budget))
        else:
            log.info("first design skipped: %.1f s of the limit for it, too little", budget)
    if first is not None and compiled is None and settings.name == HIGHS:
        compiled = _timed(timings, "compile", lambda: compile_model(model))
    carried = first is not None and _timed(
        timings,
        "first_design_start",
        lambda: transfer(first.model, model, settings, compiled),
    )
    if carried:
        solver.warm_start = solver.start_is_design = True  # transfer's LP completed it
    if first is not None:
        first = replace(first, model=None)  # its design is carried over: free its model
    spent = time.perf_counter() - started
    left = max(min(1.0, limit), limit - spent - after)
    outcome = _timed(
        timings,
        "solve",
        lambda: solve(
            model,
            settings.model_copy(update={"time_limit_s": left}),
            tee=tee,
            solver=solver,
            progress=progress,
            compiled=compiled,
        ),
    )
    if carried and not outcome.has_design and outcome.status != "infeasible":
        outcome = _started_design(carried, outcome)
    return outcome, first


def first_design_budget(limit: float, elapsed: float, after: float, built: float) -> float:
    """Seconds for the first design (its own network plan, build and solve): at most a fifth
    of the limit and a quarter of what is left of it (with little time left the full model
    gets it), and at most 60 s or 1.5 × what the full model's network plan, index and build
    took (``built``), whichever is more. The restricted model's plan and build grow with the
    network (all nodes may relay), about a fifth of the full one's: at 1,000 generated nodes
    19 of 98 s, and 60 s left its HiGHS 41 s, in which it found no design (with 60 s of HiGHS
    it found 749.30 M$/yr, gap 2.9 %)."""
    return min(max(60.0, 1.5 * built), limit / 5, (limit - elapsed - after) / 4)


def _started_design(start: Outcome, mip: Outcome) -> Outcome:
    """The outcome of a MIP that stopped before it had a design of its own (HiGHS takes
    its start only once its presolve is over: some 124 s at 1,000 generated nodes), when
    it was started from the first design: that design, completed in the full model (the
    model's values are still the start's), with the MIP's bound when it has one."""
    log.warning(
        "the MIP stopped (%s) before it had a design of its own: the first design is "
        "reported, as feasible",
        mip.termination,
    )
    return replace(
        mip,
        status="feasible",
        solution_status="feasible",
        objective=start.objective,
        mip_gap=relative_gap(start.objective, mip.bound),
        message=f"stopped at {mip.termination} before HiGHS had a design of its own: the "
        "first design (model restricted to the cheapest GPU sites), completed in the full "
        "model",
    )


def self_check(ds: Dataset, tables: Tables) -> Tables:
    """Re-check the design with the independent verifier (CSVs' rules only, no Pyomo) and
    add the single-failure survival table; a violation is a bug and stops the run."""
    violations = verify_tables(ds, tables)
    if violations:
        lines = [f"{v.check}: {v.objects}: {v.message}" for v in violations[:20]]
        raise DesignCheckError(
            f"the solved design breaks {len(violations)} rule(s) on independent re-check; "
            "this is a bug in scaleacross, nothing was written",
            lines,
        )
    failures = failure_report_tables(ds, tables)
    worst = worst_case(failures)
    summary = tables.summary.copy()
    summary["worst_failure"] = worst["failure"]
    summary["worst_survival_share"] = round(worst["survival_share"], 6)
    summary["failures_short"] = worst["failures_short"]
    return replace(tables, summary=summary, failures=failures)


def _write_infeasible(
    target: Path | None, ds: Dataset, rows: pd.DataFrame, timings: dict[str, float]
) -> None:
    """An infeasible scenario's answer: summary.csv (status infeasible), infeasibility.csv
    and run.json, written atomically to the scenario's results folder ``target``."""
    if target is None:
        return
    summary = pd.DataFrame([{c: None for c in SUMMARY_COLUMNS}])
    summary.loc[0, ["dataset", "scenario", "status"]] = [ds.name, ds.scenario, "infeasible"]
    run = {
        "dataset": ds.name,
        "scenario": ds.scenario,
        "data_dir": str(ds.path.resolve()),
        "settings": ds.settings.model_dump(mode="json"),
        "overrides": ds.overrides,
        "outcome": {"status": "infeasible"},
        "timings_s": timings,
        "versions": versions(),
        "inputs_sha256": ds.inputs_sha256,
    }
    write_folder(target, {"summary": summary, "infeasibility": rows}, run)


__all__ = ["RunResult", "ScaleacrossError", "SolveOptions", "run_scenario"]
