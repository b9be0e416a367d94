#!/usr/bin/env python3
"""Benchmark the Pareto front: reused model + warm start against cold solves. Not a test.

    python bench/pareto.py [DATASET_DIR] [--scenario NAME] [--points N] [--time-limit S]

Solves the same front three ways and prints, for each, the time spent in HiGHS calls (the
end-point solves included), the model build time, the wall time and the CPU time of this
process (HiGHS runs in it; CPU time is the fairer measure on a shared machine):
  cold   a new Pyomo model and a new HiGHS instance for every solve, no MIP start
         (network plan and index are shared, so this slightly flatters the cold runs);
  reuse  one model, one persistent HiGHS instance, only the cap and objective change;
  warm   reuse + each point starts from the previous point's design (HiGHS setSolution).
Nothing is written. The costs of the three fronts are compared within the MIP gap.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.pareto import ParetoOptions, pareto_front
from model.pipeline import SolveOptions

VARIANTS = {
    "cold": ParetoOptions(reuse=False, warm_start=False),
    "reuse": ParetoOptions(reuse=True, warm_start=False),
    "warm": ParetoOptions(reuse=True, warm_start=True),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", nargs="?", default="data/japan", type=Path)
    p.add_argument("--scenario", default="base")
    p.add_argument("--points", type=int, default=5)
    p.add_argument("--time-limit", type=float, default=600.0)
    p.add_argument("--mip-gap", type=float, default=None)
    p.add_argument("--variants", default="cold,reuse,warm")
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    solve_opts = SolveOptions(time_limit_s=args.time_limit, mip_gap=args.mip_gap)
    fronts = {}
    print(f"{args.dataset} / {args.scenario}: {args.points} points")
    print(f"{'variant':8} {'solve_s':>9} {'build_s':>9} {'wall_s':>9} {'cpu_s':>9}  costs (USD/yr)")
    for name in args.variants.split(","):
        opts = ParetoOptions(args.points, VARIANTS[name].reuse, VARIANTS[name].warm_start)
        start, cpu = time.perf_counter(), time.process_time()
        res = pareto_front(args.dataset, args.scenario, None, solve_opts, opts)
        wall, cpu = time.perf_counter() - start, time.process_time() - cpu
        fronts[name] = res.table
        costs = ", ".join(f"{c:,.0f}" for c in res.table["annual_cost_usd"])
        print(
            f"{name:8} {res.solve_s:9.2f} {res.timings['build']:9.2f} {wall:9.2f} {cpu:9.2f}"
            f"  {costs}",
            flush=True,
        )
        anchors = res.solve_s - float(res.table["solve_s"].sum())
        points = " ".join(f"{s:.2f}" for s in res.table["solve_s"])
        print(f"{'':8} min-power solve {anchors:.2f} s; points {points} s", flush=True)
    base = next(iter(fronts.values()))
    for name, table in fronts.items():
        tol = (table["gap"].fillna(0) + base["gap"].fillna(0) + 1e-9) * base["annual_cost_usd"]
        diff = (table["annual_cost_usd"] - base["annual_cost_usd"]).abs()
        if (diff > tol + 1e-6).any():
            print(f"{name}: costs differ from {next(iter(fronts))} beyond the gaps")
    return 0


if __name__ == "__main__":
    sys.exit(main())
