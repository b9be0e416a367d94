#!/usr/bin/env python3
"""Benchmark one data set: phase times, model size, gap. Not a test.

    python bench/run.py [DATASET_DIR] [--scenario NAME] [--repeat N] [--time-limit S]

Prints load, network, index, validate, build, solve, extract and export times, the model
size (variables, integer variables, constraints), candidate paths, the status and the gap,
and the ratio of each phase to the total. Results go to a temporary folder.
"""

from __future__ import annotations

import argparse
import logging
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.pipeline import SolveOptions, run_scenario

PHASES = (
    "load",
    "network",
    "index",
    "validate",
    "build",
    "colgen",  # root column generation over paths (model/colgen.py)
    "first_design",  # restricted model (screening), when it runs
    "first_design_start",  # completing its design in the full model
    "solve",
    "colgen_design",  # pricing with the design fixed, re-solves
    "extract",
    "verify",
    "export",
)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("dataset", nargs="?", default="data/japan", type=Path)
    p.add_argument("--scenario", default="base")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--time-limit", type=float, default=600.0)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args()
    logging.basicConfig(level=logging.WARNING)
    runs = []
    with tempfile.TemporaryDirectory() as out:
        for _ in range(args.repeat):
            start = time.perf_counter()
            res = run_scenario(
                args.dataset,
                args.scenario,
                out,
                SolveOptions(time_limit_s=args.time_limit, threads=args.threads),
            )
            total = time.perf_counter() - start
            runs.append((res, total))
    res = runs[0][0]
    print(f"data set {args.dataset} scenario {args.scenario}: {args.repeat} runs")
    print(
        f"model: {res.size['variables']} variables, {res.size['integer_variables']} integer, "
        f"{res.size['constraints']} constraints, {res.run['network']['candidate_paths']} "
        f"candidate paths, {res.run['network']['commodities']} commodities"
    )
    gap = res.outcome.mip_gap
    print(
        f"status {res.outcome.status}, objective {res.outcome.objective:,.2f}, "
        f"gap {'n/a' if gap is None else f'{gap:.2e}'}"
    )
    total = statistics.median(t for _, t in runs)
    print(f"{'phase':<19}{'median s':>10}{'min s':>10}{'share':>8}")
    for phase in PHASES:
        times = [r.timings.get(phase, 0.0) for r, _ in runs]
        med = statistics.median(times)
        print(f"{phase:<19}{med:>10.3f}{min(times):>10.3f}{med / total:>8.1%}")
    print(f"{'total':<19}{total:>10.3f}")
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak_mb:.0f} MB")
    objectives = {round(r.outcome.objective, 4) for r, _ in runs}
    print(f"same objective on every run: {len(objectives) == 1}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
