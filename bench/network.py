#!/usr/bin/env python3
"""The network plan (candidate paths of every commodity) two ways side by side, per size.
Not a test.

    python bench/network.py [--sites 100 200 400] [--seed 7] [--synth "ARGS"] [--skip-yen N]

For every N, ``model.synth`` writes an N-site data set with ``--routes`` (and the extra
generator arguments given, e.g. ``--gpu-share 0.1 --storage-share 0.1`` for a graph of
mostly transit nodes), then ``plan_network`` runs twice on it:

- ``yen``: each pair's k shortest site sequences by Yen's algorithm (model/yen.py,
  NetworkX's ``shortest_simple_paths`` on plain dicts) and failure-avoiding paths by
  NetworkX's Dijkstra, what
  scaleacross does up to ``PathFinder.LABEL_SEARCH_SITES`` sites;
- ``label``: one label-setting search per source for every target, and SciPy's compiled
  Dijkstra for the failure-avoiding paths, what it does above that.

Printed per N: commodities, candidate paths, seconds, and the ratio; for ``label``, how
many commodities got a different path set and how many a slower fastest path (always 0:
both find each pair's shortest). ``--skip-yen N`` skips Yen's above N sites (it grows as
N³). Timings are wall clock on whatever else the machine is running.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pyomo.common.tee import capture_output

from model import synth
from model.load import load_dataset
from model.network import PathFinder, plan_network


def plan(ds: object, label: bool) -> tuple[float, object]:
    saved = PathFinder.LABEL_SEARCH_SITES
    PathFinder.LABEL_SEARCH_SITES = 0 if label else 10**9
    try:
        start = time.perf_counter()
        result = plan_network(ds)
        return time.perf_counter() - start, result
    finally:
        PathFinder.LABEL_SEARCH_SITES = saved


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, nargs="+", default=[100, 200, 400], metavar="N")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--synth", default="", help="more model.synth arguments, one string")
    p.add_argument("--skip-yen", type=int, default=400, metavar="N")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    print(
        "| sites | routes | commodities | paths yen | paths label | yen s | label s | "
        "yen / label | other path set | slower fastest path |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sites:
            folder = Path(tmp) / f"s{n}"
            with capture_output():
                synth.main(
                    [
                        "--sites",
                        str(n),
                        "--seed",
                        str(args.seed),
                        "--routes",
                        *shlex.split(args.synth),
                        str(folder),
                    ]
                )
            ds = load_dataset(folder)
            label_s, label = plan(ds, True)
            n_label = sum(len(c.paths) for c in label.commodities)
            if n > args.skip_yen:
                print(
                    f"| {n} | {len(ds.routes)} | {len(label.commodities):,} | — | "
                    f"{n_label:,} | — | {label_s:.1f} | — | — | — |",
                    flush=True,
                )
                continue
            yen_s, yen = plan(ds, False)
            n_yen = sum(len(c.paths) for c in yen.commodities)
            other = slower = 0
            for a, b in zip(yen.commodities, label.commodities, strict=True):
                assert a.id == b.id
                other += {q.routes for q in a.paths} != {q.routes for q in b.paths}
                if a.paths and b.paths:
                    fa = min(q.latency_us for q in a.paths)
                    fb = min(q.latency_us for q in b.paths)
                    slower += fb > fa + 1e-6
            print(
                f"| {n} | {len(ds.routes)} | {len(yen.commodities):,} | {n_yen:,} | "
                f"{n_label:,} | {yen_s:.1f} | {label_s:.1f} | {yen_s / label_s:.1f}× | "
                f"{other:,} | {slower} |",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
