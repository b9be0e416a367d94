"""Command line: ``python solve.py DATASET_DIR [options]``. Parses arguments and calls the
pipeline; nothing else happens here."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from model.errors import EXIT_ERROR, EXIT_OK, ScaleacrossError
from model.pipeline import SolveOptions, run_scenario

log = logging.getLogger("model")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="solve.py",
        description="Design a geographically distributed AI data-center network: where to put "
        "GPUs and storage, which link types on which routes, how many routers, which cooling, "
        "at the lowest annualised cost.",
        epilog="Exit codes: 0 a design was written; 2 invalid input; 3 infeasible; 4 no design "
        "within the limits; 1 anything else.",
    )
    p.add_argument("dataset", type=Path, help="data set folder (settings.toml, sites.csv, ...)")
    p.add_argument(
        "--scenario", default="base", help="row of scenarios.csv to apply (default: base settings)"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("results"),
        help="results root; results go to OUT/<data set>/<scenario>/ (default: results)",
    )
    p.add_argument("--time-limit", type=float, metavar="S", help="solver time limit, seconds")
    p.add_argument("--mip-gap", type=float, metavar="G", help="relative MIP gap to stop at")
    p.add_argument("--threads", type=int, metavar="N", help="solver threads")
    p.add_argument("--seed", type=int, metavar="N", help="solver random seed")
    g = p.add_mutually_exclusive_group()
    g.add_argument("-v", "--verbose", action="store_true", help="debug log and solver output")
    g.add_argument("-q", "--quiet", action="store_true", help="only warnings and errors")
    return p


def _setup_logging(verbose: bool, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    log.handlers[:] = [handler]
    log.setLevel(logging.DEBUG if verbose else logging.WARNING if quiet else logging.INFO)
    log.propagate = False


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    _setup_logging(args.verbose, args.quiet)
    console = Console(stderr=False)
    err = Console(stderr=True)
    opts = SolveOptions(args.time_limit, args.mip_gap, args.threads, args.seed)
    for name, value in (
        ("--time-limit", args.time_limit),
        ("--mip-gap", args.mip_gap),
        ("--threads", args.threads),
    ):
        if value is not None and value <= 0 and not (name == "--mip-gap" and value == 0):
            err.print(f"error: {name} must be positive, got {value}")
            return 2
    try:
        result = run_scenario(args.dataset, args.scenario, args.out, opts, tee=args.verbose)
    except ScaleacrossError as exc:
        kind = type(exc).__name__.removesuffix("Error").lower()
        err.print(f"[bold red]{kind}:[/bold red] {escape(str(exc))}", highlight=False)
        return exc.exit_code
    except KeyboardInterrupt:
        err.print("interrupted: earlier results are left as they were")
        return EXIT_ERROR
    except Exception as exc:
        if args.verbose:
            raise
        err.print(f"error: {type(exc).__name__}: {exc} (run with -v for the traceback)")
        return EXIT_ERROR
    if not args.quiet:
        from model.report import print_summary

        print_summary(result, console)
    return EXIT_OK
