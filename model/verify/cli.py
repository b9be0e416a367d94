"""``python solve.py verify RESULT_DIR [--data DATASET_DIR]``: the verifier's command line."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from model.errors import EXIT_INPUT, EXIT_OK, InputError
from model.verify.run import verify
from model.verify.violations import EXIT_VIOLATION


def main(argv: list[str] | None = None) -> int:
    """``solve.py verify RESULT_DIR [--data DATASET_DIR]``: 0 no violation, 5 violations,
    2 a file is missing or unreadable."""
    p = argparse.ArgumentParser(
        prog="solve.py verify",
        description="Check a written design against every rule of the model, independently "
        "of the solver: from the result CSVs and the data set only.",
        epilog="Exit codes: 0 the design keeps every rule; 5 the design violates a rule; "
        "2 a result or data file is missing or unreadable.",
    )
    p.add_argument("result_dir", type=Path, help="results/<data set>/<scenario>/ folder")
    p.add_argument("--data", type=Path, help="data set folder (default: data_dir of run.json)")
    args = p.parse_args(argv)
    try:
        report = verify(args.result_dir, args.data)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    n_checks, n_cmp = len(report.comparisons), sum(report.comparisons.values())
    if not report.violations:
        print(f"OK: {args.result_dir}: no violation ({n_checks} checks, {n_cmp} comparisons)")
        return EXIT_OK
    width = max(len(v.check) for v in report.violations)
    for v in report.violations:
        print(f"{v.check:<{width}}  {v.objects}: {v.message}")
    by_check = Counter(v.check for v in report.violations)
    summary = ", ".join(f"{c} {n}" for c, n in sorted(by_check.items()))
    print(
        f"{len(report.violations)} violation(s) ({summary}) in {args.result_dir}; "
        f"{n_checks} checks, {n_cmp} comparisons"
    )
    return EXIT_VIOLATION
