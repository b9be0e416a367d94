#!/usr/bin/env python3
"""Whole runs of ``solve.py`` as a planner runs them: wall clock against the time limit,
the share of the wall spent outside HiGHS, peak memory. Not a test.

    python bench/wall.py [DATA ...] [--sites 100 200] [--seed 7] [--time-limit S]
                         [--screen N] [--extra "ARGS"] [--keep DIR] [--against REV]
                         [--trace DIR] [--solver-seeds K ...] [--jobs N]

Each data set (a folder, or ``--sites N``: ``python -m model.synth --sites N --seed S``)
is solved by ``python solve.py DATA --out <tmp> -q`` in a process of its own, one after
the other. Per run the table gives: status and gap (run.json), objective, wall seconds of
the whole process (start to exit, Python's start and imports included), wall / limit
(the goal: ≤ 1.05 and at most 10 s over), HiGHS's own seconds (run.json ``highs_s``: the
MIP, the first design and the pricing LPs), the share of the wall outside HiGHS, and the
peak resident memory of the process (ru_maxrss) and, from the process's resident size
sampled every half second (Linux), when in the run that peak came.
``--against REV``: side by side, each data set is also solved by ``solve.py`` of the git
revision REV (checked out in a temporary worktree) at the same time as by this checkout's,
so that both see the same machine; a row per version (``data@REV``) and a row of ratios
(this / REV: wall, HiGHS seconds, peak memory).
``--trace DIR``: the samples of each run as ``DIR/<data>.csv`` (``t_s,rss_mib``;
``<data>@REV.csv`` for the other version), to plot or to line up with the HiGHS log.
``--solver-seeds K ...``: each data set once per HiGHS random seed (``solve.py --seed K``),
a row per seed (``data+seedK``) and a row of the spread: how many runs ended optimal, and
the least, median and largest gap, wall and peak. A large model's search path, and with it
the gap at the limit and the peak, changes with the seed (and with the last bit of a cost
coefficient): one run is one draw. ``--jobs N`` runs N of those at once (default 1).
Timings are wall clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worktree import checkout  # bench/worktree.py

REPO = Path(__file__).resolve().parents[1]
SAMPLE_S = 0.5  # seconds between two samples of the resident size


def _rss_mib(pid: int) -> float | None:
    """The resident size of process ``pid`` in MiB (None: gone, or no /proc)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _sample(pid: int, start: float, done: threading.Event, into: list) -> None:
    """(seconds since ``start``, RSS MiB) every SAMPLE_S until ``done``."""
    while not done.is_set():
        rss = _rss_mib(pid)
        if rss is not None:
            into.append((time.perf_counter() - start, rss))
        done.wait(SAMPLE_S)


def run(data: Path, limit: float | None, extra: list[str], out: Path, repo: Path = REPO) -> dict:
    args = [sys.executable, str(repo / "solve.py"), str(data), "--out", str(out), "-q"]
    if limit is not None:
        args += ["--time-limit", f"{limit:g}"]
    args += extra
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, float]] = []
    done = threading.Event()
    sampler = threading.Thread(target=_sample, args=(proc.pid, start, done, samples))
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)  # the wall is not rounded to a sample
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    err = proc.stderr.read() if proc.stderr else ""
    proc.returncode = os.waitstatus_to_exitcode(status)
    folder = out / data.name / "base"
    row: dict = {"data": data.name, "exit": proc.returncode, "wall_s": wall}
    row["rss_gib"] = usage.ru_maxrss / 2**20  # KiB on Linux
    row["samples"] = samples
    runjson = folder / "run.json"
    if runjson.exists():
        rec = json.loads(runjson.read_text())
        outcome = rec["outcome"]
        row.update(
            status=outcome["status"],
            gap=outcome.get("mip_gap"),
            objective=outcome.get("objective"),
            highs_s=rec.get("highs_s", outcome.get("highs_s", 0.0)),
            mip_highs_s=outcome.get("highs_s", 0.0),
            handover_s=outcome.get("handover_s", 0.0),
            limit=rec["settings"]["solver"]["time_limit_s"],
            timings=rec.get("timings_s", {}),
        )
    else:
        row.update(status=f"exit {proc.returncode}", error=err.strip().splitlines()[-1:])
    return row


def fmt(row: dict, limit: float | None) -> str:
    lim = row.get("limit", limit)
    gap = row.get("gap")
    obj = row.get("objective")
    highs = row.get("highs_s") or 0.0
    wall = row["wall_s"]
    ratio = f"{wall / lim:.2f}" if lim else ""
    return (
        f"| {row['data']} | {row.get('status')} | "
        f"{'' if gap is None else f'{gap:.2%}'} | "
        f"{'' if obj is None else f'{obj:,.0f}'} | {wall:.1f} | {lim or ''} | {ratio} | "
        f"{highs:.1f} | {1 - highs / wall:.0%} | {row['rss_gib']:.2f} |"
    )


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", type=Path, nargs="*", help="data set folders")
    p.add_argument("--sites", type=int, nargs="*", default=[], metavar="N")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--time-limit", type=float, default=None, metavar="S")
    p.add_argument("--extra", default="", help="more solve.py arguments, one string")
    p.add_argument("--synth", default="", help="more model.synth arguments, one string")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR", help="keep data sets here")
    p.add_argument("--against", metavar="REV", help="also run git revision REV, side by side")
    p.add_argument("--trace", type=Path, metavar="DIR", help="write each run's RSS samples here")
    p.add_argument(
        "--solver-seeds", type=int, nargs="+", metavar="K", help="one run per HiGHS seed K"
    )
    p.add_argument("--jobs", type=int, default=1, metavar="N", help="seeded runs at once")
    args = p.parse_args(argv)
    if args.solver_seeds and args.against:
        p.error("--solver-seeds and --against: one comparison at a time")
    if args.jobs < 1:
        p.error("--jobs must be at least 1")
    extra = shlex.split(args.extra)
    print(f"solve.py {' '.join(extra)} (time limit {args.time_limit or 'of the data set'})")
    print(
        "| data | status | gap | objective | wall s | limit s | wall/limit | HiGHS s | "
        "outside HiGHS | peak GiB |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        folders = list(args.data)
        for n in args.sites:
            where = (args.keep or Path(tmp)) / f"synth{n}s{args.seed}"
            if not where.exists():
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "model.synth",
                        "--sites",
                        str(n),
                        "--seed",
                        str(args.seed),
                        *shlex.split(args.synth),
                        str(where),
                    ],
                    cwd=REPO,
                    check=True,
                    capture_output=True,
                )
            folders.append(where)
        with ExitStack() as stack:
            other = None
            if args.against:
                other = stack.enter_context(checkout(args.against, Path(tmp) / "against"))
            for data in folders:
                if args.solver_seeds:
                    _seeds(data, args, extra, Path(tmp))
                else:
                    _report(data, args, extra, Path(tmp), other)
    return 0


def _report(
    data: Path, args: argparse.Namespace, extra: list[str], tmp: Path, other: Path | None
) -> None:
    if other is None:
        row = run(data, args.time_limit, extra, tmp / "out")
    else:
        with ThreadPoolExecutor(2) as pool:
            old = pool.submit(run, data, args.time_limit, extra, tmp / "old", other)
            row = run(data, args.time_limit, extra, tmp / "out")
            before = old.result()
        before["data"] = f"{data.name}@{args.against}"
        _show(before, args)
    _show(row, args)
    if other is not None:
        ratios = [
            f"{key} {row.get(key) / before.get(key):.2f}"
            for key in ("wall_s", "highs_s", "rss_gib")
            if row.get(key) and before.get(key)
        ]
        print(f"|  | this / {args.against}: {', '.join(ratios)} |", flush=True)
    phases = row.get("timings") or {}
    if phases:
        shown = ", ".join(f"{k} {v:.1f}" for k, v in phases.items() if v >= 0.05)
        print(f"|  | phases (s): {shown} |", flush=True)
    if row.get("error"):
        print(f"|  | {row['error']} |", flush=True)


def _seeds(data: Path, args: argparse.Namespace, extra: list[str], tmp: Path) -> None:
    """One run of ``data`` per seed, ``args.jobs`` at a time, then the spread."""

    def one(seed: int) -> dict:
        row = run(data, args.time_limit, [*extra, "--seed", str(seed)], tmp / f"seed{seed}")
        row["data"] = f"{data.name}+seed{seed}"
        return row

    with ThreadPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(one, args.solver_seeds))
    for row in rows:
        _show(row, args)
        if row.get("error"):
            print(f"|  | {row['error']} |", flush=True)
    print(f"|  | {data.name}, seeds {' '.join(map(str, args.solver_seeds))}: {spread(rows)} |")


def spread(rows: list[dict]) -> str:
    """Optimal runs out of all, and least / median / largest gap, wall and peak."""

    def mmm(values: list[float], show: Callable[[float], str]) -> str:
        values = sorted(values)
        if not values:
            return "none"
        return " / ".join(show(v) for v in (values[0], median(values), values[-1]))

    optimal = sum(row.get("status") == "optimal" for row in rows)
    gaps = [row["gap"] for row in rows if row.get("gap") is not None]
    return (
        f"optimal {optimal} of {len(rows)}; least / median / largest: "
        f"gap {mmm(gaps, lambda g: f'{g:.2%}')}, "
        f"wall {mmm([row['wall_s'] for row in rows], lambda w: f'{w:.1f} s')}, "
        f"peak {mmm([row['rss_gib'] for row in rows], lambda r: f'{r:.2f} GiB')}"
    )


def _show(row: dict, args: argparse.Namespace) -> None:
    """A run's row of the table, then when its peak came (and its samples, ``--trace``)."""
    print(fmt(row, args.time_limit), flush=True)
    _trace(row, args.trace)


def _trace(row: dict, where: Path | None) -> None:
    """When the run's largest sample came; the samples to ``where`` when given."""
    samples = row.get("samples") or []
    if samples:
        t, rss = max(samples, key=lambda s: s[1])
        print(
            f"|  | {row['data']}: largest RSS sample {rss / 1024:.2f} GiB at {t:.0f} s of "
            f"{row['wall_s']:.0f} s ({len(samples)} samples, one every {SAMPLE_S:g} s) |",
            flush=True,
        )
    if where is not None and samples:
        where.mkdir(parents=True, exist_ok=True)
        lines = ["t_s,rss_mib"] + [f"{t:.2f},{rss:.1f}" for t, rss in samples]
        (where / f"{row['data']}.csv").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    raise SystemExit(main())
