"""Command line: ``python solve.py DATASET_DIR [options]``. Parses arguments and calls the
pipeline (one scenario), the batch runner (several) or the Pareto front; nothing else
happens here."""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from model.errors import (
    EXIT_ERROR,
    EXIT_INPUT,
    EXIT_INTERRUPTED,
    EXIT_OK,
    InputError,
    Interrupted,
    ScaleacrossError,
)
from model.export import (
    dataset_name,
    prepare_results_folder,
    remove_if_empty,
    scenario_name_problem,
)
from model.logs import StderrHandler
from model.other_solvers import problem as solver_problem
from model.pipeline import SolveOptions, run_scenario
from model.progress import Progress

log = logging.getLogger("model")

EPILOG = """\
Exit codes: 0 a design was written; 2 invalid input (also: an unusable --out, or another run
is writing the same scenario); 3 infeasible; 4 no design within the limits; 130 interrupted
(Ctrl-C); 1 anything else.
Results go only to OUT/<data set>/<scenario>/ (scenario names: letters, digits, '_', '-',
'.'); --out is checked before anything is solved. A scenario's folder is replaced in one
rename when its run has finished: a failed or interrupted run leaves the earlier one as it
was. Ctrl-C stops the solver at once (exit 130) and writes nothing.
Batches (--all, or --scenario given more than once): every scenario's overrides are checked
before anything is solved (exit 2 and nothing solved if any is invalid); a failing scenario
never stops the batch, its row in comparison.csv says why. The batch exits 0 if every
scenario produced a design, else with the worst code of its failures, worst first:
1 (other, e.g. a worker lost) > 4 (no design) > 3 (infeasible) > 2 (input).
comparison.csv and comparison.png are written once every scenario has finished; Ctrl-C
stops the workers and writes none, and when scenarios finished before it (their folders
were replaced) the earlier comparison.csv/.png are removed rather than left describing
other results.
--pareto N writes OUT/<data set>/<scenario>/pareto/ (pareto.csv, pareto.png, point_01/...)
and exits like a single run."""


def _default_workers() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="solve.py",
        description="Design a geographically distributed AI data-center network: where to put\n"
        "GPUs and storage, which link types on which routes, how many routers, which cooling,\n"
        "at the lowest annualised cost.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("dataset", type=Path, help="data set folder (settings.toml, sites.csv, ...)")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--scenario",
        action="append",
        metavar="NAME",
        help="row of scenarios.csv to apply (default: base settings); repeat it to solve a "
        "batch and compare the scenarios",
    )
    which.add_argument(
        "--all", action="store_true", help="solve every row of scenarios.csv as a batch"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="results root; results go to OUT/<data set>/<scenario>/, a batch's comparison.csv "
        "and comparison.png to OUT/<data set>/ (default: results)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=_default_workers(),
        metavar="N",
        help="scenarios solved at once, each in its own process (default: min(2, cores) = "
        f"{_default_workers()})",
    )
    p.add_argument(
        "--dask",
        metavar="ADDRESS",
        help="run the batch on a Dask distributed scheduler at ADDRESS (workers must import "
        "this package and see the same paths); 'local' starts a LocalCluster of --workers "
        "processes on loopback",
    )
    p.add_argument(
        "--pareto",
        type=int,
        metavar="N",
        help="cost–power front of one scenario: N ≥ 2 power caps from the power-optimal to "
        "the cost-optimal design, min annual cost under each",
    )
    p.add_argument("--time-limit", type=float, metavar="S", help="solver time limit, seconds")
    p.add_argument("--mip-gap", type=float, metavar="G", help="relative MIP gap to stop at")
    p.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="solver threads (2 or more: HiGHS's parallel tree search)",
    )
    p.add_argument("--seed", type=int, metavar="N", help="solver random seed")
    p.add_argument(
        "--solver",
        metavar="NAME",
        help="MILP solver: highs (default, built in) or one Pyomo drives where installed "
        "(cbc, scip, glpk, gurobi, cplex, ...)",
    )
    p.add_argument(
        "--screen",
        type=int,
        metavar="N",
        help="start from the design of a model restricted to the N cheapest GPU sites "
        "(0: off; default: 12 when more than 60 sites may host GPUs)",
    )
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug log and the HiGHS log, on stderr",
    )
    g.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="one line on stdout when done (status, annual cost, gap, folder); otherwise "
        "only warnings and errors",
    )
    return p


def _setup_logging(verbose: bool, quiet: bool) -> None:
    handler = StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    log.propagate = False


SEED_MAX = 2_147_483_647  # HiGHS random_seed is a C int


def _check_args(args: argparse.Namespace) -> str | None:
    """The first invalid option value, as a message; None when all are fine."""
    for name, value in (("--time-limit", args.time_limit), ("--mip-gap", args.mip_gap)):
        if value is not None and not math.isfinite(value):
            return f"{name} must be a finite number, got {value}"
    if args.mip_gap is not None and not 0 <= args.mip_gap <= 1:
        return f"--mip-gap is a relative gap from 0 to 1 (0.01 is 1 %), got {args.mip_gap:g}"
    if args.seed is not None and not 0 <= args.seed <= SEED_MAX:
        return f"--seed must be from 0 to {SEED_MAX}, got {args.seed}"
    for name, value in (
        ("--time-limit", args.time_limit),
        ("--threads", args.threads),
        ("--workers", args.workers),
    ):
        if value is not None and value <= 0:
            return f"{name} must be positive, got {value}"
    if args.screen is not None and args.screen < 0:
        return f"--screen must be 0 (off) or more, got {args.screen}"
    if args.solver is not None:
        unavailable = solver_problem(args.solver)
        if unavailable:
            return unavailable
        if args.pareto is not None and args.solver != "highs":
            return "--pareto uses HiGHS (each point starts from the last one's design)"
    if args.pareto is not None and args.pareto < 2:
        return f"--pareto needs at least 2 points, got {args.pareto}"
    if args.pareto is not None and (args.all or len(args.scenario or []) > 1 or args.dask):
        return "--pareto solves one scenario in this process: give at most one --scenario"
    return None


def _guarded(fn: Callable[[], int], verbose: bool, err: Console) -> int:
    """Run ``fn``; turn the errors a planner can act on into their exit codes."""
    try:
        return fn()
    except ScaleacrossError as exc:
        kind = type(exc).__name__.removesuffix("Error").lower()
        err.print(
            f"[bold red]{kind}:[/bold red] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        return exc.exit_code
    except KeyboardInterrupt as exc:  # Ctrl-C: nothing more was written
        message = str(exc) if isinstance(exc, Interrupted) else Interrupted().args[0]
        err.print(f"interrupted: {escape(message)}", highlight=False, soft_wrap=True)
        return EXIT_INTERRUPTED
    except Exception as exc:
        if verbose:
            raise
        err.print(f"error: {type(exc).__name__}: {exc} (run with -v for the traceback)")
        return EXIT_ERROR


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    console = Console(stderr=False)
    err = Console(stderr=True)
    problem = _check_args(args)
    if problem:
        err.print(f"error: {problem}")
        return EXIT_INPUT
    opts = SolveOptions(
        args.time_limit, args.mip_gap, args.threads, args.seed, args.screen, args.solver
    )
    scenarios = list(dict.fromkeys(args.scenario or ["base"]))
    work: Callable[[], int]
    if args.pareto is not None:
        work = partial(_pareto, args, scenarios[0], opts, console)
    elif args.all or len(scenarios) > 1 or args.dask:
        work = partial(_batch, args, scenarios, opts, console, err)
    else:
        work = partial(_single, args, scenarios[0], opts, console)
    created: list[Path] = []

    def run() -> int:
        created.extend(_prepare_output(args, [] if args.all else scenarios))
        return work()

    try:
        return _guarded(run, args.verbose, err)
    finally:
        remove_if_empty(created)  # the folders made for a run that wrote nothing


def _prepare_output(args: argparse.Namespace, scenarios: list[str]) -> list[Path]:
    """Before anything is loaded or solved: every --scenario name and the data set's name
    must be plain folder names, and OUT/<data set> a folder a file can be created in (made
    when missing). Returns the folders made; raises InputError (exit 2)."""
    for scenario in scenarios:
        problem = scenario_name_problem(scenario)
        if problem:
            raise InputError(f"--scenario: {problem}")
    if not Path(args.dataset).is_dir():
        return []  # the loader says so, naming the folder
    return prepare_results_folder(args.out, dataset_name(args.dataset))  # checks the name


def _gap_text(gap: float | None) -> str:
    if gap is None or not math.isfinite(gap):
        return "gap n/a"
    return f"gap {100 * gap:.2f} %"


def _single(args: argparse.Namespace, scenario: str, opts: SolveOptions, console: Console) -> int:
    tee = sys.stderr if args.verbose else False  # the HiGHS log; stdout is for the result
    # the live line (elapsed, best design, bound, gap) unless -q, or -v shows HiGHS's log
    progress = None if args.quiet or args.verbose else Progress(sys.stderr)
    try:
        result = run_scenario(args.dataset, scenario, args.out, opts, tee=tee, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    if args.quiet:
        s = result.tables.summary.iloc[0]
        cost = f"{s['annual_cost_usd']:,.0f} USD/yr"
        if "period" in result.tables.sites.columns:  # contract §8: the horizon's objective
            cost = f"{s['objective']:,.0f} USD discounted over the periods"
        print(
            f"{s['status']} {cost}, {_gap_text(s['mip_gap'])}, {result.out_dir}",
            flush=True,
        )
        return EXIT_OK
    from model.report import print_summary

    print_summary(result, console)
    return EXIT_OK


def _batch(
    args: argparse.Namespace,
    scenarios: list[str],
    opts: SolveOptions,
    console: Console,
    err: Console,
) -> int:
    from model.batch import BatchConfig, PlainReporter, RichReporter, all_scenarios, run_batch

    if args.all:
        scenarios = all_scenarios(args.dataset)
    cfg = BatchConfig(
        data_dir=args.dataset,
        scenarios=tuple(scenarios),
        out_root=args.out,
        opts=opts,
        workers=args.workers,
        dask=args.dask,
        log_level=logging.DEBUG if args.verbose else logging.WARNING,
    )
    if args.quiet:
        reporter = PlainReporter(enabled=False)
    elif sys.stdout.isatty():
        reporter = RichReporter(console)
    else:
        reporter = PlainReporter()
    result = run_batch(cfg, reporter)
    failed = int((result.comparison["exit_code"] != EXIT_OK).sum())
    if args.quiet:
        print(f"{len(scenarios) - failed} of {len(scenarios)} solved, {result.csv}", flush=True)
    else:
        err.print(
            f"{len(scenarios) - failed} of {len(scenarios)} scenarios solved in "
            f"{result.wall_s:.1f} s; comparison: {result.csv}, chart: {result.chart}",
            highlight=False,
            soft_wrap=True,
        )
    return result.exit_code


def _pareto(args: argparse.Namespace, scenario: str, opts: SolveOptions, console: Console) -> int:
    from rich.table import Table

    from model.pareto import ParetoOptions, pareto_front

    result = pareto_front(
        args.dataset,
        scenario,
        args.out,
        opts,
        ParetoOptions(points=args.pareto),
        sys.stderr if args.verbose else False,
    )
    if args.quiet:
        print(
            f"{len(result.table)} points, power {result.p_min_mw:,.4f} to "
            f"{result.p_max_mw:,.4f} MW, {result.out_dir}",
            flush=True,
        )
        return EXIT_OK
    table = Table(title=f"cost–power front ({result.solve_s:.1f} s of solves)", show_edge=False)
    for col in ("point", "cap MW", "power MW", "annual cost USD", "status", "notes"):
        table.add_column(col, justify="left" if col in ("status", "notes") else "right")
    for r in result.table.itertuples():
        has = r.status in ("optimal", "feasible")
        table.add_row(
            str(r.point),
            f"{r.cap_mw:,.4f}",
            f"{r.power_mw:,.4f}" if has else "-",
            f"{r.annual_cost_usd:,.0f}" if has else "-",
            r.status,
            escape(r.notes or ""),
        )
    console.print(table)
    if result.out_dir is not None:
        console.print(f"results: {result.out_dir}", highlight=False, soft_wrap=True)
    return EXIT_OK
