#!/usr/bin/env python3
"""Scaling benchmark on synthetic data sets: model size and time against sites. Not a test.

    python bench/scale.py [--sites 25 50 100 200] [--seed 1] [--time-limit 300]
                          [--mip-gap G] [--threads N] [--grace S] [--routes] [--screen N]
                          [--gpu-share F] [--storage-share F] [--build-only] [--keep DIR]

For every N, ``model.synth`` writes an N-site data set (fixed seed) into a temporary folder
(or DIR with --keep), then the pipeline's phases run one by one, as ``run_scenario`` runs
them: load, network plan, index, precheck, build, solve. The table gives, per N: sites,
candidate routes, commodities, candidate paths, variables, integer variables, constraints,
load, build and solve seconds, the worker's peak resident memory, status, gap, objective
and best bound (the bound is all there is when the time limit ends without a design), and
the build/solve/total time as a multiple of the smallest N's. Each N runs in its own
process; a solve still running --grace seconds after its time limit is killed and
reported as such. Rows are printed as they
finish. "build s" is network plan + index + precheck + model build (everything
between loading and the solver); "solve s" is the solve as ``run_scenario`` does it: the
first design of a model restricted to the cheapest GPU sites when ``[solver]
screen_gpu_sites`` asks for one ("first s", "first obj"; automatic above 60 GPU-capable
sites, ``--screen 0`` turns it off), then HiGHS on the full model, started from it.
``--gpu-share`` and ``--storage-share`` go to the generator (the 1,000-node case of issue
11: ``--sites 1000 --gpu-share 0.1 --storage-share 0.1``); ``--build-only`` stops after
the build ("load s" + "build s" is what precedes the first solve).
Timings are wall clock on whatever else the machine is running: repeat before trusting a
ratio.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import multiprocessing as mp
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model import synth
from model.build import build_model, model_size
from model.errors import InfeasibleError
from model.index import build_index
from model.load import load_dataset
from model.network import plan_network
from model.pipeline import SolveOptions, effective, solve_scenario
from model.precheck import check_feasibility


@dataclass
class Row:
    sites: int
    routes: int = 0
    commodities: int = 0
    paths: int = 0
    variables: int = 0
    integers: int = 0
    constraints: int = 0
    load_s: float = 0.0
    build_s: float = 0.0
    solve_s: float = 0.0
    peak_mib: float = 0.0  # the worker's peak resident memory
    status: str = ""
    gap: float | None = None
    objective: float | None = None
    bound: float | None = None
    first_s: float = 0.0  # restricted model (first design), part of solve_s
    first_objective: float | None = None


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _work(
    folder: Path, n: int, opts: SolveOptions, conn: Connection, build_only: bool = False
) -> None:
    """In a child process: build, report the size ("built"), solve, report ("done")."""
    logging.basicConfig(level=logging.WARNING)
    row = Row(sites=n)
    start = time.perf_counter()
    ds = effective(load_dataset(folder), opts)
    row.load_s = time.perf_counter() - start
    row.routes = len(ds.routes)
    start = time.perf_counter()
    plan = plan_network(ds)
    ix = build_index(ds, plan)
    row.commodities, row.paths = len(plan.commodities), len(ix.paths)
    try:
        check_feasibility(ds, plan, ix)
    except InfeasibleError as exc:
        row.build_s = time.perf_counter() - start
        row.status = f"infeasible (precheck: {len(exc.problems)} problems)"
        row.peak_mib = _peak_mib()
        conn.send(("done", row))
        return
    model, ix = build_model(ds, plan, ix)
    row.build_s = time.perf_counter() - start
    size = model_size(model)
    row.variables, row.integers = size["variables"], size["integer_variables"]
    row.constraints = size["constraints"]
    if build_only:
        row.status, row.peak_mib = "built", _peak_mib()
        conn.send(("done", row))
        return
    conn.send(("built", row))
    start = time.perf_counter()
    timings: dict[str, float] = {}
    outcome, first = solve_scenario(ds, model, timings)
    row.solve_s = time.perf_counter() - start
    if first is not None:
        row.first_s, row.first_objective = timings["first_design"], first.outcome.objective
    row.status, row.gap, row.objective = outcome.status, outcome.mip_gap, outcome.objective
    row.bound = outcome.bound
    if not outcome.has_design and outcome.status != "infeasible":
        row.status = f"no design ({outcome.termination})"
    row.peak_mib = _peak_mib()
    conn.send(("done", row))


def run_one(
    folder: Path, n: int, opts: SolveOptions, grace_s: float, build_only: bool = False
) -> Row:
    """Build and solve in a child process; kill it if the solve runs past the time limit
    by more than ``grace_s`` (HiGHS does not check its limit everywhere, e.g. not inside
    the root node's analytic-centre computation)."""
    ctx = mp.get_context("spawn")
    receive, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_work, args=(folder, n, opts, send, build_only), daemon=True)
    proc.start()
    send.close()
    row, deadline, solve_start = Row(sites=n), None, 0.0
    while True:
        wait = None if deadline is None else max(0.0, deadline - time.monotonic())
        if not receive.poll(wait):
            proc.kill()
            row.solve_s = time.monotonic() - solve_start
            row.status = f"killed after limit + {grace_s:g} s"
            break
        try:
            kind, row = receive.recv()
        except EOFError:
            row.status = f"worker died (exit code {proc.exitcode})"
            break
        if kind == "done":
            break
        solve_start = time.monotonic()
        deadline = solve_start + (opts.time_limit_s or 0.0) + grace_s
    proc.join()
    return row


def _ratio(value: float, base: float) -> str:
    return f"{value / base:.1f}" if base > 0 else "-"


HEAD = (
    f"{'sites':>5} {'routes':>6} {'comm':>5} {'paths':>6} {'vars':>7} {'int':>6} "
    f"{'cons':>7} {'load s':>7} {'build s':>8} {'solve s':>8} {'peak MiB':>8} "
    f"{'status':<9} {'gap':>8} "
    f"{'objective':>14} {'bound':>14} {'first s':>7} {'first obj':>14} "
    f"{'N x':>4} {'build x':>7} {'solve x':>7} {'total x':>7}"
)


def format_row(r: Row, first: Row) -> str:
    gap = "n/a" if r.gap is None else f"{r.gap:.1e}"
    obj = "n/a" if r.objective is None else f"{r.objective:,.0f}"
    bound = "n/a" if r.bound is None else f"{r.bound:,.0f}"
    first_obj = "-" if r.first_objective is None else f"{r.first_objective:,.0f}"
    total, total0 = r.build_s + r.solve_s, first.build_s + first.solve_s
    return (
        f"{r.sites:>5} {r.routes:>6} {r.commodities:>5} {r.paths:>6} {r.variables:>7} "
        f"{r.integers:>6} {r.constraints:>7} {r.load_s:>7.2f} {r.build_s:>8.2f} "
        f"{r.solve_s:>8.2f} {r.peak_mib:>8.0f} {r.status:<9} {gap:>8} {obj:>14} {bound:>14} "
        f"{r.first_s:>7.1f} {first_obj:>14} "
        f"{_ratio(r.sites, first.sites):>4} "
        f"{_ratio(r.build_s, first.build_s):>7} {_ratio(r.solve_s, first.solve_s):>7} "
        f"{_ratio(total, total0):>7}"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, nargs="+", default=[25, 50, 100, 200], metavar="N")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--time-limit", type=float, default=300.0, metavar="S")
    p.add_argument("--mip-gap", type=float, default=None, metavar="G")
    p.add_argument("--threads", type=int, default=None, metavar="N")
    p.add_argument(
        "--grace",
        type=float,
        default=120.0,
        metavar="S",
        help="kill a solve still running this long after its time limit (default 120)",
    )
    p.add_argument(
        "--routes", action="store_true", help="let the generator write routes.csv (synth --routes)"
    )
    p.add_argument(
        "--screen",
        type=int,
        default=None,
        metavar="N",
        help="[solver] screen_gpu_sites (0: off; default: the data set's, i.e. automatic)",
    )
    p.add_argument("--gpu-share", type=float, default=None, metavar="F", help="synth --gpu-share")
    p.add_argument(
        "--storage-share", type=float, default=None, metavar="F", help="synth --storage-share"
    )
    p.add_argument("--build-only", action="store_true", help="load, plan and build; no solve")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR", help="keep data sets here")
    args = p.parse_args(argv)
    opts = SolveOptions(
        time_limit_s=args.time_limit,
        mip_gap=args.mip_gap,
        threads=args.threads,
        screen_gpu_sites=args.screen,
    )
    print(
        f"synthetic data sets, seed {args.seed}, time limit {args.time_limit:g} s, "
        f"{'routes.csv from the generator' if args.routes else 'routes generated by the solver'}"
    )
    print(HEAD)
    print("-" * len(HEAD), flush=True)
    first: Row | None = None
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        for n in sorted(args.sites):
            folder = root / f"synth_{n}_seed{args.seed}"
            extra = ["--routes"] if args.routes else []
            for flag, value in (
                ("--gpu-share", args.gpu_share),
                ("--storage-share", args.storage_share),
            ):
                if value is not None:
                    extra += [flag, str(value)]
            with contextlib.redirect_stdout(io.StringIO()):
                code = synth.main(
                    ["--sites", str(n), "--seed", str(args.seed), *extra, str(folder)]
                )
            if code:
                print(f"generator failed for {n} sites", file=sys.stderr)
                return 1
            row = run_one(folder, n, opts, args.grace, args.build_only)
            first = first or row
            print(format_row(row, first), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
