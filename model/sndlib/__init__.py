"""Import an SNDlib instance (native text format) as a scaleacross data set.

SNDlib (S. Orlowski, R. Wessäly, M. Pióro, A. Tomaszewski: "SNDlib 1.0 — Survivable
Network Design Library", Networks 55(3):276–286, 2010) describes a network in one file
(NODES, LINKS with pre-installed capacity, costs and a module list, DEMANDS,
ADMISSIBLE_PATHS) and the problem variant in a second file, named by eight letters such
as ``U-U-M-N-C-A-N-N``. This package turns one (network, variant) pair into a data-set
folder as described in docs/contract.md §1:

    python -m model.sndlib native/france/france.txt native/france/models/U-U-M-N-C-A-N-N.txt out/

Three stages, each usable on its own and each a module of this package:
:func:`parse_network` / :func:`parse_model` (:mod:`.parse`, pure text parsers),
:func:`convert` (:mod:`.convert`, pure, returns DataFrames) and :func:`write_dataset`
(:mod:`.write`, atomic writer). :mod:`.instance` holds the parsed instance, the variant
and the errors; :mod:`.cli` the command line. The column mapping is documented in the
README written with every data set (:func:`render_readme`).
"""

from __future__ import annotations

from model.sndlib.cli import EPILOG, main
from model.sndlib.convert import (
    EARTH_RADIUS_KM,
    MEDIUM,
    PLANE_KM,
    REACH_KM,
    CoordMode,
    Dataset,
    capacity_scale,
    convert,
    detect_coords,
    great_circle_km,
    orient,
    type_name,
    undominated,
)
from model.sndlib.instance import (
    FIXED_KEYS,
    MAX_SHOWN,
    POSITIONS,
    SUPPORTED,
    SndDemand,
    SndlibError,
    SndLink,
    SndModule,
    SndNetwork,
    SndNode,
    SndParseError,
    UnsupportedVariant,
    Variant,
)
from model.sndlib.parse import parse_model, parse_network
from model.sndlib.write import PAPER, render_readme, render_settings, write_dataset

__all__ = [
    "EARTH_RADIUS_KM",
    "EPILOG",
    "FIXED_KEYS",
    "MAX_SHOWN",
    "MEDIUM",
    "PAPER",
    "PLANE_KM",
    "POSITIONS",
    "REACH_KM",
    "SUPPORTED",
    "CoordMode",
    "Dataset",
    "SndDemand",
    "SndLink",
    "SndModule",
    "SndNetwork",
    "SndNode",
    "SndParseError",
    "SndlibError",
    "UnsupportedVariant",
    "Variant",
    "capacity_scale",
    "convert",
    "detect_coords",
    "great_circle_km",
    "main",
    "orient",
    "parse_model",
    "parse_network",
    "render_readme",
    "render_settings",
    "type_name",
    "undominated",
    "write_dataset",
]
