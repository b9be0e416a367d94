#!/usr/bin/env python3
"""Model size and time of growth over periods (contract §8) on a growth data set
(data/japan_growth unless --data says otherwise), for the first 1, 2, 3, ... periods of a
ramp. Not a test: figures, no asserts.

    python bench/periods.py [--data data/europe_growth] [--periods 1 2 3 5]
                            [--time-limit 300] [--mip-gap 0.01] [--threads 1 2] [--seeds 0 1 2]

For every count N, the first N periods of the scenario's periods.csv rows are written to a
temporary copy of the data set (N beyond the rows extends the ramp: every further year adds
the last step again), then solved end to end by run_scenario without writing results.
Printed per N: variables, integer variables, constraints, build and solve seconds, status,
MIP gap and the discounted objective. Every count is solved once per pair of ``--threads``
value and ``--seed``; with several thread counts a last line gives each one's median wall
time and its ratio to the first's.
Timings are wall clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import pandas as pd

from model.errors import ScaleacrossError
from model.pipeline import SolveOptions, run_scenario

DATA = Path(__file__).resolve().parents[1] / "data" / "japan_growth"


def ramp(rows: pd.DataFrame, n: int) -> pd.DataFrame:
    """The first ``n`` periods, one year each; past the rows, gpu_racks and storage_pb grow
    by the last step again every year."""
    records = rows.to_dict("records")
    while len(records) < n:
        last, before = records[-1], records[-2]
        year = int(last["year"]) + 1
        nxt = {**last, "period": str(year), "year": year}
        for col in ("gpu_racks", "storage_pb"):
            nxt[col] = last[col] + (last[col] - before[col])
        records.append(nxt)
    out = pd.DataFrame(records[:n])
    out["years"] = 1
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--data",
        type=Path,
        default=DATA,
        help="growth data set with a periods.csv (default: data/japan_growth)",
    )
    ap.add_argument("--periods", type=int, nargs="+", default=[1, 2, 3, 5])
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--mip-gap", type=float, default=0.01)
    ap.add_argument(
        "--threads",
        type=int,
        nargs="+",
        default=[1],
        help="solver threads; several values are run side by side (default: 1)",
    )
    ap.add_argument(
        "--seeds",
        type=int,
        nargs="+",
        default=[0],
        help="solver random seeds, each run for every thread count (default: 0)",
    )
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    data = args.data.resolve()
    if not (data / "periods.csv").is_file():
        ap.error(f"{data}: no periods.csv")
    base = pd.read_csv(data / "periods.csv", dtype={"scenario": str})
    if "scenario" in base.columns:
        base = base[base["scenario"].isna()].drop(columns=["scenario"])
    print(
        f"{'periods':>7} {'threads':>7} {'seed':>4} {'variables':>9} {'integer':>8} "
        f"{'constraints':>11} {'build_s':>8} {'solve_s':>8} {'wall_s':>7} {'status':>10} "
        f"{'gap':>8} {'objective_usd':>16}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / data.name
        shutil.copytree(data, folder)
        (folder / "scenarios.csv").unlink(missing_ok=True)
        for n in args.periods:
            ramp(base, n).to_csv(folder / "periods.csv", index=False)
            walls: dict[int, list[float]] = {}
            for threads in args.threads:
                for seed in args.seeds:
                    opts = SolveOptions(
                        time_limit_s=args.time_limit,
                        mip_gap=args.mip_gap,
                        threads=threads,
                        seed=seed,
                    )
                    start = time.perf_counter()
                    try:
                        res = run_scenario(folder, "base", None, opts)
                    except ScaleacrossError as exc:
                        print(f"{n:>7} {threads:>7} {seed:>4} {type(exc).__name__}: {exc}")
                        continue
                    wall = time.perf_counter() - start
                    walls.setdefault(threads, []).append(wall)
                    s = res.tables.summary.iloc[0]
                    gap = "" if s["mip_gap"] is None else f"{100 * s['mip_gap']:.2f} %"
                    print(
                        f"{n:>7} {threads:>7} {seed:>4} {res.size['variables']:>9} "
                        f"{res.size['integer_variables']:>8} {res.size['constraints']:>11} "
                        f"{res.timings.get('build', 0):>8.1f} "
                        f"{res.timings.get('solve', 0):>8.1f} {wall:>7.1f} {s['status']:>10} "
                        f"{gap:>8} {s['objective']:>16,.0f}",
                        flush=True,
                    )
            if len(walls) > 1:
                med = {t: statistics.median(w) for t, w in walls.items()}
                first = next(iter(med))
                ratios = ", ".join(
                    f"{t} threads {med[t]:.1f} s ({med[t] / med[first]:.2f})" for t in list(med)[1:]
                )
                print(
                    f"{n:>7} median wall: {first} thread(s) {med[first]:.1f} s; {ratios}",
                    flush=True,
                )


if __name__ == "__main__":
    main()
