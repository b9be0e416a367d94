"""Import an SNDlib instance (native text format) as a scaleacross data set.

SNDlib (S. Orlowski, R. Wessäly, M. Pióro, A. Tomaszewski: "SNDlib 1.0 — Survivable
Network Design Library", Networks 55(3):276–286, 2010) describes a network in one file
(NODES, LINKS with pre-installed capacity, costs and a module list, DEMANDS,
ADMISSIBLE_PATHS) and the problem variant in a second file, named by eight letters such
as ``U-U-M-N-C-A-N-N``. This module turns one (network, variant) pair into a data-set
folder as described in MODEL.md §1:

    python -m model.sndlib native/france/france.txt native/france/models/U-U-M-N-C-A-N-N.txt out/

Three stages, each usable on its own: :func:`parse_network` / :func:`parse_model` (pure
text parsers), :func:`convert` (pure, returns DataFrames) and :func:`write_dataset`
(atomic writer). The column mapping is documented in the README written with every data
set (:func:`render_readme`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import re
import shutil
import sys
import tempfile
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

import pandas as pd

logger = logging.getLogger(__name__)

CoordMode = Literal["auto", "geo", "plane"]

MEDIUM = "sndlib"
PAPER = (
    "S. Orlowski, R. Wessäly, M. Pióro, A. Tomaszewski: SNDlib 1.0 — Survivable Network "
    "Design Library. Networks 55(3):276–286, 2010"
)
EARTH_RADIUS_KM = 6371.0088
REACH_KM = 1.0e6  # longer than any great circle, and than 1 km per route on a plane
PLANE_KM = 1.0
MAX_SHOWN = 20  # problems listed in one error message
# Letters of a problem name, by position: (meaning, model-file key, value -> letter).
POSITIONS: tuple[tuple[str, str, MappingProxyType[str, str]], ...] = (
    ("demand model", "DEMAND_MODEL", MappingProxyType({"UNDIRECTED": "U", "DIRECTED": "D"})),
    (
        "link model",
        "LINK_MODEL",
        MappingProxyType({"UNDIRECTED": "U", "BIDIRECTED": "B", "DIRECTED": "D"}),
    ),
    (
        "link capacity model",
        "LINK_CAPACITY_MODEL",
        MappingProxyType(
            {
                "MODULAR_LINK_CAPACITIES": "M",
                "EXPLICIT_LINK_CAPACITIES": "E",
                "SINGLE_MODULAR_CAPACITIES": "S",
                "LINEAR_LINK_CAPACITIES": "L",
            }
        ),
    ),
    ("fixed-charge model", "FIXED_CHARGE_MODEL", MappingProxyType({"YES": "Y", "NO": "N"})),
    (
        "routing model",
        "ROUTING_MODEL",
        MappingProxyType({"CONTINUOUS": "C", "INTEGER": "I", "SINGLE_PATH": "S"}),
    ),
    (
        "admissible-path model",
        "ADMISSIBLE_PATH_MODEL",
        MappingProxyType({"ALL_PATHS": "A", "EXPLICIT_LIST": "E"}),
    ),
    (
        "hop-limit model",
        "HOP_LIMIT_MODEL",
        MappingProxyType({"IGNORE_HOP_LIMITS": "N", "INDIVIDUAL_HOP_LIMITS": "I"}),
    ),
    ("survivability model", "SURVIVABILITY_MODEL", MappingProxyType({"NO_SURVIVABILITY": "N"})),
)
SUPPORTED: tuple[str, ...] = ("UD", "UBD", "ME", "YN", "C", "A", "N", "N")
# Model-file keys that are not part of the name; only these values can be imported.
FIXED_KEYS = MappingProxyType(
    {"NODE_MODEL": "NO_NODE_HARDWARE", "OBJECTIVE_MODEL": "MINIMIZE_TOTAL_COST"}
)


class SndlibError(Exception):
    """An instance cannot be imported; the message says where and why (exit code 2)."""


class SndParseError(SndlibError):
    """A native file does not follow the SNDlib format; one line per problem."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        shown = list(self.problems[:MAX_SHOWN])
        if len(self.problems) > MAX_SHOWN:
            shown.append(f"... and {len(self.problems) - MAX_SHOWN} more problems")
        super().__init__("\n".join(shown))


class UnsupportedVariant(SndlibError):
    """The problem variant asks for something the scaleacross model cannot express."""


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class SndNode:
    """A node; ``x``/``y`` are SNDlib's coordinates (lon/lat for most networks)."""

    id: str
    x: float | None
    y: float | None
    line: int


@dataclass(frozen=True)
class SndModule:
    """A capacity module that can be installed on a link, any number of times."""

    capacity: float
    cost: float


@dataclass(frozen=True)
class SndLink:
    """A link; ``preinstalled_capacity_cost`` is the flat cost of the pre-installed capacity."""

    id: str
    source: str
    target: str
    preinstalled_capacity: float
    preinstalled_capacity_cost: float
    routing_cost: float
    setup_cost: float
    modules: tuple[SndModule, ...]
    line: int


@dataclass(frozen=True)
class SndDemand:
    """A demand; ``max_path_length`` is None for UNLIMITED."""

    id: str
    source: str
    target: str
    routing_unit: float
    value: float
    max_path_length: int | None
    line: int


@dataclass(frozen=True)
class SndNetwork:
    """One parsed network file (the ADMISSIBLE_PATHS section is skipped)."""

    name: str
    meta: tuple[tuple[str, str], ...]
    nodes: tuple[SndNode, ...]
    links: tuple[SndLink, ...]
    demands: tuple[SndDemand, ...]


@dataclass(frozen=True)
class Variant:
    """The eight letters of an SNDlib problem name, e.g. ``U-U-M-N-C-A-N-N``."""

    letters: tuple[str, ...]

    @classmethod
    def from_code(cls, code: str) -> Variant:
        """Read ``U-U-M-N-C-A-N-N``; raises UnsupportedVariant if it is not 8 letters."""
        letters = tuple(code.strip().upper().split("-"))
        if len(letters) != len(POSITIONS) or any(len(x) != 1 or not x.isalpha() for x in letters):
            raise UnsupportedVariant(
                f"variant {code!r}: expected eight letters separated by '-', e.g. U-U-M-N-C-A-N-N"
            )
        return cls(letters)

    @property
    def code(self) -> str:
        return "-".join(self.letters)

    @property
    def demand(self) -> str:
        return self.letters[0]

    @property
    def link(self) -> str:
        return self.letters[1]

    @property
    def capacity(self) -> str:
        return self.letters[2]

    @property
    def fixed_charge(self) -> bool:
        return self.letters[3] == "Y"

    def check_supported(self) -> None:
        """Raise UnsupportedVariant naming the first letter the model cannot express."""
        for pos, (letter, ok) in enumerate(zip(self.letters, SUPPORTED, strict=True)):
            if letter not in ok:
                meaning = POSITIONS[pos][0]
                raise UnsupportedVariant(
                    f"variant {self.code}: position {pos + 1} ({meaning}) is {letter!r}, "
                    f"which is not supported; supported: {', '.join(ok)}"
                )
        if self.demand == "U" and self.link in "BD":
            raise UnsupportedVariant(
                f"variant {self.code}: position 2 (link model) {self.link!r} is "
                "supported only with directed demands (position 1 'D')"
            )


# --------------------------------------------------------------------------- parsing

_SECTION = re.compile(r"^([A-Z_]+)\s*\($")
_TOKEN = re.compile(r"\(|\)|[^\s()]+")
_NAME = re.compile(r"^#\s*(network|model)\s+(\S+)")
_FORMS = MappingProxyType(
    {
        "NODES": "<node_id> ( <longitude> <latitude> )",
        "LINKS": "<link_id> ( <source> <target> ) <pre_installed_capacity> "
        "<pre_installed_capacity_cost> <routing_cost> <setup_cost> "
        "( {<module_capacity> <module_cost>}* )",
        "DEMANDS": "<demand_id> ( <source> <target> ) <routing_unit> <demand_value> "
        "<max_path_length>",
    }
)


def _number(tok: str, what: str, *, signed: bool = False) -> float:
    """A finite number (>= 0 unless ``signed``); ValueError says what was expected."""
    try:
        value = float(tok)
    except ValueError:
        raise ValueError(f"expected a number for {what}, got {tok!r}") from None
    if not math.isfinite(value) or (value < 0 and not signed):
        bound = "" if signed else " >= 0"
        raise ValueError(f"expected a finite number{bound} for {what}, got {tok!r}")
    return value


def _shape(toks: list[str], pattern: str) -> bool:
    """Does ``toks`` match ``pattern`` ('w' word, '(' and ')' literal, '*' any words)?"""
    if "*" in pattern:
        head, tail = pattern.split("*")
        body = toks[len(head) : len(toks) - len(tail)]
        return (
            len(toks) >= len(head) + len(tail)
            and _shape(toks[: len(head)], head)
            and _shape(toks[len(toks) - len(tail) :], tail)
            and all(t not in "()" for t in body)
        )
    return len(toks) == len(pattern) and all(
        t == p if p in "()" else t not in "()" for t, p in zip(toks, pattern, strict=True)
    )


def _entry(section: str, toks: list[str], line: int) -> SndNode | SndLink | SndDemand:
    """One entry line of NODES, LINKS or DEMANDS; raises ValueError with what was expected."""
    if section == "NODES":
        if _shape(toks, "w"):
            return SndNode(toks[0], None, None, line)
        if _shape(toks, "w(ww)"):
            x = _number(toks[2], "longitude", signed=True)
            return SndNode(toks[0], x, _number(toks[3], "latitude", signed=True), line)
    elif section == "LINKS" and _shape(toks, "w(ww)wwww(*)"):
        mods = toks[10:-1]
        if len(mods) % 2:
            raise ValueError("the module list must hold pairs <module_capacity> <module_cost>")
        return SndLink(
            id=toks[0],
            source=toks[2],
            target=toks[3],
            preinstalled_capacity=_number(toks[5], "pre_installed_capacity"),
            preinstalled_capacity_cost=_number(toks[6], "pre_installed_capacity_cost"),
            routing_cost=_number(toks[7], "routing_cost"),
            setup_cost=_number(toks[8], "setup_cost"),
            modules=tuple(
                SndModule(_number(c, "module_capacity"), _number(k, "module_cost"))
                for c, k in zip(mods[::2], mods[1::2], strict=True)
            ),
            line=line,
        )
    elif section == "DEMANDS" and _shape(toks, "w(ww)www"):
        mpl = None if toks[7].upper() == "UNLIMITED" else _number(toks[7], "max_path_length")
        if mpl is not None and not mpl.is_integer():
            raise ValueError(
                f"expected an integer or UNLIMITED for max_path_length, got {toks[7]!r}"
            )
        return SndDemand(
            id=toks[0],
            source=toks[2],
            target=toks[3],
            routing_unit=_number(toks[5], "routing_unit"),
            value=_number(toks[6], "demand_value"),
            max_path_length=None if mpl is None else int(mpl),
            line=line,
        )
    raise ValueError(f"expected {_FORMS[section]}")


def _file_type(header: str, wanted: str, where: str) -> list[str]:
    """Check ``?SNDlib native format; type: network; ...`` names the wanted file type."""
    m = re.search(r"type:\s*(\w+)", header)
    if m and m.group(1).lower() != wanted:
        return [f"{where}: this is an SNDlib {m.group(1)} file; expected a {wanted} file"]
    return []


def parse_network(text: str, source: str = "<network>") -> SndNetwork:
    """Parse an SNDlib network file; raises SndParseError naming ``source`` and lines."""
    lines = text.splitlines()
    problems: list[str] = []
    entries: dict[str, list] = {}
    meta: list[tuple[str, str]] = []
    name = ""
    i = 0
    while i < len(lines):
        stripped = lines[i].strip()
        i += 1
        if not stripped:
            continue
        if stripped.startswith("?"):
            problems += _file_type(stripped, "network", f"{source}:{i}")
            continue
        if stripped.startswith("#"):
            m = _NAME.match(stripped)
            if m and m.group(1) == "network" and not name:
                name = m.group(2)
            continue
        head = _SECTION.match(stripped)
        if not head:
            problems.append(
                f"{source}:{i}: expected a section header such as 'NODES (', got {stripped!r}"
            )
            break
        section, start = head.group(1), i
        if section in entries or (section == "META" and meta):
            problems.append(f"{source}:{i}: section {section} appears twice")
        depth, closed = 1, False
        while i < len(lines) and not closed:
            body = lines[i].strip()
            i += 1
            if section == "META":  # free text that may hold parentheses
                if body == ")":
                    closed = True
                elif body and not body.startswith("#"):
                    key, _, value = body.partition("=")
                    meta.append((key.strip(), value.strip()))
                continue
            toks = _TOKEN.findall(body.split("#", 1)[0])
            if section not in _FORMS:  # ADMISSIBLE_PATHS and unknown sections: skip
                for t in toks:
                    depth += (t == "(") - (t == ")")
                closed = depth <= 0
            elif toks == [")"]:
                closed = True
            elif toks:
                try:
                    entries.setdefault(section, []).append(_entry(section, toks, i))
                except ValueError as exc:
                    problems.append(f"{source}:{i}: {section}: {exc}; got {body!r}")
        entries.setdefault(section, [])
        if not closed:
            problems.append(
                f"{source}:{start}: section {section} is not closed: expected ')' "
                "before the end of the file"
            )
    for section in _FORMS:
        if section not in entries and not problems:
            problems.append(
                f"{source}:{len(lines)}: missing section {section} (expected "
                f"'{section} (' followed by lines {_FORMS[section]} and ')')"
            )
    net = SndNetwork(
        name or Path(source).stem,
        tuple(meta),
        tuple(entries.get("NODES", ())),
        tuple(entries.get("LINKS", ())),
        tuple(entries.get("DEMANDS", ())),
    )
    if not problems:  # a bad node line would make every later use of it unknown
        problems = _cross_check(net, source)
    if problems:
        raise SndParseError(problems)
    logger.debug(
        "parsed %s: %d nodes, %d links, %d demands",
        source,
        len(net.nodes),
        len(net.links),
        len(net.demands),
    )
    return net


def _cross_check(net: SndNetwork, source: str) -> list[str]:
    """Unique ids, known endpoints, no loops."""
    problems: list[str] = []
    nodes = {n.id for n in net.nodes}
    for kind, items in (("node", net.nodes), ("link", net.links), ("demand", net.demands)):
        seen: set[str] = set()
        for item in items:
            if item.id in seen:
                problems.append(f"{source}:{item.line}: duplicate {kind} id {item.id!r}")
            seen.add(item.id)
    for kind, items in (("link", net.links), ("demand", net.demands)):
        for item in items:
            for end in (item.source, item.target):
                if end not in nodes:
                    problems.append(
                        f"{source}:{item.line}: {kind} {item.id!r} names unknown "
                        f"node {end!r} (expected a node id of the NODES section)"
                    )
            if item.source == item.target:
                problems.append(
                    f"{source}:{item.line}: {kind} {item.id!r} joins node "
                    f"{item.source!r} to itself (expected two distinct nodes)"
                )
    return problems


def parse_model(text: str, source: str = "<model>") -> Variant:
    """Parse an SNDlib model file (``KEY = VALUE`` lines, ``# model NAME`` comment).

    The key/value lines decide; the name in the comment is used for positions whose key
    is absent and must agree with the keys otherwise. Values the scaleacross model cannot
    import (node hardware, another objective) raise UnsupportedVariant.
    """
    problems: list[str] = []
    name, named_at = None, 0
    values: dict[str, tuple[str, int]] = {}
    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        m = _NAME.match(line)
        if m and m.group(1) == "model":
            name, named_at = m.group(2), lineno
        if line.startswith("?"):
            problems += _file_type(line, "model", f"{source}:{lineno}")
        if not line or line[0] in "#?":
            continue
        key, eq, value = line.partition("=")
        if not eq:
            problems.append(f"{source}:{lineno}: expected KEY = VALUE, got {line!r}")
            continue
        values[key.strip().upper()] = (value.strip().upper(), lineno)
    letters: list[str] = []
    named = None
    if name is not None:
        try:
            named = Variant.from_code(name).letters
        except UnsupportedVariant as exc:
            problems.append(f"{source}:{named_at}: {exc}")
    for pos, (meaning, key, table) in enumerate(POSITIONS):
        if key in values:
            value, lineno = values[key]
            letter = table.get(value) or (named[pos] if named else None)
            if letter is None:
                problems.append(
                    f"{source}:{lineno}: {key} = {value}: expected one of {', '.join(table)}"
                )
                letter = "?"
            elif named and value in table and named[pos] != letter:
                problems.append(
                    f"{source}:{lineno}: {key} = {value} means {letter!r} but "
                    f"the name {name} has {named[pos]!r} at position {pos + 1}"
                )
        elif named:
            letter = named[pos]
        else:
            problems.append(f"{source}: missing {key} ({meaning}) and no '# model NAME' line")
            letter = "?"
        letters.append(letter)
    if problems:
        raise SndParseError(problems)
    for key, wanted in FIXED_KEYS.items():
        if key in values and values[key][0] != wanted:
            raise UnsupportedVariant(
                f"{source}:{values[key][1]}: {key} = {values[key][0]} is "
                f"not supported; only {wanted}"
            )
    return Variant(tuple(letters))


# --------------------------------------------------------------------------- convert


@dataclass(frozen=True)
class Dataset:
    """A converted instance: one DataFrame per CSV, the settings and the notes for README."""

    network: SndNetwork
    variant: Variant
    coords: Literal["geo", "plane"]
    settings: dict
    sites: pd.DataFrame
    routes: pd.DataFrame
    link_types: pd.DataFrame
    offers: pd.DataFrame
    demands: pd.DataFrame
    routers: pd.DataFrame
    cooling: pd.DataFrame
    preinstalled_cost: float
    notes: tuple[str, ...]


def detect_coords(nodes: Sequence[SndNode]) -> Literal["geo", "plane"]:
    """``plane`` when the coordinates cannot be longitude/latitude.

    That is: a node without coordinates, a value outside [-180, 180] × [-90, 90], or
    (four or more nodes) every value a whole number, as in india35's 0..49 grid.
    """
    xs = [n.x for n in nodes]
    ys = [n.y for n in nodes]
    if any(v is None for v in xs + ys):
        return "plane"
    if any(abs(x) > 180 for x in xs) or any(abs(y) > 90 for y in ys):
        return "plane"
    if len(nodes) >= 4 and all(float(v).is_integer() for v in xs + ys):
        return "plane"
    return "geo"


def _plane_latlon(nodes: Sequence[SndNode]) -> dict[str, tuple[float, float]]:
    """Map plane coordinates into a 1°×1° box at (0, 0), aspect ratio kept."""
    if any(n.x is None or n.y is None for n in nodes):  # no coordinates: a circle
        k = len(nodes)
        return {
            n.id: (
                round(0.5 + 0.5 * math.sin(2 * math.pi * i / k), 6),
                round(0.5 + 0.5 * math.cos(2 * math.pi * i / k), 6),
            )
            for i, n in enumerate(nodes)
        }
    x0, y0 = min(n.x for n in nodes), min(n.y for n in nodes)
    span = max(max(n.x for n in nodes) - x0, max(n.y for n in nodes) - y0) or 1.0
    return {n.id: (round((n.y - y0) / span, 6), round((n.x - x0) / span, 6)) for n in nodes}


def great_circle_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Haversine distance in km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def type_name(capacity: float) -> str:
    """Link type id of a module capacity: ``mod_40000``, ``mod_2.5``."""
    return f"mod_{int(capacity)}" if float(capacity).is_integer() else f"mod_{capacity!r}"


def capacity_scale(link_types: pd.DataFrame, demands: pd.DataFrame) -> float:
    """A power of ten that brings module capacities and demands to at most ~1e4 when they
    exceed 1e6 (brain counts bits: 1e9-1e10 per module, which HiGHS presolve cannot handle
    beside unit coefficients); 1 otherwise, so most instances keep their own numbers."""
    largest = max([1.0, *link_types["capacity_gbps"], *demands["gbps"]])
    if largest <= 1e6:
        return 1.0
    return float(10 ** (math.ceil(math.log10(largest)) - 4))


def convert(net: SndNetwork, variant: Variant, coords: CoordMode = "auto") -> Dataset:
    """Map a parsed network and a supported variant to scaleacross tables (see README)."""
    variant.check_supported()
    mode = detect_coords(net.nodes) if coords == "auto" else coords
    if mode == "geo" and any(
        n.x is None or n.y is None or abs(n.x) > 180 or abs(n.y) > 90 for n in net.nodes
    ):
        raise SndlibError(
            f"{net.name}: --coords geo needs longitude/latitude on every node "
            "(x in [-180, 180], y in [-90, 90])"
        )
    notes = []
    if mode == "plane":
        latlon = _plane_latlon(net.nodes)
        notes.append(
            "Node coordinates are not longitude/latitude; they were mapped into a "
            "1°×1° box at (0°, 0°) (aspect ratio kept, originals in sndlib_x/"
            f"sndlib_y) and every route has km = {PLANE_KM}."
        )
    else:
        latlon = {n.id: (n.y, n.x) for n in net.nodes}
    sites = _sites(net, latlon)
    routes, route_notes = _routes(net, variant, latlon if mode == "geo" else None)
    link_types, offers, offer_notes = _modules(net)
    demands, demand_notes = _demands(net)
    scale = capacity_scale(link_types, demands)
    if scale > 1:
        link_types["capacity_gbps"] = link_types["capacity_gbps"] / scale
        demands["gbps"] = demands["gbps"] / scale
        routes["existing_gbps"] = routes["existing_gbps"] / scale
        routes["flow_usd_per_gbps_year"] = routes["flow_usd_per_gbps_year"] * scale
        notes.append(
            f"Capacities, demands and pre-installed capacity are divided by {scale:g} (and "
            f"routing costs multiplied by it) so that the solver's coefficients stay in a "
            f"sane range; costs and the optimum are unchanged; settings [sndlib] "
            f"capacity_scale = {scale:g}."
        )
    total = float(demands["gbps"].sum())
    routers = pd.DataFrame(
        [
            {
                "model": "sndlib_virtual",
                "capacity_gbps": max(1.0, 10 * total),
                "ports": 1_000_000,
                "capex_usd": 0.0,
                "power_kw": 0.0,
                "deep_buffer": 1,
            }
        ]
    )
    cooling = pd.DataFrame(
        [{"method": "none", "max_rack_kw": 1000.0, "pue": 1.0, "capex_usd_per_kw": 0.0}]
    )
    preinstalled = round(sum(lk.preinstalled_capacity_cost for lk in net.links), 6)
    settings = {
        "demand": {"gpu_racks": 0, "storage_pb": 0, "sync_gbps": 0},
        "resilience": {"link_protection": "none", "min_routers_per_site": 0},
        "economics": {
            "discount_rate": 0.0,
            "power_weight_usd_per_mw_year": 0,
            "carbon_usd_per_t": 0,
            "lifetime_years": {"site": 1, "cooling": 1, "router": 1, "optics": 1},
        },
        "network": {
            "capacity_sharing": "shared" if variant.link == "U" else "duplex",
            "paths_per_pair": 10,
            "hop_latency_us": 0,
            "transit_pue": 1.0,
            "latency_us_per_km": {MEDIUM: 1.0},
        },
        "sndlib": {
            "network": net.name,
            "variant": variant.code,
            "capacity_scale": scale,
            "preinstalled_cost": preinstalled,
            "coordinates": mode,
        },
    }
    return Dataset(
        network=net,
        variant=variant,
        coords=mode,
        settings=settings,
        sites=sites,
        routes=routes,
        link_types=link_types,
        offers=offers,
        demands=demands,
        routers=routers,
        cooling=cooling,
        preinstalled_cost=preinstalled,
        notes=(*notes, *route_notes, *offer_notes, *demand_notes),
    )


def _sites(net: SndNetwork, latlon: dict[str, tuple[float, float]]) -> pd.DataFrame:
    """sites.csv: every node a transit node of its own zone, at no cost."""
    empty = [None] * len(net.nodes)
    sites = pd.DataFrame(
        {
            "site": [n.id for n in net.nodes],
            "lat": [latlon[n.id][0] for n in net.nodes],
            "lon": [latlon[n.id][1] for n in net.nodes],
            "zone": [n.id for n in net.nodes],
            "gpu": 0,
            "storage": 0,
            "existing": 0,
            "max_power_mw": pd.Series(empty, dtype="Float64"),
            "max_racks": pd.Series(empty, dtype="Int64"),
            "open_capex_usd": 0.0,
            "build_usd_per_kw": 0.0,
            "energy_usd_per_mwh": 0.0,
            "carbon_kg_per_mwh": 0.0,
            "pue_offset": 0.0,
            "sndlib_x": pd.Series([n.x for n in net.nodes], dtype="Float64"),
            "sndlib_y": pd.Series([n.y for n in net.nodes], dtype="Float64"),
        }
    )
    return sites


def _routes(
    net: SndNetwork, variant: Variant, latlon: dict[str, tuple[float, float]] | None
) -> tuple[pd.DataFrame, list[str]]:
    """routes.csv: one route per link, in file order; parallel links stay apart.

    ``latlon`` None: coordinates are not geographic and every route is PLANE_KM long.
    """

    def km(link: SndLink) -> float:
        if latlon is None:
            return PLANE_KM
        return max(0.001, round(great_circle_km(*latlon[link.source], *latlon[link.target]), 3))

    unit_cap = 1 if variant.capacity == "E" else None
    routes = pd.DataFrame(
        {
            "a": [lk.source for lk in net.links],
            "b": [lk.target for lk in net.links],
            "km": [km(lk) for lk in net.links],
            "medium": MEDIUM,
            "srlg": "",
            "build_capex_usd": [lk.setup_cost if variant.fixed_charge else 0.0 for lk in net.links],
            "max_units": pd.Series(
                [unit_cap if lk.modules else 0 for lk in net.links], dtype="Int64"
            ),
            "existing_gbps": [lk.preinstalled_capacity for lk in net.links],
            "flow_usd_per_gbps_year": [lk.routing_cost for lk in net.links],
            "route": [lk.id for lk in net.links],
            "directed": 1 if variant.link == "D" else 0,
            "preinstalled_cost_usd": [lk.preinstalled_capacity_cost for lk in net.links],
        }
    )
    notes = []
    bare = [lk.id for lk in net.links if not lk.modules]
    if bare:
        notes.append(
            "Links without modules keep only their pre-installed capacity "
            f"(max_units = 0): {', '.join(bare)}."
        )
    pairs = Counter(frozenset((lk.source, lk.target)) for lk in net.links)
    parallel = sum(1 for lk in net.links if pairs[frozenset((lk.source, lk.target))] > 1)
    if parallel:
        notes.append(
            f"{parallel} links share their node pair with another link; each is its own "
            "route (multigraph), told apart by the route column."
        )
    return routes, notes


def _modules(net: SndNetwork) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """link_types.csv (one type per module capacity) and offers.csv (one row per module)."""
    notes: list[str] = []
    rows: list[dict] = []
    for lk in net.links:
        cost: dict[str, float] = {}
        for mod in lk.modules:
            t = type_name(mod.capacity)
            if t in cost and cost[t] != mod.cost:
                notes.append(
                    f"Link {lk.id} lists capacity {mod.capacity:g} twice; the cheaper "
                    "module is kept."
                )
            cost[t] = min(mod.cost, cost.get(t, math.inf))
        rows += [
            {
                "a": lk.source,
                "b": lk.target,
                "medium": MEDIUM,
                "type": t,
                "capex_usd": 0.0,
                "opex_usd_per_year": c,
                "max_units": None,
                "route": lk.id,
            }
            for t, c in cost.items()
        ]
    columns = ["a", "b", "medium", "type", "capex_usd", "opex_usd_per_year", "max_units"]
    offers = pd.DataFrame(rows, columns=[*columns, "route"]).astype({"max_units": "Int64"})
    caps = sorted({m.capacity for lk in net.links for m in lk.modules})
    link_types = pd.DataFrame(
        {
            "type": [type_name(c) for c in caps],
            "medium": MEDIUM,
            "capacity_gbps": caps,
            "reach_km": REACH_KM,
            "capex_usd": 0.0,
            "opex_usd_per_year": 0.0,
            "power_w": 0.0,
            "dsp_latency_us": 0.0,
            "ports": 0,
            "deep_buffer_over_km": pd.Series([None] * len(caps), dtype="Float64"),
        }
    )
    return link_types, offers, notes


def _demands(net: SndNetwork) -> tuple[pd.DataFrame, list[str]]:
    """demands.csv: one row per SNDlib demand, no latency bound, unprotected."""
    demands = pd.DataFrame(
        {
            "src": [d.source for d in net.demands],
            "dst": [d.target for d in net.demands],
            "gbps": [d.value for d in net.demands],
            "max_latency_ms": pd.Series([None] * len(net.demands), dtype="Float64"),
            "protected": 0,
            "demand": [d.id for d in net.demands],
            "routing_unit": [d.routing_unit for d in net.demands],
            "max_path_length": pd.Series([d.max_path_length for d in net.demands], dtype="Int64"),
        }
    )
    notes = []
    shared_pair = int(demands.duplicated(["src", "dst"], keep=False).sum())
    if shared_pair:
        notes.append(
            f"{shared_pair} demands share their (src, dst) with another demand; each is kept "
            "as its own row (told apart by the demand column): sum them if a loader keys "
            "demands by pair."
        )
    hop_limited = int(demands["max_path_length"].notna().sum())
    if hop_limited:
        notes.append(
            f"{hop_limited} demands carry a max_path_length (hop limit); it is ignored, as "
            "the hop-limit letter N says."
        )
    return demands, notes


# --------------------------------------------------------------------------- write


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)


def render_settings(settings: dict) -> str:
    """TOML text of a two-level settings dict (tables, sub-tables, scalars)."""
    out: list[str] = []

    def table(name: str, body: dict) -> None:
        out.append(f"[{name}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in body.items() if not isinstance(v, dict))
        out.append("")
        for k, v in body.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for name, body in settings.items():
        table(name, body)
    return "\n".join(out)


def render_readme(ds: Dataset, network_path: str, model_path: str | None) -> str:
    """The README.md of a converted data set: source, variant, mapping, constants."""
    net, v = ds.network, ds.variant

    def bullets(items: Iterable[str]) -> str:
        return "".join(f"- {x}\n" for x in items)

    meta = bullets(f"{k}: {val}" for k, val in net.meta) or "- (no META section)\n"
    notes = bullets(ds.notes) or "- none\n"
    read = [f"network: `{network_path}`"]
    read.append(f"model: `{model_path}`" if model_path else "model: given with --variant")
    units = (
        "max_units = 1 (capacity model E: at most one module per link)"
        if v.capacity == "E"
        else "max_units empty (capacity model M: any number of modules of each size)"
    )
    setup = "setup_cost (fixed charge Y)" if v.fixed_charge else "0 (fixed charge N)"
    sharing = ds.settings["network"]["capacity_sharing"]
    return f"""# SNDlib {net.name} {v.code}

Converted by `python -m model.sndlib` from SNDlib, the Survivable fixed telecommunication
Network Design library: {PAPER}.
Academic reference data: cite the paper; do not ship this folder.

{bullets(read)}- variant: {v.code}
- size: {len(net.nodes)} nodes, {len(net.links)} links, {len(net.demands)} demands, \
{len(ds.link_types)} module sizes
- coordinates: {ds.coords}

## Instance META
{meta}
## Mapping
sites.csv, one row per node:
- site = zone = node id; lat, lon = the node's (y, x) when geographic, else the plane
  mapped into a 1°×1° box at (0°, 0°); extra columns sndlib_x, sndlib_y keep the file's
  values
- gpu = storage = existing = 0 (every node is a transit node); every cost, energy and
  carbon column 0; max_power_mw, max_racks empty

routes.csv, one row per link, in file order (parallel links stay separate routes):
- a, b = source, target; medium = {MEDIUM}; srlg empty
- km = great-circle km between the nodes ({PLANE_KM} on non-geographic coordinates)
- build_capex_usd = {setup}
- {units}; 0 on a link without modules
- existing_gbps = pre_installed_capacity; flow_usd_per_gbps_year = routing_cost
- extra columns: route = SNDlib link id; preinstalled_cost_usd = pre_installed_capacity_cost

link_types.csv: one type `mod_<capacity>` per distinct module capacity, medium {MEDIUM},
reach_km {REACH_KM:g}; every cost, power, latency and port column 0;
deep_buffer_over_km empty.

offers.csv, one row per (link, module):
- capex_usd = 0, opex_usd_per_year = module cost, max_units empty
- extra column route = SNDlib link id: offers are matched to routes by `route` when that
  column is present (parallel links share a, b, medium)
- lifetimes of 1 year at discount rate 0 make every CRF 1 and opex is not annualised, so
  annual_cost_usd is the SNDlib objective (without the constant below)

demands.csv, one row per demand:
- src, dst, gbps = demand_value (SNDlib's own unit, the same as module capacities; see
  META), max_latency_ms empty, protected = 0
- extra columns: demand = SNDlib id; routing_unit and max_path_length, both ignored
  (continuous routing, hop limits ignored)

settings.toml: capacity_sharing = {sharing} (U links: both directions share a link's
capacity; B links: each direction has it in full; D links: directed = 1, traffic from a
to b only); no GPU racks, storage or sync traffic;
no protection; discount rate 0, lifetimes 1; `[sndlib]` holds network, variant,
coordinates and preinstalled_cost. Demands have no latency bound and no protection, so
the solver routes them exactly (arc flows over every route, as SNDlib's all-paths
routing); paths_per_pair does not restrict them.

routers.csv: one free virtual router, capacity 10 × total demand, 10^6 ports.
cooling.csv: one free method `none`, PUE 1. Neither adds cost.

The ADMISSIBLE_PATHS section is not read (all-paths model).

## Constant cost of pre-installed capacity
preinstalled_cost = Σ pre_installed_capacity_cost over links = {ds.preinstalled_cost!r}.
SNDlib gives it per link (a flat cost, not per unit of capacity). It is not part of
annual_cost_usd: add it to compare with published values that include it.

## Notes
{notes}"""


def write_dataset(
    ds: Dataset,
    out_dir: Path,
    *,
    force: bool = False,
    network_path: str = "",
    model_path: str | None = None,
) -> Path:
    """Write ``ds`` into ``out_dir`` atomically (temp folder beside it, then rename).

    Refuses a non-empty ``out_dir`` unless ``force``; then the old folder is replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())) and not force:
        raise SndlibError(f"{out_dir} exists and is not empty; use --force to replace it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    try:
        for name in ("sites", "routes", "link_types", "offers", "demands", "routers", "cooling"):
            getattr(ds, name).to_csv(tmp / f"{name}.csv", index=False)
        (tmp / "settings.toml").write_text(render_settings(ds.settings), encoding="utf-8")
        (tmp / "README.md").write_text(
            render_readme(ds, network_path, model_path), encoding="utf-8"
        )
        os.chmod(tmp, 0o755)
        old = None
        if out_dir.exists():  # empty, or --force: set aside until the new one is in place
            old = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.old.", dir=out_dir.parent))
            os.replace(out_dir, old / out_dir.name)
        try:
            os.replace(tmp, out_dir)
        except BaseException:
            if old is not None:
                os.replace(old / out_dir.name, out_dir)
                old.rmdir()
            raise
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old)
    logger.info("wrote %s (%s %s)", out_dir, ds.network.name, ds.variant.code)
    return out_dir


# --------------------------------------------------------------------------- CLI


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
              module cost, matched to routes by the route column
  demands  -> demands.csv: gbps = demand value, demand = id; routing unit and
              max path length kept as extra columns, ignored
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
        "set folder (MODEL.md §1). Supported variants: demand model U/D, link model U/B/D "
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


if __name__ == "__main__":
    sys.exit(main())
