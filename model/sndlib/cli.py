"""``python -m model.sndlib NETWORK [MODEL] OUT_DIR``: the importer's command line.

Exit codes: 0 written, 2 invalid or unsupported input (the message names file and
line), 1 anything else.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from model.sndlib.convert import convert
from model.sndlib.instance import SndlibError, Variant
from model.sndlib.parse import parse_model, parse_network
from model.sndlib.write import write_dataset

logger = logging.getLogger(__package__)  # "model.sndlib": one logger for the importer


EPILOG = """\
OUT_DIR receives settings.toml, sites.csv, routes.csv, link_types.csv, offers.csv,
demands.csv, routers.csv, cooling.csv and a README.md with the full column mapping:
  nodes    -> sites.csv: transit nodes, one zone each, no cost; lat/lon from (y, x),
              or a 1-degree box when the coordinates are not geographic
  links    -> routes.csv: one route per link in file order, route = link id;
              existing_gbps = pre-installed capacity; flow_usd_per_gbps_year = routing
              cost; build_capex_usd = setup cost under fixed charge Y; max_units = 1
              under E, empty under M, 0 on a link without modules
  modules  -> link_types.csv: one type mod_<capacity> per size, free and unlimited
              reach; offers.csv: one row per (link, module), opex_usd_per_year =
              module cost, matched to routes by the route column; a dominated
              module (another one, or under M a combination, of at least its
              capacity at no more cost) is left out: no optimum needs it
  demands  -> demands.csv: gbps = demand value, demand = id; routing unit and
              max path length kept as extra columns, ignored; undirected demands
              on undirected links (U-U) may be written target to source so
              that fewer nodes send
settings.toml: capacity_sharing shared (U links) or duplex (B and D links; D links are
directed routes); CRF 1; the
constant cost of pre-installed capacity (sum over links) in [sndlib]
preinstalled_cost, outside the model's cost.

examples:
  python -m model.sndlib france/france.txt france/models/U-U-M-N-C-A-N-N.txt /tmp/france
  python -m model.sndlib janos-us/janos-us.txt /tmp/janos --variant D-B-M-N-C-A-N-N
"""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m model.sndlib",
        description="Convert one SNDlib instance (native format) into a scaleacross data "
        "set folder (contract §1). Supported variants: demand model U/D, link model U/B/D "
        "(B and D only with D demands), capacity model M/E, fixed charge Y/N, routing C, paths "
        "A, hop limit N, survivability N. Exit codes: 0 written, 2 invalid or unsupported "
        "input (message names file and line), 1 anything else.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=EPILOG,
    )
    p.add_argument("network", type=Path, help="SNDlib network file, e.g. france.txt")
    p.add_argument(
        "model",
        type=Path,
        nargs="?",
        help="SNDlib model file, e.g. models/U-U-M-N-C-A-N-N.txt; may be omitted "
        "when --variant is given (then give NETWORK OUT_DIR only)",
    )
    p.add_argument(
        "out_dir",
        type=Path,
        nargs="?",
        metavar="OUT_DIR",
        help="data-set folder to create (written atomically)",
    )
    p.add_argument(
        "--variant",
        metavar="CODE",
        help="problem name such as U-U-M-N-C-A-N-N; overrides the model file's "
        "letters (still checked against the supported letters)",
    )
    p.add_argument(
        "--coords",
        choices=("auto", "geo", "plane"),
        default="auto",
        help="node coordinates: geo = x is longitude, y latitude; plane = not "
        "geographic (mapped into a 1-degree box, every route 1 km); auto "
        "(default) = plane when a value is outside lon/lat range or all are "
        "whole numbers",
    )
    p.add_argument(
        "--force", action="store_true", help="replace OUT_DIR if it exists and is not empty"
    )
    p.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    model_path, out_dir = args.model, args.out_dir
    if out_dir is None:  # NETWORK OUT_DIR --variant CODE
        if model_path is None or args.variant is None:
            parser.error("give NETWORK MODEL OUT_DIR, or NETWORK OUT_DIR with --variant")
        model_path, out_dir = None, model_path
    try:
        net = parse_network(_read(args.network), str(args.network))
        variant = parse_model(_read(model_path), str(model_path)) if model_path else None
        if args.variant:
            forced = Variant.from_code(args.variant)
            if variant is not None and forced != variant:
                logger.warning(
                    "--variant %s overrides %s of %s", forced.code, variant.code, model_path
                )
                model_path = None  # the README then says the variant came from --variant
            variant = forced
        ds = convert(net, variant, args.coords)
        write_dataset(
            ds,
            out_dir,
            force=args.force,
            network_path=str(args.network.resolve()),
            model_path=str(model_path.resolve()) if model_path else None,
        )
    except SndlibError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SndlibError(f"{path}: cannot read: {exc}") from exc
