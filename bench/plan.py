#!/usr/bin/env python3
"""The network plan (``plan_network``: candidate paths of every commodity) of this checkout
against a git revision, side by side. Not a test.

    python bench/plan.py DATA [DATA ...] --against REV [--runs 5]

REV is checked out in a temporary worktree. Per data set, each version plans it ``--runs``
times in a process of its own (data loaded once, outside the clock), the two processes one
after the other and the runs alternating between them, so that both see the same machine.
Printed per data set: the median seconds of each, the ratio (this / REV), and whether the
two plans are the same, field by field (every commodity's candidate paths, the failures,
the restrictions). Timings are wall clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))

from worktree import REPO, checkout  # bench/worktree.py

#: Run in the version's own folder: plan once (the plan's fingerprint), then time it.
CHILD = """
import dataclasses, hashlib, json, logging, sys, time
logging.disable(logging.WARNING)
from model.load import load_dataset
from model.network import plan_network
ds = load_dataset(sys.argv[1])
plan = plan_network(ds)
fields = [f.name for f in dataclasses.fields(plan) if f.name not in ("finder", "options")]
digest = hashlib.sha256(repr([getattr(plan, f) for f in fields]).encode()).hexdigest()
for line in sys.stdin:  # one line per timed run
    start = time.perf_counter()
    plan_network(ds)
    print(json.dumps({"s": time.perf_counter() - start, "plan": digest}), flush=True)
"""


def _child(folder: Path, data: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data)],
        cwd=folder,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _run(child: subprocess.Popen) -> dict:
    assert child.stdin is not None and child.stdout is not None
    child.stdin.write("go\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line:
        raise SystemExit(f"the planning process ended early (exit {child.wait()})")
    return json.loads(line)


def compare(data: Path, folders: tuple[Path, Path], runs: int) -> dict:
    """Median seconds of both versions on ``data`` and whether their plans agree."""
    children = [_child(f, data) for f in folders]
    times: list[list[float]] = [[], []]
    digests: list[str] = ["", ""]
    try:
        for _ in range(runs):
            for i, child in enumerate(children):
                out = _run(child)
                times[i].append(out["s"])
                digests[i] = out["plan"]
    finally:
        for child in children:
            for pipe in (child.stdin, child.stdout):
                if pipe is not None:
                    pipe.close()
            child.wait()
    return {
        "this_s": median(times[0]),
        "other_s": median(times[1]),
        "same_plan": digests[0] == digests[1],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("data", nargs="+", type=Path, help="data set folders")
    p.add_argument("--against", required=True, metavar="REV", help="git revision to compare")
    p.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    args = p.parse_args(argv)
    missing = [str(d) for d in args.data if not d.is_dir()]
    if missing:
        p.error(f"not a folder: {', '.join(missing)}")
    if args.runs < 1:
        p.error("--runs must be at least 1")
    with tempfile.TemporaryDirectory() as tmp, checkout(args.against, Path(tmp) / "rev") as other:
        print(f"network plan, this checkout against {args.against}, {args.runs} runs each")
        print(f"| data | this s | {args.against} s | this / {args.against} | same plan |")
        print("|---|---|---|---|---|")
        for data in args.data:
            r = compare(data.resolve(), (REPO, other), args.runs)
            print(
                f"| {data.name} | {r['this_s']:.3f} | {r['other_s']:.3f} | "
                f"{r['this_s'] / r['other_s']:.2f} | {'yes' if r['same_plan'] else 'NO'} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
