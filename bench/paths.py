#!/usr/bin/env python3
"""Benchmark the path claim: candidate paths with column generation against all paths.
Not a test.

    python bench/paths.py [--sites 6 7 8] [--seeds 20] [--k 1 2] [--time-limit S]
                          [--up-to N] [--compare]

For each seeded synthetic set (``model.synth --routes``, ``zone_survival_share`` 0.5) and
each ``paths_per_pair`` k, solves the scenario (column generation included) and the same
data with every path-routed commodity given *all* simple paths inside its latency bound
(exhaustive: tiny sizes only). Prints one row per set and k: both objectives, whether
they match (relative 1e-6 plus the MIP gap), the claim, the all-path LP bound and the
time ratio; then how many match per k, and whether any run claims "all paths" above the
all-path optimum (it must not). ``--up-to N`` sets ``[network] enumerate_paths_up_to``
(default: the setting's default; 0 turns path enumeration off); ``--compare`` also runs each
set with enumeration off, side by side (mode ``off`` and ``on``).
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import networkx as nx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from model.build import build_model
from model.errors import ScaleacrossError
from model.load import load_dataset
from model.network import NetworkPlan, plan_network
from model.paths import EPS_MS
from model.pipeline import SolveOptions, run_scenario
from model.solver import solve
from model.synth import SynthOptions, write_dataset


def all_paths(plan: NetworkPlan) -> NetworkPlan:
    """The plan with every simple path inside its bound for each path-routed commodity."""
    finder = plan.finder
    assert finder is not None
    coms = []
    for c in plan.commodities:
        if c.arc:
            coms.append(c)
            continue
        found = []
        for nodes in nx.all_simple_paths(finder.g, c.src, c.dst):
            p = finder._to_path(nodes)
            if c.bound_ms is None or p.latency_ms <= c.bound_ms + EPS_MS:
                found.append(p)
        found.sort(key=lambda p: (p.latency_us, p.nodes, p.routes))
        coms.append(replace(c, paths=tuple(found)))
    return replace(plan, commodities=coms)


def exhaustive(folder: Path, time_limit: float) -> tuple[float | None, str, float, int]:
    """Objective, status, seconds and path count of the all-simple-paths model."""
    start = time.perf_counter()
    ds = load_dataset(folder, "base")
    settings = ds.settings.solver.model_copy(update={"time_limit_s": time_limit})
    plan = all_paths(plan_network(ds))
    model, ix = build_model(ds, plan)
    out = solve(model, settings)
    return out.objective, out.status, time.perf_counter() - start, len(ix.paths)


def make_set(root: Path, sites: int, seed: int, k: int, up_to: int | None = None) -> Path:
    folder = root / f"s{sites}_{seed}_k{k}_e{up_to}"
    write_dataset(folder, SynthOptions(sites=sites, seed=seed, routes=True))
    toml = folder / "settings.toml"
    text = toml.read_text()
    text = re.sub(r"zone_survival_share = [0-9.]+", "zone_survival_share = 0.5", text)
    extra = "" if up_to is None else f"\nenumerate_paths_up_to = {up_to}"
    text = re.sub(r"paths_per_pair = \d+", f"paths_per_pair = {k}{extra}", text)
    toml.write_text(text)
    return folder


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sites", type=int, nargs="+", default=[6, 7, 8])
    p.add_argument("--seeds", type=int, default=20, help="seeds 0 .. N-1 per size")
    p.add_argument("--k", type=int, nargs="+", default=[1, 2], help="paths_per_pair values")
    p.add_argument("--time-limit", type=float, default=120.0)
    p.add_argument(
        "--up-to", type=int, default=None, help="[network] enumerate_paths_up_to (0: off)"
    )
    p.add_argument("--compare", action="store_true", help="also run with enumeration off")
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    modes: list[tuple[str, int | None]] = [("on", args.up_to)]
    if args.up_to == 0:
        modes = [("off", 0)]
    elif args.compare:
        modes = [("off", 0), *modes]
    tally: dict[tuple[int, str], list[int]] = {(k, m): [0, 0] for k in args.k for m, _ in modes}
    claimed: dict[tuple[int, str], int] = {key: 0 for key in tally}
    over_claims, ratios = 0, []
    head = (
        f"{'set':>10} {'k':>2} {'mode':>4} {'all-path opt':>14} {'run':>14} {'match':>5} "
        f"{'claim':>15} {'LP bound':>14} {'added':>5} {'enum':>5} {'t run':>6} {'t all':>6}"
    )
    print(head)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for n in args.sites:
            for seed in range(args.seeds):
                name = f"{n}/{seed}"
                best = None
                for k, (mode, up_to) in ((k, m) for k in args.k for m in modes):
                    folder = make_set(root, n, seed, k, up_to)
                    if best is None:
                        best = exhaustive(folder, args.time_limit)
                    opt, opt_status, t_all, _ = best
                    start = time.perf_counter()
                    try:
                        res = run_scenario(
                            folder, "base", None, SolveOptions(time_limit_s=args.time_limit)
                        )
                    except ScaleacrossError as exc:
                        print(f"{name:>10} {k:>2} {mode:>4} {'':>14} {type(exc).__name__}")
                        continue
                    t_run = time.perf_counter() - start
                    z = res.outcome.objective
                    routing = res.run["routing"]
                    gap = res.dataset.settings.solver.mip_gap
                    match = (
                        opt is not None
                        and z is not None
                        and abs(z - opt) <= (1e-6 + gap) * max(1.0, abs(opt))
                    )
                    claim = routing["optimal_over"]
                    if claim == "all paths" and opt is not None and opt_status == "optimal":
                        over_claims += z > opt * (1 + gap) + 1e-6
                    tally[k, mode][0] += bool(match)
                    tally[k, mode][1] += 1
                    claimed[k, mode] += claim == "all paths"
                    enum = {True: "all", False: "cap", None: "-"}[routing.get("paths_complete")]
                    ratios.append(t_run / max(t_all, 1e-9))
                    bound = routing["all_path_lp_bound"]
                    print(
                        f"{name:>10} {k:>2} {mode:>4} {opt or float('nan'):>14,.0f} {z:>14,.0f} "
                        f"{'yes' if match else 'NO':>5} {claim:>15} "
                        f"{bound if bound is not None else float('nan'):>14,.0f} "
                        f"{routing['paths_added']:>5} {enum:>5} {t_run:>6.1f} {t_all:>6.1f}",
                        flush=True,
                    )
    for (k, mode), (hit, total) in tally.items():
        share = hit / total if total else 0.0
        print(
            f"paths_per_pair {k}, enumeration {mode}: {hit}/{total} match the all-path "
            f"optimum ({share:.0%}); {claimed[k, mode]} claim 'all paths'"
        )
    if ratios:
        ratios.sort()
        print(f"time run / exhaustive: median {ratios[len(ratios) // 2]:.2f}, max {ratios[-1]:.2f}")
    print(f"runs claiming 'all paths' above the all-path optimum: {over_claims}")
    return 1 if over_claims else 0


if __name__ == "__main__":
    raise SystemExit(main())
