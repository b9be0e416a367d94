#!/usr/bin/env python3
"""SNDlib benchmark: import each instance, solve it under a time limit, compare with the
published value. Not a test.

    python bench/sndlib.py [--time-limit S] [--networks a,b,...] [--out FILE.csv]

One row per network, in the variant U-U-M-N-C-A-N-N, or U-U-E-N-C-A-N-N where the network
has no M model, or its D-D model where it has only directed links. Columns: instance,
variant, nodes, links, demands, objective (ours, without the constant cost of
pre-installed capacity), with_preinstalled (ours plus that constant), bound, gap, seconds,
published (the best known value, from the MIPLIB solution files of these instances as
kept in SCIP's repository) and ratio (ours / published, comparing like with like: PUBLISHED
records which published values include the constant). The native files are optional
benchmark instances beside the checkout (NATIVE below; README.md, "SNDlib", says where to
get them).
"""

from __future__ import annotations

import argparse
import csv
import logging
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from model.errors import ScaleacrossError  # noqa: E402
from model.pipeline import SolveOptions, run_scenario  # noqa: E402

NATIVE = REPO.parent / "shared" / "data" / "sndlib" / "native"
# (value, includes the pre-installed constant): best known, from the MIPLIB solution files
PUBLISHED = {
    ("france", "U-U-M-N-C-A-N-N"): (20200, False),
    ("dfn-gwin", "U-U-M-N-C-A-N-N"): (38752, True),
    ("ta1", "U-U-M-N-C-A-N-N"): (7518328.2, False),
    ("germany50", "U-U-M-N-C-A-N-N"): (628490, False),
    ("germany50", "D-B-M-N-C-A-N-N"): (473840, False),
    ("zib54", "U-U-E-N-C-A-N-N"): (10334015.82, False),
    ("ta2", "U-U-E-N-C-A-N-N"): (37871728.59, True),
    ("cost266", "U-U-E-N-C-A-N-N"): (25148940.56, False),
    ("janos-us", "D-D-M-N-C-A-N-N"): (1493300, False),
    ("dfn-bwin", "D-B-E-N-C-A-N-N"): (73623.79, False),
}
PREFERENCE = ("U-U-M-N-C-A-N-N", "U-U-E-N-C-A-N-N", "D-D-M-N-C-A-N-N", "D-D-E-N-C-A-N-N")
COLUMNS = [
    "instance",
    "variant",
    "nodes",
    "links",
    "demands",
    "status",
    "objective",
    "with_preinstalled",
    "bound",
    "gap",
    "seconds",
    "published",
    "ratio",
]


def pick_variant(network: str, wanted: str | None = None) -> str | None:
    have = {p.stem for p in (NATIVE / network / "models").glob("*.txt")}
    if wanted:
        return wanted if wanted in have else None
    return next((v for v in PREFERENCE if v in have), None)


def bench_one(network: str, variant: str, limit: float, work: Path) -> dict:
    folder = NATIVE / network
    out = work / f"{network}-{variant}"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "model.sndlib",
            str(folder / f"{network}.txt"),
            str(folder / "models" / f"{variant}.txt"),
            str(out),
            "--force",
        ],
        check=True,
        cwd=REPO,
        capture_output=True,
    )
    meta = tomllib.loads((out / "settings.toml").read_text())["sndlib"]
    row = {"instance": network, "variant": variant}
    count = {
        n: len((out / f"{n}.csv").read_text().splitlines()) - 1
        for n in ("sites", "routes", "demands")
    }
    row.update(nodes=count["sites"], links=count["routes"], demands=count["demands"])
    start = time.perf_counter()
    try:
        res = run_scenario(out, "base", None, SolveOptions(time_limit_s=limit, mip_gap=0.0))
        o = res.outcome
        const = float(meta.get("preinstalled_cost", 0.0))
        row.update(
            status=o.status,
            objective=o.objective,
            with_preinstalled=o.objective + const,
            bound=o.bound,
            gap=o.mip_gap,
        )
    except ScaleacrossError as exc:
        row.update(
            status=type(exc).__name__, objective=None, with_preinstalled=None, bound=None, gap=None
        )
        const = 0.0
    row["seconds"] = round(time.perf_counter() - start, 1)
    pub = PUBLISHED.get((network, variant))
    row["published"] = pub[0] if pub else None
    if pub and row["objective"] is not None:
        ours = row["with_preinstalled"] if pub[1] else row["objective"]
        row["ratio"] = ours / pub[0]
    else:
        row["ratio"] = None
    return row


def fmt(v: object) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.6g}" if abs(v) < 1e-3 or abs(v) >= 1e6 else f"{v:,.4f}".rstrip("0").rstrip(".")
    return str(v)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--time-limit", type=float, default=300.0)
    p.add_argument("--networks", default="")
    p.add_argument("--out", type=Path, default=None, help="also write the table as CSV")
    p.add_argument(
        "--variant",
        default=None,
        help="solve this variant instead (e.g. to "
        "compare with a published U-U-E value where an M model exists)",
    )
    args = p.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if not NATIVE.exists():
        print(f"SNDlib data not found at {NATIVE}")
        return 1
    names = args.networks.split(",") if args.networks else sorted(p.name for p in NATIVE.iterdir())
    print(" | ".join(COLUMNS))
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for net in names:
            variant = pick_variant(net, args.variant)
            if variant is None:
                print(f"{net} | no supported model file")
                continue
            row = bench_one(net, variant, args.time_limit, Path(work))
            rows.append(row)
            print(" | ".join(fmt(row[c]) for c in COLUMNS), flush=True)
            if args.out:
                with open(args.out, "w", newline="") as fh:
                    w = csv.DictWriter(fh, fieldnames=COLUMNS)
                    w.writeheader()
                    w.writerows(rows)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
