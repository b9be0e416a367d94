#!/usr/bin/env python3
"""The hand-over of the full model to HiGHS, two ways side by side, per size. Not a test.

    python bench/handover.py [--sites 25 50 100 200] [--seed 1] [--repeat 2]

For every N, ``model.synth`` writes an N-site data set, the pipeline builds the model
(network plan, index, build), then both hand-overs run on the same model, alternately,
``--repeat`` times each; the best time of each is printed with their ratio:

- ``pyomo``: Pyomo's ``contrib.solver`` HiGHS interface, ``set_instance`` (what scaleacross
  used before: it adds HiGHS's columns and rows through Python, row by row);
- ``direct``: model/highs_direct.py, Pyomo's standard-form compiler to NumPy/SciPy
  arrays and one ``passModel`` call (what scaleacross uses now).

Neither runs HiGHS's solve; both models are checked to have the same number of columns,
rows and non-zeros. Timings are wall clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import gc
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import highspy
from pyomo.common.tee import capture_output
from pyomo.contrib.solver.solvers.highs import Highs

from model import synth
from model.build import build_model
from model.highs_direct import compile_model
from model.index import build_index
from model.load import load_dataset
from model.network import plan_network


def pyomo_handover(m: object) -> tuple[float, tuple[int, int, int]]:
    start = time.perf_counter()
    opt = Highs()
    with capture_output(capture_fd=True):
        opt.set_instance(m)
    elapsed = time.perf_counter() - start
    lp = opt._solver_model.getLp()
    return elapsed, (lp.num_col_, lp.num_row_, len(lp.a_matrix_.value_))


def direct_handover(m: object) -> tuple[float, tuple[int, int, int]]:
    start = time.perf_counter()
    compiled = compile_model(m)
    with capture_output(capture_fd=True):
        h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.passModel(compiled.highs_lp())
    elapsed = time.perf_counter() - start
    lp = h.getLp()
    return elapsed, (lp.num_col_, lp.num_row_, len(lp.a_matrix_.value_))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, nargs="+", default=[25, 50, 100, 200], metavar="N")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    print("| sites | columns | rows | non-zeros | pyomo s | direct s | pyomo / direct |")
    print("|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sites:
            folder = Path(tmp) / f"s{n}"
            with capture_output():
                synth.main(["--sites", str(n), "--seed", str(args.seed), str(folder)])
            ds = load_dataset(folder)
            plan = plan_network(ds)
            m, _ = build_model(ds, plan, build_index(ds, plan))
            best = {"pyomo": float("inf"), "direct": float("inf")}
            sizes = {}
            for _ in range(args.repeat):
                for name, fn in (("pyomo", pyomo_handover), ("direct", direct_handover)):
                    gc.collect()
                    elapsed, size = fn(m)
                    best[name] = min(best[name], elapsed)
                    sizes[name] = size
            if sizes["pyomo"] != sizes["direct"]:
                print(f"sizes differ at {n} sites: {sizes}", file=sys.stderr)
                return 1
            cols, rows, nnz = sizes["direct"]
            print(
                f"| {n} | {cols:,} | {rows:,} | {nnz:,} | {best['pyomo']:.2f} | "
                f"{best['direct']:.2f} | {best['pyomo'] / best['direct']:.1f}× |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
